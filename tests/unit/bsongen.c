#include "bsongen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t bsongen_next(bsongen *g) {
  uint64_t x = g->state ? g->state : 88172645463325252ULL;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  g->state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(bsongen *g, uint64_t n) { return bsongen_next(g) % n; }

static double random_double(bsongen *g) {
  static const double specials[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300,
                                    4.9e-324, -4.9e-324, 9007199254740992.0,
                                    9007199254740993.0, 9223372036854775808.0,
                                    -9223372036854775808.0, 1e21, 0.1};
  switch (below(g, 5)) {
  case 0: return specials[below(g, sizeof specials / sizeof specials[0])];
  case 1: return (double)((int64_t)below(g, 21) - 10);
  case 2: return ((int64_t)below(g, 2001) - 1000) / 8.0;
  case 3: {
    uint64_t bits = bsongen_next(g);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
  }
  default: return below(g, 2) ? INFINITY : below(g, 2) ? -INFINITY : NAN;
  }
}

static int64_t random_int64(bsongen *g) {
  static const int64_t specials[] = {0, 1, -1, INT64_MAX, INT64_MIN,
                                     INT64_C(9007199254740993),
                                     INT64_C(-9007199254740993),
                                     INT64_C(9007199254740992)};
  if (below(g, 3) == 0) return specials[below(g, 8)];
  if (below(g, 2)) return (int64_t)below(g, 21) - 10;
  return (int64_t)bsongen_next(g);
}

static void random_bytes(bsongen *g, uint8_t *out, size_t n) {
  /* Letters next to the escape characters' neighbours, and bytes around
   * every escape range boundary. */
  static const uint8_t pool[] = {0x00, 0x01, '-', '.', '/', '0', '9', ':', '@',
                                 'A', 'Z', '[', '_', '`', 'a', 'z', '{', '~',
                                 0x7f, 0x80, 0xc3, 0xa9, 0xff};
  for (size_t i = 0; i < n; i++) out[i] = pool[below(g, sizeof pool)];
}

void bsongen_append(bsongen *g, bson_t *doc, const char *key, int depth) {
  uint8_t bytes[8];
  char text[8];
  size_t n = below(g, 5);
  int kinds = g->decimals ? 22 : 21;
  switch (below(g, (uint64_t)kinds)) {
  case 0: BSON_APPEND_INT32(doc, key, (int32_t)random_int64(g)); break;
  case 1: BSON_APPEND_INT32(doc, key, (int32_t)below(g, 21) - 10); break;
  case 2: BSON_APPEND_INT64(doc, key, random_int64(g)); break;
  case 3: case 4: BSON_APPEND_DOUBLE(doc, key, random_double(g)); break;
  case 5: case 6:
    random_bytes(g, bytes, n);
    bson_append_utf8(doc, key, -1, (const char *)bytes, (int)n);
    break;
  case 7:
    random_bytes(g, bytes, n);
    bson_append_symbol(doc, key, -1, (const char *)bytes, (int)n);
    break;
  case 8:
  case 9: {
    bson_t child;
    int array = below(g, 2);
    if (array) bson_append_array_begin(doc, key, -1, &child);
    else bson_append_document_begin(doc, key, -1, &child);
    size_t m = depth > 0 ? below(g, 4) : 0;
    for (size_t i = 0; i < m; i++) {
      char k[2] = {array ? (char)('0' + i) : "abx"[below(g, 3)], 0};
      bsongen_append(g, &child, k, depth - 1);
    }
    if (array) bson_append_array_end(doc, &child);
    else bson_append_document_end(doc, &child);
    break;
  }
  case 10: {
    random_bytes(g, bytes, n);
    static const bson_subtype_t st[] = {BSON_SUBTYPE_BINARY, BSON_SUBTYPE_UUID,
                                        BSON_SUBTYPE_USER};
    uint8_t uuid[16];
    if (below(g, 4) == 0) {
      for (int i = 0; i < 16; i++) uuid[i] = (uint8_t)below(g, 3);
      bson_append_binary(doc, key, -1, BSON_SUBTYPE_UUID, uuid, 16);
    } else {
      bson_append_binary(doc, key, -1, st[below(g, 3)], bytes, (uint32_t)n);
    }
    break;
  }
  case 11: {
    bson_oid_t oid;
    for (int i = 0; i < 12; i++) oid.bytes[i] = (uint8_t)below(g, 3) * 0x7f;
    BSON_APPEND_OID(doc, key, &oid);
    break;
  }
  case 12: BSON_APPEND_BOOL(doc, key, below(g, 2)); break;
  case 13: BSON_APPEND_DATE_TIME(doc, key, random_int64(g)); break;
  case 14:
    BSON_APPEND_TIMESTAMP(doc, key, (uint32_t)below(g, 3) * 0x80000000u,
                          (uint32_t)below(g, 3));
    break;
  case 15: BSON_APPEND_NULL(doc, key); break;
  case 16: BSON_APPEND_MINKEY(doc, key); break;
  case 17: BSON_APPEND_MAXKEY(doc, key); break;
  case 18: BSON_APPEND_UNDEFINED(doc, key); break;
  case 19:
    memset(text, 0, sizeof text);
    for (size_t i = 0; i < n; i++) text[i] = "a.-/"[below(g, 4)];
    BSON_APPEND_REGEX(doc, key, text, below(g, 2) ? "i" : "");
    break;
  case 20: {
    random_bytes(g, bytes, n);
    bytes[n] = 0;
    for (size_t i = 0; i < n; i++)
      if (!bytes[i]) bytes[i] = 'c';
    BSON_APPEND_CODE(doc, key, (const char *)bytes);
    break;
  }
  default: {
    static const char *decs[] = {"0", "-0", "1", "1.0", "0.1", "-2.5E+3",
                                 "NaN", "Infinity", "-Infinity", "1E+6000"};
    bson_decimal128_t d;
    bson_decimal128_from_string(decs[below(g, 10)], &d);
    BSON_APPEND_DECIMAL128(doc, key, &d);
  }
  }
}

uint8_t *bsongen_value(const bson_t *doc, size_t *len) {
  const uint8_t *data = bson_get_data(doc);
  /* int32 length, type, 1-character key and its NUL, value, final NUL */
  size_t vlen = doc->len - 4 - 1 - 2 - 1;
  uint8_t *buf = malloc(vlen + 1);
  if (!buf) return NULL;
  buf[0] = data[4];
  memcpy(buf + 1, data + 7, vlen);
  *len = vlen + 1;
  return buf;
}
