/* Order-preserving index keys.  The format is in docs/protocol.md, "Index
 * keys"; in short, each value is a bracket character in MongoDB's type
 * order followed by a body whose byte order is the value order, and every
 * body is self-delimiting so components can be concatenated. */
#include "mdbee/indexkey.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bson_read.h"
#include "mdbee/buf.h"

#define MAX_DEPTH 200

static const char HEX[] = "0123456789abcdef";

/* MongoDB's canonical type order (canonicalizeBSONType). */
static char bracket(uint8_t type) {
  switch (type) {
  case MDB_BSON_MINKEY: return '0';
  case MDB_BSON_UNDEFINED: return '1';
  case MDB_BSON_NULL: return '2';
  case MDB_BSON_DOUBLE: case MDB_BSON_INT32: case MDB_BSON_INT64:
  case MDB_BSON_DECIMAL128: return '3';
  case MDB_BSON_STRING: case MDB_BSON_SYMBOL: return '4';
  case MDB_BSON_DOCUMENT: return '5';
  case MDB_BSON_ARRAY: return '6';
  case MDB_BSON_BINARY: return '7';
  case MDB_BSON_OID: return '8';
  case MDB_BSON_BOOL: return '9';
  case MDB_BSON_DATE: return 'a';
  case MDB_BSON_TIMESTAMP: return 'b';
  case MDB_BSON_REGEX: return 'c';
  case MDB_BSON_DBPOINTER: return 'd';
  case MDB_BSON_CODE: return 'e';
  case MDB_BSON_CODEWSCOPE: return 'f';
  default: return 'z'; /* MaxKey; mdb_bsonr refuses unknown types */
  }
}

/* Ends a string or a document: sorts below every other character used. */
#define END '-'

static void put_hex(mdb_buf *b, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) mdb_buf_putc(b, HEX[v >> (4 * i) & 15]);
}

static void put_bytes_hex(mdb_buf *b, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) put_hex(b, s[i], 2);
}

/* A byte string, order-preserving: letters and digits as themselves, other
 * bytes as an escape character chosen to sort where the byte sorts among
 * them, then two hex digits; END after the last byte. */
static void put_string(mdb_buf *b, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    char esc;
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
        (c >= 'a' && c <= 'z')) {
      mdb_buf_putc(b, (char)c);
      continue;
    }
    if (c < '0') esc = '.';
    else if (c < 'A') esc = '@';
    else if (c < 'a') esc = '_';
    else esc = '~';
    char t[3] = {esc, HEX[c >> 4], HEX[c & 15]};
    mdb_buf_append(b, t, 3);
  }
  mdb_buf_putc(b, END);
}

static void put_bson_string(mdb_buf *b, const uint8_t *v) {
  put_string(b, v + 4, (size_t)mdb_bsonr_i32(v) - 1);
}

/* A number m x 2^s (m > 0): sign class, then the position of the leading
 * bit and the bits after it, complemented for negatives so that a larger
 * magnitude sorts lower. */
static void put_dyadic(mdb_buf *b, int negative, uint64_t m, int s) {
  int lead = 63 - __builtin_clzll(m);
  uint64_t exp = (uint64_t)(lead + s + 2048);
  uint64_t frac = (m << (63 - lead)) << 1;
  if (negative) {
    exp = 4095 - exp;
    frac = ~frac;
  }
  mdb_buf_putc(b, negative ? 'c' : 'e');
  put_hex(b, exp, 3);
  put_hex(b, frac, 16);
}

static void put_double(mdb_buf *b, double d) {
  if (isnan(d)) mdb_buf_putc(b, 'a');
  else if (isinf(d)) mdb_buf_putc(b, d < 0 ? 'b' : 'f');
  else if (d == 0) mdb_buf_putc(b, 'd');
  else {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int ef = (int)(bits >> 52 & 0x7ff);
    uint64_t mf = bits & ((UINT64_C(1) << 52) - 1);
    if (ef == 0)
      put_dyadic(b, d < 0, mf, -1074);
    else
      put_dyadic(b, d < 0, mf | UINT64_C(1) << 52, ef - 1075);
  }
}

