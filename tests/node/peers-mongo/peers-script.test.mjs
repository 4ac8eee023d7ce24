// scripts/peers: starts both peers on free ports, prints eval-able lines,
// waits until each answers, and stop ends exactly the processes it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PEERS = path.join(ROOT, 'scripts/peers');

// The script's environment: a private state dir, and no peer addresses
// inherited from whoever runs the suite (unless a test sets them).
function env(dir, extra = {}) {
  const e = { ...process.env, MDBEE_PEERS_DIR: dir, ...extra };
  for (const k of ['MDBEE_TEST_MONGO_URI', 'MDBEE_TEST_BEE_URL', 'MDBEE_PEERS_MONGO_H2']) {
    if (!(k in extra)) delete e[k];
  }
  return e;
}

async function peers(dir, args, extra) {
  try {
    const { stdout, stderr } = await run(PEERS, args, { env: env(dir, extra), timeout: 180000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Runs fn(dir) with a fresh state dir; afterwards stops whatever the test
// left running there and removes the dir.
function peersTest(name, fn) {
  test(name, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mdbee-peers-'));
    try {
      await fn(dir);
    } finally {
      await peers(dir, ['stop']);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function parseEnv(stdout) {
  const lines = stdout.trim().split('\n');
  const vars = Object.fromEntries(lines.map((l) => {
    const m = /^([A-Z_]+)=(\S+)$/.exec(l);
    assert.ok(m, `not an eval-able line: ${JSON.stringify(l)}`);
    return [m[1], m[2]];
  }));
  assert.deepEqual(Object.keys(vars).sort(), ['MDBEE_TEST_BEE_URL', 'MDBEE_TEST_MONGO_URI']);
  return vars;
}

const pidOf = (dir, name) => Number(readFileSync(path.join(dir, `${name}.pid`), 'utf8').split(' ')[0]);

function running(pid) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

async function mongoAnswers(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    return (await client.db('admin').command({ ping: 1 })).ok === 1;
  } finally {
    await client.close();
  }
}

peersTest('start brings up both peers, both answer, stop kills exactly those pids', async (dir) => {
  const started = Date.now();
  const start = await peers(dir, ['start']);
  assert.equal(start.code, 0, start.stderr);
  const vars = parseEnv(start.stdout);
  assert.match(vars.MDBEE_TEST_MONGO_URI, /^mongodb:\/\/127\.0\.0\.1:\d+$/);
  assert.match(vars.MDBEE_TEST_BEE_URL, /^http:\/\/127\.0\.0\.1:\d+$/);

  assert.ok(await mongoAnswers(vars.MDBEE_TEST_MONGO_URI));
  const health = await fetch(`${vars.MDBEE_TEST_BEE_URL}/health`);
  assert.equal(health.status, 200);

  const mongoPid = pidOf(dir, 'mongo');
  const beePid = pidOf(dir, 'bee');
  assert.ok(running(mongoPid) && running(beePid));
  assert.match(readFileSync(`/proc/${mongoPid}/cmdline`, 'utf8'), /Launcher/);
  assert.match(readFileSync(`/proc/${beePid}/cmdline`, 'utf8'), /bee-standin\/server\.mjs/);

  const status = await peers(dir, ['status']);
  assert.equal(status.code, 0);
  assert.match(status.stdout, new RegExp(`mongo: running \\(pid ${mongoPid}\\)`));
  assert.match(status.stdout, new RegExp(`bee: running \\(pid ${beePid}\\)`));

  // A second start while they run refuses and leaves them alone.
  const again = await peers(dir, ['start']);
  assert.equal(again.code, 1);
  assert.ok(running(mongoPid) && running(beePid));

  const stop = await peers(dir, ['stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(!running(mongoPid), `mongo peer ${mongoPid} still runs after stop`);
  assert.ok(!running(beePid), `bee peer ${beePid} still runs after stop`);
  assert.ok(!existsSync(path.join(dir, 'mongo.pid')) && !existsSync(path.join(dir, 'env')));
  // The whole cycle, installs checked, must stay well under a minute (it
    // takes 5 to 19 s here, depending on the shared machine's load).
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds < 45, `start-stop cycle took ${seconds} s`);

  const after = await peers(dir, ['status']);
  assert.equal(after.code, 1);
  assert.match(after.stdout, /no peers started/);
});

peersTest('stop leaves a process alone that merely reuses a recorded pid number', async (dir) => {
  // A pid file naming this test process with a wrong start time, as if the
  // peer had died and its pid been reused.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'mongo.pid'), `${process.pid} 1\n`);
  const stop = await peers(dir, ['stop']);
  assert.equal(stop.code, 0);
  assert.ok(running(process.pid));
  assert.ok(!existsSync(path.join(dir, 'mongo.pid')));
});

peersTest('with both variables set, start starts nothing and echoes them', async (dir) => {
  const given = { MDBEE_TEST_MONGO_URI: 'mongodb://db.example:27017/?replicaSet=rs0', MDBEE_TEST_BEE_URL: 'http://bee.example:1633' };
  const start = await peers(dir, ['start'], given);
  assert.equal(start.code, 0, start.stderr);
  assert.deepEqual(parseEnv(start.stdout), given);
  assert.ok(!existsSync(path.join(dir, 'mongo.pid')) && !existsSync(path.join(dir, 'bee.pid')));
  assert.equal((await peers(dir, ['stop'])).code, 0);
});

peersTest('start --h2 FILE keeps the data across a stop and a start', async (dir) => {
  const h2 = path.join(dir, 'mongo.mv.db');
  // Only the MongoDB half matters here; a given Bee URL is echoed, not started.
  const bee = { MDBEE_TEST_BEE_URL: 'http://127.0.0.1:9' };
  let vars = parseEnv((await peers(dir, ['start', '--h2', h2], bee)).stdout);
  let client = await new MongoClient(vars.MDBEE_TEST_MONGO_URI).connect();
  await client.db('peers_script').collection('c').insertOne({ _id: 'kept' });
  await client.close();
  assert.equal((await peers(dir, ['stop'])).code, 0);
  assert.ok(!existsSync(path.join(dir, 'bee.pid')), 'no Bee stand-in was started');

  vars = parseEnv((await peers(dir, ['start'], { ...bee, MDBEE_PEERS_MONGO_H2: h2 })).stdout);
  client = await new MongoClient(vars.MDBEE_TEST_MONGO_URI).connect();
  try {
    assert.deepEqual(await client.db('peers_script').collection('c').findOne(), { _id: 'kept' });
  } finally {
    await client.close();
  }
});

peersTest('usage errors exit 2', async (dir) => {
  for (const args of [[], ['bogus'], ['start', '--h2'], ['stop', 'extra']]) {
    const r = await peers(dir, args);
    assert.equal(r.code, 2, `scripts/peers ${args.join(' ')}`);
    assert.match(r.stderr, /usage: scripts\/peers/);
  }
});
