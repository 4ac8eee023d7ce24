// Key files: V3 keystores written independently (ethers for scrypt, Node's
// crypto checked by ethers for pbkdf2) load to the address bee-js derives;
// wrong passwords and open permissions are refused without leaking the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PrivateKey } from '@ethersphere/bee-js';
import { Wallet } from 'ethers';
import { mdbee, scratch, writeKey } from './cli.mjs';
import { scryptKeystore, pbkdf2Keystore } from '../vectors/keystore.mjs';

const hex = (b) => Buffer.from(b).toString('hex');

for (const [kdf, make] of [['scrypt', scryptKeystore], ['pbkdf2', pbkdf2Keystore]]) {
  test(`${kdf} keystores load to bee-js's address; a wrong password is refused`, () => {
    const dir = scratch(`ks-${kdf}`);
    for (let i = 0; i < 20; i++) {
      const secret = randomBytes(32);
      const password = hex(randomBytes(1 + i));
      const file = writeKey(dir, 'ks.json', make(secret, password));
      const want = '0x' + new PrivateKey(secret).publicKey().address().toHex();
      const ok = mdbee(['key', 'address', '--key-file', file], { env: { MDBEE_KEY_PASSWORD: password } });
      assert.equal(ok.code, 0, ok.err);
      assert.equal(ok.out, want);

      const wrong = mdbee(['key', 'address', '--key-file', file], { env: { MDBEE_KEY_PASSWORD: password + 'x' } });
      assert.equal(wrong.code, 1);
      assert.equal(wrong.out, '');
      assert.match(wrong.err, /wrong password/);
      assert.ok(!wrong.err.includes(hex(secret)) && !wrong.err.includes(password));
    }
  });
}

test('a keystore at ethers Wallet.encrypt default strength (scrypt n=2^17)', async () => {
  const dir = scratch('ks-default');
  const wallet = Wallet.createRandom();
  const file = writeKey(dir, 'ks.json', await wallet.encrypt('hunter2'));
  const r = mdbee(['key', 'address', '--key-file', file], { env: { MDBEE_KEY_PASSWORD: 'hunter2' } });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, wallet.address.toLowerCase());
  const none = mdbee(['key', 'address', '--key-file', file], { env: { MDBEE_KEY_PASSWORD: undefined } });
  assert.equal(none.code, 1);
  assert.match(none.err, /MDBEE_KEY_PASSWORD/);
});

test('key files that group or others can read are refused, naming file and mode', () => {
  const dir = scratch('key-mode');
  const secret = hex(randomBytes(32));
  for (const mode of [0o644, 0o640, 0o604]) {
    const file = writeKey(dir, 'open.key', secret, mode);
    const r = mdbee(['key', 'address', '--key-file', file]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(file), r.err);
    assert.ok(r.err.includes('0' + mode.toString(8)), r.err);
    assert.ok(!r.err.includes(secret));
  }
  const garbage = mdbee(['key', 'address', '--key-file', writeKey(dir, 'g.key', 'not a key ' + secret)]);
  assert.equal(garbage.code, 1);
  assert.ok(!garbage.err.includes(secret));
});

test('mdbee key new writes a 0600 key that bee-js agrees on', () => {
  const dir = scratch('key-new');
  const file = join(dir, 'new.key');
  const r = mdbee(['key', 'new', '--out', file]);
  assert.equal(r.code, 0, r.err);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const secret = readFileSync(file, 'utf8').trim();
  assert.equal(r.out, '0x' + new PrivateKey(secret).publicKey().address().toHex());
  assert.equal(mdbee(['key', 'new', '--out', file]).code, 1); // never overwrites
  assert.ok(existsSync(file));
  assert.equal(mdbee(['key', 'address']).code, 2);
});
