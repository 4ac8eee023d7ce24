/* Index keys: byte order of keys against a reference comparison of BSON
 * values written here from MongoDB's documented sort order (independent
 * of the encoder), the keys of documents (missing fields, arrays,
 * compound indexes) and URL safety. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <cmocka.h>

#include "bsongen.h"
#include "mdbee/indexkey.h"

/* ---- reference comparison ------------------------------------------- */

/* MongoDB's "Comparison/Sort Order" documentation, plus the deprecated
 * types where canonicalizeBSONType puts them. */
static int rank(bson_type_t t) {
  switch (t) {
  case BSON_TYPE_MINKEY: return 0;
  case BSON_TYPE_UNDEFINED: return 1;
  case BSON_TYPE_NULL: return 2;
  case BSON_TYPE_INT32: case BSON_TYPE_INT64: case BSON_TYPE_DOUBLE: return 3;
  case BSON_TYPE_UTF8: case BSON_TYPE_SYMBOL: return 4;
  case BSON_TYPE_DOCUMENT: return 5;
  case BSON_TYPE_ARRAY: return 6;
  case BSON_TYPE_BINARY: return 7;
  case BSON_TYPE_OID: return 8;
  case BSON_TYPE_BOOL: return 9;
  case BSON_TYPE_DATE_TIME: return 10;
  case BSON_TYPE_TIMESTAMP: return 11;
  case BSON_TYPE_REGEX: return 12;
  case BSON_TYPE_CODE: return 14;
  case BSON_TYPE_MAXKEY: return 99;
  default: fail_msg("type %d not generated", t);
  }
  return -1;
}

#define SIGN(x) (((x) > 0) - ((x) < 0))

static int cmp_bytes(const void *a, size_t la, const void *b, size_t lb) {
  int c = memcmp(a, b, la < lb ? la : lb);
  if (c) return SIGN(c);
  return SIGN((long)la - (long)lb);
}

/* x86-64's long double has a 64-bit significand: every int64 and double
 * converts exactly, so comparing long doubles compares the true values. */
static long double number(const bson_iter_t *it) {
  switch (bson_iter_type(it)) {
  case BSON_TYPE_INT32: return bson_iter_int32(it);
  case BSON_TYPE_INT64: return bson_iter_int64(it);
  default: return bson_iter_double(it);
  }
}

static int cmp_value(const bson_iter_t *a, const bson_iter_t *b);

static int cmp_container(const bson_iter_t *a, const bson_iter_t *b,
                         int names) {
  bson_iter_t ca, cb;
  assert_true(bson_iter_recurse(a, &ca));
  assert_true(bson_iter_recurse(b, &cb));
  for (;;) {
    int ma = bson_iter_next(&ca), mb = bson_iter_next(&cb);
    if (!ma || !mb) return ma - mb;
    int c = rank(bson_iter_type(&ca)) - rank(bson_iter_type(&cb));
    if (c) return SIGN(c);
    if (names) {
      c = strcmp(bson_iter_key(&ca), bson_iter_key(&cb));
      if (c) return SIGN(c);
    }
    c = cmp_value(&ca, &cb);
    if (c) return c;
  }
}

