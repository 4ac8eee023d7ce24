#include "mdbee/key.h"

#include <errno.h>
#include <fcntl.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdbee/hex.h"
#include "mdbee/keccak.h"

/* Lives in sodium_malloc'd memory: guard pages, mlock'd, wiped on free. */
struct mdb_key {
  uint8_t secret[MDB_KEY_SECRET_SIZE];
  uint8_t address[MDB_ADDRESS_SIZE];
  secp256k1_context *ctx; /* randomised per key, for side-channel blinding */
};

/* Key files are tiny; anything larger is not a key and is not read whole. */
#define KEY_FILE_MAX (64 * 1024)

static const uint8_t curve_order[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
    0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static int sodium_ready(mdb_error *err) {
  if (sodium_init() < 0)
    return mdb_error_set(err, MDBEE_ECRYPTO, "libsodium failed to initialise");
  return MDBEE_OK;
}

/* bee-js (through cafe-utility) does not use RFC 6979: its nonce is
 * Keccak256(Keccak256(secret) || message hash) reduced modulo the curve
 * order.  Deriving ours the same way makes our SOC bytes equal bee-js's, so
 * conformance can compare whole chunks.  The nonce is still secret and
 * unique per (key, message), which is all ECDSA needs. */
static int beejs_nonce(unsigned char *nonce32, const unsigned char *msg32,
                       const unsigned char *key32, const unsigned char *algo16,
                       void *data, unsigned int attempt) {
  (void)algo16;
  (void)data;
  if (attempt > 0) return 0; /* bee-js gives up too; never seen in practice */
  uint8_t buf[64];
  mdb_keccak256(key32, 32, buf);
  memcpy(buf + 32, msg32, 32);
  mdb_keccak256(buf, sizeof buf, nonce32);
  sodium_memzero(buf, sizeof buf);
  /* 2^256 < 2n, so one subtraction reduces any 256-bit value. */
  if (memcmp(nonce32, curve_order, 32) >= 0) {
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
      int d = nonce32[i] - curve_order[i] - borrow;
      borrow = d < 0;
      nonce32[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
  }
  return 1;
}

static void address_of_pubkey(const secp256k1_context *ctx,
                               const secp256k1_pubkey *pub,
                               uint8_t address[MDB_ADDRESS_SIZE]) {
  uint8_t raw[65], hash[32];
  size_t len = sizeof raw;
  secp256k1_ec_pubkey_serialize(ctx, raw, &len, pub, SECP256K1_EC_UNCOMPRESSED);
  mdb_keccak256(raw + 1, 64, hash); /* skip the 0x04 prefix */
  memcpy(address, hash + 12, MDB_ADDRESS_SIZE);
}

void mdb_key_free(mdb_key *key) {
  if (!key) return;
  if (key->ctx) secp256k1_context_destroy(key->ctx);
  sodium_free(key); /* wipes the secret */
}

int mdb_key_from_secret(const uint8_t secret[MDB_KEY_SECRET_SIZE],
                        mdb_key **out, mdb_error *err) {
  int rc = sodium_ready(err);
  if (rc != MDBEE_OK) return rc;
  mdb_key *key = sodium_malloc(sizeof *key);
  if (!key) return mdb_error_set(err, MDBEE_ENOMEM, "cannot allocate secure memory for the key");
  memset(key, 0, sizeof *key);
  memcpy(key->secret, secret, MDB_KEY_SECRET_SIZE);
  key->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  uint8_t seed[32];
  randombytes_buf(seed, sizeof seed);
  secp256k1_pubkey pub;
  if (!key->ctx || !secp256k1_context_randomize(key->ctx, seed)) {
    rc = mdb_error_set(err, MDBEE_ENOMEM, "cannot create a secp256k1 context");
  } else if (!secp256k1_ec_seckey_verify(key->ctx, key->secret) ||
             !secp256k1_ec_pubkey_create(key->ctx, &pub, key->secret)) {
    rc = mdb_error_set(err, MDBEE_ECRYPTO,
                       "the private key is not a valid secp256k1 secret "
                       "(zero or not below the curve order)");
  } else {
    address_of_pubkey(key->ctx, &pub, key->address);
  }
  sodium_memzero(seed, sizeof seed);
  if (rc != MDBEE_OK) {
    mdb_key_free(key);
    return rc;
  }
  *out = key;
  return MDBEE_OK;
}

int mdb_key_generate(mdb_key **out, mdb_error *err) {
  int rc = sodium_ready(err);
  if (rc != MDBEE_OK) return rc;
  uint8_t *secret = sodium_malloc(MDB_KEY_SECRET_SIZE);
  if (!secret) return mdb_error_set(err, MDBEE_ENOMEM, "cannot allocate secure memory for the key");
  /* A uniform 256-bit value is out of range with probability ~2^-128;
   * retrying keeps the distribution uniform over valid secrets. */
  do {
    randombytes_buf(secret, MDB_KEY_SECRET_SIZE);
    rc = mdb_key_from_secret(secret, out, err);
  } while (rc == MDBEE_ECRYPTO);
  sodium_free(secret);
  return rc;
}

void mdb_key_derive(const mdb_key *key, const char *domain,
                    uint8_t out[MDB_KEY_SECRET_SIZE]) {
  /* Keccak is not open to length extension, and the NUL ends the domain,
   * so prefixing it is enough to keep domains apart. */
  mdb_keccak ctx;
  mdb_keccak_init(&ctx);
  mdb_keccak_update(&ctx, domain, strlen(domain) + 1);
  mdb_keccak_update(&ctx, key->secret, MDB_KEY_SECRET_SIZE);
  mdb_keccak_final(&ctx, out);
  sodium_memzero(&ctx, sizeof ctx);
}

void mdb_key_address(const mdb_key *key, uint8_t address[MDB_ADDRESS_SIZE]) {
  memcpy(address, key->address, MDB_ADDRESS_SIZE);
}

/* Keccak256("\x19Ethereum Signed Message:\n32" || digest). */
static void signed_message_hash(const uint8_t digest[32], uint8_t out[32]) {
  static const char prefix[] = "\x19" "Ethereum Signed Message:\n32";
  mdb_keccak k;
  mdb_keccak_init(&k);
  mdb_keccak_update(&k, prefix, sizeof prefix - 1);
  mdb_keccak_update(&k, digest, 32);
  mdb_keccak_final(&k, out);
}

int mdb_key_sign(const mdb_key *key, const uint8_t digest[32],
                 uint8_t sig[MDB_SIGNATURE_SIZE], mdb_error *err) {
  uint8_t msg[32];
  signed_message_hash(digest, msg);
  secp256k1_ecdsa_recoverable_signature rsig;
  if (!secp256k1_ecdsa_sign_recoverable(key->ctx, &rsig, msg, key->secret,
                                        beejs_nonce, NULL))
    return mdb_error_set(err, MDBEE_ECRYPTO, "signing failed");
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(key->ctx, sig,
                                                          &recid, &rsig);
  sig[64] = (uint8_t)(27 + recid);
  return MDBEE_OK;
}

int mdb_key_recover(const uint8_t digest[32],
                    const uint8_t sig[MDB_SIGNATURE_SIZE],
                    uint8_t address[MDB_ADDRESS_SIZE], mdb_error *err) {
  if (sig[64] < 27 || sig[64] > 30)
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "signature recovery byte v=%u is not 27..30",
                         sig[64]);
  const secp256k1_context *ctx = secp256k1_context_static;
  secp256k1_ecdsa_recoverable_signature rsig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, sig,
                                                           sig[64] - 27))
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "signature r or s is out of range");
  uint8_t msg[32];
  signed_message_hash(digest, msg);
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(ctx, &pub, &rsig, msg))
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "signature does not recover a public key");
  address_of_pubkey(ctx, &pub, address);
  return MDBEE_OK;
}

