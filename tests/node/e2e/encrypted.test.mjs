// snapshot.encrypt end to end: MongoDB -> mdbee -> Bee (the stand-in, or
// MDBEE_TEST_BEE_URL), read back through the feed manifest with bee-js and
// `mdbee get`, and the published chunks fetched raw (GET /chunks, as from
// any node storing them) to check that they hold no document text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { Bee, MantarayNode, PrivateKey } from '@ethersphere/bee-js';
import { load, customers, sampleId } from '../lib/sample-data.mjs';
import { startMongo, startBee, workdir, writeConfig, syncOnce, mdbee } from '../lib/bridge.mjs';

const COLLECTIONS = [
  { name: 'customers', redact: ['email'], indexes: [{ name: 'by_city', fields: ['city'] }] },
  { name: 'orders' },
];
const DB = 'e2e_encrypted';

let mongo, bee, client;
before(async () => {
  [mongo, bee] = await Promise.all([startMongo(), startBee()]);
  client = new MongoClient(mongo.uri, { directConnection: true });
  await client.connect();
});
after(async () => {
  await client?.close();
  await Promise.all([mongo?.stop(), bee?.stop()]);
});

const hex = (b) => Buffer.from(b).toString('hex');

async function get(path) {
  const res = await fetch(`${bee.url}${path}`);
  assert.equal(res.status, 200, `GET ${path}`);
  return Buffer.from(await res.arrayBuffer());
}

// Walks the manifest as Bee reads it: the plain root by its 32-byte
// address, every other node and entry by its 64-byte reference through
// /bytes (which decrypts).  Returns the raw stored chunk of every node and
// of every entry's root chunk (GET /chunks/<address>), and the entries.
async function collect(root) {
  const raw = [];
  const entries = {};
  const visit = async (ref, path, isRoot) => {
    raw.push(await get(`/chunks/${ref.slice(0, 64)}`));
    const data = isRoot ? (await get(`/chunks/${ref}`)).subarray(8) : await get(`/bytes/${ref}`);
    // Bee sizes fork references by the node header (byte 63 under the
    // obfuscation key); bee-js by the reference handed in.
    const self = Buffer.alloc(data[63] ^ data[31]);
    const node = MantarayNode.unmarshalFromData(data, self);
    for (const fork of node.forks.values()) {
      const childPath = path + Buffer.from(fork.prefix).toString();
      const child = hex(fork.node.selfAddress);
      assert.equal(child.length, 128, `node under ${childPath} has a 64-byte reference`);
      const target = await visit(child, childPath, false);
      if (target && !/^0+$/.test(target)) {
        assert.equal(target.length, 128, `${childPath} has a 64-byte reference`);
        entries[childPath] = target;
        raw.push(await get(`/chunks/${target.slice(0, 64)}`));
      }
    }
    return isRoot ? null : hex(node.targetAddress);
  };
  await visit(root, '', true);
  return { raw, entries };
}

test('an encrypted database reads through the feed and mdbee get, and no stored chunk holds its text', async (t) => {
  const w = workdir();
  t.after(w.cleanup);
  const owner = new PrivateKey(readFileSync(w.keyFile, 'utf8').trim()).publicKey().address();
  const config = (encrypt) => writeConfig(w.dir, {
    mongoUri: mongo.uri, beeUrl: bee.url, keyFile: w.keyFile, db: DB, collections: COLLECTIONS, encrypt,
  });
  await load(mongo.uri, { db: DB, customerCount: 40, orderCount: 20 });
  const first = await syncOnce(config(true), DB);

  // A document inserted afterwards is in the next snapshot.
  const added = { _id: sampleId('customer', 900), name: 'Encrypted Newcomer', city: 'Reykjavik' };
  await client.db(DB).collection('customers').insertOne(added);
  const { root, feed } = await syncOnce(config(true), DB);
  assert.notEqual(root, first.root);
  assert.equal(feed, first.feed);

  const reader = new Bee(bee.url);
  const read = async (path) => JSON.parse((await reader.downloadFile(feed, path)).data.toUtf8());
  const original = customers(40)[5];
  const doc = await read(`customers/${original._id.toHexString()}`);
  assert.equal(doc.name, original.name);
  assert.equal(doc.email, undefined);
  assert.equal((await read(`customers/${added._id.toHexString()}`)).city, 'Reykjavik');
  const meta = await read('$meta');
  assert.equal(meta.name, DB);
  assert.equal(meta.previousRoot, first.root);
  assert.equal((await read('customers/$meta')).count, 41);

  const got = await mdbee(['get', '--gateway', bee.url, '--owner', `0x${owner.toHex()}`, '--db', DB,
    `customers/${added._id.toHexString()}`]);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(JSON.parse(got.stdout), await read(`customers/${added._id.toHexString()}`));

  // Every reference in the manifest is 64 bytes, every chunk but the root
  // is encrypted, and none holds a field name, value or document id.
  const { raw, entries } = await collect(root);
  assert.equal(Object.keys(entries).filter((p) => /^customers\/[0-9a-f]{24}$/.test(p)).length, 41);
  assert.equal(Object.keys(entries).filter((p) => /^orders\/[0-9a-f]{24}$/.test(p)).length, 20);
  assert.ok(entries.$meta);
  assert.equal(raw.filter((c) => c.length !== 4104).length, 1, 'only the root node is a plain chunk');
  const secrets = ['"name"', '"city"', '"_id"', original.name, 'Encrypted Newcomer', 'Reykjavik',
    original._id.toHexString(), added._id.toHexString(), 'by_city', '$indexes', 'previousRoot'];
  for (const chunk of raw)
    for (const word of secrets) assert.equal(chunk.indexOf(word), -1, `"${word}" readable in a stored chunk`);

  // Turning encryption off for this state is refused, naming the key.
  const off = await mdbee(['sync', '-c', config(false), '--once']);
  assert.equal(off.code, 1);
  assert.match(off.stderr, /snapshot\.encrypt/);
});
