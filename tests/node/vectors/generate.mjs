// Writes the known-answer vectors that the C unit tests read, computed by
// bee-js (the independent reference).  Usage:
//   node tests/node/vectors/generate.mjs OUTDIR
// scripts/test regenerates them into the build tree and diffs against the
// committed tests/vectors/, so a vector that bee-js no longer agrees with
// fails the run.
import { writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Binary, MerkleTree } from 'cafe-utility';
import { MantarayNode } from '@ethersphere/bee-js';
import { prng, hex } from './prng.mjs';
import { scryptKeystore, pbkdf2Keystore } from './keystore.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const { makeFeedIdentifier } = require(join(beeDir, 'feed/identifier.js'));
const { getFeedUpdateChunkReference } = require(join(beeDir, 'feed/index.js'));
const { PrivateKey, Identifier, Topic, EthAddress, FeedIndex } = require('@ethersphere/bee-js');

const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../vectors');
mkdirSync(out, { recursive: true });

function keccak() {
  const r = prng(1);
  const lines = [];
  // Every length around the 136-byte rate boundaries, then a few large ones.
  const lengths = [...Array(410).keys(), 1000, 4096, 4104, 65536];
  for (const n of lengths) {
    const data = r.bytes(n);
    lines.push(`${hex(data) || '-'}\t${hex(Binary.keccak256(data))}`);
  }
  return lines;
}

function bmt() {
  const r = prng(2);
  const lines = [];
  const lengths = [1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 2048,
                   2049, 4095, 4096];
  for (let i = 0; i < 48; i++) lengths.push(1 + r.int(4096));
  for (const n of lengths) {
    const payload = r.bytes(n);
    // Intermediate chunks carry the span of the data beneath them, so some
    // vectors use a span larger than the payload.
    const s = n % 3 === 0 ? BigInt(n) * 4096n + 7n : BigInt(n);
    const chunk = makeContentAddressedChunk(payload, s);
    lines.push(`${s}\t${hex(payload)}\t${chunk.address.toHex()}`);
  }
  return lines;
}

// Mantaray manifests: root reference, then the entries as
// pathhex:refhex:metadata joined by ',' (metadata as keyhex=valuehex pairs
// joined by ';', keys in byte order; empty when none).  Paths avoid a "/" node without an entry,
// the one shape where mdbee writes what Bee writes instead of bee-js (see
// tests/node/conformance/manifest.test.mjs).
async function mantaray() {
  const r = prng(3);
  const enc = new TextEncoder();
  const lines = [];
  const shapes = [
    () => `coll${r.int(2)}/${hex(r.bytes(12))}`,
    () => 'z'.repeat(20 + r.int(50)) + r.int(10),
    () => String.fromCharCode(97 + r.int(26)),
    () => `f${r.int(1000)}.${['html', 'json', 'txt'][r.int(3)]}`,
  ];
  for (let s = 0; s < 24; s++) {
    const byPath = new Map();
    const n = 1 + r.int(30);
    while (byPath.size < n) {
      const path = enc.encode(shapes[r.int(shapes.length)]());
      const meta = r.int(3) ? undefined
        : { 'Content-Type': 'text/plain', Filename: `n\u0001"\\é${r.int(9)}` };
      byPath.set(hex(path), { path, ref: hex(r.bytes(32)), meta });
    }
    const entries = [...byPath.values()].sort((a, b) => Buffer.compare(a.path, b.path));
    const node = new MantarayNode();
    for (const e of entries) node.addFork(e.path, e.ref, e.meta);
    const root = (await node.calculateSelfAddress()).toHex();
    const list = entries.map((e) =>
      `${hex(e.path)}:${e.ref}:${Object.entries(e.meta ?? {})
        .map(([k, v]) => `${hex(enc.encode(k))}=${hex(enc.encode(v))}`).join(';')}`);
    lines.push(`${root}\t${list.join(',')}`);
  }
  return lines;
}

// Ethereum-style signatures by bee-js's PrivateKey.sign, which hashes its
// input and signs the signed-message hash of that digest: secret, data,
// signature (r || s || v), signer address.
function sign() {
  const r = prng(3);
  const lines = [];
  for (let i = 0; i < 64; i++) {
    const secret = r.bytes(32);
    const data = r.bytes(1 + r.int(100));
    const key = new PrivateKey(secret);
    lines.push([hex(secret), hex(data), key.sign(data).toHex(),
                key.publicKey().address().toHex()].join('\t'));
  }
  return lines;
}

