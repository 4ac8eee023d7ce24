// mdbee's keys and single owner chunks against bee-js 12.1.0: addresses,
// byte-equal SOCs (both derive the ECDSA nonce the same way), bee-js
// recovering the owner from ours, and mdbee rejecting forged bee-js SOCs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { PrivateKey, Identifier } from '@ethersphere/bee-js';
import { mdbee, scratch, writeKey } from './cli.mjs';

const require = createRequire(import.meta.url);
const beeDir = dirname(require.resolve('@ethersphere/bee-js'));
const { makeContentAddressedChunk } = require(join(beeDir, 'chunk/cac.js'));
const { unmarshalSingleOwnerChunk } = require(join(beeDir, 'chunk/soc.js'));

const CASES = Number(process.env.MDBEE_CONFORMANCE_CASES ?? 1000);
const hex = (b) => Buffer.from(b).toString('hex');

function payloadLength(i) {
  const edges = [1, 31, 32, 33, 40, 72, 4095, 4096];
  return i < edges.length ? edges[i] : 1 + randomBytes(2).readUInt16BE() % 4096;
}

test(`${CASES} random keys, identifiers and payloads: SOCs byte-equal to bee-js`, () => {
  const dir = scratch('soc');
  for (let i = 0; i < CASES; i++) {
    const secret = randomBytes(32);
    const id = randomBytes(32);
    const payload = randomBytes(payloadLength(i));
    const keyFile = writeKey(dir, 'key', i % 2 ? hex(secret) + '\n' : '0x' + hex(secret));
    const key = new PrivateKey(secret);

    const addr = mdbee(['key', 'address', '--key-file', keyFile]);
    assert.equal(addr.code, 0, addr.err);
    assert.equal(addr.out, '0x' + key.publicKey().address().toHex());

    const input = join(dir, 'payload');
    const out = join(dir, 'soc');
    writeFileSync(input, payload);
    const made = mdbee(['soc', 'make', '--key-file', keyFile, '--id', hex(id), '--out', out, input]);
    assert.equal(made.code, 0, made.err);
    const ours = readFileSync(out);

    const theirs = makeContentAddressedChunk(payload).toSingleOwnerChunk(new Identifier(id), key);
    assert.equal(made.out, theirs.address.toHex(), `address, case ${i}`);
    assert.equal(hex(ours), hex(theirs.data), `SOC bytes, case ${i} (${payload.length} bytes)`);

    const back = unmarshalSingleOwnerChunk(ours, made.out);
    assert.equal(back.owner.toHex(), key.publicKey().address().toHex());
    assert.equal(hex(back.payload.toUint8Array()), hex(payload));
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
  for (let i = 0; i < 50; i++) {
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
