// Runs the mdbee binary under test (MDBEE_BIN) for the conformance suites.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.MDBEE_BIN;
if (!BIN) throw new Error('MDBEE_BIN must name the mdbee binary under test');

export function mdbee(args, { env = {}, input } = {}) {
  const r = spawnSync(BIN, args, { env: { ...process.env, ...env }, input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

export function scratch(prefix) {
  return mkdtempSync(join(tmpdir(), `mdbee-${prefix}-`));
}

export function writeKey(dir, name, text, mode = 0o600) {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}
