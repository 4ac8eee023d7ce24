// End-to-end helpers: the two real peers (or the ones named by
// MDBEE_TEST_MONGO_URI / MDBEE_TEST_BEE_URL), a configuration file, and
// the mdbee binary (MDBEE_BIN) run as a child process.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startStandin } from '../bee-standin/harness.mjs';
import { startMongoPeer } from './mongo-peer.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const MDBEE = process.env.MDBEE_BIN ?? join(ROOT, 'build/release/mdbee');

// Starts the MongoDB peer (mongo-java-server; an H2 file keeps data and
// oplog across restarts), unless MDBEE_TEST_MONGO_URI names a real one.
export async function startMongo({ h2 } = {}) {
  if (process.env.MDBEE_TEST_MONGO_URI)
    return { uri: process.env.MDBEE_TEST_MONGO_URI, external: true, async stop() {} };
  return startMongoPeer(h2 ? { h2 } : {});
}

// Starts the Bee stand-in unless MDBEE_TEST_BEE_URL names a real node.
export async function startBee(opts = {}) {
  if (process.env.MDBEE_TEST_BEE_URL)
    return { url: process.env.MDBEE_TEST_BEE_URL, external: true, async stop() {} };
  return startStandin(opts);
}

// A fresh working directory with a signing key (mode 0600).
export function workdir() {
  const dir = mkdtempSync(join(tmpdir(), 'mdbee-e2e-'));
  const keyFile = join(dir, 'publisher.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return { dir, keyFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// Writes an mdbee configuration (see config/mdbee.example.yaml) and
// returns its path.
export function writeConfig(dir, { mongoUri, beeUrl, keyFile, db = 'shop', collections,
  interval = '1s', stateDir = join(dir, 'state'), keepLast = 0, metricsListen, encrypt = false }) {
  const q = JSON.stringify; // YAML accepts JSON strings
  const colls = collections.map((c) => {
    const lines = [`      - name: ${q(c.name)}`];
    if (c.redact?.length) lines.push(`        redact: [${c.redact.map(q).join(', ')}]`);
    if (c.indexes?.length) {
      lines.push('        indexes:');
      for (const ix of c.indexes)
        lines.push(`          - name: ${q(ix.name)}`, `            keys: [${ix.fields.map(q).join(', ')}]`);
    }
    return lines.join('\n');
  }).join('\n');
  // The amount pays for a day at mainnet prices (24000 PLUR per chunk per
  // block, 17280 blocks), the minimum Bee and the stand-in accept.
  const yaml = `mongodb:
  uri: ${q(mongoUri)}
bee:
  url: ${q(beeUrl)}
  postage:
    batch: auto
    amount: 500000000
    depth: 20
key_file: ${q(keyFile)}
state_dir: ${q(stateDir)}
snapshot:
  interval: ${interval}
${encrypt ? '  encrypt: true\n' : ''}${keepLast ? `  retention:\n    keep_last: ${keepLast}\n` : ''}${metricsListen ? `metrics:\n  listen: ${q(metricsListen)}\n` : ''}databases:
  - name: ${q(db)}
    collections:
${colls}
`;
  const path = join(dir, 'mdbee.yaml');
  writeFileSync(path, yaml);
  return path;
}

// Runs mdbee to completion; resolves { code, stdout, stderr }.
export async function mdbee(args, { env = {}, timeout = 120000 } = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(MDBEE, args, {
      env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) };
  }
}

// `mdbee sync --once`: returns { root, feed } of database db.
export async function syncOnce(config, db = 'shop') {
  const r = await mdbee(['sync', '-c', config, '--once']);
  if (r.code !== 0) throw new Error(`mdbee sync failed (${r.code}): ${r.stderr}`);
  const root = new RegExp(`^root ${db} ([0-9a-f]{64})$`, 'm').exec(r.stdout)?.[1];
  const feed = new RegExp(`^feed ${db} ([0-9a-f]{64})$`, 'm').exec(r.stdout)?.[1];
  if (!root || !feed) throw new Error(`mdbee sync printed no root/feed: ${r.stdout}\n${r.stderr}`);
  return { root, feed, stderr: r.stderr };
}

// Starts `mdbee run` in the background; stop() sends SIGTERM and waits.
export function runDaemon(config) {
  const proc = spawn(MDBEE, ['run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  return {
    proc,
    log: () => stderr,
    snapshots: () => (stderr.match(/snapshot \d+: root/g) ?? []).length,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

// Polls fn until it returns a truthy value or timeoutMs passes.
export async function eventually(fn, { timeoutMs = 30000, stepMs = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}: ${last?.message ?? last}`);
}

// A TCP port that was free a moment ago (for servers configured by port).
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
