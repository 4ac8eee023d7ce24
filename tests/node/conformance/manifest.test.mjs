// Mantaray conformance: mdbee's manifests against bee-js 12.1.0's
// MantarayNode, on hundreds of random entry sets.
//   (a) same entries => same root reference as bee-js (zero obfuscation key);
//   (b) bee-js unmarshals mdbee's chunks and finds exactly the entries;
//   (c) mdbee reads bee-js's chunks and finds exactly the entries;
//   (d) editing a saved manifest (puts and removals, read lazily) gives the
//       root bee-js builds from scratch for the final entries;
//   (e) nodes over 4096 bytes are chunk trees on both sides: bee-js's own
//       saveRecursively / unmarshal + loadRecursively (uploadData and
//       downloadData, i.e. Bee's /bytes) against mdbee's chunks.
// The one place the two writers differ on purpose is a node whose prefix is
// exactly "/" without an entry of its own but with children: bee-js writes
// it with a 0-byte reference size, and Bee (pkg/manifest/mantaray,
// UnmarshalBinary) skips every fork of such a node, so mdbee writes the
// 32 zero bytes Bee writes for inner nodes.  Sets containing that shape
// must differ in root, only they may, and (b) and (c) must still hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MantarayNode, NULL_ADDRESS, Bytes, Reference } from '@ethersphere/bee-js';
import { Binary } from 'cafe-utility';
import { prng } from '../vectors/prng.mjs';
import { saveManifest, joinBytes, splitBytes, cacAddress, spanOf, hex } from '../bee-standin/swarm.mjs';

const BIN = process.env.MDBEE_BIN;
const SETS = 200;

const enc = new TextEncoder();
const cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function mdbee(args, input) {
  return execFileSync(BIN, ['manifest', ...args], { input, encoding: 'utf8' }).trim();
}

// Paths of many shapes, all made of bytes: shared prefixes, paths longer than
// 30 and 60 bytes, 1-byte paths, '/'-separated ones, prefixes of others.
function randomPath(r, taken) {
  const pick = () => taken[r.int(taken.length)];
  const ascii = (n) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789-_.'[r.int(39)]).join('');
  switch (r.int(10)) {
    case 0: return new Uint8Array([1 + r.int(255)]);
    case 1: return taken.length ? Binary.concatBytes(pick(), enc.encode(ascii(1 + r.int(40)))) : enc.encode(ascii(5));
    case 2: return enc.encode('x'.repeat(25 + r.int(70)) + ascii(r.int(3)));
    case 3: return enc.encode(Array.from({ length: 1 + r.int(4) }, () => ascii(1 + r.int(12))).join('/'));
    case 4: return enc.encode(`coll${r.int(3)}/${hex(r.bytes(12))}`);
    case 5: {
      if (!taken.length) return enc.encode(ascii(3));
      const p = pick();
      return p.subarray(0, 1 + r.int(p.length));
    }
    case 6: return enc.encode(['é', '日本', 'ü/x', '🐝'][r.int(4)] + ascii(r.int(8)));
    case 7: return r.bytes(1 + r.int(40)).map((b) => b || 1);
    case 8: return enc.encode(`users/$indexes/age/${ascii(r.int(50))}`);
    // Directories next to a file of the same name or a longer sibling, so
    // that some tries get a "/" node without an entry.
    default: return enc.encode(`dir${r.int(2) ? '' : r.int(3)}${r.int(3) ? '/' + ascii(r.int(6)) : ''}`);
  }
}

function randomMetadata(r) {
  if (r.int(3)) return undefined;
  const values = ['text/plain', 'a"quote', 'back\\slash', 'x=y', 'ünï', '日本語', '\u0001ctl\u001f', '', 'index.html'];
  const keys = ['Content-Type', 'Filename', 'website-index-document', 'k' + r.int(100), 'swarm-x'];
  const meta = {};
  const chosen = [...new Set(Array.from({ length: 1 + r.int(3) }, () => keys[r.int(keys.length)]))].sort();
  for (const k of chosen) meta[k] = values[r.int(values.length)];
  return meta;
}