// Single owner chunks by bee-js: secret, identifier, span, payload, SOC bytes,
// SOC address, owner.
function soc() {
  const r = prng(4);
  const lines = [];
  const lengths = [1, 32, 40, 72, 4095, 4096]; // bee-js refuses empty payloads
  for (let i = 0; i < 25; i++) lengths.push(1 + r.int(300));
  for (const n of lengths) {
    const secret = r.bytes(32);
    const id = r.bytes(32);
    const payload = r.bytes(n);
    // Some wrap an intermediate chunk, whose span exceeds its payload.
    const span = n % 4 === 1 ? BigInt(n) * 4096n + 4096n : BigInt(n);
    const cac = makeContentAddressedChunk(payload, span);
    const s = cac.toSingleOwnerChunk(new Identifier(id), new PrivateKey(secret));
    lines.push([hex(secret), hex(id), String(span), hex(payload) || '-', hex(s.data),
                s.address.toHex(), s.owner.toHex()].join('\t'));
  }
  return lines;
}

// Feeds by bee-js: owner, topic, index, identifier, update address; topics
// from strings as Topic.fromString.
function feed() {
  const r = prng(5);
  const lines = [];
  const indexes = [0n, 1n, 255n, 256n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn];
  for (let i = 0; i < 25; i++) indexes.push(BigInt(r.int(1 << 24)) * BigInt(1 + r.int(1 << 24)));
  for (const index of indexes) {
    const owner = new EthAddress(r.bytes(20));
    const topic = new Topic(r.bytes(32));
    const fi = FeedIndex.fromBigInt(index);
    lines.push(['update', owner.toHex(), topic.toHex(), String(index),
                makeFeedIdentifier(topic, fi).toHex(),
                getFeedUpdateChunkReference(owner, topic, fi).toHex()].join('\t'));
  }
  for (const name of ['mdbee', 'shop', 'a', 'Zürich-db', 'x'.repeat(200)])
    lines.push(['topic', Buffer.from(name).toString('hex'), Topic.fromString(name).toHex()].join('\t'));
  return lines;
}

// V3 keystores from ethers (scrypt) and from Node's crypto checked by ethers
// (pbkdf2): kdf, password, JSON, address.  Fixed salts and IVs keep the file
// reproducible.
function keystore() {
  const r = prng(6);
  const lines = [];
  for (const [kdf, make] of [['scrypt', scryptKeystore], ['pbkdf2', pbkdf2Keystore]]) {
    for (const password of ['correct horse battery staple', 'p', 'pässwörd 🐝']) {
      const secret = r.bytes(32);
      const json = make(secret, password, { salt: r.bytes(32), iv: r.bytes(16) });
      lines.push([kdf, Buffer.from(password).toString('hex'), Buffer.from(json).toString('hex'),
                  new PrivateKey(secret).publicKey().address().toHex()].join('\t'));
    }
  }
  return lines;
}

// Test data for chunk trees too large to store: byte i is a fixed function
// of i, which tests/unit/test_chunk_tree.c computes the same way.
export function patternBytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((i * 7) ^ (i >> 9) ^ (i >> 17)) & 0xff;
  return b;
}

// Every chunk of the trees bee-js's MerkleTree (what Bee's /bytes builds)
// makes for pattern data of each length: length, root, then the addresses
// of all chunks, sorted.  Lengths cover one chunk, a lone last leaf or
// intermediate carried up a level, and full levels.
async function chunkTree() {
  const lines = [];
  const K = 4096, B = 128;
  const lengths = [0, 1, 31, 4095, K, K + 1, 2 * K, 5 * K + 3, B * K - 1,
                   B * K, B * K + 1, (B + 1) * K, (B + 2) * K + 7,
                   2 * B * K, 2 * B * K + 1, 3 * B * K + K + 1];
  for (const n of lengths) {
    const addresses = [];
    const tree = new MerkleTree(async (chunk) => {
      addresses.push(hex(chunk.hash()));
    });
    await tree.append(patternBytes(n));
    const root = await tree.finalize();
    addresses.sort();
    lines.push(`${n}\t${hex(root.hash())}\t${addresses.join(',')}`);
  }
  return lines;
}

for (const [name, gen] of Object.entries({ keccak, bmt, mantaray, sign, soc, feed, keystore, chunk_tree: chunkTree })) {
  writeFileSync(join(out, `${name}.txt`), (await gen()).join('\n') + '\n');
}