/* Reads the whole key file into secure memory after checking that only its
 * owner can reach it.  *buf is NUL-terminated; free it with sodium_free. */
static int read_key_file(const char *path, char **buf, size_t *len,
                         mdb_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return mdb_error_set(err, MDBEE_EIO, "key file %s: %s", path,
                         strerror(errno));
  struct stat st;
  int rc = MDBEE_OK;
  if (fstat(fd, &st) != 0)
    rc = mdb_error_set(err, MDBEE_EIO, "key file %s: %s", path,
                       strerror(errno));
  else if (!S_ISREG(st.st_mode))
    rc = mdb_error_set(err, MDBEE_EIO, "key file %s is not a regular file",
                       path);
  else if (st.st_mode & (S_IRWXG | S_IRWXO))
    rc = mdb_error_set(err, MDBEE_ECONFIG,
                       "key file %s has mode %04o: group or others can access "
                       "it; refusing to use it (run chmod 600 %s)",
                       path, (unsigned)(st.st_mode & 07777), path);
  else if (st.st_size > KEY_FILE_MAX)
    rc = mdb_error_set(err, MDBEE_EFORMAT,
                       "key file %s is %lld bytes, too large for a key", path,
                       (long long)st.st_size);
  char *data = NULL;
  size_t n = 0;
  if (rc == MDBEE_OK) {
    data = sodium_malloc(KEY_FILE_MAX + 1);
    if (!data) rc = mdb_error_set(err, MDBEE_ENOMEM, "cannot allocate secure memory for the key");
  }
  while (rc == MDBEE_OK) {
    ssize_t got = read(fd, data + n, KEY_FILE_MAX - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      rc = mdb_error_set(err, MDBEE_EIO, "key file %s: %s", path,
                         strerror(errno));
    else if (got == 0)
      break;
    else if ((n += (size_t)got) == KEY_FILE_MAX)
      rc = mdb_error_set(err, MDBEE_EFORMAT, "key file %s is too large for a key", path);
  }
  close(fd);
  if (rc != MDBEE_OK) {
    if (data) sodium_free(data);
    return rc;
  }
  data[n] = '\0';
  *buf = data;
  *len = n;
  return MDBEE_OK;
}

static int key_from_hex(char *text, size_t len, mdb_key **out,
                        mdb_error *err) {
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
                     text[len - 1] == ' ' || text[len - 1] == '\t'))
    text[--len] = '\0';
  while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') text++;
  uint8_t *secret = sodium_malloc(MDB_KEY_SECRET_SIZE);
  if (!secret) return mdb_error_set(err, MDBEE_ENOMEM, "cannot allocate secure memory for the key");
  /* mdb_hex_decode's messages give lengths and positions, never digits. */
  int rc = mdb_hex_decode(text, secret, MDB_KEY_SECRET_SIZE, err);
  if (rc != MDBEE_OK)
    mdb_error_wrap(err, "not a raw hex private key nor a V3 keystore");
  else
    rc = mdb_key_from_secret(secret, out, err);
  sodium_free(secret);
  return rc;
}

