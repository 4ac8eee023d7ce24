// Persistent state of the Bee stand-in under --data DIR: one file per chunk
// (so a kill loses at most the chunk being written) and a small JSON file
// for batches, tags and pins, replaced atomically.
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

export class Store {
  constructor(dir) {
    this.dir = dir;
    this.chunkDir = join(dir, 'chunks');
    mkdirSync(this.chunkDir, { recursive: true });
    this.statePath = join(dir, 'state.json');
    this.stampLog = join(dir, 'stamped.log');
    const fresh = { batches: {}, tags: {}, nextTag: 1, pins: [] };
    this.state = existsSync(this.statePath) ? JSON.parse(readFileSync(this.statePath, 'utf8')) : fresh;
    // batch id -> Set of chunk addresses already stamped by it (a chunk
    // stamped twice by one batch uses its slot once, as in Bee).
    this.stamped = new Map();
    if (existsSync(this.stampLog)) {
      for (const line of readFileSync(this.stampLog, 'utf8').split('\n')) {
        const [batch, addr] = line.split(' ');
        if (addr) this.stampedSet(batch).add(addr);
      }
    }
  }

  chunkPath(address) {
    return join(this.chunkDir, address.slice(0, 2), address);
  }

  has(address) {
    return existsSync(this.chunkPath(address));
  }

  get(address) {
    try {
      return readFileSync(this.chunkPath(address));
    } catch {
      return null;
    }
  }

  put(address, data) {
    const path = this.chunkPath(address);
    if (existsSync(path)) return false;
    mkdirSync(join(this.chunkDir, address.slice(0, 2)), { recursive: true });
    writeFileSync(path + '.tmp', data);
    renameSync(path + '.tmp', path);
    return true;
  }

  stampedSet(batch) {
    if (!this.stamped.has(batch)) this.stamped.set(batch, new Set());
    return this.stamped.get(batch);
  }

  recordStamp(batch, address) {
    this.stampedSet(batch).add(address);
    appendFileSync(this.stampLog, `${batch} ${address}\n`);
  }

  save() {
    writeFileSync(this.statePath + '.tmp', JSON.stringify(this.state));
    renameSync(this.statePath + '.tmp', this.statePath);
  }
}
