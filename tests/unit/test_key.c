#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mdbee/hex.h"
#include "mdbee/keccak.h"
#include "mdbee/key.h"
#include "support.h"

static char tmpdir[] = "/tmp/mdbee-test-key-XXXXXX";

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd);
}

static const char *write_file(const char *name, const char *text,
                              mode_t mode) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  unlink(path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
  return path;
}

/* bee-js PrivateKey.sign vectors: secret, data, signature, address. */
static void test_sign_matches_beejs(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "sign.txt");
  size_t cases = 0;
  while (vec_next(&v)) {
    size_t n, dn, sn, an;
    uint8_t *secret = vec_bytes(&v, 0, &n), *data = vec_bytes(&v, 1, &dn);
    uint8_t *want_sig = vec_bytes(&v, 2, &sn), *want_addr = vec_bytes(&v, 3, &an);
    mdb_key *key = NULL;
    mdb_error err = {0};
    assert_int_equal(mdb_key_from_secret(secret, &key, &err), MDBEE_OK);
    uint8_t addr[MDB_ADDRESS_SIZE], digest[32], sig[MDB_SIGNATURE_SIZE];
    mdb_key_address(key, addr);
    assert_memory_equal(addr, want_addr, MDB_ADDRESS_SIZE);
    mdb_keccak256(data, dn, digest);
    assert_int_equal(mdb_key_sign(key, digest, sig, &err), MDBEE_OK);
    if (memcmp(sig, want_sig, MDB_SIGNATURE_SIZE) != 0)
      fail_msg("signature differs from bee-js (line %zu)", v.lineno);
    uint8_t rec[MDB_ADDRESS_SIZE];
    assert_int_equal(mdb_key_recover(digest, want_sig, rec, &err), MDBEE_OK);
    assert_memory_equal(rec, want_addr, MDB_ADDRESS_SIZE);
    mdb_key_free(key);
    free(secret);
    free(data);
    free(want_sig);
    free(want_addr);
    cases++;
  }
  vec_close(&v);
  assert_true(cases >= 64);
}

static void test_recover_rejects_bad_signatures(void **state) {
  (void)state;
  uint8_t secret[32] = {1}, digest[32] = {2}, sig[65], owner[20], rec[20];
  mdb_key *key = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_key_from_secret(secret, &key, &err), MDBEE_OK);
  mdb_key_address(key, owner);
  assert_int_equal(mdb_key_sign(key, digest, sig, &err), MDBEE_OK);
  mdb_key_free(key);
  assert_true(sig[64] == 27 || sig[64] == 28);

  uint8_t bad[65];
  memcpy(bad, sig, 65);
  bad[64] = 26;
  assert_int_equal(mdb_key_recover(digest, bad, rec, &err), MDBEE_EVERIFY);
  bad[64] = 31;
  assert_int_equal(mdb_key_recover(digest, bad, rec, &err), MDBEE_EVERIFY);
  memset(bad, 0xff, 64); /* r and s above the curve order */
  bad[64] = 27;
  assert_int_equal(mdb_key_recover(digest, bad, rec, &err), MDBEE_EVERIFY);
  memset(bad, 0, 64);
  assert_int_equal(mdb_key_recover(digest, bad, rec, &err), MDBEE_EVERIFY);
  /* Any other digest or a flipped v recovers someone else. */
  memcpy(bad, sig, 65);
  bad[64] = bad[64] == 27 ? 28 : 27;
  if (mdb_key_recover(digest, bad, rec, &err) == MDBEE_OK)
    assert_memory_not_equal(rec, owner, 20);
  digest[5] ^= 1;
  if (mdb_key_recover(digest, sig, rec, &err) == MDBEE_OK)
    assert_memory_not_equal(rec, owner, 20);
}

static void test_invalid_secrets(void **state) {
  (void)state;
  uint8_t zero[32] = {0}, order[32];
  mdb_error err = {0};
  mdb_key *key = NULL;
  assert_int_equal(mdb_key_from_secret(zero, &key, &err), MDBEE_ECRYPTO);
  assert_int_equal(mdb_hex_decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
                                  order, 32, &err), MDBEE_OK);
  assert_int_equal(mdb_key_from_secret(order, &key, &err), MDBEE_ECRYPTO);
  assert_null(key);
}

