/* Extended JSON encoder: redaction, limits and refusals.  Conformance of
 * the output itself with the MongoDB Node driver is checked by
 * tests/node/conformance/ejson.test.mjs. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <cmocka.h>

#include "mdbee/ejson.h"
#include "../../src/mongo/number_text.h"

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

/* JSON.stringify's escapes, one byte at a time: the reference for the
 * encoder, which skips plain ASCII eight bytes at a time. */
static void reference_string(const char *s, size_t len, char *out) {
  *out++ = '"';
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
                    : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                    : c == '\t' ? "\\t" : NULL;
    if (esc) out += sprintf(out, "%s", esc);
    else if (c < 0x20) out += sprintf(out, "\\u%04x", c);
    else *out++ = (char)c;
  }
  *out++ = '"';
  *out = '\0';
}

/* Every special byte and multi-byte character at every position of a
 * string longer than the encoder's eight-byte steps, as a value and as a
 * key; a bad byte is reported at its own offset. */
static void test_string_escapes(void **state) {
  (void)state;
  const char *specials[] = {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", " ",
                            "\t", "\xc3\xa9", "\xe2\x98\x83",
                            "\xf0\x9f\x98\x80"};
  for (size_t k = 0; k < sizeof specials / sizeof *specials; k++) {
    for (size_t pos = 0; pos < 21; pos++) {
      char text[64], json[256], want[600];
      memset(text, 'a', pos);
      size_t n = pos + (size_t)sprintf(text + pos, "%sbcdefghijklmnop",
                                       specials[k]);
      bson_t *b = bson_new();
      bson_append_utf8(b, "v", 1, text, (int)n);
      bson_append_int32(b, text, (int)n, 1);
      char *got = encode(b, NULL, 0, MDB_EJSON_RELAXED);
      reference_string(text, n, json);
      snprintf(want, sizeof want, "{\n  \"v\": %s,\n  %s: 1\n}", json, json);
      assert_string_equal(got, want);
      free(got);
      bson_destroy(b);
    }
  }
  for (size_t pos = 0; pos < 21; pos++) {
    char text[40], why[64];
    memset(text, 'a', sizeof text);
    text[pos] = (char)0xff;
    bson_t *b = bson_new();
    bson_append_utf8(b, "v", 1, text, sizeof text);
    mdb_error err = {0};
    char *out = NULL;
    size_t n;
    assert_int_equal(mdb_ejson_encode(bson_get_data(b), b->len, NULL, &out, &n,
                                      &err),
                     MDBEE_EFORMAT);
    snprintf(why, sizeof why, "v: string is not valid UTF-8 (byte %zu)", pos);
    assert_string_equal(err.message, why);
    bson_destroy(b);
  }
}

/* Appending keeps what the buffer held; a refused document leaves it. */
static void test_encode_append(void **state) {
  (void)state;
  mdb_buf b = MDB_BUF_INIT;
  mdb_buf_append(&b, "xy", 2);
  bson_t *doc = BCON_NEW("a", BCON_INT32(1));
  mdb_error err = {0};
  assert_int_equal(mdb_ejson_encode_append(bson_get_data(doc), doc->len, NULL,
                                           &b, &err),
                   MDBEE_OK);
  uint8_t bad_key[] = {12, 0, 0, 0, 0x10, 0xff, 0, 1, 0, 0, 0, 0};
  assert_int_equal(mdb_ejson_encode_append(bad_key, sizeof bad_key, NULL, &b,
                                           &err),
                   MDBEE_EFORMAT);
  char *text;
  size_t len;
  assert_int_equal(mdb_buf_take(&b, &text, &len, &err), MDBEE_OK);
  assert_string_equal(text, "xy{\n  \"a\": 1\n}");
  free(text);
  bson_destroy(doc);
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

/* The oracle for double text: the encoder's first, slow method, kept
 * only here.  The fewest "%.*e" digits that strtod reads back as d, found
 * by trying every precision, laid out as the MongoDB Node driver writes
 * $numberDouble (JavaScript's Number.prototype.toString, plus "-0.0" and
 * ".0" after integral values below 1e21). */
static void oracle_shortest(double d, char digits[18], int *point) {
  char buf[40];
  int prec = 0;
  for (;; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec, fabs(d));
    if (strtod(buf, NULL) == fabs(d)) break;
  }
  /* buf is D[.DDD]e[+-]XX; the fewest digits never end in 0 (one fewer
   * would then read back too) */
  digits[0] = buf[0];
  memcpy(digits + 1, buf + 2, (size_t)prec);
  digits[prec + 1] = '\0';
  assert_true(prec == 0 || digits[prec] != '0');
  *point = (int)strtol(buf + (prec ? prec + 3 : 2), NULL, 10) + 1;
}

static void oracle_text(double d, const char *digits, int point,
                        char out[MDB_NUMBER_TEXT_MAX]) {
  if (d == 0) {
    strcpy(out, signbit(d) ? "-0.0" : "0.0");
    return;
  }
  if (d == floor(d) && fabs(d) < 1e21) {
    snprintf(out, MDB_NUMBER_TEXT_MAX, "%.0f.0", d);
    return;
  }
  const char *sign = d < 0 ? "-" : "";
  if (point > 0 && point <= 21) {
    sprintf(out, "%s%.*s.%s", sign, point, digits, digits + point);
  } else if (point > -6 && point <= 0) {
    sprintf(out, "%s0.%.*s%s", sign, -point, "00000", digits);
  } else {
    sprintf(out, "%s%c%s%se%+d", sign, digits[0], digits[1] ? "." : "",
            digits + 1, point - 1);
  }
}

