/* _id -> URL path segment.  The table of forms is in docs/protocol.md,
 * "Document paths".  Decoding parses a segment and then encodes the value
 * again: only a segment equal to that encoding is accepted, which keeps
 * one segment per value without a second set of rules to get wrong. */
#include "mdbee/docid.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bson_read.h"
#include "mdbee/buf.h"
#include "mdbee/hex.h"
#include "mdbee/indexkey.h"
#include "number_text.h"

static const char HEX[] = "0123456789abcdef";

/* Nesting accepted inside a document _id, as for the JSON encoder. */
#define MDB_DOCID_MAX_DEPTH 200

static int is_plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Bytes as themselves when plain, else "~" and two hex digits. */
static void put_escaped(mdb_buf *b, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (is_plain(s[i])) {
      mdb_buf_putc(b, (char)s[i]);
    } else {
      char esc[3] = {'~', HEX[s[i] >> 4], HEX[s[i] & 15]};
      mdb_buf_append(b, esc, 3);
    }
  }
}

static void put_hex(mdb_buf *b, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char h[2] = {HEX[s[i] >> 4], HEX[s[i] & 15]};
    mdb_buf_append(b, h, 2);
  }
}

static void put_double(mdb_buf *b, double d) {
  if (d == 0) {
    mdb_buf_puts(b, signbit(d) ? "-0" : "0");
    return;
  }
  if (isinf(d)) {
    mdb_buf_puts(b, d < 0 ? "-inf" : "inf");
    return;
  }
  char digits[18];
  int point;
  mdb_number_shortest(d, digits, &point);
  int k = (int)strlen(digits);
  if (d < 0) mdb_buf_putc(b, '-');
  if (point > -6 && point <= 21) {
    if (point <= 0) {
      mdb_buf_puts(b, "0.");
      for (int i = 0; i < -point; i++) mdb_buf_putc(b, '0');
      mdb_buf_puts(b, digits);
    } else if (point >= k) {
      mdb_buf_puts(b, digits);
      for (int i = k; i < point; i++) mdb_buf_putc(b, '0');
    } else {
      mdb_buf_printf(b, "%.*s.%s", point, digits, digits + point);
    }
  } else {
    mdb_buf_putc(b, digits[0]);
    if (k > 1) mdb_buf_printf(b, ".%s", digits + 1);
    mdb_buf_printf(b, "e%d", point - 1);
  }
}

int mdb_docid_encode(const uint8_t *value, size_t len, char **out,
                     mdb_error *err) {
  if (len < 1) return mdb_error_set(err, MDBEE_EFORMAT, "_id: empty value");
  uint8_t type = value[0];
  const uint8_t *v = value + 1;
  size_t size;
  const char *why = mdb_bsonr_value_size(type, v, len - 1, &size);
  if (!why && size != len - 1) why = "trailing bytes after the value";
  if (!why && type == MDB_BSON_ARRAY) why = "an array cannot be an _id";
  if (!why && type == MDB_BSON_DOCUMENT)
    why = mdb_bsonr_validate(v, size, MDB_DOCID_MAX_DEPTH);
  if (!why && type == MDB_BSON_CODEWSCOPE) {
    size_t code = 4 + (size_t)mdb_bsonr_i32(v + 4);
    why = mdb_bsonr_validate(v + 4 + code, size - 4 - code, MDB_DOCID_MAX_DEPTH);
  }
  if (why) return mdb_error_set(err, MDBEE_EFORMAT, "_id: %s", why);
  /* Every published _id must also have an index key (indexes file
   * documents under their _id): a document _id whose contents are
   * malformed or nested deeper than index keys allow, which MongoDB never
   * stores, is refused here too. */
  if (type == MDB_BSON_DOCUMENT) {
    char *key = NULL;
    int rc = mdb_indexkey_value(value, len, &key, err);
    free(key);
    if (rc != MDBEE_OK) return mdb_error_wrap(err, "_id");
  }
  mdb_buf b = MDB_BUF_INIT;
  switch (type) {
  case MDB_BSON_OID:
    put_hex(&b, v, 12);
    break;
  case MDB_BSON_STRING:
    mdb_buf_puts(&b, "s-");
    put_escaped(&b, v + 4, size - 5);
    break;
  case MDB_BSON_INT32:
    mdb_buf_printf(&b, "i-%" PRId32, mdb_bsonr_i32(v));
    break;
  case MDB_BSON_INT64:
    mdb_buf_printf(&b, "l-%" PRId64, mdb_bsonr_i64(v));
    break;
  case MDB_BSON_DOUBLE: {
    double d = mdb_bsonr_double(v);
    uint64_t bits = (uint64_t)mdb_bsonr_i64(v);
    if (!isnan(d)) {
      mdb_buf_puts(&b, "d-");
      put_double(&b, d);
    } else if (bits == UINT64_C(0x7ff8000000000000)) {
      mdb_buf_puts(&b, "d-nan");
    } else { /* other NaN payloads keep their bits */
      mdb_buf_puts(&b, "x01-");
      put_hex(&b, v, 8);
    }
    break;
  }
  case MDB_BSON_BOOL:
    mdb_buf_puts(&b, v[0] ? "true" : "false");
    break;
  case MDB_BSON_NULL: mdb_buf_puts(&b, "null"); break;
  case MDB_BSON_UNDEFINED: mdb_buf_puts(&b, "undefined"); break;
  case MDB_BSON_MINKEY: mdb_buf_puts(&b, "minkey"); break;
  case MDB_BSON_MAXKEY: mdb_buf_puts(&b, "maxkey"); break;
  case MDB_BSON_DATE:
    mdb_buf_printf(&b, "date-%" PRId64, mdb_bsonr_i64(v));
    break;
  case MDB_BSON_TIMESTAMP:
    mdb_buf_printf(&b, "ts-%" PRIu32 "-%" PRIu32, (uint32_t)mdb_bsonr_i32(v + 4),
                   (uint32_t)mdb_bsonr_i32(v));
    break;
  case MDB_BSON_BINARY:
    if (v[4] == 0x04 && size == 5 + 16) {
      mdb_buf_puts(&b, "u-");
      for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) mdb_buf_putc(&b, '-');
        put_hex(&b, v + 5 + i, 1);
      }
    } else {
      mdb_buf_putc(&b, 'b');
      put_hex(&b, v + 4, 1);
      mdb_buf_putc(&b, '-');
      put_hex(&b, v + 5, size - 5);
    }
    break;
  default: /* documents and the rarely used types: their bytes in hex */
    mdb_buf_putc(&b, 'x');
    put_hex(&b, &type, 1);
    mdb_buf_putc(&b, '-');
    put_hex(&b, v, size);
    break;
  }
  return mdb_buf_take(&b, out, NULL, err);
}

