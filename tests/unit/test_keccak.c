#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/keccak.h"
#include "support.h"

/* Known answers computed by bee-js (tests/vectors/keccak.txt). */
static void test_known_answers(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "keccak.txt");
  size_t cases = 0;
  while (vec_next(&v)) {
    size_t n, dn;
    uint8_t *data = vec_bytes(&v, 0, &n), *want = vec_bytes(&v, 1, &dn);
    uint8_t got[MDB_KECCAK_SIZE];
    mdb_keccak256(data, n, got);
    assert_int_equal(dn, MDB_KECCAK_SIZE);
    if (memcmp(got, want, MDB_KECCAK_SIZE) != 0)
      fail_msg("keccak mismatch for %zu-byte input (line %zu)", n, v.lineno);
    free(data);
    free(want);
    cases++;
  }
  vec_close(&v);
  assert_true(cases > 400);
}

/* Feeding the same bytes in arbitrary pieces gives the one-shot digest. */
static void test_streaming_matches_one_shot(void **state) {
  (void)state;
  uint8_t data[1000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 31 + 7);
  uint8_t want[MDB_KECCAK_SIZE], got[MDB_KECCAK_SIZE];
  mdb_keccak256(data, sizeof data, want);
  for (size_t piece = 1; piece < 300; piece += 17) {
    mdb_keccak ctx;
    mdb_keccak_init(&ctx);
    for (size_t off = 0; off < sizeof data; off += piece)
      mdb_keccak_update(&ctx, data + off,
                        off + piece > sizeof data ? sizeof data - off : piece);
    mdb_keccak_final(&ctx, got);
    assert_memory_equal(got, want, MDB_KECCAK_SIZE);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_streaming_matches_one_shot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
