// Pins every way mongo-java-server 1.47.0's change streams differ from
// mongod (shared/DESIGN.md "Real peers", docs/testing.md).  mdbee must be
// right on both, so these are facts its code relies on knowing.  If a newer
// server fixes one, its test fails and says so: then update DESIGN.md,
// docs/testing.md and the pin.  Against MDBEE_TEST_MONGO_URI (a real
// server) every pin is reported as skipped, never as passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startMongoPeer, useMongoSuite } from '../lib/mongo-peer.mjs';
import { changesWithin, nextChange, nextChanges, openedStream } from '../lib/change-events.mjs';

const skip = process.env.MDBEE_TEST_MONGO_URI
  ? 'pins facts about mongo-java-server; MDBEE_TEST_MONGO_URI points at another server'
  : false;

function pinned(holds, quirk, mongod) {
  assert.ok(holds, `mongo-java-server quirk FIXED? "${quirk}" no longer holds (mongod: ${mongod}). ` +
    'Update shared/DESIGN.md "Real peers", docs/testing.md and this pin.');
}

const suite = useMongoSuite({ skip });
const quirksDb = () => suite.client.db('peers_quirks');

let seq = 0;
async function freshCollection() {
  const col = quirksDb().collection(`c${seq++}`);
  await col.insertOne({ _id: 'seed' });
  return col;
}

// One event of each kind, each read before the next write so that the
// lookup sees the document as that write left it.
async function eventsOfEachKind() {
  const col = await freshCollection();
  const stream = await openedStream(col, [], { fullDocument: 'updateLookup' });
  const out = {};
  await col.insertOne({ _id: 1, a: 1 });
  out.insert = await nextChange(stream);
  await col.updateOne({ _id: 1 }, { $set: { a: 2 } });
  out.update = await nextChange(stream);
  await col.replaceOne({ _id: 1 }, { b: 3 });
  out.replace = await nextChange(stream);
  await col.deleteOne({ _id: 1 });
  out.delete = await nextChange(stream);
  await col.drop();
  out.drop = await nextChange(stream);
  await stream.close();
  return out;
}

test('quirk: a database-level watch yields no insert, update or delete events', { skip }, async () => {
  const col = await freshCollection();
  const stream = await openedStream(quirksDb());
  await col.insertOne({ _id: 1 });
  await col.updateOne({ _id: 1 }, { $set: { a: 1 } });
  await col.deleteOne({ _id: 1 });
  const events = await changesWithin(stream, 700);
  await stream.close();
  pinned(events.length === 0, 'database-level watch yields no CRUD events',
    `insert, update and delete of ${col.collectionName}; got ${JSON.stringify(events)}`);
});

test('quirk: a deployment-level watch fails with "no such command: \'aggregate\'"', { skip }, async () => {
  let error = null;
  try {
    await openedStream(suite.client);
  } catch (e) {
    error = e;
  }
  pinned(error !== null && /no such command: 'aggregate'/.test(error.message),
    'deployment-level watch fails', `opens a stream; got ${error?.message ?? 'no error'}`);
});

test('quirk: an update event\'s documentKey is the update specification', { skip }, async () => {
  const { update } = await eventsOfEachKind();
  pinned(JSON.stringify(update.documentKey) === JSON.stringify({ $set: { a: 2 } }),
    'update documentKey is {$set: ...}', `{_id: 1}; got ${JSON.stringify(update.documentKey)}`);
  // What mdbee relies on instead: the looked-up document has the _id.
  assert.deepEqual(update.fullDocument, { _id: 1, a: 2 });
});

