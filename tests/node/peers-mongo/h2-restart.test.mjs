// The H2 backend keeps data and oplog across a restart, so a change stream
// resumes after the server went away: the case mdbee's crash and restart
// tests need.  This needs a server of its own to restart, so it does not run
// against MDBEE_TEST_MONGO_URI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startMongoPeer } from '../lib/mongo-peer.mjs';
import { nextChanges, openedStream } from '../lib/change-events.mjs';

const external = process.env.MDBEE_TEST_MONGO_URI;
const skip = external ? 'restarts a peer of its own; MDBEE_TEST_MONGO_URI points at another server' : false;

const keyOf = (e) => e.documentKey?._id ?? e.fullDocument?._id;

// Resolves just after the wall clock enters a new second.
const nextSecond = () => new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));

test('H2: data and oplog survive a restart; resumeAfter continues', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdbee-h2-'));
  const file = path.join(dir, 'peer.mv.db');
  const peer = await startMongoPeer({ h2: file });
  try {
    let client = await new MongoClient(peer.uri).connect();
    let col = client.db('peers_h2').collection('c');
    const stream = await openedStream(col);
    // Everything before the restart happens early in one second, and the
    // restart takes less than a second on an idle machine: the oplog
    // increment starts again at 1 in the new process, so without the
    // launcher's wait (Launcher.java) the insert after the restart would
    // get a timestamp at or before the resume token and never be replayed.
    await nextSecond();
    await col.insertMany([{ _id: 1 }, { _id: 2 }]);
    const [first] = await nextChanges(stream, 2);
    await stream.close();
    // Written after the token and before the restart: must be replayed.
    await col.updateOne({ _id: 2 }, { $set: { v: 'before restart' } });
    await client.close();

    const pidBefore = peer.pid;
    await peer.restart();
    assert.notEqual(peer.pid, pidBefore, 'restart() must start a new process');
    assert.ok(existsSync(file), 'the H2 file exists after the restart');

    client = await new MongoClient(peer.uri).connect();
    col = client.db('peers_h2').collection('c');
    try {
      assert.deepEqual(await col.find().sort({ _id: 1 }).toArray(),
        [{ _id: 1 }, { _id: 2, v: 'before restart' }]);
      const resumed = col.watch([], { resumeAfter: first._id, fullDocument: 'updateLookup' });
      await col.insertOne({ _id: 3 });
      // The new JVM's first change-stream answer can take seconds under load.
      const events = await nextChanges(resumed, 3, 30000);
      assert.deepEqual(events.map((e) => [e.operationType, keyOf(e)]),
        [['insert', 2], ['update', 2], ['insert', 3]]);
      assert.deepEqual(events[1].fullDocument, { _id: 2, v: 'before restart' });
      await resumed.close();
    } finally {
      await client.close();
    }
  } finally {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memory backend: a restart starts empty', { skip }, async () => {
  const peer = await startMongoPeer();
  try {
    let client = await new MongoClient(peer.uri).connect();
    await client.db('peers_mem').collection('c').insertOne({ _id: 1 });
    await client.close();
    await peer.restart();
    client = await new MongoClient(peer.uri).connect();
    try {
      assert.equal(await client.db('peers_mem').collection('c').countDocuments(), 0);
    } finally {
      await client.close();
    }
  } finally {
    await peer.stop();
  }
});
