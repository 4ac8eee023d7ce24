/* Ethereum V3 keystore decryption (Web3 Secret Storage):
 *   derived = KDF(password, salt)                 scrypt or pbkdf2-hmac-sha256
 *   mac     = Keccak256(derived[16..32] || ciphertext)   must match "mac"
 *   secret  = AES-128-CTR(derived[0..16], iv) of ciphertext
 * The JSON is parsed with libbson, which mdbee links for MongoDB anyway. */
#include <bson/bson.h>
#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <nettle/pbkdf2.h>
#include <sodium.h>
#include <string.h>

#include "mdbee/hex.h"
#include "mdbee/keccak.h"
#include "mdbee/key.h"

/* Bounds on attacker-chosen KDF work, far above what Bee (scrypt n=2^15) or
 * geth/ethers (n=2^17..2^18, c=262144) write. */
#define SCRYPT_MEMORY_MAX (1ULL << 30)
#define PBKDF2_ROUNDS_MAX 10000000
#define SALT_MAX 1024

typedef struct keystore {
  char kdf[16];
  uint8_t salt[SALT_MAX];
  size_t salt_len;
  uint64_t n, r, p, c; /* scrypt n/r/p or pbkdf2 rounds c */
  uint8_t iv[AES_BLOCK_SIZE];
  uint8_t ciphertext[MDB_KEY_SECRET_SIZE];
  uint8_t mac[32];
  int has_address; /* optional "address": must then match the key */
  uint8_t address[MDB_ADDRESS_SIZE];
} keystore;

static int fail(mdb_error *err, const char *what) {
  return mdb_error_set(err, MDBEE_EFORMAT, "V3 keystore: %s", what);
}

/* Positions child on key (case-insensitively: geth writes "crypto", older
 * tools and ethers "Crypto") inside the document that parent iterates. */
static int find(const bson_iter_t *parent, const char *key, bson_iter_t *child) {
  bson_iter_t it = *parent;
  return bson_iter_find_case(&it, key) && (*child = it, 1);
}

static int find_doc(const bson_iter_t *parent, const char *key,
                    bson_iter_t *child) {
  bson_iter_t it;
  return find(parent, key, &it) && BSON_ITER_HOLDS_DOCUMENT(&it) &&
         bson_iter_recurse(&it, child);
}

static int get_hex(const bson_iter_t *parent, const char *key, uint8_t *out,
                   size_t min, size_t max, size_t *len) {
  bson_iter_t it;
  if (!find(parent, key, &it) || !BSON_ITER_HOLDS_UTF8(&it)) return 0;
  uint32_t n;
  const char *s = bson_iter_utf8(&it, &n);
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2, n -= 2;
  if (n % 2 || n / 2 < min || n / 2 > max || strlen(s) != n) return 0;
  if (len) *len = n / 2;
  return mdb_hex_decode(s, out, n / 2, NULL) == MDBEE_OK;
}

static int get_uint(const bson_iter_t *parent, const char *key,
                    uint64_t *out) {
  bson_iter_t it;
  if (!find(parent, key, &it)) return 0;
  if (BSON_ITER_HOLDS_INT32(&it) && bson_iter_int32(&it) > 0)
    *out = (uint64_t)bson_iter_int32(&it);
  else if (BSON_ITER_HOLDS_INT64(&it) && bson_iter_int64(&it) > 0)
    *out = (uint64_t)bson_iter_int64(&it);
  else
    return 0;
  return 1;
}

static int get_str(const bson_iter_t *parent, const char *key, char *out,
                   size_t cap) {
  bson_iter_t it;
  if (!find(parent, key, &it) || !BSON_ITER_HOLDS_UTF8(&it)) return 0;
  uint32_t n;
  const char *s = bson_iter_utf8(&it, &n);
  if (n >= cap || strlen(s) != n) return 0;
  memcpy(out, s, n + 1);
  return 1;
}

