// Seed corpus for fuzz_source_event: change events as mongod and
// mongo-java-server send them, and _id key bytes.
//   node tests/fuzz/seed_source_event.mjs DIR
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const { BSON, ObjectId, Timestamp } = require('bson');

const dir = process.argv[2];
const ts = new Timestamp({ t: 7, i: 2 });
const events = [
  { _id: { _data: '82' }, operationType: 'insert', clusterTime: ts, ns: { db: 'd', coll: 'c' },
    documentKey: { _id: 1 }, fullDocument: { _id: 1, a: [1, 'x', { b: null }] } },
  { operationType: 'update', ns: { db: 'd', coll: 'c' }, documentKey: { _id: new ObjectId() },
    fullDocument: null, updateDescription: { updatedFields: { a: 1 } } },
  { operationType: 'update', documentKey: { $set: { v: 2 } }, fullDocument: { v: 2 } },
  { operationType: 'replace', ns: { db: 'd', coll: 'c' }, documentKey: { _id: 'k' }, fullDocument: { _id: 'k' } },
  { operationType: 'delete', ns: { db: 'd', coll: 'c' }, documentKey: { _id: 3.5 } },
  { operationType: 'drop' },
  { operationType: 'rename', ns: { db: 'd', coll: 'a' }, to: { db: 'd', coll: 'b' } },
  { operationType: 'dropDatabase', ns: { db: 'd' } },
  { operationType: 'invalidate' },
];
events.forEach((e, i) => writeFileSync(join(dir, `event-${i}`), BSON.serialize(e)));
// _id keys: the element of {"": v} without the document's framing.
[1, 'ab', new ObjectId('0123456789abcdef01234567'), { x: 1 }].forEach((v, i) => {
  const doc = BSON.serialize({ '': v });
  writeFileSync(join(dir, `id-${i}`), Buffer.concat([doc.subarray(4, 5), doc.subarray(6, doc.length - 1)]));
});
