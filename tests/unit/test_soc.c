#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/soc.h"
#include "support.h"

/* SOCs made by bee-js: secret, id, span, payload, SOC bytes, address,
 * owner.  Ours must be byte-equal, and ours must verify. */
static void test_make_matches_beejs(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "soc.txt");
  size_t cases = 0;
  while (vec_next(&v)) {
    size_t n, in, pn, sn, an, on;
    uint8_t *secret = vec_bytes(&v, 0, &n), *id = vec_bytes(&v, 1, &in);
    uint64_t span = strtoull(v.fields[2], NULL, 10);
    uint8_t *payload = vec_bytes(&v, 3, &pn), *want = vec_bytes(&v, 4, &sn);
    uint8_t *want_addr = vec_bytes(&v, 5, &an), *owner = vec_bytes(&v, 6, &on);
    mdb_key *key = NULL;
    mdb_error err = {0};
    assert_int_equal(mdb_key_from_secret(secret, &key, &err), MDBEE_OK);
    uint8_t chunk[MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX];
    mdb_bmt_span_encode(span, chunk);
    memcpy(chunk + MDB_SPAN_SIZE, payload, pn);
    uint8_t soc[MDB_SOC_SIZE_MAX], addr[MDB_REF_SIZE];
    size_t size = 0;
    assert_int_equal(mdb_soc_make(key, id, chunk, MDB_SPAN_SIZE + pn, soc,
                                  &size, addr, &err), MDBEE_OK);
    assert_int_equal(size, sn);
    if (memcmp(soc, want, sn) != 0)
      fail_msg("SOC bytes differ from bee-js (line %zu)", v.lineno);
    assert_memory_equal(addr, want_addr, MDB_REF_SIZE);

    mdb_soc parsed;
    assert_int_equal(mdb_soc_verify(want, sn, want_addr, owner, &parsed, &err),
                     MDBEE_OK);
    assert_memory_equal(parsed.owner, owner, MDB_ADDRESS_SIZE);
    assert_ptr_equal(parsed.chunk, want + MDB_SOC_HEADER_SIZE);
    assert_int_equal(parsed.chunk_size, MDB_SPAN_SIZE + pn);
    uint8_t cac[MDB_REF_SIZE];
    mdb_bmt_chunk_address(span, payload, pn, cac);
    assert_memory_equal(parsed.chunk_address, cac, MDB_REF_SIZE);

    mdb_key_free(key);
    free(secret);
    free(id);
    free(payload);
    free(want);
    free(want_addr);
    free(owner);
    cases++;
  }
  vec_close(&v);
  assert_true(cases >= 30);
}

/* One valid SOC from the vectors, to forge. */
static size_t first_vector(uint8_t soc[MDB_SOC_SIZE_MAX], uint8_t addr[32],
                           uint8_t owner[20]) {
  vec_file v;
  vec_open(&v, "soc.txt");
  while (vec_next(&v) && strlen(v.fields[3]) != 2 * 72)
    ; /* a 72-byte payload: room for flips in every part */
  size_t sn, an, on;
  uint8_t *s = vec_bytes(&v, 4, &sn), *a = vec_bytes(&v, 5, &an),
          *o = vec_bytes(&v, 6, &on);
  memcpy(soc, s, sn);
  memcpy(addr, a, 32);
  memcpy(owner, o, 20);
  free(s);
  free(a);
  free(o);
  vec_close(&v);
  return sn;
}

/* Flipping any single bit of the identifier, signature, span or payload
 * must be caught: the recovered owner, and so the address, changes. */