static int cmp_value(const bson_iter_t *a, const bson_iter_t *b) {
  bson_type_t ta = bson_iter_type(a), tb = bson_iter_type(b);
  if (rank(ta) != rank(tb)) return SIGN(rank(ta) - rank(tb));
  uint32_t la, lb;
  switch (rank(ta)) {
  case 3: {
    long double x = number(a), y = number(b);
    if (isnan(x) || isnan(y)) return isnan(y) - isnan(x); /* NaN lowest */
    return (x > y) - (x < y);
  }
  case 4: {
    const char *x = ta == BSON_TYPE_SYMBOL ? bson_iter_symbol(a, &la)
                                           : bson_iter_utf8(a, &la);
    const char *y = tb == BSON_TYPE_SYMBOL ? bson_iter_symbol(b, &lb)
                                           : bson_iter_utf8(b, &lb);
    return cmp_bytes(x, la, y, lb);
  }
  case 5: return cmp_container(a, b, 1);
  case 6: return cmp_container(a, b, 0);
  case 7: {
    bson_subtype_t sa, sb;
    const uint8_t *x, *y;
    bson_iter_binary(a, &sa, &la, &x);
    bson_iter_binary(b, &sb, &lb, &y);
    if (la != lb) return la < lb ? -1 : 1;
    if (sa != sb) return sa < sb ? -1 : 1;
    return cmp_bytes(x, la, y, lb);
  }
  case 8: return cmp_bytes(bson_iter_oid(a), 12, bson_iter_oid(b), 12);
  case 9: return bson_iter_bool(a) - bson_iter_bool(b);
  case 10: {
    int64_t x = bson_iter_date_time(a), y = bson_iter_date_time(b);
    return (x > y) - (x < y);
  }
  case 11: {
    uint32_t t1, i1, t2, i2;
    bson_iter_timestamp(a, &t1, &i1);
    bson_iter_timestamp(b, &t2, &i2);
    if (t1 != t2) return t1 < t2 ? -1 : 1;
    return (i1 > i2) - (i1 < i2);
  }
  case 12: {
    const char *fa, *fb;
    const char *pa = bson_iter_regex(a, &fa), *pb = bson_iter_regex(b, &fb);
    int c = strcmp(pa, pb);
    return c ? SIGN(c) : SIGN(strcmp(fa, fb));
  }
  case 14: {
    const char *x = bson_iter_code(a, &la), *y = bson_iter_code(b, &lb);
    return cmp_bytes(x, la, y, lb);
  }
  default: return 0; /* MinKey, undefined, null, MaxKey */
  }
}

static char *key_of(const bson_t *one) {
  size_t len;
  uint8_t *v = bsongen_value(one, &len);
  char *key = NULL;
  mdb_error err = {0};
  if (mdb_indexkey_value(v, len, &key, &err) != MDBEE_OK)
    fail_msg("key: %s", err.message);
  free(v);
  return key;
}

static void check_charset(const char *key) {
  for (const char *c = key; *c; c++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789-._~@", *c))
      fail_msg("'%s' has a character outside the key alphabet", key);
}

static void test_order_matches_reference(void **state) {
  (void)state;
  bsongen g = {.state = 777};
  enum { N = 3000 };
  bson_t docs[N];
  char *keys[N];
  for (int i = 0; i < N; i++) {
    bson_init(&docs[i]);
    bsongen_append(&g, &docs[i], "v", 2);
    keys[i] = key_of(&docs[i]);
    check_charset(keys[i]);
  }
  size_t equal = 0;
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j += 1 + (int)(bsongen_next(&g) % 7)) {
      bson_iter_t a, b;
      bson_iter_init_find(&a, &docs[i], "v");
      bson_iter_init_find(&b, &docs[j], "v");
      int want = cmp_value(&a, &b);
      int got = SIGN(strcmp(keys[i], keys[j]));
      if (want != got) {
        char *ja = bson_as_canonical_extended_json(&docs[i], NULL);
        char *jb = bson_as_canonical_extended_json(&docs[j], NULL);
        fail_msg("%s vs %s: reference %d, keys %d (%s, %s)", ja, jb, want, got,
                 keys[i], keys[j]);
      }
      equal += want == 0;
    }
  assert_true(equal > 100); /* equal values of different types do occur */
  for (int i = 0; i < N; i++) {
    bson_destroy(&docs[i]);
    free(keys[i]);
  }
}

static char *value_key(bson_t *one) {
  char *k = key_of(one);
  bson_destroy(one);
  return k;
}

