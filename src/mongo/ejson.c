/* BSON -> Extended JSON v2, laid out as JSON.stringify(value, null, 2). */
#include "mdbee/ejson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bson_read.h"
#include "mdbee/buf.h"
#include "mdbee/hex.h"
#include "number_text.h"

/* The element being written at one nesting level.  Frames live on the
 * stack of put_document; the field path is spelled out only when an error
 * needs it. */
typedef struct frame {
  const struct frame *parent;
  int array;
  const char *key;       /* NULL until the level's first element */
  size_t index;
} frame;

typedef struct enc {
  mdb_buf *out;
  const frame *top;
  mdb_ejson_mode mode;
  uint32_t max_depth;
  mdb_error *err;
} enc;

/* Redaction patterns still active at one level: suffixes of configured
 * paths, compared one dotted part at a time. */
typedef struct pats {
  const char **p;
  size_t n;
  int owned; /* p was allocated for this level */
} pats;

static void put_path(mdb_buf *b, const frame *f) {
  if (!f) return;
  put_path(b, f->parent);
  if (!f->key) return;
  if (f->array)
    mdb_buf_printf(b, "[%zu]", f->index);
  else
    mdb_buf_printf(b, "%s%s", b->len ? "." : "", f->key);
}

static int fail(enc *e, const char *why) {
  mdb_buf path = MDB_BUF_INIT;
  put_path(&path, e->top);
  mdb_error_set(e->err, MDBEE_EFORMAT, "%s: %s",
                path.len && !path.failed ? path.data : "(document)", why);
  mdb_buf_free(&path);
  return MDBEE_EFORMAT;
}

/* The output is written in small pieces: these inline the common case,
 * where the buffer has room, and leave growing to mdb_buf.  Once memory
 * ran out they write nothing more; mdb_buf_take reports it. */
static inline char *room(mdb_buf *b, size_t n) {
  if (b->len + n < b->cap) return b->data + b->len;
  return mdb_buf_reserve(b, n) == 0 ? b->data + b->len : NULL;
}

static inline void put(mdb_buf *b, const char *s, size_t n) {
  char *p = room(b, n);
  if (!p) return;
  memcpy(p, s, n);
  b->len += n;
}

static inline void put_char(mdb_buf *b, char c) {
  char *p = room(b, 1);
  if (!p) return;
  *p = c;
  b->len++;
}

static inline void put_str(mdb_buf *b, const char *s) { put(b, s, strlen(s)); }

static void newline(enc *e, uint32_t depth) {
  size_t n = 1 + 2 * (size_t)depth;
  char *p = room(e->out, n);
  if (!p) return;
  p[0] = '\n';
  memset(p + 1, ' ', n - 1);
  e->out->len += n;
}

/* Whether one of the 8 bytes of w is >= 0x80, < 0x20, '"' or '\\'
 * (may also answer 1 for none of them, never 0 for one of them). */
static inline int needs_care(uint64_t w) {
  const uint64_t ones = 0x0101010101010101u, highs = ones << 7;
  uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
  return ((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
           ((bs - ones) & ~bs)) & highs) != 0;
}

/* Writes text as a JSON string with JSON.stringify's escapes, checking its
 * UTF-8 on the way (one pass over the bytes, eight at a time while they
 * are plain ASCII).  Returns len, or the offset of the first byte that is
 * not well-formed UTF-8, the output then being incomplete. */
static size_t put_escaped(mdb_buf *b, const char *text, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *s = (const uint8_t *)text;
  put_char(b, '"');
  size_t run = 0, i = 0;
  while (i < len) {
    uint64_t w;
    if (len - i >= 8 && (memcpy(&w, s + i, 8), !needs_care(w))) {
      i += 8;
      continue;
    }
    uint8_t c = s[i];
    if (c >= 0x80) {
      size_t n = mdb_bsonr_utf8_seq(s + i, len - i);
      if (n == 0) return i;
      i += n;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      i++;
      continue;
    }
    put(b, text + run, i - run);
    run = ++i;
    char esc[6] = {'\\', 0};
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
    }
    put(b, esc, esc[1] == 'u' ? 6 : 2);
  }
  put(b, text + run, len - run);
  put_char(b, '"');
  return len;
}