function randomSet(r) {
  const n = 1 + r.int(r.int(4) ? 12 : 60);
  const seen = new Set();
  const entries = [];
  const taken = [];
  while (entries.length < n) {
    const path = randomPath(r, taken);
    const key = hex(path);
    if (!path.length || seen.has(key)) continue;
    seen.add(key);
    taken.push(path);
    let ref = r.bytes(32);
    if (ref.every((b) => b === 0)) ref[0] = 1;
    entries.push({ path, ref: hex(ref), meta: randomMetadata(r) });
  }
  return entries;
}

function toTsv(entries) {
  return entries.map((e) => [hex(e.path), e.ref,
    ...Object.entries(e.meta ?? {}).map(([k, v]) => `${k}=${v}`)].join('\t')).join('\n') + '\n';
}

// bee-js builds the same trie when entries come in byte order: adding a path
// whose node already exists as an inner node does not set its target.
function beeJsBuild(entries) {
  const node = new MantarayNode();
  for (const e of [...entries].sort((a, b) => cmp(a.path, b.path))) {
    node.addFork(e.path, e.ref, e.meta);
  }
  return node;
}

function hasSlashQuirk(node) {
  for (const fork of node.forks.values()) {
    const n = fork.node;
    if (Binary.equals(fork.prefix, enc.encode('/')) && Binary.equals(n.targetAddress, NULL_ADDRESS) && n.forks.size) return true;
    if (hasSlashQuirk(n)) return true;
  }
  return false;
}

// Reads every entry of the manifest at rootHex with bee-js's unmarshal;
// chunks come from a directory of span||payload files named by address.
// With verify, bee-js also recomputes every chunk's address (slow in
// JavaScript, so the random sets check it on a share of the sets; equal
// roots prove the addresses of the others).
function beeJsRead(dir, rootHex, verify = true) {
  const get = (a) => {
    try { return readFileSync(join(dir, a)); } catch { return null; }
  };
  const load = (a) => {
    const data = get(a);
    assert.ok(data, `chunk ${a} missing`);
    if (verify) assert.equal(cacAddress(data), a, 'chunk file content matches its name');
    return joinBytes(data, get);
  };
  const found = new Map();
  const visit = (addr, path) => {
    const node = MantarayNode.unmarshalFromData(load(addr), Buffer.from(addr, 'hex'));
    for (const fork of node.forks.values()) {
      const childPath = Binary.concatBytes(path, fork.prefix);
      const child = MantarayNode.unmarshalFromData(load(hex(fork.node.selfAddress)), fork.node.selfAddress);
      if (!Binary.equals(child.targetAddress, NULL_ADDRESS)) {
        found.set(hex(childPath), { ref: hex(child.targetAddress), meta: fork.node.metadata ?? undefined });
      }
      visit(hex(fork.node.selfAddress), childPath);
    }
  };
  visit(rootHex, new Uint8Array(0));
  return found;
}

// Reads every entry with `mdbee manifest ls`; entries with an empty
// reference are bee-js's "/" inner nodes (returned separately).
function mdbeeRead(dir, rootHex) {
  const found = new Map();
  let empty = 0;
  const out = mdbee(['ls', '--hex-paths', dir, rootHex]);
  for (const line of out ? out.split('\n') : []) {
    const [path, ref, json] = line.split('\t');
    const meta = JSON.parse(json);
    if (!ref) { empty++; continue; }
    found.set(path, { ref, meta: Object.keys(meta).length ? meta : undefined });
  }
  return { found, empty };
}

function expected(entries) {
  return new Map(entries.map((e) => [hex(e.path), { ref: e.ref, meta: e.meta }]));
}

function writeChunks(dir, put) {
  mkdirSync(dir, { recursive: true });
  return (address, data) => { writeFileSync(join(dir, address), data); put?.(address); };
}

