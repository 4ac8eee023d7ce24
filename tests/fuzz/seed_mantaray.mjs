// Seed corpus for fuzz_mantaray: manifests made by bee-js, each written as
// its node payloads (2-byte big-endian length + bytes), root first; and one
// whose root node (over 4096 bytes) is a chunk tree: an intermediate chunk
// record naming the two leaves that follow it, then a few child nodes.
// Usage: node tests/fuzz/seed_mantaray.mjs OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../node/package.json'));
const { MantarayNode } = require('@ethersphere/bee-js');

const out = process.argv[2];
mkdirSync(out, { recursive: true });

async function payloads(node, list = []) {
  list.push(await node.marshal());
  for (const fork of node.forks.values()) await payloads(fork.node, list);
  return list;
}

const sets = [
  [['a', null], ['b', { 'Content-Type': 'text/plain' }]],
  [['coll/507f1f77bcf86cd799439011', null], ['coll/507f1f77bcf86cd799439012', null], ['coll/$meta', { Filename: 'm.json' }]],
  [['x'.repeat(70), null], ['x'.repeat(31), null], ['y', null]],
  [['/', { 'website-index-document': 'index.html' }], ['index.html', { 'Content-Type': 'text/html' }]],
  [['dir', null], ['dir/a', null], ['dir/b', { k: 'q"\\\u0001é' }]],
];
let i = 0;
for (const set of sets) {
  const node = new MantarayNode();
  for (const [path, meta] of set) node.addFork(path, 'ab'.repeat(32), meta ?? undefined);
  await node.calculateSelfAddress();
  const parts = [];
  for (const p of await payloads(node)) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    parts.push(len, Buffer.from(p));
  }
  writeFileSync(join(out, `seed${i++}`), Buffer.concat(parts));
}

// 40 forks with metadata: a root node of about 5 KB, split as Bee splits it.
const wide = new MantarayNode();
for (let b = 0; b < 40; b++) {
  wide.addFork(new Uint8Array([0x41 + b, 0x2f, 0x78]), 'cd'.repeat(32), { 'Content-Type': 'application/json', Filename: `doc-${b}.json` });
}
await wide.calculateSelfAddress();
const [root, ...children] = await payloads(wide);
const record = (p) => {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(p.length);
  return [len, Buffer.from(p)];
};
const tree = Buffer.from([0xff, 2, 0, 0, 0, 0, 0, 1]);
tree.writeUInt32BE(root.length, 2);
writeFileSync(join(out, `seed${i++}`), Buffer.concat([
  tree, ...record(root.subarray(0, 4096)), ...record(root.subarray(4096)),
  ...children.slice(0, 5).flatMap(record),
]));