int mdb_key_load_file(const char *path, const char *password, mdb_key **out,
                      mdb_error *err) {
  int rc = sodium_ready(err);
  if (rc != MDBEE_OK) return rc;
  char *text = NULL;
  size_t len = 0;
  rc = read_key_file(path, &text, &len, err);
  if (rc != MDBEE_OK) return rc;
  const char *p = text;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p == '{')
    rc = mdb_key_from_keystore(text, len,
                               password ? password : getenv(MDB_KEY_PASSWORD_ENV),
                               out, err);
  else
    rc = key_from_hex(text, len, out, err);
  sodium_free(text);
  if (rc != MDBEE_OK) return mdb_error_wrap(err, "key file %s", path);
  return MDBEE_OK;
}

int mdb_key_save_raw(const mdb_key *key, const char *path, mdb_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
  char *hex = sodium_malloc(2 * MDB_KEY_SECRET_SIZE + 2);
  int rc = MDBEE_OK;
  if (!hex) {
    rc = mdb_error_set(err, MDBEE_ENOMEM, "cannot allocate secure memory for the key");
  } else {
    mdb_hex_encode(key->secret, MDB_KEY_SECRET_SIZE, hex);
    hex[2 * MDB_KEY_SECRET_SIZE] = '\n';
    size_t want = 2 * MDB_KEY_SECRET_SIZE + 1;
    /* The umask can only narrow 0600, but an inherited ACL default could
     * widen it: set the mode explicitly. */
    if (fchmod(fd, 0600) != 0 || write(fd, hex, want) != (ssize_t)want ||
        fsync(fd) != 0)
      rc = mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
    sodium_free(hex);
  }
  if (close(fd) != 0 && rc == MDBEE_OK)
    rc = mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
  if (rc != MDBEE_OK) unlink(path);
  return rc;
}
