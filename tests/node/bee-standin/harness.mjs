// Starts and stops Bee stand-in processes for tests:
//   const bee = await startStandin({ env: { BEE_STANDIN_FAIL_RATE: '0.3' } });
//   ... bee.url ...; await bee.stop();
// A data directory may be passed to restart on the same store.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bee } from '@ethersphere/bee-js';

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'server.mjs');

export async function startStandin({ env = {}, dataDir, args = [], log } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'bee-standin-'));
  const proc = spawn(process.execPath, [SERVER, '--port', '0', '--data', dir, ...(log ? ['--log', log] : []), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^bee-standin listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`stand-in exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    dir,
    proc,
    log: () => stderr,
    async stop({ keepData = false } = {}) {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (!keepData && !dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A stand-in with a bee-js client and a usable postage batch.
export async function startWithBatch(options) {
  const bee = await startStandin(options);
  const client = new Bee(bee.url);
  return { bee, client, batch: await client.createPostageBatch('1000000000', 20) };
}