/* ---- decoding ------------------------------------------------------- */

/* Two lower-case hex digits as a byte, or -1.  (Upper case is never
 * produced, so it is not accepted either.) */
static int hex_byte(const char *s) {
  const char *hi = memchr(HEX, s[0], 16), *lo = memchr(HEX, s[1], 16);
  return hi && lo ? (int)((hi - HEX) << 4 | (lo - HEX)) : -1;
}

static int unhex(const char *s, size_t n, mdb_buf *b) {
  if (n % 2) return -1;
  for (size_t i = 0; i < n; i += 2) {
    int v = hex_byte(s + i);
    if (v < 0) return -1;
    mdb_buf_putc(b, (char)v);
  }
  return 0;
}

static void put_le(mdb_buf *b, uint64_t v, int n) {
  for (int i = 0; i < n; i++) mdb_buf_putc(b, (char)(v >> (8 * i)));
}

/* Parses a whole decimal integer in [min, max]. */
static int parse_int(const char *s, size_t n, int64_t min, int64_t max,
                     int64_t *out) {
  char tmp[32];
  if (n == 0 || n >= sizeof tmp) return -1;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  char *end;
  errno = 0;
  long long v = strtoll(tmp, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int starts(const char *s, size_t n, const char *prefix) {
  size_t p = strlen(prefix);
  return n >= p && memcmp(s, prefix, p) == 0;
}

static int equals(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Reads seg into type byte + value bytes in b; -1 when it is no form. */
static int parse(const char *s, size_t n, mdb_buf *b) {
  int64_t x, y;
  size_t hex_digits = 0; /* s is not NUL-terminated: no strspn */
  while (hex_digits < n && memchr(HEX, s[hex_digits], 16)) hex_digits++;
  if (n == 24 && hex_digits == 24) {
    mdb_buf_putc(b, MDB_BSON_OID);
    return unhex(s, 24, b);
  }
  static const struct { const char *word; uint8_t type, byte; int has_byte; }
      words[] = {{"null", MDB_BSON_NULL, 0, 0}, {"undefined", MDB_BSON_UNDEFINED, 0, 0},
                 {"minkey", MDB_BSON_MINKEY, 0, 0}, {"maxkey", MDB_BSON_MAXKEY, 0, 0},
                 {"true", MDB_BSON_BOOL, 1, 1}, {"false", MDB_BSON_BOOL, 0, 1}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (equals(s, n, words[i].word)) {
      mdb_buf_putc(b, (char)words[i].type);
      if (words[i].has_byte) mdb_buf_putc(b, (char)words[i].byte);
      return 0;
    }
  if (starts(s, n, "s-")) {
    /* The length prefix comes first, so count the bytes before writing. */
    size_t count = 0;
    for (size_t i = 2; i < n; i++, count++)
      if (s[i] == '~') {
        if (i + 2 >= n || hex_byte(s + i + 1) < 0) return -1;
        i += 2;
      }
    mdb_buf_putc(b, MDB_BSON_STRING);
    put_le(b, count + 1, 4);
    for (size_t i = 2; i < n; i++) {
      if (s[i] == '~') {
        mdb_buf_putc(b, (char)hex_byte(s + i + 1));
        i += 2;
      } else {
        mdb_buf_putc(b, s[i]);
      }
    }
    mdb_buf_putc(b, 0);
    return 0;
  }
  if (starts(s, n, "i-") && parse_int(s + 2, n - 2, INT32_MIN, INT32_MAX, &x) == 0) {
    mdb_buf_putc(b, MDB_BSON_INT32);
    put_le(b, (uint64_t)x, 4);
    return 0;
  }
  if (starts(s, n, "l-") && parse_int(s + 2, n - 2, INT64_MIN, INT64_MAX, &x) == 0) {
    mdb_buf_putc(b, MDB_BSON_INT64);
    put_le(b, (uint64_t)x, 8);
    return 0;
  }
  if (starts(s, n, "date-") &&
      parse_int(s + 5, n - 5, INT64_MIN, INT64_MAX, &x) == 0) {
    mdb_buf_putc(b, MDB_BSON_DATE);
    put_le(b, (uint64_t)x, 8);
    return 0;
  }
  if (starts(s, n, "d-") && n > 2 && n < 40) {
    char tmp[40];
    memcpy(tmp, s + 2, n - 2);
    tmp[n - 2] = '\0';
    double d;
    if (strcmp(tmp, "nan") == 0) {
      d = NAN;
    } else {
      char *end;
      d = strtod(tmp, &end);
      if (*end) return -1;
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    mdb_buf_putc(b, MDB_BSON_DOUBLE);
    put_le(b, bits, 8);
    return 0;
  }
  if (starts(s, n, "ts-")) {
    const char *dash = memchr(s + 3, '-', n - 3);
    if (!dash || parse_int(s + 3, (size_t)(dash - s) - 3, 0, UINT32_MAX, &x) ||
        parse_int(dash + 1, n - (size_t)(dash + 1 - s), 0, UINT32_MAX, &y))
      return -1;
    mdb_buf_putc(b, MDB_BSON_TIMESTAMP);
    put_le(b, (uint64_t)y, 4);
    put_le(b, (uint64_t)x, 4);
    return 0;
  }
  if (starts(s, n, "u-") && n == 38) {
    char digits[32];
    size_t k = 0;
    for (size_t i = 2; i < n; i++)
      if (s[i] != '-') {
        if (k == 32) return -1;
        digits[k++] = s[i];
      }
    if (k != 32) return -1;
    mdb_buf_putc(b, MDB_BSON_BINARY);
    put_le(b, 16, 4);
    mdb_buf_putc(b, 0x04);
    return unhex(digits, 32, b);
  }
  if ((s[0] == 'b' || s[0] == 'x') && n >= 4 && s[3] == '-') {
    int tag = hex_byte(s + 1);
    if (tag < 0) return -1;
    if (s[0] == 'x') {
      mdb_buf_putc(b, (char)tag);
      return unhex(s + 4, n - 4, b);
    }
    mdb_buf_putc(b, MDB_BSON_BINARY);
    put_le(b, (n - 4) / 2, 4);
    mdb_buf_putc(b, (char)tag);
    return unhex(s + 4, n - 4, b);
  }
  return -1;
}

int mdb_docid_decode(const char *seg, size_t seg_len, uint8_t **out,
                     size_t *out_len, mdb_error *err) {
  mdb_buf b = MDB_BUF_INIT;
  if (seg_len == 0 || parse(seg, seg_len, &b) != 0 || b.failed) {
    int oom = b.failed;
    mdb_buf_free(&b);
    return oom ? mdb_error_set(err, MDBEE_ENOMEM, "out of memory")
               : mdb_error_set(err, MDBEE_EFORMAT,
                               "'%.*s' is not a document id", (int)seg_len, seg);
  }
  char *again = NULL;
  mdb_error inner = {0};
  int rc = mdb_docid_encode((const uint8_t *)b.data, b.len, &again, &inner);
  if (rc == MDBEE_ENOMEM) {
    mdb_buf_free(&b);
    return mdb_error_set(err, rc, "out of memory");
  }
  if (rc != MDBEE_OK || strlen(again) != seg_len ||
      memcmp(again, seg, seg_len) != 0) {
    free(again);
    mdb_buf_free(&b);
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "'%.*s' is not a document id in canonical form",
                         (int)seg_len, seg);
  }
  free(again);
  char *data;
  size_t len;
  rc = mdb_buf_take(&b, &data, &len, err);
  if (rc != MDBEE_OK) return rc;
  *out = (uint8_t *)data;
  *out_len = len;
  return MDBEE_OK;
}
