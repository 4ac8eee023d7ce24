// Seed corpus for fuzz_ejson: BSON documents of every type bson can make,
// each preceded by the option byte the target reads (mode, redaction,
// depth limit).  Usage: node tests/fuzz/seed_ejson.mjs OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../node/package.json'));
const {
  BSON, ObjectId, Long, Double, Int32, Decimal128, Binary, Timestamp, MinKey,
  MaxKey, BSONRegExp, BSONSymbol, Code,
} = require('bson');

const out = process.argv[2];
mkdirSync(out, { recursive: true });

const docs = [
  { _id: new ObjectId('507f1f77bcf86cd799439011'), a: 'x', b: { c: 1, d: [1, 2] } },
  { _id: 'k', d: [{ e: 1, f: 2 }, { e: new Double(0.1) }], l: Long.fromString('9007199254740993') },
  { n: null, t: true, dt: new Date(-1), dt2: new Date(1e15), ts: new Timestamp({ t: 1, i: 2 }) },
  { bin: new Binary(Buffer.from('hello'), 4), old: new Binary(Buffer.from('ab'), 2), u: new Binary(Buffer.alloc(16, 1), 4) },
  { re: new BSONRegExp('a.*b', 'imx'), sym: new BSONSymbol('s'), c: new Code('x'), cs: new Code('y', { z: 1 }) },
  { dec: Decimal128.fromString('-1.50E+3'), mn: new MinKey(), mx: new MaxKey(), i: new Int32(-5), nan: NaN, inf: -Infinity },
  { s: 'é\u0000"\\\n😀', nested: { a: { b: { c: { d: [[[]]] } } } } },
];
docs.forEach((d, i) => {
  const bson = BSON.serialize(d);
  for (const opt of [0, 3, 4]) writeFileSync(join(out, `seed-${i}-${opt}`), Buffer.concat([Buffer.from([opt]), bson]));
  // The _id alone, as docid and index key values see it.
  const id = BSON.serialize({ v: d._id ?? 1 });
  writeFileSync(join(out, `id-${i}`), Buffer.concat([Buffer.from([0, id[4]]), id.subarray(7, id.length - 1)]));
});