/* JSON string of text produced here (ASCII). */
static void put_json_string(mdb_buf *b, const char *s, size_t len) {
  put_escaped(b, s, len);
}

/* JSON string of text from the document, which must be valid UTF-8. */
static int put_text(enc *e, const char *s, size_t len) {
  size_t bad = put_escaped(e->out, s, len);
  if (bad == len) return MDBEE_OK;
  char why[64];
  snprintf(why, sizeof why, "string is not valid UTF-8 (byte %zu)", bad);
  return fail(e, why);
}

/* A BSON string value (int32 length, bytes, NUL). */
static int put_bson_string(enc *e, const uint8_t *v) {
  return put_text(e, (const char *)v + 4, (size_t)mdb_bsonr_i32(v) - 1);
}

/* Writes the separator, line break and `"key": ` of a member. */
static void member(enc *e, const char *key, uint32_t depth, int first) {
  if (!first) put_char(e->out, ',');
  newline(e, depth);
  put_json_string(e->out, key, strlen(key));
  put(e->out, ": ", 2);
}

static void open_wrapper(enc *e, const char *key, uint32_t depth) {
  put_char(e->out, '{');
  member(e, key, depth + 1, 1);
}

static void close_wrapper(enc *e, uint32_t depth) {
  newline(e, depth);
  put_char(e->out, '}');
}

/* {"$key": "text"} for ASCII text produced here. */
static void wrap_string(enc *e, const char *key, const char *text,
                        uint32_t depth) {
  open_wrapper(e, key, depth);
  put_json_string(e->out, text, strlen(text));
  close_wrapper(e, depth);
}

/* A JSON number in relaxed mode, a wrapper in canonical mode. */
static void put_integer(enc *e, const char *wrapper, const char *text,
                        uint32_t depth) {
  if (e->mode == MDB_EJSON_RELAXED)
    put_str(e->out, text);
  else
    wrap_string(e, wrapper, text, depth);
}

static void put_oid(enc *e, const uint8_t *v, uint32_t depth) {
  char hex[25];
  mdb_hex_encode(v, 12, hex);
  wrap_string(e, "$oid", hex, depth);
}

static void put_base64(mdb_buf *b, const uint8_t *d, size_t n) {
  static const char a[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
    char q[4] = {a[v >> 18], a[v >> 12 & 63], a[v >> 6 & 63], a[v & 63]};
    put(b, q, 4);
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)d[i] << 16;
    char q[4] = {a[v >> 18], a[v >> 12 & 63], '=', '='};
    put(b, q, 4);
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
    char q[4] = {a[v >> 18], a[v >> 12 & 63], a[v >> 6 & 63], '='};
    put(b, q, 4);
  }
}

static void put_binary(enc *e, const uint8_t *v, uint32_t depth) {
  size_t n = (size_t)mdb_bsonr_i32(v);
  uint8_t subtype = v[4];
  const uint8_t *data = v + 5;
  if (subtype == 0x02) { /* the specification drops the inner length */
    data += 4;
    n -= 4;
  }
  open_wrapper(e, "$binary", depth);
  put_char(e->out, '{');
  member(e, "base64", depth + 2, 1);
  put_char(e->out, '"');
  put_base64(e->out, data, n);
  put_char(e->out, '"');
  char st[3];
  mdb_hex_encode(&subtype, 1, st);
  member(e, "subType", depth + 2, 0);
  put_json_string(e->out, st, 2);
  close_wrapper(e, depth + 1);
  close_wrapper(e, depth);
}

static void put_double(enc *e, double d, uint32_t depth) {
  char text[MDB_NUMBER_TEXT_MAX];
  if (e->mode == MDB_EJSON_RELAXED && isfinite(d)) {
    mdb_number_text(d, text);
    put_str(e->out, text);
    return;
  }
  if (isnan(d))
    strcpy(text, "NaN");
  else if (isinf(d))
    strcpy(text, d < 0 ? "-Infinity" : "Infinity");
  else
    mdb_number_text(d, text);
  wrap_string(e, "$numberDouble", text, depth);
}

