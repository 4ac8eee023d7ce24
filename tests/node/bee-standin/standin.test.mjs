// The Bee stand-in, driven only through bee-js's client and curl: if bee-js
// (the reference) and the stand-in disagree on any format, these fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { Bee, MantarayNode, MerkleTree, PrivateKey, Topic, Identifier } from '@ethersphere/bee-js';
import WebSocket from 'ws';
import { writeFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startStandin, startWithBatch } from './harness.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));

const run = promisify(execFile);
const hex = (b) => Buffer.from(b).toString('hex');

// curl as an independent HTTP client: returns status, headers and body.
async function curl(url, args = []) {
  const { stdout } = await run('curl', ['-sS', '-i', ...args, url], { encoding: 'buffer', maxBuffer: 1 << 26 });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.subarray(0, split).toString();
  const status = Number(head.split(' ')[1]);
  const headers = Object.fromEntries(head.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const body = stdout.subarray(split + 4);
  return { status, headers, body, json: () => JSON.parse(body.toString()) };
}

function bytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const signer = new PrivateKey('aa'.repeat(32));
let bee, client, batch;
before(async () => ({ bee, client, batch } = await startWithBatch()));
after(() => bee.stop());

test('health and readiness answer as Bee 2.8 does', async () => {
  const h = await curl(`${bee.url}/health`);
  assert.equal(h.status, 200);
  assert.equal(h.json().status, 'ok');
  assert.match(h.json().version, /^2\.8\.0/);
  assert.equal((await curl(`${bee.url}/readiness`)).json().status, 'ready');
  assert.equal(await client.isConnected(), true);
});

test('a batch is usable at once and reports its depth and utilization', async () => {
  const b = await client.getPostageBatch(batch);
  assert.equal(b.usable, true);
  assert.equal(b.depth, 20);
  assert.equal(b.bucketDepth, 16);
  const all = await client.getAllPostageBatch();
  assert.ok(all.some((x) => x.batchID.toHex() === batch.toHex()));
  const shallow = await curl(`${bee.url}/stamps/1000000000/16`, ['-X', 'POST']);
  assert.equal(shallow.status, 400);
  assert.deepEqual(shallow.json(), { code: 400, message: 'invalid depth' });
  const missing = await curl(`${bee.url}/stamps/${'ab'.repeat(32)}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json().code, 404);
});

test('uploadData and downloadData round-trip every tree shape with bee-js references', async () => {
  for (const n of [1, 4095, 4096, 4097, 128 * 4096, 128 * 4096 + 1, 300000]) {
    const data = bytes(n, n);
    const { reference } = await client.uploadData(batch, data);
    assert.equal(reference.toHex(), hex((await MerkleTree.root(data)).hash()), `size ${n}`);
    assert.ok(Buffer.from((await client.downloadData(reference)).toUint8Array()).equals(data), `size ${n}`);
  }
});

test('POST /chunks verifies a content-addressed chunk and answers its address', async () => {
  const chunk = makeContentAddressedChunk(bytes(1000, 7));
  const { reference } = await client.uploadChunk(batch, chunk.data);
  assert.equal(reference.toHex(), chunk.address.toHex());
  assert.ok(Buffer.from(await client.downloadChunk(reference)).equals(Buffer.from(chunk.data)));
  const noBatch = await curl(`${bee.url}/chunks`, ['-X', 'POST', '--data-binary', 'abcdefghij']);
  assert.equal(noBatch.status, 400);
  assert.match(noBatch.json().message, /Swarm-Postage-Batch-Id/);
  const unknown = await curl(`${bee.url}/chunks`, ['-X', 'POST', '-H', `swarm-postage-batch-id: ${'cd'.repeat(32)}`, '--data-binary', 'abcdefghij']);
  assert.deepEqual(unknown.json(), { code: 404, message: 'batch with id not found' });
  const short = await curl(`${bee.url}/chunks`, ['-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '--data-binary', 'abc']);
  assert.equal(short.status, 400);
  const tooLong = await curl(`${bee.url}/chunks`, ['-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '-H', 'content-type: application/octet-stream', '--data-binary', `@${await tmpFile(bytes(4105))}`]);
  assert.equal(tooLong.status, 500);
  const absent = await curl(`${bee.url}/chunks/${'ee'.repeat(32)}`);
  assert.deepEqual(absent.json(), { code: 404, message: 'chunk not found' });
});

async function tmpFile(data) {
  const p = join(mkdtempSync(join(tmpdir(), 'standin-test-')), 'body');
  writeFileSync(p, data);
  return p;
}

test('single owner chunks: signature and owner checked, forgery refused', async () => {
  const writer = client.makeSOCWriter(signer);
  const id = new Identifier('11'.repeat(32));
  const { reference } = await writer.upload(batch, id, bytes(200, 3));
  const soc = await client.makeSOCReader(signer.publicKey().address()).download(id);
  assert.equal(soc.address.toHex(), reference.toHex());
  assert.ok(Buffer.from(soc.payload.toUint8Array()).equals(bytes(200, 3)));
  // Signed by `signer`, claimed for another owner: Bee answers 401.
  const raw = Buffer.from(await client.downloadChunk(reference));
  const sig = hex(raw.subarray(32, 97));
  const other = new PrivateKey('bb'.repeat(32)).publicKey().address().toHex();
  const forged = await curl(`${bee.url}/soc/${other}/${'11'.repeat(32)}?sig=${sig}`, ['-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '--data-binary', `@${await tmpFile(raw.subarray(97))}`]);
  assert.deepEqual([forged.status, forged.json().message], [401, 'invalid chunk']);
  // Right owner, tampered payload.
  const tampered = Buffer.from(raw.subarray(97));
  tampered[20] ^= 1;
  const bad = await curl(`${bee.url}/soc/${signer.publicKey().address().toHex()}/${'11'.repeat(32)}?sig=${sig}`, ['-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '--data-binary', `@${await tmpFile(tampered)}`]);
  assert.equal(bad.status, 401);
});

test('collections: index document, paths, Content-Type from metadata', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'standin-site-'));
  mkdirSync(join(dir, 'users'));
  writeFileSync(join(dir, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, 'users', '1'), '{"a":1}\n\n');
  writeFileSync(join(dir, 'data.json'), '[]');
  const { reference } = await client.uploadFilesFromDirectory(batch, dir, { indexDocument: 'index.html' });
  const index = await client.downloadFile(reference);
  assert.equal(index.data.toUtf8(), '<h1>hi</h1>');
  assert.match(index.contentType, /text\/html/);
  assert.equal((await client.downloadFile(reference, 'users/1')).data.toUtf8(), '{"a":1}\n\n');
  assert.equal((await client.downloadFile(reference, 'data.json')).contentType, 'application/json');
  const missing = await curl(`${bee.url}/bzz/${reference.toHex()}/nope`);
  assert.deepEqual(missing.json(), { code: 404, message: 'path address not found' });
  assert.equal((await curl(`${bee.url}/bzz/${reference.toHex()}/`)).body.toString(), '<h1>hi</h1>');
  // The same files give the same reference (deterministic manifests), also
  // when sent as File objects.
  const again = await client.uploadFilesFromDirectory(batch, dir, { indexDocument: 'index.html' });
  assert.equal(again.reference.toHex(), reference.toHex());
  const files = await client.uploadFiles(batch, [new File(['x1'], 'a.txt'), new File(['y2'], 'b.txt')]);
  assert.equal((await client.downloadFile(files.reference, 'b.txt')).data.toUtf8(), 'y2');
});

test('single file upload wraps the file in a manifest with its name', async () => {
  const { reference } = await client.uploadFile(batch, Buffer.from('hello'), 'hello.txt', { contentType: 'text/plain' });
  const file = await client.downloadFile(reference);
  assert.equal(file.data.toUtf8(), 'hello');
  assert.equal(file.name, 'hello.txt');
  assert.equal(file.contentType, 'text/plain');
});

async function manifestOf(files) {
  const node = new MantarayNode();
  for (const [path, content] of Object.entries(files)) {
    const { reference } = await client.uploadData(batch, content);
    node.addFork(path, reference, { 'Content-Type': 'text/plain', Filename: path });
  }
  await node.saveRecursively(client, batch);
  return node;
}

test('feeds: sequence updates, index headers, /bzz resolves legacy and v2 payloads', async () => {
  const topic = Topic.fromString('mdbee-standin-test');
  const owner = signer.publicKey().address();
  const writer = client.makeFeedWriter(topic, signer);
  const manifestRef = await client.createFeedManifest(batch, topic, owner);
  const noUpdate = await curl(`${bee.url}/feeds/${owner.toHex()}/${topic.toHex()}`);
  assert.deepEqual(noUpdate.json(), { code: 404, message: 'no update found' });

  // Update 0: legacy payload (timestamp || reference) pointing at manifest A.
  const a = await manifestOf({ 'doc': 'first' });
  await writer.uploadReference(batch, a.selfAddress);
  assert.equal((await client.downloadFile(manifestRef, 'doc')).data.toUtf8(), 'first');

  // Update 1: v2 payload, the manifest root node itself inside the SOC.
  const b = await manifestOf({ 'doc': 'second' });
  await writer.uploadPayload(batch, await b.marshal());
  const latest = await curl(`${bee.url}/bzz/${manifestRef.toHex()}/doc`);
  assert.equal(latest.body.toString(), 'second');
  assert.equal(latest.headers['swarm-feed-index'], '0000000000000001');

  const reader = client.makeFeedReader(topic, owner);
  const update = await reader.download();
  assert.equal(update.feedIndex.toBigInt(), 1n);
  assert.equal(update.feedIndexNext.toBigInt(), 2n);
  const first = await reader.downloadReference({ index: 0 });
  assert.equal(first.reference.toHex(), hex(a.selfAddress));
});

test('pins and tags', async () => {
  const tag = await client.createTag();
  const { reference } = await client.uploadData(batch, bytes(10000), { tag: tag.uid });
  const t = await client.retrieveTag(tag.uid);
  assert.equal(t.split, 4);
  assert.equal(t.synced, t.split);
  await client.pin(reference);
  assert.deepEqual((await client.getAllPins()).map((r) => r.toHex()), [reference.toHex()]);
  assert.equal((await client.getPin(reference)).reference.toHex(), reference.toHex());
  await client.unpin(reference);
  assert.deepEqual(await client.getAllPins(), []);
  const gone = await curl(`${bee.url}/pins/${reference.toHex()}`);
  assert.deepEqual(gone.json(), { code: 404, message: 'Not Found' });
  const unknownTag = await curl(`${bee.url}/bytes`, ['-X', 'POST', '-H', `swarm-postage-batch-id: ${batch.toHex()}`, '-H', 'swarm-tag: 9999', '--data-binary', 'x']);
  assert.deepEqual(unknownTag.json(), { code: 404, message: 'tag not found' });
  assert.equal(await client.isReferenceRetrievable(reference), true);
  assert.equal(await client.isReferenceRetrievable('ef'.repeat(32)), false);
});

test('batch utilization counts the fullest bucket', async () => {
  const b = await client.createPostageBatch('1000000000', 17);
  const chunks = Array.from({ length: 20 }, (_, i) => makeContentAddressedChunk(bytes(64, 1000 + i)));
  for (const c of chunks) await client.uploadChunk(b, c.data);
  const buckets = new Map();
  for (const c of chunks) {
    const k = c.address.toHex().slice(0, 4);
    buckets.set(k, (buckets.get(k) ?? 0) + 1);
  }
  assert.equal((await client.getPostageBatch(b)).utilization, Math.max(...buckets.values()));
});

test('/chunks/stream acknowledges each chunk and refuses a bad one', async () => {
  const ws = new WebSocket(`${bee.url.replace('http', 'ws')}/chunks/stream`, { headers: { 'swarm-postage-batch-id': batch.toHex() } });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const chunks = Array.from({ length: 5 }, (_, i) => makeContentAddressedChunk(bytes(500, 50 + i)));
  let acks = 0;
  const done = new Promise((r) => ws.on('message', (m) => {
    assert.equal(m.length, 0);
    if (++acks === chunks.length) r();
  }));
  for (const c of chunks) ws.send(c.data);
  await done;
  for (const c of chunks) assert.ok(Buffer.from(await client.downloadChunk(c.address)).equals(Buffer.from(c.data)));
  const closed = new Promise((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
  ws.send(Buffer.alloc(3));
  assert.deepEqual(await closed, [1011, 'invalid chunk']);
});

test('restart on the same data directory keeps chunks, batches, pins and tags', async () => {
  const first = await startStandin();
  const c1 = new Bee(first.url);
  const b = await c1.createPostageBatch('1000000000', 18);
  const tag = await c1.createTag();
  const { reference } = await c1.uploadData(b, bytes(9000, 9), { tag: tag.uid });
  await c1.pin(reference);
  await first.stop({ keepData: true });
  const second = await startStandin({ dataDir: first.dir });
  try {
    const c2 = new Bee(second.url);
    assert.ok(Buffer.from((await c2.downloadData(reference)).toUint8Array()).equals(bytes(9000, 9)));
    assert.equal((await c2.getPostageBatch(b)).depth, 18);
    assert.deepEqual((await c2.getAllPins()).map((r) => r.toHex()), [reference.toHex()]);
    assert.equal((await c2.retrieveTag(tag.uid)).split, 4); // 3 leaves + root
    const t2 = await c2.createTag();
    assert.notEqual(t2.uid, tag.uid);
  } finally {
    await second.stop();
  }
});

test('one log line per request', async () => {
  const s = await startStandin();
  try {
    await curl(`${s.url}/health`);
    await curl(`${s.url}/chunks/${'00'.repeat(32)}`);
    // The line is written after the answer, so give the pipe a moment.
    for (let i = 0; i < 50 && s.log().trim().split('\n').length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    const lines = s.log().trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1], /GET \/chunks\/0+ 404 \d+ms$/);
  } finally {
    await s.stop();
  }
});
