/* Document paths: the documented forms, round trips and injectivity over
 * random values of every type, refusal of non-canonical segments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <cmocka.h>

#include "bsongen.h"
#include "mdbee/docid.h"

static char *encode_doc(const bson_t *one) {
  size_t len;
  uint8_t *v = bsongen_value(one, &len);
  char *seg = NULL;
  mdb_error err = {0};
  if (mdb_docid_encode(v, len, &seg, &err) != MDBEE_OK)
    fail_msg("encode: %s", err.message);
  free(v);
  return seg;
}

static void expect(bson_t *one, const char *seg) {
  char *got = encode_doc(one);
  assert_string_equal(got, seg);
  free(got);
  bson_destroy(one);
}

static void test_documented_forms(void **state) {
  (void)state;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "507f1f77bcf86cd799439011");
  expect(BCON_NEW("v", BCON_OID(&oid)), "507f1f77bcf86cd799439011");
  expect(BCON_NEW("v", BCON_UTF8("alice")), "s-alice");
  expect(BCON_NEW("v", BCON_UTF8("a b/c~é")), "s-a~20b~2fc~7e~c3~a9");
  expect(BCON_NEW("v", BCON_UTF8("")), "s-");
  expect(BCON_NEW("v", BCON_INT32(42)), "i-42");
  expect(BCON_NEW("v", BCON_INT32(-5)), "i--5");
  expect(BCON_NEW("v", BCON_INT64(INT64_MIN)), "l--9223372036854775808");
  expect(BCON_NEW("v", BCON_DOUBLE(1.0)), "d-1");
  expect(BCON_NEW("v", BCON_DOUBLE(-0.0)), "d--0");
  expect(BCON_NEW("v", BCON_DOUBLE(0.1)), "d-0.1");
  expect(BCON_NEW("v", BCON_DOUBLE(1.5e300)), "d-1.5e300");
  expect(BCON_NEW("v", BCON_DOUBLE(2.5e-7)), "d-2.5e-7");
  expect(BCON_NEW("v", BCON_DOUBLE(-INFINITY)), "d--inf");
  expect(BCON_NEW("v", BCON_DOUBLE(NAN)), "d-nan");
  expect(BCON_NEW("v", BCON_BOOL(1)), "true");
  expect(BCON_NEW("v", BCON_NULL), "null");
  expect(BCON_NEW("v", BCON_DATE_TIME(-1000)), "date--1000");
  expect(BCON_NEW("v", BCON_TIMESTAMP(7, 3)), "ts-7-3");
  uint8_t uuid[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                      0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
  expect(BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_UUID, uuid, 16)),
         "u-12345678-9abc-def0-1234-56789abcdef0");
  expect(BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_USER, uuid, 2)), "b80-1234");
  expect(BCON_NEW("v", "{", "a", BCON_INT32(1), "}"),
         "x03-0c0000001061000100000000");
}

static void test_arrays_refused(void **state) {
  (void)state;
  bson_t *b = BCON_NEW("v", "[", BCON_INT32(1), "]");
  size_t len;
  uint8_t *v = bsongen_value(b, &len);
  char *seg = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_docid_encode(v, len, &seg, &err), MDBEE_EFORMAT);
  assert_null(seg);
  assert_non_null(strstr(err.message, "array"));
  /* and malformed value bytes */
  v[1] = 0x7f;
  assert_int_equal(mdb_docid_encode(v, len, &seg, &err), MDBEE_EFORMAT);
  free(v);
  bson_destroy(b);
}

/* A document _id with an element of unknown type inside (found by
 * fuzz_ejson: docid took it, index keys refused it) is refused. */
static void test_malformed_document_refused(void **state) {
  (void)state;
  /* type 0x03, document of 9 bytes: element type 0x48, name "", then
   * bytes that are no value */
  const uint8_t v[] = {0x03, 0x09, 0x00, 0x00, 0x00, 0x48, 0x00, 0x64, 0xd1, 0x00};
  char *seg = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_docid_encode(v, sizeof v, &seg, &err), MDBEE_EFORMAT);
  assert_null(seg);
  assert_non_null(strstr(err.message, "_id"));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every value survives the round trip; different values never share a
 * segment; segments are URL-safe and never start with '$'. */