/* Writes days since 1970-01-01 as a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

/* Last millisecond of 9999-12-31, the end of the ISO-8601 range. */
#define DATE_ISO_MAX INT64_C(253402300799999)

/* Writes v as width decimal digits (v < 10^width) followed by sep;
 * returns the end. */
static char *put_fixed(char *o, unsigned v, int width, char sep) {
  for (int i = width - 1; i >= 0; i--, v /= 10) o[i] = (char)('0' + v % 10);
  o[width] = sep;
  return o + width + 1;
}

static void put_date(enc *e, int64_t ms, uint32_t depth) {
  char text[40];
  if (e->mode == MDB_EJSON_RELAXED && ms >= 0 && ms <= DATE_ISO_MAX) {
    int64_t days = ms / 86400000, y;
    unsigned rest = (unsigned)(ms % 86400000), mo, d;
    civil_from_days(days, &y, &mo, &d);
    char *o = put_fixed(text, (unsigned)y, 4, '-');
    o = put_fixed(o, mo, 2, '-');
    o = put_fixed(o, d, 2, 'T');
    o = put_fixed(o, rest / 3600000, 2, ':');
    o = put_fixed(o, rest / 60000 % 60, 2, ':');
    /* Whole seconds are written without ".000", as the Node driver does. */
    if (rest % 1000)
      o = put_fixed(put_fixed(o, rest / 1000 % 60, 2, '.'), rest % 1000, 3,
                    'Z');
    else
      o = put_fixed(o, rest / 1000 % 60, 2, 'Z');
    *o = '\0';
    wrap_string(e, "$date", text, depth);
    return;
  }
  mdb_int_text(ms, text);
  open_wrapper(e, "$date", depth);
  wrap_string(e, "$numberLong", text, depth + 1);
  close_wrapper(e, depth);
}

static int put_document(enc *e, const uint8_t *doc, size_t len, int array,
                        const pats *redact, uint32_t depth);

/* Whether key (one dotted part) equals the first part of pattern p; sets
 * *rest to what follows it (NULL when p ends there). */
static int part_matches(const char *p, const char *key, const char **rest) {
  size_t n = strcspn(p, ".");
  if (strlen(key) != n || memcmp(p, key, n) != 0) return 0;
  *rest = p[n] ? p + n + 1 : NULL;
  return 1;
}

/* Patterns for the value of field key: the rests of those naming key, and,
 * inside arrays, all of the array's own (a path descends through arrays).
 * Returns 1 when the field itself is redacted.  Most fields match no
 * pattern: they get none, or their array's own, without an allocation. */
static int child_pats(const pats *in, const char *key, int in_array,
                      pats *out) {
  *out = (pats){NULL, 0, 0};
  if (!in || in->n == 0) return 0;
  size_t named = 0;
  for (size_t i = 0; i < in->n; i++) {
    const char *rest;
    if (part_matches(in->p[i], key, &rest)) {
      if (!rest) return 1;
      named++;
    }
  }
  if (named == 0) {
    if (in_array) *out = (pats){in->p, in->n, 0};
    return 0;
  }
  out->p = malloc(sizeof *out->p * in->n * 2);
  if (!out->p) return -1;
  out->owned = 1;
  for (size_t i = 0; i < in->n; i++) {
    const char *rest;
    if (part_matches(in->p[i], key, &rest)) out->p[out->n++] = rest;
    if (in_array) out->p[out->n++] = in->p[i];
  }
  return 0;
}