static void put_int64(mdb_buf *b, int64_t v) {
  if (v == 0) {
    mdb_buf_putc(b, 'd');
    return;
  }
  uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  put_dyadic(b, v < 0, m, 0);
}

static int put_body(mdb_buf *b, uint8_t type, const uint8_t *v, size_t size,
                    int depth, const char **why);

/* Elements of a document (with names) or an array (without), then END. */
static int put_elements(mdb_buf *b, const uint8_t *doc, size_t len,
                        int names, int depth, const char **why) {
  if (depth > MAX_DEPTH) {
    *why = "nesting too deep";
    return -1;
  }
  mdb_bsonr_iter it;
  if ((*why = mdb_bsonr_init(&it, doc, len))) return -1;
  mdb_bsonr_elem e;
  int r;
  while ((r = mdb_bsonr_next(&it, &e, why)) == 1) {
    mdb_buf_putc(b, bracket(e.type));
    if (names) put_string(b, (const uint8_t *)e.key, e.key_len);
    if (put_body(b, e.type, e.value, e.value_len, depth + 1, why) != 0)
      return -1;
  }
  if (r < 0) return -1;
  mdb_buf_putc(b, END);
  return 0;
}

static int put_body(mdb_buf *b, uint8_t type, const uint8_t *v, size_t size,
                    int depth, const char **why) {
  switch (type) {
  case MDB_BSON_DOUBLE: put_double(b, mdb_bsonr_double(v)); break;
  case MDB_BSON_INT32: put_int64(b, mdb_bsonr_i32(v)); break;
  case MDB_BSON_INT64: put_int64(b, mdb_bsonr_i64(v)); break;
  case MDB_BSON_DECIMAL128: {
    /* Placed by the nearest double: exact comparison with binary numbers
     * would need arbitrary precision. */
    char s[MDB_BSONR_DECIMAL_TEXT];
    mdb_bsonr_decimal128_text(v, s);
    put_double(b, strtod(s, NULL));
    break;
  }
  case MDB_BSON_STRING: case MDB_BSON_SYMBOL: case MDB_BSON_CODE:
    put_bson_string(b, v);
    break;
  case MDB_BSON_DOCUMENT:
  case MDB_BSON_ARRAY:
    return put_elements(b, v, size, type == MDB_BSON_DOCUMENT, depth, why);
  case MDB_BSON_BINARY: /* MongoDB orders by length, subtype, then bytes */
    put_hex(b, (uint32_t)mdb_bsonr_i32(v), 8);
    put_bytes_hex(b, v + 4, size - 4);
    break;
  case MDB_BSON_OID: put_bytes_hex(b, v, 12); break;
  case MDB_BSON_BOOL: mdb_buf_putc(b, v[0] ? '1' : '0'); break;
  case MDB_BSON_DATE:
    put_hex(b, (uint64_t)mdb_bsonr_i64(v) ^ UINT64_C(1) << 63, 16);
    break;
  case MDB_BSON_TIMESTAMP:
    put_hex(b, (uint32_t)mdb_bsonr_i32(v + 4), 8);
    put_hex(b, (uint32_t)mdb_bsonr_i32(v), 8);
    break;
  case MDB_BSON_REGEX: {
    size_t plen = strlen((const char *)v);
    put_string(b, v, plen);
    put_string(b, v + plen + 1, strlen((const char *)v + plen + 1));
    break;
  }
  case MDB_BSON_DBPOINTER: {
    size_t slen = 4 + (size_t)mdb_bsonr_i32(v);
    put_bson_string(b, v);
    put_bytes_hex(b, v + slen, 12);
    break;
  }
  case MDB_BSON_CODEWSCOPE: {
    size_t slen = 4 + (size_t)mdb_bsonr_i32(v + 4);
    put_bson_string(b, v + 4);
    return put_elements(b, v + 4 + slen, size - 4 - slen, 1, depth, why);
  }
  default: /* null, undefined, MinKey, MaxKey: the bracket says it all */
    break;
  }
  return 0;
}