test('random entry sets: same roots as bee-js, each side reads the other', async () => {
  assert.ok(BIN, 'MDBEE_BIN must point at the mdbee binary');
  const r = prng(0x6d616e74);
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-'));
  let equal = 0, quirky = 0;
  try {
    for (let s = 0; s < SETS; s++) {
      const entries = randomSet(r);
      const ours = join(work, `ours${s}`), theirs = join(work, `theirs${s}`);
      const root = mdbee(['build', '--hex-paths', '--out', ours], toTsv(entries));
      const bee = beeJsBuild(entries);
      const beeRoot = await saveManifest(bee, writeChunks(theirs));
      const quirk = hasSlashQuirk(bee);
      if (quirk) {
        quirky++;
        assert.notEqual(root, beeRoot, `set ${s}: the "/" shape changes the root`);
      } else {
        equal++;
        assert.equal(root, beeRoot, `set ${s}: root differs from bee-js (${toTsv(entries)})`);
      }
      assert.deepEqual(beeJsRead(ours, root, quirk || s % 8 === 0), expected(entries), `set ${s}: bee-js reading mdbee's manifest`);
      const read = mdbeeRead(theirs, beeRoot);
      assert.deepEqual(read.found, expected(entries), `set ${s}: mdbee reading bee-js's manifest`);
      assert.ok(quirk || read.empty === 0, `set ${s}: empty entries only from bee-js "/" nodes`);
      rmSync(ours, { recursive: true });
      rmSync(theirs, { recursive: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Both kinds must really have been exercised.
  assert.ok(equal >= SETS / 2, `only ${equal} sets compared root for root`);
  assert.ok(quirky >= 5, `only ${quirky} sets had a "/" inner node`);
});

test('editing a saved manifest gives bee-js\'s root for the final entries', async () => {
  const r = prng(0x65646974);
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-edit-'));
  let compared = 0;
  try {
    for (let s = 0; s < 60; s++) {
      const first = randomSet(r);
      const dir = join(work, `m${s}`);
      let root = mdbee(['build', '--hex-paths', '--out', dir], toTsv(first));
      // Remove some entries, change some references, add new paths.
      const removed = first.filter(() => r.int(3) === 0);
      const kept = first.filter((e) => !removed.includes(e));
      const changed = kept.filter(() => r.int(4) === 0).map((e) => ({ ...e, ref: hex(r.bytes(32)) }));
      const added = randomSet(r).filter((e) => !first.some((f) => cmp(f.path, e.path) === 0));
      const edits = [...removed.map((e) => `${hex(e.path)}\t-`), toTsv([...changed, ...added]).trimEnd()]
        .filter(Boolean).join('\n') + '\n';
      root = mdbee(['build', '--hex-paths', '--base', root, '--out', dir], edits);
      const final = new Map(kept.map((e) => [hex(e.path), e]));
      for (const e of [...changed, ...added]) final.set(hex(e.path), e);
      const entries = [...final.values()];
      assert.deepEqual(beeJsRead(dir, root, s % 8 === 0), expected(entries), `edit ${s}: bee-js reads the edited manifest`);
      const bee = beeJsBuild(entries);
      if (!hasSlashQuirk(bee)) {
        assert.equal(root, await saveManifest(bee, () => {}), `edit ${s}: root after edits`);
        compared++;
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  assert.ok(compared >= 30, `only ${compared} edited sets compared`);
});

test('a "/" inner node: bee-js writes reference size 0, which Bee reads as forkless', async () => {
  const entries = [
    { path: enc.encode('a'), ref: '11'.repeat(32) },
    { path: enc.encode('a/x'), ref: '22'.repeat(32) },
    { path: enc.encode('a/y'), ref: '33'.repeat(32) },
  ];
  const bee = beeJsBuild(entries);
  const slash = bee.find('a/');
  assert.ok(slash && slash.forks.size === 2, 'bee-js has a "/" node with two forks');
  const bytes = await slash.marshal();
  assert.equal(bytes[63], 0, 'bee-js: reference size 0 on a node with forks');
  // mdbee writes the same node with a 32-byte (zero) entry.
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-slash-'));
  try {
    const root = mdbee(['build', '--hex-paths', '--out', work], toTsv(entries));
    const sizes = readdirSync(work).map((f) => readFileSync(join(work, f))).map((d) => d[8 + 63]);
    assert.ok(sizes.every((s) => s === 32), 'every mdbee node has reference size 32');
    assert.deepEqual(beeJsRead(work, root), expected(entries));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('feed manifest: the node Bee\'s POST /feeds stores, readable by bee-js', async () => {
  const owner = '8d3766440f0d7b949a5e32995d09619a7f86e632';
  const topic = 'a1'.repeat(32);
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-feed-'));
  try {
    const root = mdbee(['feed', '--owner', owner, '--topic', topic, '--out', work]);
    const rootNode = MantarayNode.unmarshalFromData(joinBytes(readFileSync(join(work, root)), () => null), Buffer.from(root, 'hex'));
    const fork = rootNode.forks.get(47);
    assert.ok(fork, 'a fork at "/"');
    assert.deepEqual(Buffer.from(fork.prefix), Buffer.from('/'));
    assert.deepEqual(fork.node.metadata, {
      'swarm-feed-owner': owner, 'swarm-feed-topic': topic, 'swarm-feed-type': 'Sequence',
    });
    // bee-js's resolveFeed looks at the metadata of the "/" path.
    assert.deepEqual(rootNode.getRootMetadata().getOrThrow()['swarm-feed-owner'], owner);
    // Bee writes the zero entry in full; bee-js would write the same manifest
    // with a 0-byte entry on "/" and so a different root.  Patch bee-js's "/"
    // node to Bee's form and the roots must agree.
    const bee = new MantarayNode();
    bee.addFork('/', NULL_ADDRESS, { 'swarm-feed-owner': owner, 'swarm-feed-topic': topic, 'swarm-feed-type': 'Sequence' });
    const slash = bee.forks.get(47).node;
    const raw = await slash.marshal();
    assert.equal(raw[63], 0, 'bee-js writes a 0-byte entry here');
    const beeForm = Buffer.concat([raw.subarray(0, 63), Buffer.from([32]), Buffer.alloc(32), raw.subarray(64)]);
    slash.selfAddress = Buffer.from(await saveManifest({ forks: new Map(), marshal: async () => beeForm }, () => {}), 'hex');
    assert.equal(await saveManifest({ forks: new Map(), marshal: () => bee.marshal() }, () => {}), root);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('malformed manifests are refused with a clear error', () => {
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-bad-'));
  try {
    const root = mdbee(['build', '--out', work], `a\t${'11'.repeat(32)}\n`);
    const data = readFileSync(join(work, root));
    // Truncate the root node and store it under its new address.
    const cut = Buffer.concat([Buffer.alloc(8), data.subarray(8, 8 + 150)]);
    cut.writeBigUInt64LE(150n);
    const cutAddr = cacAddress(cut);
    writeFileSync(join(work, cutAddr), cut);
    assert.throws(() => mdbee(['ls', work, cutAddr]), (e) => /fork record truncated/.test(e.stderr) && e.status === 1);
    // A chunk whose content does not hash to its name.
    const forged = Buffer.from(data);
    forged[8 + 40] ^= 1;
    writeFileSync(join(work, root), forged);
    assert.throws(() => mdbee(['ls', work, root]), (e) => /another address/.test(e.stderr) && e.status === 1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

// What bee-js's MantarayNode needs of a Bee to save and load nodes, over a
// directory of chunk files: uploadData splits the node into a chunk tree
// (as Bee's POST /bytes does), downloadData joins one (GET /bytes).
function chunkDirBee(dir) {
  const get = (a) => {
    try { return readFileSync(join(dir, a)); } catch { return null; }
  };
  const put = writeChunks(dir);
  return {
    async uploadData(_batch, data) {
      return { reference: new Reference(await splitBytes(data, put)) };
    },
    async downloadData(ref) {
      const address = new Reference(ref).toHex();
      const data = get(address);
      assert.ok(data, `chunk ${address} missing`);
      assert.equal(cacAddress(data), address, 'chunk file content matches its name');
      return new Bytes(joinBytes(data, get));
    },
  };
}

// Entries whose nodes are wide: a root with `root` forks (distinct first
// bytes, then a tail of `tail` bytes, so prefixes run to 30 bytes), a
// "users/" node with `users` forks, each entry with Content-Type and
// Filename as the publisher writes them, and `pad` extra bytes of metadata.
function wideEntries(r, { root, users, tail, pad = 0 }) {
  const entries = [];
  const add = (path, name) => {
    const meta = { 'Content-Type': 'application/json', Filename: name };
    if (pad) meta['x-pad'] = 'p'.repeat(pad);
    entries.push({ path, ref: hex(r.bytes(32)), meta });
  };
  const firsts = Array.from({ length: 255 }, (_, i) => i + 1).filter((b) => b !== 0x75); // not "u"
  for (let i = 0; i < root; i++) {
    const name = `doc-${i}-${'t'.repeat(tail)}.json`;
    add(Binary.concatBytes(new Uint8Array([firsts[i]]), enc.encode(name)), name);
  }
  for (let i = 0; i < users; i++) {
    const name = `${String.fromCharCode(0x21 + i)}${hex(r.bytes(12))}.json`;
    add(Binary.concatBytes(enc.encode('users/'), new Uint8Array([0x21 + i]), enc.encode(name.slice(1))), name);
  }
  return entries;
}

test('wide nodes: bee-js saves them as chunk trees and mdbee reads every entry', async () => {
  const r = prng(0x77696465);
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-wide-'));
  try {
    const shapes = [
      { root: 160, users: 150, tail: 8 },
      // Over 4096 x 128 bytes: the node's tree has two levels of
      // intermediate chunks.
      { root: 250, users: 0, tail: 3, pad: 2200 },
    ];
    for (const [k, shape] of shapes.entries()) {
      const entries = wideEntries(r, shape);
      const dir = join(work, `theirs${k}`);
      const bee = beeJsBuild(entries);
      await bee.saveRecursively(chunkDirBee(dir), 'ab'.repeat(32));
      const root = hex(bee.selfAddress);
      const span = spanOf(readFileSync(join(dir, root)));
      assert.ok(span > (shape.pad ? 4096n * 128n : 4096n), `shape ${k}: bee-js's root node spans ${span} bytes`);
      if (shape.users) {
        const users = hex(bee.find('users/').selfAddress);
        assert.ok(spanOf(readFileSync(join(dir, users))) > 4096n, `shape ${k}: the users/ node is a chunk tree`);
      }
      const read = mdbeeRead(dir, root);
      assert.equal(read.found.size, entries.length);
      assert.deepEqual(read.found, expected(entries), `shape ${k}: mdbee reading bee-js's manifest`);
      const one = entries[entries.length - 1];
      const [path, ref, json] = mdbee(['get', '--hex-paths', dir, root, hex(one.path)]).split('\t');
      assert.deepEqual([path, ref, JSON.parse(json)], [hex(one.path), one.ref, one.meta], `shape ${k}: manifest get`);
      // Same bytes, same trees: mdbee's own root for these entries.
      assert.equal(mdbee(['build', '--hex-paths', '--out', join(work, `ours${k}`)], toTsv(entries)), root, `shape ${k}: root`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('wide nodes: bee-js loads the chunk trees mdbee wrote and finds every entry', async () => {
  const r = prng(0x6c6f6164);
  const work = mkdtempSync(join(tmpdir(), 'mdbee-manifest-wide-load-'));
  try {
    const entries = wideEntries(r, { root: 200, users: 180, tail: 40 });
    const root = mdbee(['build', '--hex-paths', '--out', work], toTsv(entries));
    assert.ok(spanOf(readFileSync(join(work, root))) > 4096n, 'mdbee\'s root node is a chunk tree');
    const node = await MantarayNode.unmarshal(chunkDirBee(work), root);
    await node.loadRecursively(chunkDirBee(work));
    const found = new Map(node.collect().map((n) => [hex(n.fullPath), { ref: hex(n.targetAddress), meta: n.metadata }]));
    assert.equal(found.size, entries.length);
    assert.deepEqual(found, expected(entries), 'bee-js loadRecursively');
    assert.deepEqual(beeJsRead(work, root), expected(entries), 'bee-js unmarshal, node by node');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