static int put_value(enc *e, uint8_t type, const uint8_t *v, size_t vlen,
                     const pats *redact, uint32_t depth) {
  char text[64];
  switch (type) {
  case MDB_BSON_DOUBLE:
    put_double(e, mdb_bsonr_double(v), depth);
    return MDBEE_OK;
  case MDB_BSON_STRING:
    return put_bson_string(e, v);
  case MDB_BSON_DOCUMENT:
  case MDB_BSON_ARRAY:
    return put_document(e, v, vlen, type == MDB_BSON_ARRAY, redact, depth);
  case MDB_BSON_BINARY:
    put_binary(e, v, depth);
    return MDBEE_OK;
  case MDB_BSON_UNDEFINED:
    open_wrapper(e, "$undefined", depth);
    put_str(e->out, "true");
    close_wrapper(e, depth);
    return MDBEE_OK;
  case MDB_BSON_OID:
    put_oid(e, v, depth);
    return MDBEE_OK;
  case MDB_BSON_BOOL:
    put_str(e->out, v[0] ? "true" : "false");
    return MDBEE_OK;
  case MDB_BSON_DATE:
    put_date(e, mdb_bsonr_i64(v), depth);
    return MDBEE_OK;
  case MDB_BSON_NULL:
    put_str(e->out, "null");
    return MDBEE_OK;
  case MDB_BSON_REGEX: {
    const char *pattern = (const char *)v;
    size_t plen = strlen(pattern);
    const char *flags = pattern + plen + 1;
    size_t flen = strlen(flags);
    /* The specification wants the options in alphabetical order. */
    char *sorted = malloc(flen + 1);
    if (!sorted) return mdb_error_set(e->err, MDBEE_ENOMEM, "out of memory");
    memcpy(sorted, flags, flen + 1);
    for (size_t i = 1; i < flen; i++)
      for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
        char t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
    open_wrapper(e, "$regularExpression", depth);
    put_char(e->out, '{');
    member(e, "pattern", depth + 2, 1);
    int rc = put_text(e, pattern, plen);
    if (rc == MDBEE_OK) {
      member(e, "options", depth + 2, 0);
      rc = put_text(e, sorted, flen);
    }
    free(sorted);
    if (rc != MDBEE_OK) return rc;
    close_wrapper(e, depth + 1);
    close_wrapper(e, depth);
    return MDBEE_OK;
  }
  case MDB_BSON_DBPOINTER: {
    size_t slen = 4 + (size_t)mdb_bsonr_i32(v);
    open_wrapper(e, "$dbPointer", depth);
    put_char(e->out, '{');
    member(e, "$ref", depth + 2, 1);
    int rc = put_bson_string(e, v);
    if (rc != MDBEE_OK) return rc;
    member(e, "$id", depth + 2, 0);
    put_oid(e, v + slen, depth + 2);
    close_wrapper(e, depth + 1);
    close_wrapper(e, depth);
    return MDBEE_OK;
  }
  case MDB_BSON_CODE:
  case MDB_BSON_SYMBOL: {
    open_wrapper(e, type == MDB_BSON_CODE ? "$code" : "$symbol", depth);
    int rc = put_bson_string(e, v);
    if (rc != MDBEE_OK) return rc;
    close_wrapper(e, depth);
    return MDBEE_OK;
  }
  case MDB_BSON_CODEWSCOPE: {
    size_t slen = 4 + (size_t)mdb_bsonr_i32(v + 4);
    open_wrapper(e, "$code", depth);
    int rc = put_bson_string(e, v + 4);
    if (rc != MDBEE_OK) return rc;
    member(e, "$scope", depth + 1, 0);
    const uint8_t *scope = v + 4 + slen;
    rc = put_document(e, scope, vlen - 4 - slen, 0, NULL, depth + 1);
    if (rc != MDBEE_OK) return rc;
    close_wrapper(e, depth);
    return MDBEE_OK;
  }
  case MDB_BSON_TIMESTAMP: {
    uint32_t inc = (uint32_t)mdb_bsonr_i32(v), t = (uint32_t)mdb_bsonr_i32(v + 4);
    open_wrapper(e, "$timestamp", depth);
    put_char(e->out, '{');
    member(e, "t", depth + 2, 1);
    put(e->out, text, mdb_int_text(t, text));
    member(e, "i", depth + 2, 0);
    put(e->out, text, mdb_int_text(inc, text));
    close_wrapper(e, depth + 1);
    close_wrapper(e, depth);
    return MDBEE_OK;
  }
  case MDB_BSON_INT32:
  case MDB_BSON_INT64:
    mdb_int_text(type == MDB_BSON_INT32 ? mdb_bsonr_i32(v) : mdb_bsonr_i64(v),
                 text);
    put_integer(e, type == MDB_BSON_INT32 ? "$numberInt" : "$numberLong", text,
                depth);
    return MDBEE_OK;
  case MDB_BSON_DECIMAL128: {
    char s[MDB_BSONR_DECIMAL_TEXT];
    mdb_bsonr_decimal128_text(v, s);
    wrap_string(e, "$numberDecimal", s, depth);
    return MDBEE_OK;
  }
  case MDB_BSON_MINKEY:
  case MDB_BSON_MAXKEY:
    open_wrapper(e, type == MDB_BSON_MINKEY ? "$minKey" : "$maxKey", depth);
    put_char(e->out, '1');
    close_wrapper(e, depth);
    return MDBEE_OK;
  }
  return fail(e, "unknown BSON type"); /* mdb_bsonr_next refuses these */
}