static void test_raw_file(void **state) {
  (void)state;
  const char *hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
  char text[128];
  snprintf(text, sizeof text, "  0x%s\n", hex);
  const char *path = write_file("raw", text, 0600);
  mdb_key *key = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_key_load_file(path, NULL, &key, &err), MDBEE_OK);
  uint8_t secret[32], want[20], got[20];
  mdb_hex_decode(hex, secret, 32, &err);
  mdb_key *direct = NULL;
  assert_int_equal(mdb_key_from_secret(secret, &direct, &err), MDBEE_OK);
  mdb_key_address(key, got);
  mdb_key_address(direct, want);
  assert_memory_equal(got, want, 20);
  mdb_key_free(direct);
  mdb_key_free(key);

  /* Broken key files: the message must not echo any of the file. */
  const char *broken[] = {"4c0883a6910293", "zz0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", ""};
  for (size_t i = 0; i < 3; i++) {
    path = write_file("raw", broken[i], 0600);
    key = NULL;
    assert_int_equal(mdb_key_load_file(path, NULL, &key, &err), MDBEE_EFORMAT);
    assert_null(key);
    assert_null(strstr(err.message, "0883a6"));
    assert_non_null(strstr(err.message, path));
  }
}

static void test_refuses_open_permissions(void **state) {
  (void)state;
  const char *hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n";
  const mode_t modes[] = {0644, 0640, 0604, 0660, 0602};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    const char *path = write_file("open", hex, modes[i]);
    mdb_key *key = NULL;
    mdb_error err = {0};
    assert_int_equal(mdb_key_load_file(path, NULL, &key, &err), MDBEE_ECONFIG);
    assert_null(key);
    char mode[16];
    snprintf(mode, sizeof mode, "%04o", (unsigned)modes[i]);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, mode));
    assert_null(strstr(err.message, "4c0883"));
  }
  mdb_error err = {0};
  mdb_key *key = NULL;
  char missing[600];
  snprintf(missing, sizeof missing, "%s/missing", tmpdir);
  assert_int_equal(mdb_key_load_file(missing, NULL, &key, &err), MDBEE_EIO);
}

static void test_generate_and_save(void **state) {
  (void)state;
  mdb_key *key = NULL, *again = NULL;
  mdb_error err = {0};
  char path[600];
  snprintf(path, sizeof path, "%s/new", tmpdir);
  unlink(path);
  assert_int_equal(mdb_key_generate(&key, &err), MDBEE_OK);
  assert_int_equal(mdb_key_save_raw(key, path, &err), MDBEE_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(mdb_key_save_raw(key, path, &err), MDBEE_EIO); /* no overwrite */
  assert_int_equal(mdb_key_load_file(path, NULL, &again, &err), MDBEE_OK);
  uint8_t a[20], b[20];
  mdb_key_address(key, a);
  mdb_key_address(again, b);
  assert_memory_equal(a, b, 20);
  mdb_key_free(key);
  mdb_key_free(again);
}

/* Keystores from ethers (scrypt) and Node crypto checked by ethers (pbkdf2):
 * kdf, password, JSON, address. */
static void test_keystores(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "keystore.txt");
  int seen_scrypt = 0, seen_pbkdf2 = 0;
  while (vec_next(&v)) {
    size_t pn, jn, an;
    uint8_t *pw = vec_bytes(&v, 1, &pn), *json = vec_bytes(&v, 2, &jn);
    uint8_t *want = vec_bytes(&v, 3, &an);
    pw[pn] = '\0';
    json[jn] = '\0';
    mdb_key *key = NULL;
    mdb_error err = {0};
    int rc = mdb_key_from_keystore((char *)json, jn, (char *)pw, &key, &err);
    if (rc != MDBEE_OK) fail_msg("line %zu: %s", v.lineno, err.message);
    uint8_t got[20];
    mdb_key_address(key, got);
    assert_memory_equal(got, want, 20);
    mdb_key_free(key);

    /* Through a file, with the password from the environment. */
    const char *path = write_file("ks.json", (char *)json, 0600);
    setenv(MDB_KEY_PASSWORD_ENV, (char *)pw, 1);
    assert_int_equal(mdb_key_load_file(path, NULL, &key, &err), MDBEE_OK);
    mdb_key_address(key, got);
    assert_memory_equal(got, want, 20);
    mdb_key_free(key);

    /* Wrong or missing password: a clear crypto error, no key. */
    key = NULL;
    setenv(MDB_KEY_PASSWORD_ENV, "wrong", 1);
    assert_int_equal(mdb_key_load_file(path, NULL, &key, &err), MDBEE_ECRYPTO);
    assert_non_null(strstr(err.message, "wrong password"));
    assert_null(key);
    unsetenv(MDB_KEY_PASSWORD_ENV);
    assert_int_equal(mdb_key_load_file(path, NULL, &key, &err), MDBEE_ECRYPTO);
    assert_non_null(strstr(err.message, MDB_KEY_PASSWORD_ENV));

    /* An "address" field naming another key is refused. */
    char *field = strstr((char *)json, "\"address\":\"");
    assert_non_null(field);
    char *digit = field + strlen("\"address\":\"");
    *digit = *digit == '0' ? '1' : '0';
    assert_int_equal(mdb_key_from_keystore((char *)json, jn, (char *)pw, &key, &err), MDBEE_ECRYPTO);
    assert_non_null(strstr(err.message, "address"));
    assert_null(key);

    seen_scrypt |= strcmp(v.fields[0], "scrypt") == 0;
    seen_pbkdf2 |= strcmp(v.fields[0], "pbkdf2") == 0;
    free(pw);
    free(json);
    free(want);
  }
  vec_close(&v);
  assert_true(seen_scrypt && seen_pbkdf2);
}

