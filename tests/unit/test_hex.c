#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/hex.h"

static void test_round_trip(void **state) {
  (void)state;
  const uint8_t bytes[] = {0x00, 0x7f, 0x80, 0xff, 0xab};
  char text[11];
  mdb_hex_encode(bytes, sizeof bytes, text);
  assert_string_equal(text, "007f80ffab");
  uint8_t back[5];
  assert_int_equal(mdb_hex_decode("0x007F80FFab", back, 5, NULL), MDBEE_OK);
  assert_memory_equal(back, bytes, 5);
}

static void test_rejects_bad_text(void **state) {
  (void)state;
  uint8_t out[2];
  mdb_error err = {0};
  assert_int_equal(mdb_hex_decode("abc", out, 2, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "expected 4 hex digits"));
  assert_int_equal(mdb_hex_decode("zz00", out, 2, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "position 0"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_rejects_bad_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
