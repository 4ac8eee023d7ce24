// The MongoDB test peer speaks enough of the wire protocol for mdbee: the
// Node.js driver connects, and documents round-trip through CRUD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId, Decimal128, Binary } from 'mongodb';
import { useMongoSuite } from '../lib/mongo-peer.mjs';

const suite = useMongoSuite();

test('the driver connects and the server answers ping and isMaster', async () => {
  assert.equal((await suite.client.db('admin').command({ ping: 1 })).ok, 1);
  const hello = await suite.client.db('admin').command({ isMaster: 1 });
  assert.equal(hello.ismaster, true);
  // The Node.js driver 6.x needs wire version 8 (MongoDB 4.2) or newer.
  assert.ok(hello.maxWireVersion >= 8, `maxWireVersion ${hello.maxWireVersion}`);
});

test('insert, find, update, replace and delete round-trip documents', async () => {
  const col = suite.client.db('peers_basics').collection('crud');
  await col.drop().catch(() => {});
  const oid = new ObjectId();
  const doc = {
    _id: oid,
    s: 'héllo',
    n: 42,
    d: new Date('2024-01-02T03:04:05.678Z'),
    dec: Decimal128.fromString('1.10'),
    bin: new Binary(Buffer.from([0, 1, 2, 255])),
    nested: { a: [1, 'two', { three: 3 }] },
  };
  await col.insertMany([doc, { _id: 'string-id', n: 1 }, { _id: 7, n: 2 }]);
  assert.equal(await col.countDocuments(), 3);
  assert.deepEqual(await col.findOne({ _id: oid }), doc);

  await col.updateOne({ _id: 'string-id' }, { $set: { n: 10 }, $unset: { missing: '' } });
  assert.deepEqual(await col.findOne({ _id: 'string-id' }), { _id: 'string-id', n: 10 });

  await col.replaceOne({ _id: 7 }, { other: true });
  assert.deepEqual(await col.findOne({ _id: 7 }), { _id: 7, other: true });

  const sorted = await col.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray();
  assert.deepEqual(sorted.map((d) => d._id), [7, 'string-id', oid]);

  assert.equal((await col.deleteOne({ _id: 7 })).deletedCount, 1);
  assert.equal(await col.findOne({ _id: 7 }), null);
  assert.equal(await col.countDocuments(), 2);
});

test('indexes can be created and listed', async () => {
  const col = suite.client.db('peers_basics').collection('indexed');
  await col.drop().catch(() => {});
  await col.insertOne({ _id: 1, email: 'a@example.org' });
  await col.createIndex({ email: 1 }, { name: 'by_email', unique: true });
  const names = (await col.listIndexes().toArray()).map((i) => i.name).sort();
  assert.deepEqual(names, ['_id_', 'by_email']);
  await assert.rejects(col.insertOne({ _id: 2, email: 'a@example.org' }), /duplicate key/i);
});
