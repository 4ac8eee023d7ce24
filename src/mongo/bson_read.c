#include "bson_read.h"

#include <bson/bson.h>
#include <string.h>

_Static_assert(MDB_BSONR_DECIMAL_TEXT == BSON_DECIMAL128_STRING,
               "decimal128 text size");

int32_t mdb_bsonr_i32(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
  return (int32_t)v;
}

int64_t mdb_bsonr_i64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return (int64_t)v;
}

double mdb_bsonr_double(const uint8_t *p) {
  uint64_t bits = (uint64_t)mdb_bsonr_i64(p);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

void mdb_bsonr_decimal128_text(const uint8_t *p,
                               char out[MDB_BSONR_DECIMAL_TEXT]) {
  bson_decimal128_t dec;
  dec.low = (uint64_t)mdb_bsonr_i64(p);
  dec.high = (uint64_t)mdb_bsonr_i64(p + 8);
  bson_decimal128_to_string(&dec, out);
}

/* int32 length L then L bytes ending in NUL, L >= 1. */
static const char *string_size(const uint8_t *p, size_t avail, size_t *size) {
  if (avail < 5) return "truncated string";
  int32_t l = mdb_bsonr_i32(p);
  if (l < 1 || (size_t)l > avail - 4) return "string length out of bounds";
  if (p[4 + l - 1] != 0) return "string not NUL-terminated";
  *size = 4 + (size_t)l;
  return NULL;
}

static const char *cstring_size(const uint8_t *p, size_t avail, size_t *size) {
  const uint8_t *nul = memchr(p, 0, avail);
  if (!nul) return "unterminated C string";
  *size = (size_t)(nul - p) + 1;
  return NULL;
}

static const char *document_size(const uint8_t *p, size_t avail,
                                 size_t *size) {
  if (avail < 5) return "truncated document";
  int32_t l = mdb_bsonr_i32(p);
  if (l < 5 || (size_t)l > avail) return "document length out of bounds";
  if (p[l - 1] != 0) return "document not NUL-terminated";
  *size = (size_t)l;
  return NULL;
}

const char *mdb_bsonr_value_size(uint8_t type, const uint8_t *p,
                                 size_t avail, size_t *size) {
  size_t fixed = 0, a, b;
  const char *why;
  switch (type) {
  case MDB_BSON_UNDEFINED: case MDB_BSON_NULL:
  case MDB_BSON_MINKEY: case MDB_BSON_MAXKEY:
    fixed = 0; break;
  case MDB_BSON_BOOL:
    if (avail < 1) return "truncated bool";
    if (p[0] > 1) return "bool is neither 0 nor 1";
    fixed = 1; break;
  case MDB_BSON_INT32: fixed = 4; break;
  case MDB_BSON_DOUBLE: case MDB_BSON_DATE:
  case MDB_BSON_TIMESTAMP: case MDB_BSON_INT64:
    fixed = 8; break;
  case MDB_BSON_OID: fixed = 12; break;
  case MDB_BSON_DECIMAL128: fixed = 16; break;
  case MDB_BSON_STRING: case MDB_BSON_CODE: case MDB_BSON_SYMBOL:
    return string_size(p, avail, size);
  case MDB_BSON_DOCUMENT: case MDB_BSON_ARRAY:
    return document_size(p, avail, size);
  case MDB_BSON_BINARY: {
    if (avail < 5) return "truncated binary";
    int32_t l = mdb_bsonr_i32(p);
    if (l < 0 || (size_t)l > avail - 5) return "binary length out of bounds";
    if (p[4] == 0x02) {
      /* The old binary subtype repeats the length inside the data. */
      if (l < 4 || mdb_bsonr_i32(p + 5) != l - 4)
        return "binary subtype 2 inner length mismatch";
    }
    *size = 5 + (size_t)l;
    return NULL;
  }
  case MDB_BSON_REGEX:
    if ((why = cstring_size(p, avail, &a))) return why;
    if ((why = cstring_size(p + a, avail - a, &b))) return why;
    *size = a + b;
    return NULL;
  case MDB_BSON_DBPOINTER:
    if ((why = string_size(p, avail, &a))) return why;
    if (avail - a < 12) return "truncated DBPointer";
    *size = a + 12;
    return NULL;
  case MDB_BSON_CODEWSCOPE: {
    if (avail < 4) return "truncated code with scope";
    int32_t t = mdb_bsonr_i32(p);
    if (t < 14 || (size_t)t > avail) return "code with scope length out of bounds";
    if ((why = string_size(p + 4, (size_t)t - 4, &a))) return why;
    if ((why = document_size(p + 4 + a, (size_t)t - 4 - a, &b))) return why;
    if (4 + a + b != (size_t)t) return "code with scope length mismatch";
    *size = (size_t)t;
    return NULL;
  }
  default:
    return "unknown BSON type";
  }
  if (avail < fixed) return "truncated value";
  *size = fixed;
  return NULL;
}

const char *mdb_bsonr_init(mdb_bsonr_iter *it, const uint8_t *doc,
                           size_t len) {
  size_t size;
  const char *why = document_size(doc, len, &size);
  if (why) return why;
  if (size != len) return "document length does not match its bytes";
  it->p = doc + 4;
  it->end = doc + len - 1;
  return NULL;
}

int mdb_bsonr_next(mdb_bsonr_iter *it, mdb_bsonr_elem *e, const char **why) {
  if (it->p == it->end) return 0;
  size_t avail = (size_t)(it->end - it->p);
  e->key = NULL;
  e->type = it->p[0];
  if (e->type == 0) {
    *why = "document ends before its length";
    return -1;
  }
  const uint8_t *key = it->p + 1;
  const uint8_t *nul = memchr(key, 0, avail - 1);
  if (!nul) {
    *why = "unterminated field name";
    return -1;
  }
  e->key = (const char *)key;
  e->key_len = (size_t)(nul - key);
  e->value = nul + 1;
  size_t left = (size_t)(it->end - e->value);
  if ((*why = mdb_bsonr_value_size(e->type, e->value, left, &e->value_len)))
    return -1;
  it->p = e->value + e->value_len;
  return 1;
}

size_t mdb_bsonr_utf8_seq(const uint8_t *s, size_t left) {
  uint8_t c = s[0];
  size_t n;
  uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (left < n) return 0;
  for (size_t k = 1; k < n; k++) {
    if ((s[k] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

const char *mdb_bsonr_validate(const uint8_t *doc, size_t len, int max_depth) {
  if (max_depth < 0) return "nesting too deep";
  mdb_bsonr_iter it;
  const char *why = mdb_bsonr_init(&it, doc, len);
  mdb_bsonr_elem e;
  while (!why && mdb_bsonr_next(&it, &e, &why) == 1) {
    if (e.type == MDB_BSON_DOCUMENT || e.type == MDB_BSON_ARRAY) {
      why = mdb_bsonr_validate(e.value, e.value_len, max_depth - 1);
    } else if (e.type == MDB_BSON_CODEWSCOPE) {
      size_t code = 4 + (size_t)mdb_bsonr_i32(e.value + 4);
      why = mdb_bsonr_validate(e.value + 4 + code, e.value_len - 4 - code,
                               max_depth - 1);
    }
  }
  return why;
}