/* Hostile keystores are refused before any expensive work. */
static void test_keystore_bounds(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "{",
      "[]",
      "{\"version\":3}",
      "{\"version\":2,\"crypto\":{}}",
      "{\"version\":3,\"crypto\":{\"cipher\":\"aes-256-cbc\"}}",
      /* scrypt asking for 2^40 * 128 * 8 bytes */
      "{\"version\":3,\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":\"00000000000000000000000000000000\"},"
      "\"ciphertext\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"mac\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\",\"kdf\":\"scrypt\",\"kdfparams\":"
      "{\"dklen\":32,\"n\":1099511627776,\"r\":8,\"p\":1,\"salt\":\"00\"}}}",
      /* n not a power of two */
      "{\"version\":3,\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":\"00000000000000000000000000000000\"},"
      "\"ciphertext\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"mac\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\",\"kdf\":\"scrypt\",\"kdfparams\":"
      "{\"dklen\":32,\"n\":1000,\"r\":8,\"p\":1,\"salt\":\"00\"}}}",
      /* pbkdf2 with 2^31 rounds */
      "{\"version\":3,\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":\"00000000000000000000000000000000\"},"
      "\"ciphertext\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"mac\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\",\"kdf\":\"pbkdf2\",\"kdfparams\":"
      "{\"dklen\":32,\"c\":2147483647,\"prf\":\"hmac-sha256\",\"salt\":\"00\"}}}",
      /* short ciphertext */
      "{\"version\":3,\"crypto\":{\"cipher\":\"aes-128-ctr\",\"cipherparams\":{\"iv\":\"00000000000000000000000000000000\"},"
      "\"ciphertext\":\"00\",\"mac\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\",\"kdf\":\"pbkdf2\",\"kdfparams\":"
      "{\"dklen\":32,\"c\":1,\"prf\":\"hmac-sha256\",\"salt\":\"00\"}}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mdb_key *key = NULL;
    mdb_error err = {0};
    int rc = mdb_key_from_keystore(bad[i], strlen(bad[i]), "pw", &key, &err);
    if (rc != MDBEE_EFORMAT) fail_msg("case %zu: got %d (%s)", i, rc, err.message);
    assert_null(key);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sign_matches_beejs),
      cmocka_unit_test(test_recover_rejects_bad_signatures),
      cmocka_unit_test(test_invalid_secrets),
      cmocka_unit_test(test_raw_file),
      cmocka_unit_test(test_refuses_open_permissions),
      cmocka_unit_test(test_generate_and_save),
      cmocka_unit_test(test_keystores),
      cmocka_unit_test(test_keystore_bounds),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
