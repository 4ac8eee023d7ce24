// V3 keystores written independently of mdbee: scrypt ones by ethers, and
// pbkdf2-sha256 ones (which ethers reads but never writes) by Node's crypto,
// each checked by decrypting it with ethers before it is used.
import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { encryptKeystoreJsonSync, decryptKeystoreJsonSync, keccak256, computeAddress } from 'ethers';

const hex = (b) => Buffer.from(b).toString('hex');

export function scryptKeystore(secret, password, { salt = randomBytes(32), iv = randomBytes(16), N = 1024 } = {}) {
  const privateKey = '0x' + hex(secret);
  // ethers sets the UUID's version bits in place: give it its own copy.
  const json = encryptKeystoreJsonSync({ address: computeAddress(privateKey), privateKey }, password,
    { salt, iv, uuid: Uint8Array.from(iv), scrypt: { N, r: 8, p: 1 } });
  return checked(json, secret, password);
}

function checked(json, secret, password) {
  const account = decryptKeystoreJsonSync(json, password);
  if (account.privateKey !== '0x' + hex(secret)) throw new Error('ethers cannot read back the keystore');
  return json;
}

export function pbkdf2Keystore(secret, password, { salt = randomBytes(32), iv = randomBytes(16), c = 1024 } = {}) {
  const derived = pbkdf2Sync(Buffer.from(password.normalize('NFKC')), salt, c, 32, 'sha256');
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  const mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2);
  const json = JSON.stringify({
    address: computeAddress('0x' + hex(secret)).slice(2).toLowerCase(),
    crypto: {
      cipher: 'aes-128-ctr', ciphertext: hex(ciphertext), cipherparams: { iv: hex(iv) },
      kdf: 'pbkdf2', kdfparams: { c, dklen: 32, prf: 'hmac-sha256', salt: hex(salt) }, mac,
    },
    id: '3198bc9c-6672-5ab3-d995-4942343ae5b6', version: 3,
  });
  return checked(json, secret, password);
}
