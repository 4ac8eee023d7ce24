// `mdbee hash` against bee-js 12.1.0: the chunk-tree reference of data of
// thousands of random lengths and every boundary length must be what
// bee-js's MerkleTree (the tree Bee's /bytes builds) gives.  Lengths are
// batched through `mdbee hash --prefixes` so one process answers them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { MerkleTree } from 'cafe-utility';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));

const BIN = process.env.MDBEE_BIN;
assert.ok(BIN, 'MDBEE_BIN must name the mdbee binary');

// A seeded generator (mulberry32) so that a failing run can be repeated
// with MDBEE_SEED=<the seed it printed>.
const seed = Number(process.env.MDBEE_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`# MDBEE_SEED=${seed}`);
function rng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed);
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
function randomBytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const x = Math.floor(rand() * 4294967296);
    for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (x >>> (8 * k)) & 0xff;
  }
  return b;
}
const hex = (b) => Buffer.from(b).toString('hex');
const beeRoot = async (data) => hex((await MerkleTree.root(data)).hash());

const K = 4096, B = 128;
const tmp = mkdtempSync(join(tmpdir(), 'mdbee-chunks-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('mdbee hash --prefixes agrees with bee-js on boundary and random lengths', async () => {
  const boundaries = [0, 1, 2, 31, 32, 33, 4095, K, K + 1, 2 * K - 1, 2 * K,
    2 * K + 1, 3 * K, 7 * K, 64 * K, 127 * K, B * K - 1, B * K, B * K + 1,
    (B + 1) * K, (B + 1) * K + 1, 2 * B * K - 1, 2 * B * K, 2 * B * K + 1,
    3 * B * K + 1];
  const random = [];
  for (let i = 0; i < 1700; i++) random.push(randInt(0, 10000));
  for (let i = 0; i < 250; i++) random.push(randInt(10000, 60000));
  for (let i = 0; i < 12; i++) random.push(randInt(60000, 1100000));
  const lengths = [...boundaries, ...random];
  const data = randomBytes(Math.max(...lengths));
  const file = join(tmp, 'random.bin');
  writeFileSync(file, data);

  const r = spawnSync(BIN, ['hash', '--prefixes', lengths.join(','), file],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const got = r.stdout.trim().split('\n');
  assert.equal(got.length, lengths.length);
  for (let i = 0; i < lengths.length; i++) {
    const prefix = data.subarray(0, lengths[i]);
    assert.equal(got[i], await beeRoot(prefix), `length ${lengths[i]}`);
    // One chunk: the reference is makeContentAddressedChunk's address
    // (which refuses empty payloads).
    if (lengths[i] >= 1 && lengths[i] <= K)
      assert.equal(got[i], makeContentAddressedChunk(prefix).address.toHex(),
        `single chunk of ${lengths[i]} bytes`);
  }
});

test('mdbee hash of a file equals mdbee hash of the same bytes on stdin, on 1 or 2 threads', async () => {
  const data = randomBytes(3 * B * K + 12345);
  const file = join(tmp, 'same.bin');
  writeFileSync(file, data);
  const a = spawnSync(BIN, ['hash', file], { encoding: 'utf8' });
  const b = spawnSync(BIN, ['hash'], { input: data, encoding: 'utf8' });
  const c = spawnSync(BIN, ['hash', '-'], { input: data, encoding: 'utf8' });
  const one = spawnSync(BIN, ['hash', '--threads', '1', file], { encoding: 'utf8' });
  const two = spawnSync(BIN, ['hash', '--threads', '2', file], { encoding: 'utf8' });
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal(a.stdout.trim(), await beeRoot(data));
  assert.equal(b.stdout, a.stdout);
  assert.equal(c.stdout, a.stdout);
  assert.equal(one.stdout, a.stdout);
  assert.equal(two.stdout, a.stdout);
});

test('64 MiB + 1 from a pipe (a third tree level) agrees with bee-js', async () => {
  const data = randomBytes(B * B * K + 1);
  const r = spawnSync(BIN, ['hash'], { input: data, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), await beeRoot(data));
});

// Reads the peak resident set of a running process, in KiB.
function peakRssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]);
}

test('256 MiB streamed through a pipe hashes in bounded memory', async () => {
  // Every leaf is the same 4096 bytes, so bee-js can build the expected
  // root chunk by chunk: leaf, 128 leaves, 128 of those, then 4 of those.
  const leaf = randomBytes(K);
  const cac = (payload, span) => makeContentAddressedChunk(payload, span).address.toUint8Array();
  const repeat = (ref, n) => Buffer.concat(Array(n).fill(Buffer.from(ref)));
  const a0 = cac(leaf, BigInt(K));
  const a1 = cac(repeat(a0, B), BigInt(B * K));
  const a2 = cac(repeat(a1, B), BigInt(B * B * K));
  const want = hex(cac(repeat(a2, 4), BigInt(4 * B * B * K)));

  const child = spawn(BIN, ['hash'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const block = repeat(leaf, 256); // 1 MiB
  for (let i = 0; i < 256; i++)
    if (!child.stdin.write(block))
      await new Promise((resolve) => child.stdin.once('drain', resolve));
  // Everything but the last pipe buffer has been consumed: the peak so far
  // is the peak of the whole run.
  const peak = peakRssKiB(child.pid);
  console.log(`# peak resident memory of mdbee hash: ${peak} KiB`);
  child.stdin.end();
  assert.equal(await exited, 0, err);
  assert.equal(out.trim(), want);
  assert.ok(peak < 48 * 1024, `peak resident memory ${peak} KiB`);
});

test('mdbee hash reports a missing file and bad usage', () => {
  const missing = spawnSync(BIN, ['hash', join(tmp, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^mdbee hash: .*nope: No such file or directory/);
  assert.equal(missing.stdout, '');
  const usage = spawnSync(BIN, ['hash', 'a', 'b'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  for (const bad of ['0', '33', '2x', ''])
    assert.equal(spawnSync(BIN, ['hash', '--threads', bad, '-'], { input: '' }).status, 2, `--threads ${bad}`);
  const prefixes = spawnSync(BIN, ['hash', '--prefixes', '1,x', '-'], { encoding: 'utf8', input: '' });
  assert.equal(prefixes.status, 2);
  const tooLong = spawnSync(BIN, ['hash', '--prefixes', '5'], { encoding: 'utf8', input: 'abc' });
  assert.equal(tooLong.status, 1);
  assert.match(tooLong.stderr, /prefix 5 is longer than the input \(3 bytes\)/);
});