test('quirk: updateLookup on a deleted document gives the $set/$unset fields without _id', { skip }, async () => {
  const col = await freshCollection();
  await col.insertOne({ _id: 1, a: 1, b: 1 });
  const stream = await openedStream(col, [], { fullDocument: 'updateLookup' });
  await col.updateOne({ _id: 1 }, { $set: { a: 2 }, $unset: { b: '' } });
  await col.deleteOne({ _id: 1 });
  const [update, del] = await nextChanges(stream, 2);
  await stream.close();
  assert.equal(update.operationType, 'update');
  assert.equal(del.operationType, 'delete');
  pinned(JSON.stringify(update.fullDocument) === JSON.stringify({ a: 2, b: '' }),
    'updateLookup of a gone document gives the update fields', `null; got ${JSON.stringify(update.fullDocument)}`);
});

test('quirk: a replacement is reported as update, documentKey = the new document', { skip }, async () => {
  const { replace } = await eventsOfEachKind();
  pinned(replace.operationType === 'update', 'replacement reported as update',
    `operationType "replace"; got "${replace.operationType}"`);
  pinned(JSON.stringify(replace.documentKey) === JSON.stringify({ b: 3, _id: 1 }),
    'replacement documentKey is the replacement document', `{_id: 1}; got ${JSON.stringify(replace.documentKey)}`);
  assert.deepEqual(replace.fullDocument, { _id: 1, b: 3 });
});

test('quirk: events have no ns and updates no updateDescription', { skip }, async () => {
  const events = await eventsOfEachKind();
  for (const [kind, e] of Object.entries(events)) {
    pinned(!('ns' in e), `${kind} event has no ns`, `ns {db, coll}; got ${JSON.stringify(e.ns)}`);
  }
  pinned(!('updateDescription' in events.update), 'update has no updateDescription',
    `updatedFields/removedFields; got ${JSON.stringify(events.update.updateDescription)}`);
  // The parts that are as in mongod.
  assert.deepEqual(events.insert.documentKey, { _id: 1 });
  assert.deepEqual(events.delete.documentKey, { _id: 1 });
  assert.equal(events.drop.operationType, 'drop');
});

test('quirk: resume tokens are {_data: 16 hex digits}, the cluster time', { skip }, async () => {
  const { insert } = await eventsOfEachKind();
  const token = insert._id;
  pinned(Object.keys(token).length === 1 && /^[0-9a-f]{16}$/.test(token._data),
    'resume token is {_data: <16 hex digits>}', `longer keystring _data; got ${JSON.stringify(token)}`);
  const t = insert.clusterTime;
  const hex = (BigInt(t.high >>> 0) << 32n | BigInt(t.low >>> 0)).toString(16).padStart(16, '0');
  pinned(token._data === hex, 'token _data is the cluster time in hex', `opaque; got ${token._data} vs ${hex}`);
});

test('quirk: a garbage resume token is an error without a code', { skip }, async () => {
  const col = await freshCollection();
  for (const token of [{ _data: 'zz' }, { _data: 'not a token at all' }, { other: 1 }]) {
    let error = null;
    try {
      const stream = col.watch([], { resumeAfter: token });
      await stream.tryNext();
      await stream.close();
    } catch (e) {
      error = e;
    }
    assert.ok(error, `resumeAfter ${JSON.stringify(token)} must fail`);
    pinned(error.code === undefined && /^Unknown error/.test(error.message),
      'garbage token error has no code', `a coded error (e.g. 9 FailedToParse, 260 InvalidResumeToken); got code ${error.code} "${error.message}"`);
  }
});

test('quirk: a token older than the oplog replays everything instead of failing (no code 286)', { skip }, async () => {
  const col = await freshCollection();
  await col.insertMany([{ _id: 'x' }, { _id: 'y' }]);
  const ancient = { _data: '0000000000000001' };
  const stream = col.watch([], { resumeAfter: ancient });
  let events = null;
  let error = null;
  try {
    events = await changesWithin(stream, 700);
  } catch (e) {
    error = e;
  } finally {
    await stream.close();
  }
  pinned(error === null, 'no ChangeStreamHistoryLost error', `error 286; got ${error?.message}`);
  const mine = events.filter((e) => e.operationType === 'insert' && ['seed', 'x', 'y'].includes(e.documentKey._id));
  // The whole oplog comes back, this collection's inserts included.
  pinned(mine.length >= 3, 'old token replays the oplog from its start', `history lost; got ${events.length} events`);
});

