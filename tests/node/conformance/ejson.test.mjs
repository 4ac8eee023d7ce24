// Conformance of mdbee's BSON -> Extended JSON encoder with the MongoDB
// Node driver's own EJSON (npm `bson`, installed with `mongodb`).
// Thousands of random documents of every type bson can build are serialised
// by bson, fed to `mdbee bson2json`, and the output is checked:
//  - canonical mode: byte for byte what EJSON.stringify(doc, null, 2,
//    {relaxed: false}) writes, and EJSON.parse of it serialises back to
//    the original BSON bytes;
//  - relaxed mode: the specification's relaxed form (numbers as JSON
//    numbers with every digit kept, ISO dates for years 1970-9999) derived
//    here from bson's canonical form, and valid for EJSON.parse.
// Types bson cannot serialise (undefined, DBPointer) and malformed input
// are covered with hand-built bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BSON, EJSON, ObjectId, Long, Double, Int32, Decimal128, Binary, Timestamp,
  MinKey, MaxKey, BSONRegExp, BSONSymbol, Code,
} from 'bson';
import { prng } from '../vectors/prng.mjs';

const BIN = process.env.MDBEE_BIN;
const dir = mkdtempSync(join(tmpdir(), 'mdbee-ejson-'));
const DESERIALIZE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true };

function bson2json(bytes, args = []) {
  const file = join(dir, 'in.bson');
  writeFileSync(file, bytes);
  const r = spawnSync(BIN, ['bson2json', ...args, file], { maxBuffer: 1 << 30, encoding: 'utf8' });
  return r;
}

// ---- random values -------------------------------------------------------
function generator(seed) {
  const r = prng(seed);
  const int = (n) => r.int(n);
  const pick = (a) => a[int(a.length)];
  const dv = new DataView(new ArrayBuffer(8));
  const chars = ['a', 'b', 'z', 'A', '0', ' ', '.', '$', '"', '\\', '/', '\n', '\t', '\u0001',
    '\u001f', '\u007f', '\u0000', 'é', 'ß', '€', '\u2028', '𝄞', '😀', '中', '\ufffd'];
  const str = (max) => {
    let s = '';
    const n = int(max);
    for (let i = 0; i < n; i++) s += pick(chars);
    return s;
  };
  const key = () => {
    const s = str(8).replace(/\u0000/g, '');
    return s.startsWith('$') ? 'k' + s : s;
  };
  const double = () => {
    switch (int(10)) {
      case 0: return pick([0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 1e21, 1e-7,
        2 ** 53, 2 ** 53 + 2, 5e-324, 1.7976931348623157e308, 123456789012345680000]);
      case 1: return int(1000000) - 500000;
      case 2: return (int(2000000) - 1000000) / 1000;
      case 3: return (int(1000) + 1) * 10 ** (int(40) - 20);
      default: {
        const b = r.bytes(8);
        for (let i = 0; i < 8; i++) dv.setUint8(i, b[i]);
        // Extended JSON has one NaN: payload bits cannot round-trip.
        return Number.isNaN(dv.getFloat64(0)) ? NaN : dv.getFloat64(0);
      }
    }
  };
  const long = () => {
    const b = r.bytes(8);
    if (int(3) === 0) return Long.fromNumber(int(2000000) - 1000000);
    return Long.fromBytesLE(Array.from(b));
  };
  const date = () => {
    switch (int(4)) {
      case 0: return new Date(int(2 ** 24) * 1000 * 60);             // round seconds
      case 1: return new Date(-int(2 ** 30) * 1000 - int(1000));     // before 1970
      case 2: return new Date(253402300799999 - int(1000) * 2);      // end of 9999
      default: return new Date((int(2 ** 24) * 2 ** 20 + int(2 ** 20)) % 8.64e15);
    }
  };
  const decimal = () => pick(['0', '-0', '1.50E+3', '0.001', 'NaN', 'Infinity', '-Infinity',
    '1E-6176', '9.999999999999999999999999999999999E+6144', '-123456789.0123456789',
    String(int(1e9)), `${int(1000)}E${int(100) - 50}`]);
  const subtypes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0xff];
  const scalar = () => {
    switch (int(19)) {
      case 0: return new Double(double());
      case 1: return str(20);
      case 2: {
        const st = pick(subtypes);
        // bson only reads back a UUID (subtype 4) of 16 bytes.
        return new Binary(r.bytes(st === 4 ? 16 : int(40)), st);
      }
      case 3: return new ObjectId(r.bytes(12));
      case 4: return int(2) === 0;
      case 5: return date();
      case 6: return null;
      case 7: return new BSONRegExp(str(10).replace(/\u0000/g, ''),
        ['', 'i', 'm', 'x', 's', 'u', 'l'].slice(0, int(7)).join(''));
      case 8: return new Int32(int(2 ** 24) * 256 - 2 ** 31 + int(256));
      case 9: return new Timestamp({ t: int(2 ** 24) * 256 + int(256), i: int(2 ** 24) * 256 + int(256) });
      case 10: return long();
      case 11: return Decimal128.fromString(decimal());
      case 12: return new MinKey();
      case 13: return new MaxKey();
      case 14: return new BSONSymbol(str(10));
      case 15: return new Code(str(10));
      case 16: return new Code(str(10), { x: new Int32(int(10)), s: str(4) });
      case 17: return new Int32(int(100));
      default: return new Double(double());
    }
  };
  const value = (depth) => {
    if (depth < 4 && int(6) === 0) return doc(depth + 1);
    if (depth < 4 && int(7) === 0) {
      const a = [];
      const n = int(5);
      for (let i = 0; i < n; i++) a.push(value(depth + 1));
      return a;
    }
    return scalar();
  };
  const doc = (depth) => {
    const d = {};
    const n = int(depth === 0 ? 12 : 5);
    for (let i = 0; i < n; i++) d[key()] = value(depth);
    return d;
  };
  return { doc: () => ({ _id: pick([new ObjectId(r.bytes(12)), str(6), new Int32(int(100))]), ...doc(0) }) };
}

