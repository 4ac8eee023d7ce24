#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/bmt.h"
#include "support.h"

/* Chunk addresses computed by bee-js's makeContentAddressedChunk
 * (tests/vectors/bmt.txt): span, payload, address. */
static void test_known_answers(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "bmt.txt");
  size_t cases = 0;
  while (vec_next(&v)) {
    uint64_t span = strtoull(v.fields[0], NULL, 10);
    size_t n, an;
    uint8_t *payload = vec_bytes(&v, 1, &n), *want = vec_bytes(&v, 2, &an);
    uint8_t got[MDB_REF_SIZE];
    mdb_bmt_chunk_address(span, payload, n, got);
    if (memcmp(got, want, MDB_REF_SIZE) != 0)
      fail_msg("address mismatch for %zu-byte payload (line %zu)", n,
               v.lineno);
    free(payload);
    free(want);
    cases++;
  }
  vec_close(&v);
  assert_true(cases >= 64);
}

static void test_span_round_trip(void **state) {
  (void)state;
  const uint64_t spans[] = {0, 1, 4096, 4096ull * 128 + 1, UINT64_MAX};
  for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
    uint8_t enc[MDB_SPAN_SIZE];
    mdb_bmt_span_encode(spans[i], enc);
    assert_int_equal(mdb_bmt_span_decode(enc), spans[i]);
  }
  uint8_t enc[MDB_SPAN_SIZE];
  mdb_bmt_span_encode(0x0102, enc);
  assert_int_equal(enc[0], 0x02); /* little-endian */
  assert_int_equal(enc[1], 0x01);
}

/* Trailing zero bytes are indistinguishable from padding in the BMT root;
 * only the span tells such chunks apart. */
static void test_padding_is_implicit(void **state) {
  (void)state;
  uint8_t a[10] = {1, 2, 3}, root_a[MDB_REF_SIZE], root_b[MDB_REF_SIZE];
  mdb_bmt_root(a, 3, root_a);
  mdb_bmt_root(a, 10, root_b);
  assert_memory_equal(root_a, root_b, MDB_REF_SIZE);
  uint8_t addr_a[MDB_REF_SIZE], addr_b[MDB_REF_SIZE];
  mdb_bmt_chunk_address(3, a, 3, addr_a);
  mdb_bmt_chunk_address(10, a, 10, addr_b);
  assert_memory_not_equal(addr_a, addr_b, MDB_REF_SIZE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_span_round_trip),
      cmocka_unit_test(test_padding_is_implicit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