/* What each input exercised, so that a change in the generators cannot
 * quietly drop a path of the formatter. */
typedef struct double_census {
  long shortest_len[18]; /* normal non-integral doubles by digit count */
  long subnormal, small_int, big_int, plain, leading_zeros, exponent;
} double_census;

static void check_double(double d, double_census *c) {
  if (!isfinite(d)) return; /* never given to the formatter */
  char want[MDB_NUMBER_TEXT_MAX], got[MDB_NUMBER_TEXT_MAX];
  char od[18] = "0", nd[18];
  int op = 0, np;
  if (d != 0) {
    oracle_shortest(d, od, &op);
    mdb_number_shortest(d, nd, &np);
    if (strcmp(od, nd) != 0 || op != np)
      fail_msg("%a: want %s point %d, got %s point %d", d, od, op, nd, np);
  }
  oracle_text(d, od, op, want);
  mdb_number_text(d, got);
  if (strcmp(want, got) != 0)
    fail_msg("%a: want %s, got %s", d, want, got);
  if (d == 0) return;
  double a = fabs(d);
  if (a < DBL_MIN) c->subnormal++;
  else if (a == floor(a) && a < 0x1p53) c->small_int++;
  else if (a == floor(a) && a < 1e21) c->big_int++;
  else c->shortest_len[strlen(od)]++;
  if (strchr(got, 'e')) c->exponent++;
  else if (a < 1 && a != floor(a)) c->leading_zeros++;
  else if (a != floor(a)) c->plain++;
}

static uint64_t next_random(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static double from_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* d, its neighbours two steps each way, and their negatives. */
static void check_around(double d, double_census *c) {
  double lo = d, hi = d;
  check_double(d, c);
  check_double(-d, c);
  for (int i = 0; i < 2; i++) {
    lo = nextafter(lo, -INFINITY);
    hi = nextafter(hi, INFINITY);
    if (isfinite(lo)) check_double(lo, c), check_double(-lo, c);
    if (isfinite(hi)) check_double(hi, c), check_double(-hi, c);
  }
}

/* 500 000 random doubles: the oracle's printf of huge and tiny values is
 * slow, and the suite runs under ASan too. */
#define ROUNDS 100000
static void test_double_text(void **state) {
  (void)state;
  double_census c = {0};
  /* edges: zeros, extremes, the integer limits of the fast paths, and
   * where the layout switches between plain and exponent forms */
  check_double(0.0, &c);
  check_double(-0.0, &c);
  const double edges[] = {DBL_MIN, DBL_MAX, DBL_TRUE_MIN, 0x1p53, 0x1p63,
                          0x1p64, 1e21, 1e-6, 1e-7, 0.1, 0.5, 1.0};
  for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
    check_around(edges[i], &c);
  for (int e = -1074; e <= 1023; e++) check_around(ldexp(1.0, e), &c);
  for (int e = -323; e <= 308; e++) {
    char p10[8];
    snprintf(p10, sizeof p10, "1e%d", e);
    check_around(strtod(p10, NULL), &c);
  }
  uint64_t s = 20261123;
  for (int i = 0; i < ROUNDS; i++) {
    uint64_t r = next_random(&s);
    check_double(from_bits(r), &c);                       /* any bits */
    check_double(from_bits(r & 0x800fffffffffffffu), &c);  /* subnormal */
    /* short decimals, as prices and measurements are: n / 10^k */
    double dec = (double)(r % 100000000) / pow(10, (double)((r >> 40) % 12));
    check_double(dec, &c);
    check_double((double)(int64_t)r / (double)(1 << (r >> 60)), &c);
    /* just off the round-trip boundary: neighbours of short decimals */
    check_double(nextafter(dec, INFINITY), &c);
    /* full 53-bit fractions from 2^-20 to 2^53, where the formatter
     * computes digits in integers */
    check_double(ldexp((double)(r >> 11), -(int)((r >> 3) % 73)), &c);
  }
  /* every path was taken */
  for (int len = 1; len <= 17; len++)
    if (c.shortest_len[len] == 0) fail_msg("no double of %d digits", len);
  assert_true(c.subnormal > 0 && c.small_int > 0 && c.big_int > 0);
  assert_true(c.plain > 0 && c.leading_zeros > 0 && c.exponent > 0);
}

/* The encoder writes the same text in both modes, wrapped in canonical. */
static void test_double_in_document(void **state) {
  (void)state;
  const double v[] = {0.1, -0.0, 5e-324, 1e21, 123.0, 1.5e-7};
  const char *want[] = {"0.1", "-0.0", "5e-324", "1e+21", "123.0", "1.5e-7"};
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    bson_t *b = BCON_NEW("x", BCON_DOUBLE(v[i]));
    char expect[80];
    char *got = squeeze(encode(b, NULL, 0, MDB_EJSON_RELAXED));
    snprintf(expect, sizeof expect, "{\"x\":%s}", want[i]);
    assert_string_equal(got, expect);
    free(got);
    got = squeeze(encode(b, NULL, 0, MDB_EJSON_CANONICAL));
    snprintf(expect, sizeof expect, "{\"x\":{\"$numberDouble\":\"%s\"}}", want[i]);
    assert_string_equal(got, expect);
    free(got);
    bson_destroy(b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_redact_paths),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_string_escapes),
      cmocka_unit_test(test_encode_append),
      cmocka_unit_test(test_mode_names),
      cmocka_unit_test(test_double_text),
      cmocka_unit_test(test_double_in_document),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