static int parse(const char *json, size_t len, keystore *ks, mdb_error *err) {
  bson_t doc;
  bson_error_t berr;
  if (len > SSIZE_MAX || !bson_init_from_json(&doc, json, (ssize_t)len, &berr))
    return mdb_error_set(err, MDBEE_EFORMAT, "V3 keystore: invalid JSON: %s",
                         berr.message);
  int rc = MDBEE_OK;
  bson_iter_t root, crypto, params, cipherparams, address;
  uint64_t version = 0;
  char cipher[16];
  if (!bson_iter_init(&root, &doc) || !get_uint(&root, "version", &version) ||
      version != 3)
    rc = fail(err, "\"version\" is not 3");
  else if ((ks->has_address = find(&root, "address", &address)) &&
           !get_hex(&root, "address", ks->address, MDB_ADDRESS_SIZE,
                    MDB_ADDRESS_SIZE, NULL))
    rc = fail(err, "\"address\" is not 20 hex bytes");
  else if (!find_doc(&root, "crypto", &crypto))
    rc = fail(err, "no \"crypto\" object");
  else if (!get_str(&crypto, "cipher", cipher, sizeof cipher) ||
           strcmp(cipher, "aes-128-ctr") != 0)
    rc = fail(err, "\"cipher\" is not aes-128-ctr");
  else if (!find_doc(&crypto, "cipherparams", &cipherparams) ||
           !get_hex(&cipherparams, "iv", ks->iv, AES_BLOCK_SIZE,
                    AES_BLOCK_SIZE, NULL))
    rc = fail(err, "\"cipherparams.iv\" is not 16 hex bytes");
  else if (!get_hex(&crypto, "ciphertext", ks->ciphertext,
                    MDB_KEY_SECRET_SIZE, MDB_KEY_SECRET_SIZE, NULL))
    rc = fail(err, "\"ciphertext\" is not 32 hex bytes");
  else if (!get_hex(&crypto, "mac", ks->mac, 32, 32, NULL))
    rc = fail(err, "\"mac\" is not 32 hex bytes");
  else if (!get_str(&crypto, "kdf", ks->kdf, sizeof ks->kdf))
    rc = fail(err, "no \"kdf\"");
  else if (!find_doc(&crypto, "kdfparams", &params))
    rc = fail(err, "no \"kdfparams\" object");
  else if (!get_hex(&params, "salt", ks->salt, 1, SALT_MAX, &ks->salt_len))
    rc = fail(err, "\"kdfparams.salt\" is not 1 to 1024 hex bytes");
  else {
    uint64_t dklen = 0;
    if (!get_uint(&params, "dklen", &dklen) || dklen != 32)
      rc = fail(err, "\"kdfparams.dklen\" is not 32");
  }
  if (rc == MDBEE_OK && strcmp(ks->kdf, "scrypt") == 0) {
    if (!get_uint(&params, "n", &ks->n) || !get_uint(&params, "r", &ks->r) ||
        !get_uint(&params, "p", &ks->p))
      rc = fail(err, "scrypt needs positive \"n\", \"r\" and \"p\"");
    else if (ks->n < 2 || (ks->n & (ks->n - 1)) || ks->r > (1u << 16) ||
             ks->p > (1u << 16) ||
             ks->n > SCRYPT_MEMORY_MAX / 128 / ks->r ||
             ks->r * ks->p >= (1u << 30))
      rc = fail(err, "scrypt parameters out of range (n a power of two, at "
                     "most 1 GiB of memory)");
  } else if (rc == MDBEE_OK && strcmp(ks->kdf, "pbkdf2") == 0) {
    char prf[16];
    if (!get_str(&params, "prf", prf, sizeof prf) ||
        strcmp(prf, "hmac-sha256") != 0)
      rc = fail(err, "pbkdf2 \"prf\" is not hmac-sha256");
    else if (!get_uint(&params, "c", &ks->c) || ks->c > PBKDF2_ROUNDS_MAX)
      rc = fail(err, "pbkdf2 \"c\" is not 1 to 10^7");
  } else if (rc == MDBEE_OK) {
    rc = fail(err, "\"kdf\" is neither scrypt nor pbkdf2");
  }
  bson_destroy(&doc);
  return rc;
}

int mdb_key_from_keystore(const char *json, size_t len, const char *password,
                          mdb_key **out, mdb_error *err) {
  if (sodium_init() < 0)
    return mdb_error_set(err, MDBEE_ECRYPTO, "libsodium failed to initialise");
  keystore ks;
  memset(&ks, 0, sizeof ks);
  int rc = parse(json, len, &ks, err);
  if (rc != MDBEE_OK) return rc;
  if (!password)
    return mdb_error_set(err, MDBEE_ECRYPTO,
                         "V3 keystore needs a password: set %s",
                         MDB_KEY_PASSWORD_ENV);
  /* derived[0..32] and the secret after it, in one guarded block. */
  uint8_t *derived = sodium_malloc(32 + MDB_KEY_SECRET_SIZE);
  if (!derived)
    return mdb_error_set(err, MDBEE_ENOMEM, "cannot allocate secure memory for the key");
  uint8_t *secret = derived + 32;
  size_t plen = strlen(password);
  if (strcmp(ks.kdf, "scrypt") == 0) {
    if (crypto_pwhash_scryptsalsa208sha256_ll(
            (const uint8_t *)password, plen, ks.salt, ks.salt_len, ks.n,
            (uint32_t)ks.r, (uint32_t)ks.p, derived, 32) != 0)
      rc = mdb_error_set(err, MDBEE_ENOMEM,
                         "V3 keystore: scrypt could not allocate its memory");
  } else {
    pbkdf2_hmac_sha256(plen, (const uint8_t *)password, (unsigned)ks.c,
                       ks.salt_len, ks.salt, 32, derived);
  }
  if (rc == MDBEE_OK) {
    uint8_t macbuf[16 + MDB_KEY_SECRET_SIZE], mac[32];
    memcpy(macbuf, derived + 16, 16);
    memcpy(macbuf + 16, ks.ciphertext, MDB_KEY_SECRET_SIZE);
    mdb_keccak256(macbuf, sizeof macbuf, mac);
    sodium_memzero(macbuf, sizeof macbuf);
    if (sodium_memcmp(mac, ks.mac, 32) != 0)
      rc = mdb_error_set(err, MDBEE_ECRYPTO,
                         "V3 keystore: wrong password (MAC mismatch)");
  }
  if (rc == MDBEE_OK) {
    struct aes128_ctx aes;
    aes128_set_encrypt_key(&aes, derived);
    ctr_crypt(&aes, (nettle_cipher_func *)aes128_encrypt, AES_BLOCK_SIZE,
              ks.iv, MDB_KEY_SECRET_SIZE, secret, ks.ciphertext);
    sodium_memzero(&aes, sizeof aes);
    rc = mdb_key_from_secret(secret, out, err);
  }
  sodium_free(derived);
  uint8_t address[MDB_ADDRESS_SIZE];
  if (rc == MDBEE_OK && ks.has_address) mdb_key_address(*out, address);
  if (rc == MDBEE_OK && ks.has_address &&
      memcmp(address, ks.address, MDB_ADDRESS_SIZE) != 0) {
    mdb_key_free(*out);
    *out = NULL;
    rc = mdb_error_set(err, MDBEE_ECRYPTO,
                       "V3 keystore: its \"address\" is not the address of "
                       "the key it holds");
  }
  return rc;
}
