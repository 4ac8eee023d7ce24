/* Extended JSON encoder: redaction, limits and refusals.  Conformance of
 * the output itself with the MongoDB Node driver is checked by
 * tests/node/conformance/ejson.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <cmocka.h>

#include "mdbee/ejson.h"

static char *encode(const bson_t *b, const char *const *redact, size_t n,
                    mdb_ejson_mode mode) {
  mdb_ejson_options o = {.mode = mode, .redact = redact, .n_redact = n};
  char *out = NULL;
  size_t len = 0;
  mdb_error err = {0};
  int rc = mdb_ejson_encode(bson_get_data(b), b->len, &o, &out, &len, &err);
  if (rc != MDBEE_OK) fail_msg("encode: %s", err.message);
  assert_int_equal(strlen(out), len);
  return out;
}

/* JSON without layout whitespace (outside strings), for short comparisons. */
static char *squeeze(char *s) {
  char *w = s;
  int in_str = 0;
  for (char *r = s; *r; r++) {
    if (in_str) {
      *w++ = *r;
      if (*r == '\\') *w++ = *++r;
      else if (*r == '"') in_str = 0;
    } else if (*r != ' ' && *r != '\n') {
      if (*r == '"') in_str = 1;
      *w++ = *r;
    }
  }
  *w = '\0';
  return s;
}

static void test_layout(void **state) {
  (void)state;
  bson_t *b = BCON_NEW("a", BCON_INT32(1), "o", "{", "}", "l", "[", BCON_BOOL(1),
                       "{", "x", BCON_NULL, "}", "]");
  char *s = encode(b, NULL, 0, MDB_EJSON_RELAXED);
  assert_string_equal(s, "{\n  \"a\": 1,\n  \"o\": {},\n  \"l\": [\n    true,\n"
                         "    {\n      \"x\": null\n    }\n  ]\n}");
  free(s);
  bson_destroy(b);
  bson_t empty = BSON_INITIALIZER;
  s = encode(&empty, NULL, 0, MDB_EJSON_CANONICAL);
  assert_string_equal(s, "{}");
  free(s);
}

static void test_redact_paths(void **state) {
  (void)state;
  bson_t *b = BCON_NEW(
      "_id", BCON_INT32(7), "card", BCON_UTF8("4111"),
      "user", "{", "name", BCON_UTF8("ann"), "email", BCON_UTF8("a@x"), "}",
      "items", "[",
        "{", "sku", BCON_UTF8("p1"), "cost", BCON_INT32(3), "}",
        "[", "{", "cost", BCON_INT32(4), "sku", BCON_UTF8("p2"), "}", "]",
        BCON_INT32(9),
      "]",
      "pos", "[", "{", "k", BCON_INT32(1), "}", "{", "k", BCON_INT32(2), "}", "]");
  const char *const redact[] = {"card", "user.email", "items.cost", "pos.1.k",
                                "absent.field"};
  char *s = squeeze(encode(b, redact, 5, MDB_EJSON_RELAXED));
  assert_string_equal(
      s, "{\"_id\":7,\"user\":{\"name\":\"ann\"},\"items\":[{\"sku\":\"p1\"},"
         "[{\"sku\":\"p2\"}],9],\"pos\":[{\"k\":1},{}]}");
  free(s);
  /* A whole sub-document, and a prefix that is not a whole part. */
  const char *const r2[] = {"user", "item"};
  s = squeeze(encode(b, r2, 2, MDB_EJSON_RELAXED));
  assert_null(strstr(s, "\"user\""));
  assert_non_null(strstr(s, "\"items\""));
  free(s);
  bson_destroy(b);
}

static bson_t *nested(int depth) {
  bson_t *cur = bson_new();
  BSON_APPEND_INT32(cur, "leaf", 1);
  for (int i = 0; i < depth; i++) {
    bson_t *up = bson_new();
    BSON_APPEND_DOCUMENT(up, "d", cur);
    bson_destroy(cur);
    cur = up;
  }
  return cur;
}