static void test_every_bit_flip_is_rejected(void **state) {
  (void)state;
  uint8_t soc[MDB_SOC_SIZE_MAX], addr[32], owner[20];
  size_t n = first_vector(soc, addr, owner);
  assert_int_equal(n, MDB_SOC_HEADER_SIZE + MDB_SPAN_SIZE + 72);
  mdb_error err = {0};
  assert_int_equal(mdb_soc_verify(soc, n, addr, owner, NULL, &err), MDBEE_OK);
  for (size_t i = 0; i < n; i++) {
    for (int bit = 0; bit < 8; bit++) {
      soc[i] ^= (uint8_t)(1u << bit);
      /* A changed span may also stop matching the payload length. */
      int in_span = i >= MDB_SOC_HEADER_SIZE &&
                    i < MDB_SOC_HEADER_SIZE + MDB_SPAN_SIZE;
      int rc = mdb_soc_verify(soc, n, addr, owner, NULL, &err);
      if (rc != MDBEE_EVERIFY && !(in_span && rc == MDBEE_EFORMAT))
        fail_msg("flip of bit %d in byte %zu gave %d", bit, i, rc);
      /* Without the owner, the address check alone must catch it. */
      assert_int_equal(mdb_soc_verify(soc, n, addr, NULL, NULL, &err), rc);
      soc[i] ^= (uint8_t)(1u << bit);
    }
  }
}

static void test_wrong_address_and_owner(void **state) {
  (void)state;
  uint8_t soc[MDB_SOC_SIZE_MAX], addr[32], owner[20];
  size_t n = first_vector(soc, addr, owner);
  mdb_error err = {0};
  addr[31] ^= 1;
  assert_int_equal(mdb_soc_verify(soc, n, addr, NULL, NULL, &err), MDBEE_EVERIFY);
  assert_non_null(strstr(err.message, "claimed"));
  addr[31] ^= 1;
  owner[0] ^= 1;
  assert_int_equal(mdb_soc_verify(soc, n, addr, owner, NULL, &err), MDBEE_EVERIFY);
  assert_non_null(strstr(err.message, "signed by"));
  /* A dropped byte, or an appended zero (which leaves the BMT root as it
   * was), no longer matches the span. */
  owner[0] ^= 1;
  assert_int_equal(mdb_soc_verify(soc, n - 1, addr, owner, NULL, &err), MDBEE_EFORMAT);
  soc[n] = 0;
  assert_int_equal(mdb_soc_verify(soc, n + 1, addr, owner, NULL, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "span 72 but 73"));
}

static void test_sizes(void **state) {
  (void)state;
  uint8_t buf[MDB_SOC_SIZE_MAX + 1] = {0}, addr[32] = {0};
  mdb_error err = {0};
  mdb_soc soc;
  assert_int_equal(mdb_soc_parse(buf, 0, &soc, &err), MDBEE_EFORMAT);
  assert_int_equal(mdb_soc_parse(buf, MDB_SOC_SIZE_MIN - 1, &soc, &err), MDBEE_EFORMAT);
  assert_int_equal(mdb_soc_parse(buf, MDB_SOC_SIZE_MAX + 1, &soc, &err), MDBEE_EFORMAT);
  /* All-zero signature: right size, no key. */
  assert_int_equal(mdb_soc_verify(buf, MDB_SOC_SIZE_MIN, addr, NULL, &soc, &err), MDBEE_EVERIFY);

  /* An empty wrapped chunk (span 0) is valid for Bee; so for us. */
  uint8_t secret[32] = {7}, id[32] = {9}, chunk[8] = {0}, out[MDB_SOC_SIZE_MAX];
  mdb_key *key = NULL;
  size_t size;
  assert_int_equal(mdb_key_from_secret(secret, &key, &err), MDBEE_OK);
  assert_int_equal(mdb_soc_make(key, id, chunk, 8, out, &size, addr, &err), MDBEE_OK);
  assert_int_equal(size, MDB_SOC_SIZE_MIN);
  assert_int_equal(mdb_soc_verify(out, size, addr, NULL, &soc, &err), MDBEE_OK);
  assert_int_equal(mdb_soc_make(key, id, chunk, 7, out, &size, addr, &err), MDBEE_EINVAL);
  chunk[0] = 1; /* span 1, no payload */
  assert_int_equal(mdb_soc_make(key, id, chunk, 8, out, &size, addr, &err), MDBEE_EINVAL);
  uint8_t big[MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX + 1] = {0};
  assert_int_equal(mdb_soc_make(key, id, big, sizeof big, out, &size, addr, &err), MDBEE_EINVAL);
  mdb_key_free(key);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_make_matches_beejs),
      cmocka_unit_test(test_every_bit_flip_is_rejected),
      cmocka_unit_test(test_wrong_address_and_owner),
      cmocka_unit_test(test_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
