// Starts, stops and restarts a MongoDB test peer (mongo-java-server through
// tests/peers/mongo/launch) for tests that need a server of their own, e.g.
// to restart it on the same H2 file.  Tests that only need some server call
// mongoPeerForSuite(), which honours MDBEE_TEST_MONGO_URI.
//
//   const peer = await startMongoPeer({ h2: '/tmp/x.mv.db' });
//   peer.uri        // mongodb://127.0.0.1:PORT
//   await peer.restart();   // same port, same H2 file
//   await peer.stop();      // resolves with the exit signal or code
//
// Run as a script, `node mongo-peer.mjs ping URI` exits 0 once a server at
// URI answers a ping (scripts/peers uses it), 1 if none does in time.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { before, after } from 'node:test';
import { MongoClient } from 'mongodb';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const LAUNCH = path.join(ROOT, 'tests/peers/mongo/launch');
const READY = /^mongo-java-server listening on (mongodb:\/\/127\.0\.0\.1:(\d+))$/;

// A test that crashes or forgets stop() must not leave a server behind.
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGTERM');
});

// Starts the launcher and resolves once it printed its ready line.  The
// first start of a machine may fetch jars, hence the generous default.
function launch(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.on('exit', () => live.delete(child));
    let out = '';
    let err = '';
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`mongo peer ${args.join(' ')}: ${why}\n${err}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      const m = out.includes('\n') && READY.exec(line);
      if (out.includes('\n') && !m) fail(`unexpected output ${JSON.stringify(line)}`);
      if (m) {
        clearTimeout(timer);
        child.removeListener('exit', early);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, uri: m[1], port: Number(m[2]), stderr: () => err });
      }
    });
    const early = (code, signal) => fail(`exited (${signal ?? code}) before it was ready`);
    child.on('exit', early);
    child.on('error', (e) => fail(e.message));
  });
}

async function terminate(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return child.signalCode ?? child.exitCode;
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code, signal] = await exited;
  return signal ?? code;
}

/**
 * Starts a MongoDB peer.  Options: h2 (file path; default memory backend),
 * port (default 0 = any free port), timeoutMs.  Resolves with
 * { uri, port, pid, stop(), restart() }; restart() stops the server and
 * starts it again on the same port and file, so clients reconnect.
 */
export async function startMongoPeer({ h2, port = 0, timeoutMs = 120000 } = {}) {
  const args = (p) => ['--port', String(p), ...(h2 ? ['--h2', h2] : [])];
  let running = await launch(args(port), timeoutMs);
  const peer = {
    get uri() { return running.uri; },
    get port() { return running.port; },
    get pid() { return running.child.pid; },
    stderr: () => running.stderr(),
    stop: () => terminate(running.child),
    async restart() {
      await terminate(running.child);
      running = await launch(args(running.port), timeoutMs);
      return peer;
    },
  };
  return peer;
}

/**
 * The server a test suite should use: MDBEE_TEST_MONGO_URI when set (an
 * external server: `own` is false and stop() does nothing), else a fresh
 * memory-backend peer of its own.
 */
export async function mongoPeerForSuite() {
  const external = process.env.MDBEE_TEST_MONGO_URI;
  if (external) return { uri: external, own: false, stop: async () => {} };
  const peer = await startMongoPeer();
  return { uri: peer.uri, own: true, peer, stop: () => peer.stop() };
}

/**
 * mongoPeerForSuite() plus a connected driver client: { uri, client,
 * close() } where close() closes the client, then stops an own peer.
 */
export async function mongoClientForSuite() {
  const server = await mongoPeerForSuite();
  const client = await new MongoClient(server.uri).connect();
  return {
    uri: server.uri,
    client,
    async close() {
      await client.close();
      await server.stop();
    },
  };
}

/**
 * Registers node:test hooks that give the calling test file a connected
 * client for its whole run (see mongoClientForSuite); the returned object's
 * `client` and `uri` are set once the before hook ran.  With skip set,
 * nothing is started.
 */
export function useMongoSuite({ skip = false } = {}) {
  const suite = {};
  before(async () => {
    if (!skip) Object.assign(suite, await mongoClientForSuite());
  });
  after(() => suite.close?.());
  return suite;
}

/** Resolves once a server at uri answers a ping; rejects after timeoutMs. */
export async function pingMongo(uri, timeoutMs = 10000) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, uri] = process.argv.slice(2);
  if (cmd !== 'ping' || !uri) {
    console.error('usage: node mongo-peer.mjs ping URI');
    process.exit(2);
  }
  pingMongo(uri).then(
    () => process.exit(0),
    (e) => { console.error(`no MongoDB answers at ${uri}: ${e.message}`); process.exit(1); },
  );
}