int mdb_indexkey_value(const uint8_t *value, size_t len, char **out,
                       mdb_error *err) {
  size_t size;
  const char *why = len < 1 ? "empty value"
                            : mdb_bsonr_value_size(value[0], value + 1,
                                                   len - 1, &size);
  if (!why && size != len - 1) why = "trailing bytes after the value";
  mdb_buf b = MDB_BUF_INIT;
  if (!why) {
    mdb_buf_putc(&b, bracket(value[0]));
    put_body(&b, value[0], value + 1, size, 0, &why);
  }
  if (why) {
    mdb_buf_free(&b);
    return mdb_error_set(err, MDBEE_EFORMAT, "index key: %s", why);
  }
  return mdb_buf_take(&b, out, NULL, err);
}

/* ---- keys of a document ------------------------------------------------ */

/* The distinct components one field path yields. */
typedef struct strset {
  char **s;
  size_t n, cap;
} strset;

static void strset_free(strset *set) {
  for (size_t i = 0; i < set->n; i++) free(set->s[i]);
  free(set->s);
  set->s = NULL;
  set->n = set->cap = 0;
}

/* Takes ownership of s.  -1 when out of memory. */
static int strset_add(strset *set, char *s) {
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->s[i], s) == 0) {
      free(s);
      return 0;
    }
  if (set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 8;
    char **grown = realloc(set->s, cap * sizeof *grown);
    if (!grown) {
      free(s);
      return -1;
    }
    set->s = grown;
    set->cap = cap;
  }
  set->s[set->n++] = s;
  return 0;
}

typedef struct collect {
  strset set;
  const char *why;   /* malformed input */
  int oom;
} collect;

static void add_value(collect *c, uint8_t type, const uint8_t *v,
                      size_t size) {
  if (c->set.n >= MDB_INDEXKEY_MAX_KEYS) {
    c->why = "too many keys";
    return;
  }
  mdb_buf b = MDB_BUF_INIT;
  mdb_buf_putc(&b, bracket(type));
  if (put_body(&b, type, v, size, 0, &c->why) != 0) {
    mdb_buf_free(&b);
    return;
  }
  char *s;
  if (mdb_buf_take(&b, &s, NULL, NULL) != MDBEE_OK ||
      strset_add(&c->set, s) != 0)
    c->oom = 1;
}

static void find_path(collect *c, const uint8_t *doc, size_t len,
                      const char *path, int depth);

/* The value found at the end of a path: an array gives its elements (an
 * empty one: undefined), as MongoDB's multikey indexes do. */
static void add_leaf(collect *c, uint8_t type, const uint8_t *v, size_t size) {
  if (type != MDB_BSON_ARRAY) {
    add_value(c, type, v, size);
    return;
  }
  mdb_bsonr_iter it;
  if ((c->why = mdb_bsonr_init(&it, v, size))) return;
  mdb_bsonr_elem e;
  int any = 0;
  while (!c->why && !c->oom && mdb_bsonr_next(&it, &e, &c->why) == 1) {
    add_value(c, e.type, e.value, e.value_len);
    any = 1;
  }
  if (!c->why && !c->oom && !any) add_value(c, MDB_BSON_UNDEFINED, v, 0);
}

/* Continues path (after a part that named the array arr) in every
 * document element, and at the position a numeric first part names. */