// ---- the relaxed form, derived from bson's canonical one ----------------
const RAW = `\u0001raw${Math.random()}:`;
function relaxFromCanonical(v) {
  if (Array.isArray(v)) return v.map(relaxFromCanonical);
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const [k] = keys;
    if (k === '$numberInt' || k === '$numberLong') return RAW + v[k];
    if (k === '$numberDouble' && !['NaN', 'Infinity', '-Infinity'].includes(v[k])) return RAW + v[k];
    if (k === '$date' && v.$date.$numberLong !== undefined) {
      const ms = Number(v.$date.$numberLong);
      if (ms >= 0 && ms <= 253402300799999) {
        const iso = new Date(ms).toISOString();
        return { $date: ms % 1000 === 0 ? iso.slice(0, -5) + 'Z' : iso };
      }
      return v;
    }
  }
  if ('$code' in v && '$scope' in v) return { $code: v.$code, $scope: relaxFromCanonical(v.$scope) };
  if (keys.some((k) => k.startsWith('$'))) return v; // other type wrappers stay canonical
  const out = {};
  for (const k of keys) out[k] = relaxFromCanonical(v[k]);
  return out;
}
function relaxedText(doc) {
  const canonical = JSON.parse(EJSON.stringify(doc, { relaxed: false }));
  const text = JSON.stringify(relaxFromCanonical(canonical), null, 2);
  const esc = JSON.stringify(RAW).slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`"${esc}([^"]*)"`, 'g'), '$1');
}

function firstDifference(ours, expected) {
  const a = ours.split('\n'), b = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if (a[i] !== b[i]) return `line ${i + 1}: ours ${JSON.stringify(a[i])} expected ${JSON.stringify(b[i])}`;
  return 'no difference';
}

const N = Number(process.env.MDBEE_EJSON_DOCS ?? 3000);
const docs = [];
{
  const g = generator(Number(process.env.MDBEE_SEED ?? 7));
  for (let i = 0; i < N; i++) {
    const bytes = BSON.serialize(g.doc());
    docs.push({ bytes, doc: BSON.deserialize(bytes, DESERIALIZE) });
  }
}
const all = Buffer.concat(docs.map((d) => d.bytes));