static void test_numbers_across_types(void **state) {
  (void)state;
  bson_t *one_i = BCON_NEW("v", BCON_INT32(1)), *one_l = BCON_NEW("v", BCON_INT64(1)),
         *one_d = BCON_NEW("v", BCON_DOUBLE(1.0));
  char *a = key_of(one_i), *b = key_of(one_l), *c = key_of(one_d);
  assert_string_equal(a, b);
  assert_string_equal(a, c);
  /* 2^53 + 1 as int64 sorts above the double 2^53 */
  bson_t *big_l = BCON_NEW("v", BCON_INT64(INT64_C(9007199254740993)));
  bson_t *big_d = BCON_NEW("v", BCON_DOUBLE(9007199254740992.0));
  char *x = key_of(big_l), *y = key_of(big_d);
  assert_true(strcmp(y, x) < 0);
  /* decimal128 is placed by its nearest double */
  bson_decimal128_t dec;
  bson_decimal128_from_string("1.0", &dec);
  bson_t *one_m = BCON_NEW("v", BCON_DECIMAL128(&dec));
  char *m = key_of(one_m);
  assert_string_equal(m, a);
  /* the examples of docs/protocol.md */
  assert_string_equal(a, "3e8000000000000000000");
  char *k = value_key(BCON_NEW("v", BCON_DOUBLE(2.5)));
  assert_string_equal(k, "3e8014000000000000000");
  free(k);
  k = value_key(BCON_NEW("v", BCON_INT32(-1)));
  assert_string_equal(k, "3c7ffffffffffffffffff");
  free(k);
  k = value_key(BCON_NEW("v", BCON_UTF8("Ann Lee")));
  assert_string_equal(k, "4Ann.20Lee-");
  free(k);
  free(a); free(b); free(c); free(x); free(y); free(m);
  bson_destroy(one_i); bson_destroy(one_l); bson_destroy(one_d);
  bson_destroy(big_l); bson_destroy(big_d); bson_destroy(one_m);
}

static mdb_indexkey_set keys_of(const bson_t *doc, const char *const *fields,
                                size_t n) {
  mdb_indexkey_set set = {0};
  mdb_error err = {0};
  if (mdb_indexkey_document(bson_get_data(doc), doc->len, fields, n, &set,
                            &err) != MDBEE_OK)
    fail_msg("keys: %s", err.message);
  return set;
}

static void test_document_keys(void **state) {
  (void)state;
  bson_t *doc = BCON_NEW("name", BCON_UTF8("ann"), "tags", "[", BCON_UTF8("x"),
                         BCON_UTF8("y"), BCON_UTF8("x"), "]", "items", "[",
                         "{", "sku", BCON_INT32(2), "}", "{", "sku", BCON_INT32(1),
                         "}", "{", "other", BCON_INT32(1), "}", "]", "empty", "[",
                         "]");
  char *ann = value_key(BCON_NEW("v", BCON_UTF8("ann")));
  char *tx = value_key(BCON_NEW("v", BCON_UTF8("x")));
  char *ty = value_key(BCON_NEW("v", BCON_UTF8("y")));
  char *null = value_key(BCON_NEW("v", BCON_NULL));
  char *undef = value_key(BCON_NEW("v", BCON_UNDEFINED));
  char *one = value_key(BCON_NEW("v", BCON_INT32(1)));
  char *two = value_key(BCON_NEW("v", BCON_INT32(2)));

  char ann_tx[256], ann_ty[256];
  snprintf(ann_tx, sizeof ann_tx, "%s%s", ann, tx);
  snprintf(ann_ty, sizeof ann_ty, "%s%s", ann, ty);
  const struct {
    const char *fields[2];
    size_t n_fields;
    const char *keys[2];
    size_t n_keys;
  } cases[] = {
      {{"name"}, 1, {ann}, 1},
      {{"missing"}, 1, {null}, 1},          /* a missing field is null */
      {{"tags"}, 1, {tx, ty}, 2},           /* multikey, duplicates once */
      {{"items.sku"}, 1, {one, two}, 2},    /* through an array of documents */
      {{"empty"}, 1, {undef}, 1},           /* an empty array is undefined */
      {{"name", "tags"}, 2, {ann_tx, ann_ty}, 2}, /* one per combination */
      {{"items.1.sku"}, 1, {one}, 1},       /* a position in the path */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mdb_indexkey_set s = keys_of(doc, cases[i].fields, cases[i].n_fields);
    assert_int_equal(s.n, cases[i].n_keys);
    for (size_t k = 0; k < s.n; k++) assert_string_equal(s.keys[k], cases[i].keys[k]);
    mdb_indexkey_set_free(&s);
  }

  free(ann); free(tx); free(ty); free(null); free(undef); free(one); free(two);
  bson_destroy(doc);
}

