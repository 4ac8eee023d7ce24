// The metrics and health endpoint of `mdbee run` (metrics.listen) against
// the real peers: what a Prometheus scrape and a health probe see while the
// bridge publishes, while the Bee node is down, and after it is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Bee } from '@ethersphere/bee-js';
import { MongoClient } from 'mongodb';
import { startStandin } from '../bee-standin/harness.mjs';
import { startMongoPeer } from '../lib/mongo-peer.mjs';
import {
  startMongo, startBee, workdir, writeConfig, runDaemon, mdbee, eventually, freePort,
} from '../lib/bridge.mjs';
import { parseMetrics } from '../lib/prometheus.mjs';

const COLLECTIONS = [{ name: 'items' }];
let mongo, client;

before(async () => {
  mongo = await startMongo();
  client = new MongoClient(mongo.uri, { directConnection: true });
  await client.connect();
});

after(async () => {
  await client?.close();
  await mongo?.stop();
});

async function scrape(base) {
  const r = await fetch(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await r.text());
}

async function health(base) {
  const r = await fetch(`${base}/healthz`);
  return { status: r.status, body: await r.text() };
}

test('metrics and health follow publishing, a Bee outage and its end', async (t) => {
  const w = workdir();
  t.after(w.cleanup);
  let bee = await startBee();
  t.after(() => bee.stop());
  const external = Boolean(process.env.MDBEE_TEST_BEE_URL);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const coll = client.db('e2e_metrics').collection('items');
  await client.db('e2e_metrics').dropDatabase(); // a reused real server
  await coll.insertMany([{ _id: 1, n: 1 }, { _id: 2, n: 2 }, { _id: 3, n: 3 }]);
  const config = writeConfig(w.dir, {
    mongoUri: mongo.uri, beeUrl: bee.url, keyFile: w.keyFile, db: 'e2e_metrics',
    collections: COLLECTIONS, metricsListen: `127.0.0.1:${port}`,
  });
  const daemon = runDaemon(config);
  t.after(() => daemon.stop());
  await eventually(() => daemon.log().includes(`metrics on http://127.0.0.1:${port}/metrics`),
    { what: 'the metrics endpoint' });
  const feed = await eventually(() => /snapshot 1: root [0-9a-f]{64}, feed ([0-9a-f]{64})/.exec(daemon.log())?.[1],
    { what: 'the first snapshot' });

  await coll.insertOne({ _id: 4, n: 4 });
  await coll.updateOne({ _id: 1 }, { $set: { n: 10 } });
  await coll.deleteOne({ _id: 2 });
  let m = await eventually(async () => {
    const s = await scrape(base);
    return s.mdbee_snapshots_published_total >= 2 && s.mdbee_pending_documents === 0 ? s : null;
  }, { what: 'a second snapshot in the metrics' });
  assert.equal(m['mdbee_events_applied_total{operation="scan"}'], 3);
  assert.equal(m['mdbee_events_applied_total{operation="insert"}'], 1);
  assert.equal(m['mdbee_events_applied_total{operation="delete"}'], 1);
  // mongo-java-server reports an update as "update", mongod too for $set.
  assert.equal(m['mdbee_events_applied_total{operation="update"}'], 1);
  assert.equal(m.mdbee_source_scans_total, 1);
  assert.equal(m['mdbee_feed_index{database="e2e_metrics"}'], m.mdbee_snapshots_published_total - 1);
  assert.ok(m.mdbee_chunks_uploaded_total > 0);
  assert.ok(m.mdbee_chunks_skipped_total > 0, 'unchanged documents are not sent again');
  assert.ok(m.mdbee_bee_upload_bytes_total >= m.mdbee_chunks_uploaded_total * 9);
  assert.ok(m.mdbee_documents_written_total >= 5);
  assert.equal(m.mdbee_snapshot_failures_total, 0);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(m.mdbee_snapshot_last_success_timestamp_seconds - now) < 60);
  assert.ok(m.mdbee_snapshot_duration_seconds > 0 && m.mdbee_snapshot_duration_seconds < 60);
  assert.ok(Math.abs(m.mdbee_source_last_event_timestamp_seconds - now) < 120);
  assert.ok(m.mdbee_source_lag_seconds >= 0 && m.mdbee_source_lag_seconds < 120);
  assert.equal(m['mdbee_build_info{version="0.1.0"}'], 1);
  assert.deepEqual(await health(base), { status: 200, body: 'ok\n' });
  assert.equal((await fetch(`${base}/nothing`)).status, 404);
  const doc = await new Bee(bee.url).downloadFile(feed, 'items/i-4');
  assert.equal(JSON.parse(doc.data.toUtf8()).n, 4);

  if (external) {
    assert.equal(await daemon.stop(), 0, daemon.log());
    return t.skip('the Bee outage part needs a Bee peer this test can stop');
  }
  // Bee goes away: the next snapshot fails and /healthz says why.
  const { dir } = bee;
  await bee.stop({ keepData: true });
  await coll.insertOne({ _id: 5, n: 5 });
  const down = await eventually(async () => {
    const h = await health(base);
    return h.status === 503 ? h : null;
  }, { what: '/healthz to turn 503' });
  assert.equal(down.body.split('\n').length, 2, 'one line of JSON');
  const reason = JSON.parse(down.body);
  assert.equal(reason.status, 'unavailable');
  assert.equal(reason.check, 'bee');
  assert.match(reason.reason, /^Bee unreachable: /);
  m = await scrape(base);
  assert.ok(m.mdbee_snapshot_failures_total >= 1);
  assert.ok(m['mdbee_bee_request_errors_total{request="tag",kind="network"}'] >= 1);
  assert.equal(m.mdbee_pending_documents, 1);
  assert.ok(/snapshot failed, retrying/.test(daemon.log()));

  // The same node comes back on the same port: the retry publishes and
  // health is ok again.
  bee = await startStandin({ dataDir: dir, args: ['--port', String(new URL(bee.url).port)] });
  await eventually(async () => (await health(base)).status === 200, { what: '/healthz back to 200' });
  m = await scrape(base);
  assert.equal(m.mdbee_pending_documents, 0);
  const back = await new Bee(bee.url).downloadFile(feed, 'items/i-5');
  assert.equal(JSON.parse(back.data.toUtf8()).n, 5);

  assert.equal(await daemon.stop(), 0, daemon.log());
  await assert.rejects(fetch(`${base}/healthz`), 'the endpoint closes with the daemon');
});

