// Seed corpus for fuzz_soc: single owner chunks and feed updates made by
// bee-js, so the fuzzer starts from inputs whose signatures recover.
// Usage: node tests/fuzz/seed_soc.mjs OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../node/package.json'));
const { PrivateKey, Identifier, Topic, FeedIndex } = require('@ethersphere/bee-js');
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const { makeFeedIdentifier } = require(join(beeDir, 'feed/identifier.js'));

const out = process.argv[2];
mkdirSync(out, { recursive: true });
const key = new PrivateKey('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318');

const seeds = [];
for (const size of [1, 40, 72, 300, 4096]) {
  const payload = new Uint8Array(size).map((_, i) => (i * 7 + size) & 255);
  seeds.push(makeContentAddressedChunk(payload).toSingleOwnerChunk(new Identifier(new Uint8Array(32).fill(size & 255)), key).data);
}
// A v1 feed update: timestamp || reference, at update 0 of a topic.
const v1 = new Uint8Array(40);
v1.set([0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]);
v1.fill(0xab, 8);
const id = makeFeedIdentifier(Topic.fromString('mdbee'), FeedIndex.fromBigInt(0n));
seeds.push(makeContentAddressedChunk(v1).toSingleOwnerChunk(id, key).data);
seeds.forEach((data, i) => writeFileSync(join(out, `bee-js-${i}`), data));
