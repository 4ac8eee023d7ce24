// The demo after the peers are up (scripts/demo starts them): sample data,
// the bridge, live changes, and the URLs a reader can use.
//   node tests/node/lib/demo.mjs WORKDIR [--check]
import { MongoClient } from 'mongodb';
import { readFileSync } from 'node:fs';
import { PrivateKey, Topic } from '@ethersphere/bee-js';
import { load, sampleId } from './sample-data.mjs';
import { workdir, writeConfig, runDaemon, eventually, freePort } from './bridge.mjs';
import { parseMetrics } from './prometheus.mjs';

const [, , dir, flag] = process.argv;
const check = flag === '--check';
const mongoUri = process.env.MDBEE_TEST_MONGO_URI;
const bee = process.env.MDBEE_TEST_BEE_URL;
const say = (s) => process.stdout.write(`${s}\n`);

const w = workdir();
const owner = new PrivateKey(readFileSync(w.keyFile, 'utf8').trim()).publicKey().address().toHex();
const topic = Topic.fromString('mdbee:shop').toHex();
// The operator's view: Prometheus metrics and a health probe (metrics.listen).
const metrics = `http://127.0.0.1:${await freePort()}`;
const config = writeConfig(dir, {
  mongoUri, beeUrl: bee, keyFile: w.keyFile, db: 'shop', interval: '2s',
  metricsListen: metrics.slice('http://'.length),
  collections: [
    { name: 'customers', redact: ['email'], indexes: [{ name: 'by_city', fields: ['city'] }] },
    { name: 'orders', indexes: [{ name: 'by_status', fields: ['status'] }] },
  ],
});

say(`loading the sample data set into ${mongoUri.replace(/\/\/[^@]*@/, '//***@')} ...`);
const counts = await load(mongoUri, { customerCount: 1200, orderCount: 1800 });
say(`  ${counts.customers} customers, ${counts.orders} orders in database shop`);

say('running the bridge; the first snapshot uploads every chunk (the Bee stand-in verifies each one with bee-js, about a minute) ...');
const daemon = runDaemon(config);
const snapshotLine = (n) => new RegExp(`snapshot ${n}: root ([0-9a-f]{64}), feed ([0-9a-f]{64})`);
let failures = 0;
try {
  const [, root1, feed] = await eventually(() => snapshotLine(1).exec(daemon.log()),
    { timeoutMs: 600000, what: 'the first snapshot' });
  say(`first snapshot published: root ${root1}`);
  const t1 = Math.floor(Date.now() / 1000);
  await new Promise((r) => setTimeout(r, 1500)); // so the next snapshot has a later timestamp

  const client = new MongoClient(mongoUri, { directConnection: true });
  await client.connect();
  const customers = client.db('shop').collection('customers');
  const changed = sampleId('customer', 42), added = sampleId('customer', 9000), removed = sampleId('customer', 43);
  await customers.updateOne({ _id: changed }, { $set: { city: 'Reykjavik', vip: true } });
  await customers.insertOne({ _id: added, name: 'Maja', city: 'Tartu', since: new Date() });
  await customers.deleteOne({ _id: removed });
  await client.close();
  say('live changes: updated customer 42, inserted customer 9000, deleted customer 43');
  const [, root2] = await eventually(() => snapshotLine(2).exec(daemon.log()),
    { timeoutMs: 300000, what: 'the second snapshot' });
  say(`second snapshot published: root ${root2}\n`);

  const urls = [
    ['the newest document, through the permanent feed URL', `${bee}/bzz/${feed}/customers/${changed.toHexString()}`,
      (s, b) => s === 200 && JSON.parse(b).city === 'Reykjavik' && !('email' in JSON.parse(b))],
    ['a document inserted live', `${bee}/bzz/${feed}/customers/${added.toHexString()}`,
      (s, b) => s === 200 && JSON.parse(b).name === 'Maja'],
    ['a deleted document (404)', `${bee}/bzz/${feed}/customers/${removed.toHexString()}`, (s) => s === 404],
    ['database meta', `${bee}/bzz/${feed}/$meta`,
      (s, b) => s === 200 && JSON.parse(b).previousRoot === root1 && JSON.parse(b).collections.length === 2],
    ['collection meta', `${bee}/bzz/${feed}/customers/$meta`,
      (s, b) => s === 200 && JSON.parse(b).count === counts.customers],
    ['the explorer page', `${bee}/bzz/${feed}/`, (s, b) => s === 200 && b.includes('<html')],
    [`the feed update in force at ${t1}: the first snapshot (time-addressed; header swarm-feed-index)`,
      `${bee}/feeds/${owner}/${topic}?at=${t1}`, (s, b, raw, h) => s === 200 && h.get('swarm-feed-index') === '0000000000000000'],
    ['the same document in that older snapshot', `${bee}/bzz/${root1}/customers/${changed.toHexString()}`,
      (s, b) => s === 200 && JSON.parse(b).city !== 'Reykjavik'],
    ['the bridge\'s health probe (mdbee run, metrics.listen)', `${metrics}/healthz`,
      (s, b) => s === 200 && b.trim() === 'ok'],
    ['the bridge\'s Prometheus metrics: snapshots published, change events applied, backlog, lag', `${metrics}/metrics`,
      (s, b) => {
        const m = parseMetrics(b);
        const applied = (op) => m[`mdbee_events_applied_total{operation="${op}"}`];
        return s === 200 && m.mdbee_snapshots_published_total >= 2
          && applied('scan') === counts.customers + counts.orders
          && ['insert', 'update', 'delete'].every((op) => applied(op) >= 1);
      }],
  ];
  say('Try these (any Bee gateway serves the same URLs):');
  for (const [what, url, ok] of urls) {
    say(`  # ${what}\n  curl '${url}'`);
    if (!check) continue;
    const res = await fetch(url);
    const raw = Buffer.from(await res.arrayBuffer());
    let good = false;
    try { good = ok(res.status, raw.toString('utf8'), raw, res.headers); } catch { good = false; }
    say(`    ${good ? 'ok' : 'WRONG'} (HTTP ${res.status})`);
    if (!good) failures++;
  }
  say(`\nVerified reads (every chunk and the feed signature checked), newest and as of ${t1}:`);
  for (const at of ['', ` --at ${t1}`])
    say(`  ${process.env.MDBEE_BIN} get --gateway ${bee} --owner 0x${owner} --db shop${at} customers/${changed.toHexString()}`);
  if (!check) {
    say('\nThe bridge keeps running (Ctrl-C stops it and the peers).');
    await new Promise((resolve) => process.on('SIGINT', resolve));
  }
} catch (e) {
  failures++;
  process.stderr.write(`demo: ${e.message}\n`);
} finally {
  const code = await daemon.stop();
  if (code !== 0 || failures) {
    failures++;
    process.stderr.write(daemon.log());
  }
  w.cleanup();
}
if (check) say(failures ? `demo check: ${failures} URL(s) wrong` : 'demo check: every URL answered correctly');
process.exit(failures ? 1 : 0);