// Whether the resumed stream then delivers new events is left out: that is
// intermittent in mongo-java-server after an H2 restart (see the skipped
// source-suite test), and not what this test is about.
test('a MongoDB outage turns /healthz 503 (source) and the daemon reconnects', async (t) => {
  if (process.env.MDBEE_TEST_MONGO_URI) return t.skip('needs a MongoDB peer this test can stop');
  const w = workdir();
  t.after(w.cleanup);
  const h2 = join(w.dir, 'mongo.h2');
  let m = await startMongoPeer({ h2 });
  t.after(() => m.stop());
  const bee = await startBee();
  t.after(() => bee.stop());
  const c = new MongoClient(m.uri, { directConnection: true });
  await c.connect();
  await c.db('e2e_outage').collection('items').insertMany([{ _id: 1 }, { _id: 2 }]);
  await c.close();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const daemon = runDaemon(writeConfig(w.dir, {
    mongoUri: m.uri, beeUrl: bee.url, keyFile: w.keyFile, db: 'e2e_outage',
    collections: COLLECTIONS, metricsListen: `127.0.0.1:${port}`,
  }));
  t.after(() => daemon.stop());
  await eventually(() => /snapshot 1: root/.test(daemon.log()), { what: 'the first snapshot' });
  assert.equal((await health(base)).status, 200);

  const mongoPort = m.port;
  await m.stop();
  const down = await eventually(async () => {
    const h = await health(base);
    return h.status === 503 ? JSON.parse(h.body) : null;
  }, { what: '/healthz to report the source', timeoutMs: 60000 });
  assert.equal(down.check, 'source');
  assert.match(down.reason, /^MongoDB: /);
  assert.match(daemon.log(), /MongoDB unreachable: reconnecting in \d+ s: /);
  assert.equal(daemon.proc.exitCode, null, 'the daemon keeps running');

  m = await startMongoPeer({ h2, port: mongoPort });
  await eventually(async () => (await health(base)).status === 200,
    { what: '/healthz back to 200 after the reconnect', timeoutMs: 90000 });
  assert.equal(await daemon.stop(), 0, daemon.log());
});

test('a metrics.listen address in use stops mdbee run with an error naming the key', async (t) => {
  const w = workdir();
  t.after(w.cleanup);
  const bee = await startBee();
  t.after(() => bee.stop());
  const holder = createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => holder.close());
  const listen = `127.0.0.1:${holder.address().port}`;
  const config = writeConfig(w.dir, {
    mongoUri: mongo.uri, beeUrl: bee.url, keyFile: w.keyFile, db: 'e2e_metrics_bind',
    collections: COLLECTIONS, metricsListen: listen,
  });
  const r = await mdbee(['run', '-c', config], { timeout: 60000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`metrics\\.listen: cannot listen on ${listen}`));
});