static void test_random_round_trip_and_injectivity(void **state) {
  (void)state;
  bsongen g = {.state = 12345, .decimals = 1};
  enum { N = 20000 };
  char **segs = calloc(N, sizeof *segs);
  uint8_t **vals = calloc(N, sizeof *vals);
  size_t *lens = calloc(N, sizeof *lens);
  size_t n = 0;
  while (n < N) {
    bson_t b = BSON_INITIALIZER;
    bsongen_append(&g, &b, "v", 2);
    size_t len;
    uint8_t *v = bsongen_value(&b, &len);
    bson_destroy(&b);
    if (v[0] == BSON_TYPE_ARRAY) {
      free(v);
      continue;
    }
    char *seg = NULL;
    mdb_error err = {0};
    if (mdb_docid_encode(v, len, &seg, &err) != MDBEE_OK)
      fail_msg("encode: %s", err.message);
    assert_true(seg[0] != '$' && seg[0] != '\0');
    for (const char *c = seg; *c; c++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789-._~", *c))
        fail_msg("'%s' has a character that is not URL-unreserved", seg);
    uint8_t *back = NULL;
    size_t back_len = 0;
    if (mdb_docid_decode(seg, strlen(seg), &back, &back_len, &err) != MDBEE_OK)
      fail_msg("decode '%s': %s", seg, err.message);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, v, len);
    free(back);
    segs[n] = seg;
    vals[n] = v;
    lens[n] = len;
    n++;
  }
  /* Equal segments must come from byte-identical values: sort segments
   * with their values alongside by comparing through an index. */
  char **sorted = malloc(N * sizeof *sorted);
  memcpy(sorted, segs, N * sizeof *sorted);
  qsort(sorted, N, sizeof *sorted, cmp_str);
  size_t distinct_checked = 0;
  for (size_t i = 1; i < N; i++) {
    if (strcmp(sorted[i - 1], sorted[i]) != 0) continue;
    /* find both originals and compare their bytes */
    size_t a = N, b = N;
    for (size_t k = 0; k < N; k++)
      if (segs[k] == sorted[i - 1]) a = k;
      else if (segs[k] == sorted[i]) b = k;
    assert_int_equal(lens[a], lens[b]);
    assert_memory_equal(vals[a], vals[b], lens[a]);
    distinct_checked++;
  }
  assert_true(distinct_checked > 0); /* the pools do repeat values */
  for (size_t i = 0; i < N; i++) {
    free(segs[i]);
    free(vals[i]);
  }
  free(sorted);
  free(segs);
  free(vals);
  free(lens);
}

static void test_non_canonical_refused(void **state) {
  (void)state;
  static const char *bad[] = {
      "", "i-01", "i-+1", "i-", "i-2147483648", "l-9223372036854775808",
      "s-~41", "s-~4", "s-a b", "s-~4A", "d-1.0", "d-0x1p3", "d-1e+300",
      "d-NaN", "d-", "507F1F77BCF86CD799439011", "507f1f77bcf86cd79943901",
      "u-12345678-9abc-def0-1234-56789abcdef", "u-123456789abcdef0123456789abcdef0",
      "b80-123", "x04-0500000000", "x0x-00", "truE", "date-", "ts-1", "ts-1-",
      "ts-4294967296-0", "$meta", "x01-000000000000f87f"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *out = NULL;
    size_t len;
    mdb_error err = {0};
    if (mdb_docid_decode(bad[i], strlen(bad[i]), &out, &len, &err) !=
        MDBEE_EFORMAT)
      fail_msg("'%s' was accepted", bad[i]);
    assert_null(out);
    assert_true(err.message[0] != '\0');
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_documented_forms),
      cmocka_unit_test(test_arrays_refused),
      cmocka_unit_test(test_malformed_document_refused),
      cmocka_unit_test(test_random_round_trip_and_injectivity),
      cmocka_unit_test(test_non_canonical_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
