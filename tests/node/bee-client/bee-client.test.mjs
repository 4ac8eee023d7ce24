// The C Bee client (include/mdbee/bee.h) against the bee-js Bee stand-in:
// runs build/<type>/tests/e2e/bee_client scenarios, each against a stand-in
// started with the faults it needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { Bee, PrivateKey, Identifier } from '@ethersphere/bee-js';
import { startStandin } from '../bee-standin/harness.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const { makeSingleOwnerChunk } = require(join(beeDir, 'chunk/soc.js'));

assert.ok(process.env.MDBEE_BIN, 'MDBEE_BIN must name the built mdbee binary');
const CLIENT = join(dirname(process.env.MDBEE_BIN), 'tests', 'e2e', 'bee_client');
const run = promisify(execFile);

// Error codes of include/mdbee/error.h and refusals of include/mdbee/bee.h.
const E = { VERIFY: 3, ENOTFOUND: 6, ENET: 7, EREMOTE: 8 };
const R = { DEV_CHUNKS: 2, BATCH_FULL: 4, BATCH_UNKNOWN: 5 };

async function client(url, ...args) {
  try {
    const { stdout } = await run(CLIENT, [url, ...args.map(String)], { timeout: 120000 });
    return stdout.trim();
  } catch (e) {
    assert.fail(`bee_client ${args[0]} failed (${e.code}): ${e.stderr}`);
  }
}

// A stand-in with faults, on a store where a clean instance bought a batch
// (faults would otherwise hit the purchase too).
async function faulty(env, fn, args = []) {
  const clean = await startStandin();
  const batch = await client(clean.url, 'buy');
  await clean.stop({ keepData: true });
  const log = join(clean.dir, 'requests.log');
  const s = await startStandin({ env, args, dataDir: clean.dir, log });
  try {
    await fn(s, batch, () => readFileSync(log, 'utf8').trim().split('\n'));
  } finally {
    await s.stop();
  }
}

test('health, batch purchase, tags, parallel verified upload, downloads, pins', async () => {
  const s = await startStandin();
  try {
    await client(s.url, 'basic');
  } finally {
    await s.stop();
  }
});

test('uploads complete through 500s, connection resets and latency', () =>
  faulty({ BEE_STANDIN_FAIL_RATE: '0.3', BEE_STANDIN_RESET_RATE: '0.2', BEE_STANDIN_LATENCY_MS: '10', BEE_STANDIN_SEED: '42' },
    async (s, batch, lines) => {
      await client(s.url, 'upload', batch, 0);
      const posts = lines().filter((l) => l.includes(' POST /chunks '));
      // The faults really happened, and were retried past.
      assert.ok(posts.some((l) => / 500 /.test(l)), 'no 500 was injected');
      assert.ok(posts.some((l) => / reset /.test(l)), 'no reset was injected');
      assert.ok(posts.length > 200);
    }));

test('a reference that is not the chunk address is MDBEE_EVERIFY', () =>
  faulty({ BEE_STANDIN_WRONG_REF_RATE: '1' }, (s, batch) =>
    client(s.url, 'upload-fails', batch, 0, E.VERIFY, -1, 0, 'Bee answered reference')));

test('a full batch is a final 402 with an operator hint', () =>
  faulty({ BEE_STANDIN_FULL_BATCH: '1' }, (s, batch) =>
    client(s.url, 'upload-fails', batch, 0, E.EREMOTE, R.BATCH_FULL, 402, 'batch is overissued (the postage batch is full')));

test('an unknown batch is a 4xx and is not retried', () =>
  faulty({}, async (s, batch, lines) => {
    await client(s.url, 'upload-fails', 'cd'.repeat(32), 0, E.EREMOTE, R.BATCH_UNKNOWN, 404, 'batch with id not found');
    // The stand-in logs a request after answering it: wait for the lines.
    const posts = () => lines().filter((l) => l.includes(' POST /chunks '));
    for (let i = 0; i < 50 && posts().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300)); // any late retries show up too
    const n = posts().length;
    assert.ok(n >= 1 && n <= 5, `${n} POSTs for 5 chunks`);
  }));

test('dev mode: chunks only under a tag, SOCs refused with a clear message', () =>
  faulty({ BEE_STANDIN_DEV_MODE: '1' }, async (s, batch) => {
    await client(s.url, 'upload-fails', batch, 0, E.EREMOTE, R.DEV_CHUNKS, 400, 'operation not supported in dev mode');
    const tag = await client(s.url, 'tag');
    await client(s.url, 'upload', batch, tag);
    await client(s.url, 'soc', batch, ...socArgs('aa'.repeat(32), 'aa'.repeat(32)), 'dev');
  }));

// owner, id, signature, wrapped chunk, address of a SOC made by bee-js;
// signer differs from claimed owner when the keys differ (a forgery).
function socArgs(signerKey, ownerKey) {
  const cac = makeContentAddressedChunk(new TextEncoder().encode('feed update payload'));
  const id = new Identifier('42'.repeat(32));
  const soc = makeSingleOwnerChunk(cac.address, cac.span, cac.payload, id, new PrivateKey(signerKey));
  const owner = new PrivateKey(ownerKey).publicKey().address();
  return [owner.toHex(), id.toHex(), soc.signature.toHex(), Buffer.from(cac.data).toString('hex'), soc.address.toHex()];
}

test('SOC upload: accepted and verified, wrong address and forgery detected', () =>
  faulty({}, async (s, batch) => {
    await client(s.url, 'soc', batch, ...socArgs('aa'.repeat(32), 'aa'.repeat(32)), 'ok');
    await client(s.url, 'soc', batch, ...socArgs('aa'.repeat(32), 'aa'.repeat(32)), 'verify');
    await client(s.url, 'soc', batch, ...socArgs('aa'.repeat(32), 'bb'.repeat(32)), 'forged');
  }));

test('GET /bzz/{ref}/{path} returns the file and its Content-Type', async () => {
  const s = await startStandin();
  try {
    const bee = new Bee(s.url);
    const batch = await bee.createPostageBatch('1000000000', 20);
    const dir = mkdtempSync(join(tmpdir(), 'bee-client-site-'));
    mkdirSync(join(dir, 'users'));
    writeFileSync(join(dir, 'users', 'ada lovelace.json'), '{"name":"Ada"}');
    writeFileSync(join(dir, 'index.html'), '<p>root</p>');
    const { reference } = await bee.uploadFilesFromDirectory(batch, dir, { indexDocument: 'index.html' });
    await client(s.url, 'bzz', reference.toHex(), 'users/ada lovelace.json', '{"name":"Ada"}', 'application/json');
    await client(s.url, 'bzz', reference.toHex(), '', '<p>root</p>', 'text/html; charset=utf-8');
  } finally {
    await s.stop();
  }
});

test('an unreachable node is MDBEE_ENET after the retries', async () => {
  const s = await startStandin();
  const url = s.url;
  await s.stop();
  await client(url, 'unreachable');
});