test(`canonical output of ${N} random documents equals bson's EJSON, byte for byte`, () => {
  const r = bson2json(all, ['--canonical']);
  assert.equal(r.status, 0, r.stderr);
  const expected = docs.map((d) => EJSON.stringify(d.doc, null, 2, { relaxed: false }) + '\n').join('');
  if (r.stdout !== expected) assert.fail(firstDifference(r.stdout, expected));
  // And it reads back to the very same BSON.
  const texts = r.stdout.split(/\n(?=\{)/);
  assert.equal(texts.length, N);
  texts.forEach((t, i) => {
    const back = BSON.serialize(EJSON.parse(t, { relaxed: false }));
    assert.ok(Buffer.from(back).equals(Buffer.from(docs[i].bytes)), `document ${i} does not round-trip`);
  });
});

test(`relaxed output of ${N} random documents is the specification's relaxed form`, () => {
  const r = bson2json(all);
  assert.equal(r.status, 0, r.stderr);
  const expected = docs.map((d) => relaxedText(d.doc) + '\n').join('');
  if (r.stdout !== expected) assert.fail(firstDifference(r.stdout, expected));
  for (const t of r.stdout.split(/\n(?=\{)/)) EJSON.parse(t, { relaxed: true });
});

test('int64 beyond 2^53, -0.0 and integral doubles keep their exact value in relaxed mode', () => {
  const doc = { big: Long.fromString('9223372036854775807'), neg: Long.fromString('-9007199254740993'),
    z: new Double(-0), one: new Double(1), huge: new Double(2 ** 60), e: new Double(2 ** 70) };
  const r = bson2json(BSON.serialize(doc));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{\n  "big": 9223372036854775807,\n  "neg": -9007199254740993,\n' +
    '  "z": -0.0,\n  "one": 1.0,\n  "huge": 1152921504606846976.0,\n  "e": 1.1805916207174113e+21\n}\n');
});

// Hand-built BSON: an element list wrapped into a document.
function docBytes(...elements) {
  const body = Buffer.concat([...elements, Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4);
  return Buffer.concat([len, body]);
}
const el = (type, name, value) => Buffer.concat([Buffer.from([type]), Buffer.from(name + '\0'), value]);
const bstr = (s) => {
  const b = Buffer.from(s + '\0');
  const l = Buffer.alloc(4);
  l.writeInt32LE(b.length);
  return Buffer.concat([l, b]);
};

test('deprecated undefined and DBPointer follow the specification', () => {
  const oid = Buffer.from('507f1f77bcf86cd799439011', 'hex');
  const bytes = docBytes(el(0x06, 'u', Buffer.alloc(0)), el(0x0c, 'p', Buffer.concat([bstr('db.c'), oid])));
  for (const mode of [[], ['--canonical']]) {
    const r = bson2json(bytes, mode);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      u: { $undefined: true },
      p: { $dbPointer: { $ref: 'db.c', $id: { $oid: '507f1f77bcf86cd799439011' } } },
    });
  }
});

test('regular expression options are written in alphabetical order', () => {
  const bytes = docBytes(el(0x0b, 'r', Buffer.from('a+\0xsmi\0')));
  const r = bson2json(bytes);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).r, { $regularExpression: { pattern: 'a+', options: 'imsx' } });
});

test('invalid UTF-8 is refused with the field path, not replaced', () => {
  const bad = Buffer.concat([Buffer.from([5, 0, 0, 0]), Buffer.from('ab'), Buffer.from([0xc3, 0x28]), Buffer.from([0])]);
  const bytes = docBytes(el(0x03, 'outer', docBytes(el(0x02, 'name', bad))));
  const r = bson2json(bytes);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /outer\.name: string is not valid UTF-8 \(byte 2\)/);
});

test('malformed BSON never crashes the encoder: each mutation is valid JSON or a clear error', () => {
  const r0 = prng(11);
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const src = Buffer.from(docs[i].bytes);
    const n = 1 + r0.int(4);
    for (let k = 0; k < n; k++) src[r0.int(src.length)] = r0.bytes(1)[0];
    const r = bson2json(src);
    assert.ok(r.status === 0 || r.status === 1, `status ${r.status} signal ${r.signal}`);
    if (r.status === 0) {
      JSON.parse(r.stdout.split(/\n(?=\{)/)[0]);
    } else {
      refused++;
      assert.match(r.stderr, /^mdbee bson2json: /);
    }
  }
  assert.ok(refused > 0, 'no mutation was refused: the checks do not run');
});

test('a 16 MB document is encoded in one pass', () => {
  const big = { _id: 1, blob: new Binary(Buffer.alloc(6 << 20, 7)), items: [] };
  for (let i = 0; i < 150000; i++) big.items.push({ i: new Int32(i), s: 'x'.repeat(40) });
  const bytes = BSON.serialize(big, { minInternalBufferSize: 17 << 20 });
  assert.ok(bytes.length > 14 << 20 && bytes.length <= 16 << 20, `size ${bytes.length}`);
  const r = bson2json(bytes, ['--canonical']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, EJSON.stringify(BSON.deserialize(bytes, DESERIALIZE), null, 2, { relaxed: false }) + '\n');
});
