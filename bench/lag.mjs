// bench/lag's body: seconds from a MongoDB write's acknowledgement until the
// document is readable through the feed URL (/bzz/<feed manifest>/<coll>/<id>)
// while `mdbee run` publishes with snapshot.interval 1s.
//   node bench/lag.mjs [WRITES] [MEAN_GAP_MS]
// Peers: mongo-java-server and the Bee stand-in, or MDBEE_TEST_MONGO_URI /
// MDBEE_TEST_BEE_URL.  Writes are spaced by a random gap (uniform between
// 0.2 and 1.8 times MEAN_GAP_MS, fixed seed) so they fall at every phase
// of the interval.  One reader polls every POLL_MS: visibility is monotonic
// in write order (a snapshot holds every event applied before it), so it
// looks for the newest readable document and counts every older one as
// seen with it.  BENCH_LAG_LOG=1 also prints the daemon's log and
// the stand-in's request log (each request with its duration).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startMongo, startBee, workdir, writeConfig, runDaemon, eventually, freePort,
} from '../tests/node/lib/bridge.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { MongoClient } = createRequire(join(root, 'tests/node/package.json'))('mongodb');
const writes = Number(process.argv[2] ?? 200);
const meanGap = Number(process.argv[3] ?? 250);
const POLL_MS = 50;

let seed = 20261123;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const [mongo, bee] = await Promise.all([startMongo(), startBee()]);
const w = workdir();
const db = `bench_lag_${process.pid}`;
const client = new MongoClient(mongo.uri, { directConnection: true });
let daemon;
try {
  await client.connect();
  const coll = client.db(db).collection('items');
  await coll.insertOne({ _id: -1, note: 'seed' });
  const port = await freePort();
  const config = writeConfig(w.dir, {
    mongoUri: mongo.uri, beeUrl: bee.url, keyFile: w.keyFile, db, collections: [{ name: 'items' }], interval: '1s',
    metricsListen: `127.0.0.1:${port}`,
  });
  // The daemon's own account of each snapshot's duration, from /metrics.
  const durations = new Map(); // feed index -> seconds
  const sampleMetrics = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    durations.set(value('mdbee_feed_index'), value('mdbee_snapshot_duration_seconds'));
  };
  daemon = runDaemon(config);
  const feed = await eventually(() => /snapshot 1: root [0-9a-f]{64}, feed ([0-9a-f]{64})/.exec(daemon.log())?.[1],
    { what: 'the first snapshot', timeoutMs: 120000 });

  const acked = [];   // ms timestamps of the write acknowledgements
  const seen = [];
  let done = false;
  const readable = async (i) => {
    const r = await fetch(`${bee.url}/bzz/${feed}/items/i-${i}`);
    if (r.status !== 200) {
      await r.arrayBuffer();
      return false;
    }
    return (await r.json()).n === i;
  };
  // Marks every document up to the newest readable one as seen: the newest
  // written first (the common case after a snapshot), else a binary search
  // from the oldest unseen, so a round costs a few requests however many
  // documents a snapshot brought.
  const reader = (async () => {
    let next = 0;
    while (!done || next < acked.length) {
      const written = acked.length;
      if (next < written) {
        let lo = next - 1, hi = written - 1;
        if (!(await readable(hi))) {
          hi--;
          while (lo < hi) {
            const mid = Math.ceil((lo + hi + 1) / 2);
            if (await readable(mid)) lo = mid;
            else hi = mid - 1;
          }
        }
        const now = Date.now();
        while (next <= hi) seen[next++] = now;
      }
      await sampleMetrics();
      await sleep(POLL_MS);
    }
  })();
  for (let i = 0; i < writes; i++) {
    await coll.insertOne({ _id: i, n: i, at: new Date() });
    acked[i] = Date.now();
    await sleep(meanGap * (0.2 + 1.6 * random()));
  }
  done = true;
  await Promise.race([reader, sleep(120000).then(() => { throw new Error('documents never became readable'); })]);

  const lags = acked.map((t, i) => (seen[i] - t) / 1000).sort((a, b) => a - b);
  const q = (p) => lags[Math.min(lags.length - 1, Math.ceil(p * lags.length) - 1)];
  const snapshots = daemon.snapshots();
  console.log(`writes ${writes}, mean gap ${meanGap} ms, poll ${POLL_MS} ms, ${snapshots} snapshots, ` +
    `MongoDB ${mongo.external ? mongo.uri.replace(/\/\/[^@]*@/, '//') : 'mongo-java-server'}, ` +
    `Bee ${bee.external ? bee.url : 'stand-in'}`);
  const d = [...durations.entries()].filter(([i]) => i > 0).map(([, s]) => s);
  console.log(`snapshot duration (from /metrics, ${d.length} sampled): mean ${(d.reduce((a, b) => a + b, 0) / d.length).toFixed(2)} s, ` +
    `max ${Math.max(...d).toFixed(2)} s`);
  console.log(`lag seconds: p50 ${q(0.5).toFixed(2)}  p99 ${q(0.99).toFixed(2)}  max ${lags.at(-1).toFixed(2)}  ` +
    `min ${lags[0].toFixed(2)}`);
  if (process.env.BENCH_LAG_LOG) console.log(daemon.log(), bee.log?.() ?? "");
} finally {
  if (daemon) await daemon.stop();
  await client.close();
  await client.connect().then(() => client.db(db).dropDatabase()).catch(() => {}).finally(() => client.close());
  await Promise.all([mongo.stop(), bee.stop()]);
  w.cleanup();
}