/* Compound keys sort by their first field, then the next. */
static void test_compound_order(void **state) {
  (void)state;
  bsongen g = {.state = 99};
  enum { N = 400 };
  bson_t docs[N];
  char *keys[N];
  const char *fields[] = {"a", "b"};
  for (int i = 0; i < N; i++) {
    bson_init(&docs[i]);
    bsongen_append(&g, &docs[i], "a", 0);
    bsongen_append(&g, &docs[i], "b", 0);
    bson_iter_t it;
    if ((bson_iter_init_find(&it, &docs[i], "a") && BSON_ITER_HOLDS_ARRAY(&it)) ||
        (bson_iter_init_find(&it, &docs[i], "b") && BSON_ITER_HOLDS_ARRAY(&it))) {
      bson_destroy(&docs[i]);
      i--; /* arrays give several keys: covered by test_document_keys */
      continue;
    }
    mdb_indexkey_set s = keys_of(&docs[i], fields, 2);
    assert_int_equal(s.n, 1);
    keys[i] = s.keys[0];
    free(s.keys);
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      bson_iter_t a, b;
      bson_iter_init_find(&a, &docs[i], "a");
      bson_iter_init_find(&b, &docs[j], "a");
      int want = cmp_value(&a, &b);
      if (want == 0) {
        bson_iter_init_find(&a, &docs[i], "b");
        bson_iter_init_find(&b, &docs[j], "b");
        want = cmp_value(&a, &b);
      }
      assert_int_equal(want, SIGN(strcmp(keys[i], keys[j])));
    }
  for (int i = 0; i < N; i++) {
    bson_destroy(&docs[i]);
    free(keys[i]);
  }
}

static void test_limits(void **state) {
  (void)state;
  /* 40 x 40 array elements in a compound index: more than the cap */
  bson_t doc = BSON_INITIALIZER, a, b;
  bson_append_array_begin(&doc, "a", -1, &a);
  for (int i = 0; i < 40; i++) {
    char k[4];
    snprintf(k, sizeof k, "%d", i);
    BSON_APPEND_INT32(&a, k, i);
  }
  bson_append_array_end(&doc, &a);
  bson_append_array_begin(&doc, "b", -1, &b);
  for (int i = 0; i < 40; i++) {
    char k[4];
    snprintf(k, sizeof k, "%d", i);
    BSON_APPEND_INT32(&b, k, i);
  }
  bson_append_array_end(&doc, &b);
  const char *fields[] = {"a", "b"};
  mdb_indexkey_set s = {0};
  mdb_error err = {0};
  assert_int_equal(mdb_indexkey_document(bson_get_data(&doc), doc.len, fields, 2,
                                         &s, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "too many keys"));
  assert_int_equal(mdb_indexkey_document(bson_get_data(&doc), doc.len, fields, 0,
                                         &s, &err), MDBEE_EINVAL);
  uint8_t bad[] = {12, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0};
  assert_int_equal(mdb_indexkey_document(bad, 11, fields, 1, &s, &err),
                   MDBEE_EFORMAT);
  bson_destroy(&doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_matches_reference),
      cmocka_unit_test(test_numbers_across_types),
      cmocka_unit_test(test_document_keys),
      cmocka_unit_test(test_compound_order),
      cmocka_unit_test(test_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
