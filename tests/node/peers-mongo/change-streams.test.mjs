// Collection-level change streams as mdbee uses them, asserted in the way
// that holds on mongod and on mongo-java-server alike: the key comes from
// documentKey._id or else fullDocument._id (mdbee's rule), and an update's
// fullDocument (updateLookup) is the current document while it exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMongoSuite } from '../lib/mongo-peer.mjs';
import { nextChange, nextChanges, openedStream } from '../lib/change-events.mjs';

const suite = useMongoSuite();

async function freshCollection(name) {
  const col = suite.client.db('peers_streams').collection(name);
  await col.drop().catch(() => {});
  return col;
}

const keyOf = (e) => e.documentKey?._id ?? e.fullDocument?._id;

test('insert, update and delete events carry the document key and contents', async () => {
  const col = await freshCollection('events');
  const stream = await openedStream(col, [], { fullDocument: 'updateLookup' });
  try {
    await col.insertOne({ _id: 1, a: 1 });
    const ins = await nextChange(stream);
    assert.equal(ins.operationType, 'insert');
    assert.deepEqual(ins.documentKey, { _id: 1 });
    assert.deepEqual(ins.fullDocument, { _id: 1, a: 1 });

    // Read each update before the next write, so the lookup sees it.
    await col.updateOne({ _id: 1 }, { $set: { a: 2, b: 'x' } });
    const upd = await nextChange(stream);
    assert.equal(upd.operationType, 'update');
    assert.equal(keyOf(upd), 1);
    assert.deepEqual(upd.fullDocument, { _id: 1, a: 2, b: 'x' });

    await col.deleteOne({ _id: 1 });
    const del = await nextChange(stream);
    assert.equal(del.operationType, 'delete');
    assert.deepEqual(del.documentKey, { _id: 1 });
  } finally {
    await stream.close();
  }
});

test('events come in write order with increasing cluster times', async () => {
  const col = await freshCollection('order');
  const stream = await openedStream(col);
  try {
    for (let i = 0; i < 20; i++) await col.insertOne({ _id: i });
    const events = await nextChanges(stream, 20);
    assert.deepEqual(events.map(keyOf), [...Array(20).keys()]);
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].clusterTime.gt(events[i - 1].clusterTime), `event ${i} not after ${i - 1}`);
    }
  } finally {
    await stream.close();
  }
});

test('resumeAfter a token yields exactly the events after it', async () => {
  const col = await freshCollection('resume');
  const first = await openedStream(col);
  await col.insertMany([{ _id: 'a' }, { _id: 'b' }]);
  const [, b] = await nextChanges(first, 2);
  await first.close();

  // Changes made while no stream is open are not lost.
  await col.insertOne({ _id: 'c' });
  await col.deleteOne({ _id: 'a' });
  const resumed = col.watch([], { resumeAfter: b._id });
  try {
    const events = await nextChanges(resumed, 2);
    assert.deepEqual(events.map((e) => [e.operationType, keyOf(e)]), [['insert', 'c'], ['delete', 'a']]);
    assert.deepEqual(resumed.resumeToken, events[1]._id);
  } finally {
    await resumed.close();
  }
});

test('startAtOperationTime starts at that cluster time, inclusive', async () => {
  const col = await freshCollection('optime');
  const first = await openedStream(col);
  await col.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
  const [, second] = await nextChanges(first, 3);
  await first.close();

  const stream = col.watch([], { startAtOperationTime: second.clusterTime });
  try {
    const events = await nextChanges(stream, 2);
    assert.deepEqual(events.map(keyOf), [2, 3]);
  } finally {
    await stream.close();
  }
});

test('updateLookup gives the document as it is at lookup time', async () => {
  const col = await freshCollection('lookup');
  await col.insertOne({ _id: 'doc', n: 0, keep: true });
  const stream = await openedStream(col, [], { fullDocument: 'updateLookup' });
  try {
    await col.updateOne({ _id: 'doc' }, { $inc: { n: 1 } });
    await col.updateOne({ _id: 'doc' }, { $inc: { n: 1 } });
    // Both updates are read after the second one: the lookup happens when
    // the event is read, so both show n = 2 (mongod behaves the same way).
    const events = await nextChanges(stream, 2);
    for (const e of events) {
      assert.equal(e.operationType, 'update');
      assert.deepEqual(e.fullDocument, { _id: 'doc', n: 2, keep: true });
    }
  } finally {
    await stream.close();
  }
});

test('dropping the watched collection is reported as drop', async () => {
  const col = await freshCollection('dropped');
  await col.insertOne({ _id: 1 });
  const stream = await openedStream(col);
  try {
    await col.drop();
    const e = await nextChange(stream);
    assert.equal(e.operationType, 'drop');
  } finally {
    await stream.close();
  }
});
