// Fault injection and the dev-mode switch of the Bee stand-in, seen through
// bee-js and curl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { Bee, BeeResponseError, PrivateKey, Identifier } from '@ethersphere/bee-js';
import { startStandin } from './harness.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const run = promisify(execFile);

async function withStandin(env, fn, args = []) {
  const s = await startStandin({ env, args });
  try {
    await fn(s, new Bee(s.url));
  } finally {
    await s.stop();
  }
}

// Buys a batch on a clean stand-in that shares the faulty one's directory:
// faults apply to every call, so set-up goes through a healthy instance.
async function batchFor(env, fn, args = []) {
  const clean = await startStandin();
  const batch = await new Bee(clean.url).createPostageBatch('1000000000', 20);
  await clean.stop({ keepData: true });
  const s = await startStandin({ env, args, dataDir: clean.dir });
  try {
    await fn(s, new Bee(s.url), batch);
  } finally {
    await s.stop();
  }
}

const chunk = makeContentAddressedChunk(new TextEncoder().encode('fault injection'));

test('BEE_STANDIN_FAIL_RATE=1 answers 500 except /health and /readiness', () =>
  batchFor({ BEE_STANDIN_FAIL_RATE: '1' }, async (s, bee, batch) => {
    await assert.rejects(bee.uploadChunk(batch, chunk.data), (e) => e instanceof BeeResponseError && e.status === 500);
    assert.equal((await bee.getHealth()).status, 'ok');
  }));

test('a fail rate of 0.5 fails about half the requests', () =>
  batchFor({ BEE_STANDIN_FAIL_RATE: '0.5', BEE_STANDIN_SEED: '7' }, async (s, bee, batch) => {
    let failed = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await bee.uploadChunk(batch, chunk.data);
      } catch (e) {
        assert.equal(e.status, 500);
        failed++;
      }
    }
    assert.ok(failed > 8 && failed < 32, `failed ${failed} of 40`);
  }));

test('BEE_STANDIN_RESET_RATE=1 cuts the answer mid-body', () =>
  batchFor({ BEE_STANDIN_RESET_RATE: '1' }, async (s, bee, batch) => {
    const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${s.url}/stamps/${batch.toHex()}`]).then(
      () => null,
      (e) => e,
    );
    assert.ok(r, 'curl must fail');
    assert.ok([18, 56].includes(r.code), `curl exit ${r.code}: ${r.stderr}`);
    await assert.rejects(bee.getPostageBatch(batch));
  }));

test('BEE_STANDIN_LATENCY_MS delays every answer', () =>
  batchFor({ BEE_STANDIN_LATENCY_MS: '300' }, async (s, bee, batch) => {
    const t0 = Date.now();
    await bee.uploadChunk(batch, chunk.data);
    assert.ok(Date.now() - t0 >= 300);
  }));

test('BEE_STANDIN_FULL_BATCH=1 answers 402 batch is overissued', () =>
  batchFor({ BEE_STANDIN_FULL_BATCH: '1' }, async (s, bee, batch) => {
    const { stdout } = await run('curl', ['-sS', '-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '--data-binary', 'twelve bytes', `${s.url}/bytes`]);
    assert.deepEqual(JSON.parse(stdout), { code: 402, message: 'batch is overissued' });
    await assert.rejects(bee.uploadData(batch, 'x'), (e) => e.status === 402);
  }));

test('BEE_STANDIN_WRONG_REF_RATE=1 answers a reference that is not the chunk address', () =>
  batchFor({ BEE_STANDIN_WRONG_REF_RATE: '1' }, async (s, bee, batch) => {
    const { reference } = await bee.uploadChunk(batch, chunk.data);
    assert.notEqual(reference.toHex(), chunk.address.toHex());
  }));

test('dev mode: /chunks needs a tag, /soc answers 501, other uploads work', () =>
  batchFor({}, async (s, bee, batch) => {
    const refused = await run('curl', ['-sS', '-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '--data-binary', 'twelve bytes', `${s.url}/chunks`]);
    assert.deepEqual(JSON.parse(refused.stdout), { code: 400, message: 'operation not supported in dev mode' });
    const tag = await bee.createTag();
    const { reference } = await bee.uploadChunk(batch, chunk.data, { tag: tag.uid });
    assert.equal(reference.toHex(), chunk.address.toHex());
    const soc = bee.makeSOCWriter(new PrivateKey('aa'.repeat(32)));
    await assert.rejects(soc.upload(batch, new Identifier('22'.repeat(32)), new Uint8Array(10)), (e) => e.status === 501);
    assert.equal((await bee.downloadData((await bee.uploadData(batch, 'data')).reference)).toUtf8(), 'data');
  }, ['--dev-mode']));

test('a stand-in without faults never fails (control for the tests above)', () =>
  withStandin({}, async (s, bee) => {
    const batch = await bee.createPostageBatch('1000000000', 20);
    for (let i = 0; i < 20; i++) assert.equal((await bee.uploadChunk(batch, chunk.data)).reference.toHex(), chunk.address.toHex());
  }));