static int put_document(enc *e, const uint8_t *doc, size_t len, int array,
                        const pats *redact, uint32_t depth) {
  if (depth >= e->max_depth) return fail(e, "nesting too deep");
  mdb_bsonr_iter it;
  const char *why = mdb_bsonr_init(&it, doc, len);
  if (why) return fail(e, why);
  frame f = {e->top, array, NULL, 0};
  e->top = &f;
  mdb_bsonr_elem el;
  int r, first = 1, rc = MDBEE_OK;
  size_t index = 0;
  put_char(e->out, array ? '[' : '{');
  while ((r = mdb_bsonr_next(&it, &el, &why)) == 1) {
    f.key = el.key;
    f.index = index++;
    pats sub;
    int red = child_pats(redact, el.key, array, &sub);
    if (red < 0) {
      rc = mdb_error_set(e->err, MDBEE_ENOMEM, "out of memory");
      break;
    }
    if (red == 0) {
      if (!first) put_char(e->out, ',');
      newline(e, depth + 1);
      if (!array) {
        rc = put_text(e, el.key, el.key_len);
        put(e->out, ": ", 2);
      }
      first = 0;
      if (rc == MDBEE_OK)
        rc = put_value(e, el.type, el.value, el.value_len, &sub, depth + 1);
    }
    if (sub.owned) free(sub.p);
    if (rc != MDBEE_OK) break;
  }
  if (rc == MDBEE_OK && r < 0) {
    f.key = el.key;
    f.index = index;
    rc = fail(e, why);
  }
  e->top = f.parent;
  if (rc != MDBEE_OK) return rc;
  if (!first) newline(e, depth);
  put_char(e->out, array ? ']' : '}');
  return MDBEE_OK;
}

int mdb_ejson_encode_append(const uint8_t *bson, size_t len,
                            const mdb_ejson_options *opts, mdb_buf *out,
                            mdb_error *err) {
  enc e = {out, NULL, MDB_EJSON_RELAXED, MDB_EJSON_MAX_DEPTH_DEFAULT, err};
  pats top = {NULL, 0, 0};
  if (opts) {
    e.mode = opts->mode;
    if (opts->max_depth) e.max_depth = opts->max_depth;
    top.p = (const char **)opts->redact;
    top.n = opts->n_redact;
  }
  if (!bson) return mdb_error_set(err, MDBEE_EINVAL, "no document");
  size_t start = out->len;
  int rc = put_document(&e, bson, len, 0, &top, 0);
  if (rc == MDBEE_OK && out->failed)
    rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (rc != MDBEE_OK && !out->failed) out->len = start;
  return rc;
}

int mdb_ejson_encode(const uint8_t *bson, size_t len,
                     const mdb_ejson_options *opts, char **out,
                     size_t *out_len, mdb_error *err) {
  mdb_buf b = MDB_BUF_INIT;
  int rc = mdb_ejson_encode_append(bson, len, opts, &b, err);
  if (rc != MDBEE_OK) {
    mdb_buf_free(&b);
    return rc;
  }
  return mdb_buf_take(&b, out, out_len, err);
}

int mdb_ejson_mode_parse(const char *name, mdb_ejson_mode *mode) {
  if (strcmp(name, "relaxed") == 0) *mode = MDB_EJSON_RELAXED;
  else if (strcmp(name, "canonical") == 0) *mode = MDB_EJSON_CANONICAL;
  else return MDBEE_EINVAL;
  return MDBEE_OK;
}