test('quirk: a collection-level watch sees drops of other collections of its database', { skip }, async () => {
  const watched = await freshCollection();
  const other = await freshCollection();
  const stream = await openedStream(watched);
  await other.drop();
  const events = await changesWithin(stream, 700);
  await stream.close();
  pinned(events.length === 1 && events[0].operationType === 'drop',
    'a sibling collection\'s drop appears in this collection\'s stream (without ns)',
    `nothing; got ${JSON.stringify(events)}`);
});

test('quirk: drop and dropDatabase give no invalidate; dropDatabase gives drop events', { skip }, async () => {
  const scratch = suite.client.db('peers_quirks_dropdb');
  await scratch.collection('a').insertOne({ _id: 1 });
  await scratch.collection('b').insertOne({ _id: 1 });
  const col = scratch.collection('a');
  const stream = await openedStream(col);
  await scratch.dropDatabase();
  await col.insertOne({ _id: 'after' });
  const events = await changesWithin(stream, 700);
  await stream.close();
  const kinds = events.map((e) => e.operationType);
  pinned(!kinds.includes('invalidate') && !kinds.includes('dropDatabase'),
    'no invalidate or dropDatabase event', `drop, invalidate; got ${kinds}`);
  // Two collections give four drops here (unnamed: events have no ns).
  const drops = kinds.filter((k) => k === 'drop').length;
  pinned(drops >= 2 && kinds.at(-1) === 'insert',
    'at least one drop per collection, then the stream goes on', `drop, invalidate; got ${kinds}`);
});

test('quirk: renaming a collection yields no event', { skip }, async () => {
  const col = await freshCollection();
  const stream = await openedStream(col);
  await col.rename(`${col.collectionName}_renamed`);
  const events = await changesWithin(stream, 700);
  await stream.close();
  pinned(events.length === 0, 'rename yields no event', `rename then invalidate; got ${JSON.stringify(events)}`);
});

test('quirk: no "hello" command and no sessions (isMaster without logicalSessionTimeoutMinutes)', { skip }, async () => {
  const hello = await suite.client.db('admin').command({ isMaster: 1 });
  pinned(!('logicalSessionTimeoutMinutes' in hello), 'no sessions',
    `logicalSessionTimeoutMinutes; got ${hello.logicalSessionTimeoutMinutes}`);
  let error = null;
  await suite.client.db('admin').command({ hello: 1 }).catch((e) => { error = e; });
  pinned(error?.code === 59, 'hello is CommandNotFound (59)', `hello works; got ${error?.message ?? 'an answer'}`);
});

test('quirk: the oplog increment starts again at 1 after a restart (H2)', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdbee-quirk-h2-'));
  const peer = await startMongoPeer({ h2: path.join(dir, 'peer.mv.db') });
  const firstEventAfterWrites = async (writes) => {
    const client = await new MongoClient(peer.uri).connect();
    try {
      const col = client.db('peers_quirks_h2').collection('c');
      const stream = await openedStream(col);
      await col.insertMany(writes.map((_id) => ({ _id })));
      const events = await nextChanges(stream, writes.length);
      await stream.close();
      return events.map((e) => e.clusterTime);
    } finally {
      await client.close();
    }
  };
  try {
    const before = await firstEventAfterWrites([1, 2, 3]);
    await peer.restart();
    const [after] = await firstEventAfterWrites([4]);
    pinned(after.low === 1 && before[2].low >= 3, 'the oplog increment restarts at 1 in a new process',
      `timestamps keep growing; got increment ${after.low} after ${before[2].low}`);
    // What keeps resumed streams right despite it: the launcher starts
    // serving only in a later second than the newest oplog entry.
    assert.ok(after.high > before[2].high,
      `post-restart second ${after.high} must follow pre-restart second ${before[2].high} (Launcher.java)`);
  } finally {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
