// mdbee's keys and single owner chunks against bee-js 12.1.0: addresses,
// byte-equal SOCs (mdbee derives the ECDSA nonce as bee-js does), bee-js
// recovering the owner from ours, and mdbee rejecting forged bee-js SOCs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { PrivateKey, Identifier, EthAddress } from '@ethersphere/bee-js';
import { recoverAddress, hashMessage, keccak256, getBytes } from 'ethers';
import { mdbee, scratch, writeKey } from './cli.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const { unmarshalSingleOwnerChunk, makeSingleOwnerChunk, makeSOCAddress } = require(join(beeDir, 'chunk/soc.js'));

// bee-js does its elliptic-curve arithmetic in plain BigInt (~25 ms a
// signature or public key here), so whole-chunk equality with bee-js runs on
// BEEJS_CASES SOCs; CASES more are checked with bee-js's chunk and address
// code plus ethers' (noble-curves) signature recovery, an independent
// secp256k1 implementation fast enough for thousands.
const CASES = Number(process.env.MDBEE_CONFORMANCE_CASES ?? 1000);
const BEEJS_CASES = Number(process.env.MDBEE_CONFORMANCE_BEEJS_CASES ?? 60);
const KEYS = 50;
const hex = (b) => Buffer.from(b).toString('hex');

function payloadLength(i) {
  const edges = [1, 31, 32, 33, 40, 72, 4095, 4096];
  return i < edges.length ? edges[i] : 1 + randomBytes(2).readUInt16BE() % 4096;
}

function keys(dir) {
  return Array.from({ length: KEYS }, (_, i) => {
    const secret = randomBytes(32);
    const key = new PrivateKey(secret);
    const file = writeKey(dir, `key${i}`, i % 2 ? hex(secret) + '\n' : '0x' + hex(secret));
    return { key, file, address: '0x' + key.publicKey().address().toHex() };
  });
}

function makeWithMdbee(dir, k, id, payload) {
  const input = join(dir, 'payload');
  const out = join(dir, 'soc');
  writeFileSync(input, payload);
  const made = mdbee(['soc', 'make', '--key-file', k.file, '--id', hex(id), '--out', out, input]);
  assert.equal(made.code, 0, made.err);
  return { address: made.out, data: readFileSync(out) };
}

// Yields count SOCs made by mdbee from random identifiers and payloads under
// KEYS random keys, with bee-js's content-addressed chunk of each payload.
function* mdbeeSocs(prefix, count) {
  const dir = scratch(prefix);
  const ks = keys(dir);
  for (let i = 0; i < count; i++) {
    const k = ks[i % KEYS];
    const id = randomBytes(32);
    const payload = randomBytes(payloadLength(i));
    yield { i, k, id, payload, ours: makeWithMdbee(dir, k, id, payload), cac: makeContentAddressedChunk(payload) };
  }
}