static void test_depth_limit(void **state) {
  (void)state;
  bson_t *ok = nested(150), *deep = nested(MDB_EJSON_MAX_DEPTH_DEFAULT);
  char *s = encode(ok, NULL, 0, MDB_EJSON_RELAXED);
  free(s);
  mdb_error err = {0};
  char *out = NULL;
  size_t len;
  assert_int_equal(mdb_ejson_encode(bson_get_data(deep), deep->len, NULL, &out,
                                    &len, &err), MDBEE_EFORMAT);
  assert_null(out);
  assert_non_null(strstr(err.message, "nesting too deep"));
  mdb_ejson_options o = {.max_depth = 3};
  bson_t *three = nested(3);
  assert_int_equal(mdb_ejson_encode(bson_get_data(three), three->len, &o, &out,
                                    &len, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "d.d.d: nesting too deep"));
  bson_destroy(ok);
  bson_destroy(deep);
  bson_destroy(three);
}

static void expect_refused(const uint8_t *bytes, size_t len, const char *why) {
  mdb_error err = {0};
  char *out = NULL;
  size_t n;
  assert_int_equal(mdb_ejson_encode(bytes, len, NULL, &out, &n, &err),
                   MDBEE_EFORMAT);
  assert_null(out);
  if (!strstr(err.message, why)) fail_msg("'%s' lacks '%s'", err.message, why);
}

static void test_malformed(void **state) {
  (void)state;
  /* {"a": int32 1} */
  uint8_t good[] = {12, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0};
  char *out;
  size_t n;
  assert_int_equal(mdb_ejson_encode(good, sizeof good, NULL, &out, &n, NULL),
                   MDBEE_OK);
  free(out);
  expect_refused(good, 11, "document length");
  uint8_t longer[13];
  memcpy(longer, good, 12);
  longer[12] = 0;
  expect_refused(longer, 13, "does not match");
  uint8_t bad_type[] = {12, 0, 0, 0, 0x42, 'a', 0, 1, 0, 0, 0, 0};
  expect_refused(bad_type, sizeof bad_type, "a: unknown BSON type");
  uint8_t bad_bool[] = {9, 0, 0, 0, 0x08, 'b', 0, 2, 0};
  expect_refused(bad_bool, sizeof bad_bool, "b: bool is neither 0 nor 1");
  /* string claiming 100 bytes */
  uint8_t bad_str[] = {14, 0, 0, 0, 0x02, 's', 0, 100, 0, 0, 0, 'x', 0, 0};
  expect_refused(bad_str, sizeof bad_str, "s: string length out of bounds");
  /* invalid UTF-8 in a key: 0xff */
  uint8_t bad_key[] = {12, 0, 0, 0, 0x10, 0xff, 0, 1, 0, 0, 0, 0};
  expect_refused(bad_key, sizeof bad_key, "not valid UTF-8");
  /* overlong encoding of '/' and a UTF-16 surrogate */
  uint8_t overlong[] = {16, 0, 0, 0, 0x02, 's', 0, 3, 0, 0, 0, 0xc0, 0xaf, 0, 0, 0};
  overlong[0] = sizeof overlong - 1;
  expect_refused(overlong, sizeof overlong - 1, "s: string is not valid UTF-8 (byte 0)");
  uint8_t surrogate[] = {17, 0, 0, 0, 0x02, 's', 0, 4, 0, 0, 0, 0xed, 0xa0, 0x80, 0, 0};
  surrogate[0] = sizeof surrogate;
  expect_refused(surrogate, sizeof surrogate, "not valid UTF-8");
  /* a NUL inside a string is fine and kept */
  uint8_t nul[] = {16, 0, 0, 0, 0x02, 's', 0, 4, 0, 0, 0, 'a', 0, 'b', 0, 0};
  assert_int_equal(mdb_ejson_encode(nul, sizeof nul, NULL, &out, &n, NULL),
                   MDBEE_OK);
  assert_string_equal(out, "{\n  \"s\": \"a\\u0000b\"\n}");
  free(out);
}

static void test_mode_names(void **state) {
  (void)state;
  mdb_ejson_mode m;
  assert_int_equal(mdb_ejson_mode_parse("canonical", &m), MDBEE_OK);
  assert_int_equal(m, MDB_EJSON_CANONICAL);
  assert_int_equal(mdb_ejson_mode_parse("relaxed", &m), MDBEE_OK);
  assert_int_equal(m, MDB_EJSON_RELAXED);
  assert_int_equal(mdb_ejson_mode_parse("Relaxed", &m), MDBEE_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_redact_paths),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_mode_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