static void find_in_array(collect *c, const uint8_t *arr, size_t len,
                          const char *path, int depth) {
  size_t part = strcspn(path, ".");
  mdb_bsonr_iter it;
  if ((c->why = mdb_bsonr_init(&it, arr, len))) return;
  mdb_bsonr_elem e;
  while (!c->why && !c->oom && mdb_bsonr_next(&it, &e, &c->why) == 1) {
    if (e.type == MDB_BSON_DOCUMENT)
      find_path(c, e.value, e.value_len, path, depth + 1);
    if (e.key_len == part && memcmp(e.key, path, part) == 0) {
      if (!path[part])
        add_leaf(c, e.type, e.value, e.value_len);
      else if (e.type == MDB_BSON_DOCUMENT)
        find_path(c, e.value, e.value_len, path + part + 1, depth + 1);
    }
  }
}

static void find_path(collect *c, const uint8_t *doc, size_t len,
                      const char *path, int depth) {
  if (depth > MAX_DEPTH) {
    c->why = "nesting too deep";
    return;
  }
  size_t part = strcspn(path, ".");
  mdb_bsonr_iter it;
  if ((c->why = mdb_bsonr_init(&it, doc, len))) return;
  mdb_bsonr_elem e;
  int r;
  while ((r = mdb_bsonr_next(&it, &e, &c->why)) == 1) {
    if (e.key_len != part || memcmp(e.key, path, part) != 0) continue;
    if (!path[part])
      add_leaf(c, e.type, e.value, e.value_len);
    else if (e.type == MDB_BSON_DOCUMENT)
      find_path(c, e.value, e.value_len, path + part + 1, depth + 1);
    else if (e.type == MDB_BSON_ARRAY)
      find_in_array(c, e.value, e.value_len, path + part + 1, depth + 1);
    return; /* the first field of that name is the one MongoDB uses */
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int mdb_indexkey_document(const uint8_t *doc, size_t len,
                          const char *const *fields, size_t n_fields,
                          mdb_indexkey_set *out, mdb_error *err) {
  if (n_fields == 0)
    return mdb_error_set(err, MDBEE_EINVAL, "an index needs key fields");
  /* Keys so far, one field at a time: starts as the one empty prefix. */
  strset keys = {0};
  char *empty = strdup("");
  if (!empty || strset_add(&keys, empty) != 0)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  int rc = MDBEE_OK;
  for (size_t f = 0; f < n_fields && rc == MDBEE_OK; f++) {
    collect c = {{0}, NULL, 0};
    find_path(&c, doc, len, fields[f], 0);
    if (!c.why && !c.oom && c.set.n == 0)
      add_value(&c, MDB_BSON_NULL, doc, 0); /* a missing field is null */
    strset next = {0};
    for (size_t i = 0; i < keys.n && !c.why && !c.oom; i++)
      for (size_t j = 0; j < c.set.n && !c.why && !c.oom; j++) {
        if (next.n >= MDB_INDEXKEY_MAX_KEYS) {
          c.why = "too many keys";
          break;
        }
        size_t a = strlen(keys.s[i]), b = strlen(c.set.s[j]);
        char *k = malloc(a + b + 1);
        if (k) {
          memcpy(k, keys.s[i], a);
          memcpy(k + a, c.set.s[j], b + 1);
        }
        if (!k || strset_add(&next, k) != 0) {
          c.oom = 1;
          break;
        }
      }
    if (c.oom)
      rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    else if (c.why)
      rc = mdb_error_set(err, MDBEE_EFORMAT, "index key on %s: %s", fields[f],
                         c.why);
    strset_free(&c.set);
    strset_free(&keys);
    keys = next;
  }
  if (rc != MDBEE_OK) {
    strset_free(&keys);
    return rc;
  }
  qsort(keys.s, keys.n, sizeof *keys.s, cmp_str);
  out->keys = keys.s;
  out->n = keys.n;
  return MDBEE_OK;
}

void mdb_indexkey_set_free(mdb_indexkey_set *set) {
  if (!set) return;
  for (size_t i = 0; i < set->n; i++) free(set->keys[i]);
  free(set->keys);
  set->keys = NULL;
  set->n = 0;
}
