// mdbee's sequence feeds against bee-js 12.1.0: update addresses for random
// owners, topics and indexes, and v1 updates that bee-js reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { PrivateKey, Topic, EthAddress, FeedIndex } from '@ethersphere/bee-js';
import { mdbee, scratch, writeKey } from './cli.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { getFeedUpdateChunkReference } = require(join(beeDir, 'feed/index.js'));
const { makeFeedIdentifier } = require(join(beeDir, 'feed/identifier.js'));
const { unmarshalSingleOwnerChunk } = require(join(beeDir, 'chunk/soc.js'));

const CASES = Number(process.env.MDBEE_CONFORMANCE_CASES ?? 1000);
const hex = (b) => Buffer.from(b).toString('hex');

function randomIndex(i) {
  const edges = [0n, 1n, 255n, 256n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn];
  return i < edges.length ? edges[i] : randomBytes(8).readBigUInt64BE() >> BigInt(randomBytes(1)[0] % 64);
}

test(`${CASES} random feed update addresses equal bee-js`, () => {
  for (let i = 0; i < CASES; i++) {
    const owner = new EthAddress(randomBytes(20));
    const topic = new Topic(randomBytes(32));
    const index = randomIndex(i);
    const r = mdbee(['feed', 'address', '--owner', '0x' + owner.toHex(), '--topic', topic.toHex(),
                     '--index', String(index)]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, getFeedUpdateChunkReference(owner, topic, FeedIndex.fromBigInt(index)).toHex(),
                 `index ${index}`);
  }
});

test('v1 feed updates written by mdbee are read by bee-js', () => {
  const dir = scratch('feed');
  // bee-js recovers each owner in BigInt arithmetic (~0.1 s): 40 suffice
  // next to the thousands of addresses above and the SOC suite.
  for (let i = 0; i < 40; i++) {
    const key = new PrivateKey(randomBytes(32));
    const keyFile = writeKey(dir, 'key', key.toHex());
    const topic = Topic.fromString(`db-${i}`);
    const index = randomIndex(i);
    const ref = randomBytes(i % 3 ? 32 : 64);
    const timestamp = 1700000000 + i;
    const out = join(dir, 'update');
    const r = mdbee(['feed', 'update', '--key-file', keyFile, '--topic', topic.toHex(), '--index',
                     String(index), '--ref', hex(ref), '--timestamp', String(timestamp), '--out', out]);
    assert.equal(r.code, 0, r.err);
    const owner = key.publicKey().address();
    const fi = FeedIndex.fromBigInt(index);
    assert.equal(r.out, getFeedUpdateChunkReference(owner, topic, fi).toHex());
    const soc = unmarshalSingleOwnerChunk(readFileSync(out), r.out);
    assert.equal(soc.owner.toHex(), owner.toHex());
    assert.equal(soc.identifier.toHex(), makeFeedIdentifier(topic, fi).toHex());
    const payload = Buffer.from(soc.payload.toUint8Array());
    assert.equal(payload.readBigUInt64BE(0), BigInt(timestamp));
    assert.equal(hex(payload.subarray(8)), hex(ref));
    assert.equal(soc.span.toBigInt(), BigInt(8 + ref.length));
  }
});

test('feed commands refuse bad arguments', () => {
  const topic = hex(randomBytes(32));
  const owner = '0x' + hex(randomBytes(20));
  assert.equal(mdbee(['feed', 'address', '--owner', owner, '--topic', topic]).code, 2);
  assert.equal(mdbee(['feed', 'address', '--owner', owner, '--topic', topic, '--index', '-1']).code, 2);
  assert.equal(mdbee(['feed', 'address', '--owner', owner, '--topic', topic, '--index', '18446744073709551616']).code, 2);
  const short = mdbee(['feed', 'address', '--owner', '0x1234', '--topic', topic, '--index', '0']);
  assert.equal(short.code, 1);
  assert.match(short.err, /--owner/);
});