test(`${KEYS} random keys: mdbee key address equals bee-js PrivateKey.publicKey().address()`, () => {
  for (const k of keys(scratch('key-address'))) {
    const r = mdbee(['key', 'address', '--key-file', k.file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, k.address);
  }
});

test(`${BEEJS_CASES} random SOCs byte-equal to bee-js makeSingleOwnerChunk; bee-js recovers the owner`, () => {
  for (const { i, k, id, payload, ours, cac } of mdbeeSocs('soc', BEEJS_CASES)) {
    const theirs = makeSingleOwnerChunk(cac.address, cac.span, cac.payload, new Identifier(id), k.key);
    assert.equal(ours.address, theirs.address.toHex(), `address, case ${i}`);
    assert.equal(hex(ours.data), hex(theirs.data), `SOC bytes, case ${i} (${payload.length} bytes)`);
    if (i % 5 === 0) {
      const back = unmarshalSingleOwnerChunk(ours.data, ours.address);
      assert.equal('0x' + back.owner.toHex(), k.address);
      assert.equal(hex(back.payload.toUint8Array()), hex(payload));
    }
  }
});

test(`${CASES} random identifiers and payloads: signature, chunk and address check out`, () => {
  for (const { i, k, id, ours, cac } of mdbeeSocs('soc-many', CASES)) {
    assert.equal(hex(ours.data.subarray(0, 32)), hex(id));
    assert.equal(hex(ours.data.subarray(97)), hex(cac.data), `wrapped chunk, case ${i}`);
    const signed = Buffer.concat([id, cac.address.toUint8Array()]);
    const sig = ours.data.subarray(32, 97);
    assert.ok(sig[64] === 27 || sig[64] === 28);
    const owner = recoverAddress(hashMessage(getBytes(keccak256(signed))), '0x' + hex(sig)).toLowerCase();
    assert.equal(owner, k.address, `recovered owner, case ${i}`);
    assert.equal(ours.address, makeSOCAddress(new Identifier(id), new EthAddress(k.address.slice(2))).toHex());
  }
});

test('payload from standard input; more than 4096 bytes is refused', () => {
  const dir = scratch('soc-stdin');
  const secret = randomBytes(32);
  const keyFile = writeKey(dir, 'key', hex(secret));
  const id = hex(randomBytes(32));
  const r = mdbee(['soc', 'make', '--key-file', keyFile, '--id', id, '--out', join(dir, 'a'), '-'],
                  { input: 'from stdin' });
  assert.equal(r.code, 0, r.err);
  const theirs = makeContentAddressedChunk(new TextEncoder().encode('from stdin'))
    .toSingleOwnerChunk(new Identifier(id), new PrivateKey(secret));
  assert.equal(hex(readFileSync(join(dir, 'a'))), hex(theirs.data));

  const big = mdbee(['soc', 'make', '--key-file', keyFile, '--id', id, '--out', join(dir, 'b')],
                    { input: Buffer.alloc(4097) });
  assert.equal(big.code, 1);
  assert.match(big.err, /at most 4096/);
  const bad = mdbee(['soc', 'make', '--key-file', keyFile, '--id', 'abc', '--out', join(dir, 'b')], { input: 'x' });
  assert.equal(bad.code, 1);
  assert.match(bad.err, /--id/);
  assert.equal(mdbee(['soc', 'make', '--id', id, '--out', join(dir, 'b')]).code, 2);
});

test('mdbee soc verify accepts bee-js SOCs and rejects every kind of forgery', () => {
  const dir = scratch('soc-verify');
  const verify = (bytes, address, owner) => {
    writeFileSync(join(dir, 'in'), bytes);
    const args = ['soc', 'verify', '--address', address, join(dir, 'in')];
    if (owner) args.push('--owner', owner);
    return mdbee(args);
  };
  for (let i = 0; i < 8; i++) {
    const key = new PrivateKey(randomBytes(32));
    const owner = '0x' + key.publicKey().address().toHex();
    const soc = makeContentAddressedChunk(randomBytes(1 + i * 80))
      .toSingleOwnerChunk(new Identifier(randomBytes(32)), key);
    const data = Buffer.from(soc.data);
    const good = verify(data, soc.address.toHex(), owner);
    assert.equal(good.code, 0, good.err);
    assert.equal(good.out, owner);

    // One flipped bit in the identifier, signature, span or payload.
    for (const at of [0, 31, 32, 64, 96, 97, 105, data.length - 1]) {
      const forged = Buffer.from(data);
      forged[at] ^= 1 << (i % 8);
      const r = verify(forged, soc.address.toHex(), owner);
      assert.equal(r.code, 1, `flip at ${at} accepted`);
      assert.match(r.err, /signed|span|signature/);
    }
    // Genuine bytes claimed for another address or another owner.
    const other = Buffer.from(soc.address.toUint8Array());
    other[0] ^= 1;
    assert.equal(verify(data, hex(other), null).code, 1);
    assert.equal(verify(data, soc.address.toHex(), '0x' + hex(randomBytes(20))).code, 1);
  }
  assert.equal(verify(Buffer.alloc(10), hex(randomBytes(32))).code, 1);
});
