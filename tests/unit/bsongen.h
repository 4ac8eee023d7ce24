/* Random BSON values for property tests (document ids, index keys). */
#ifndef MDBEE_TEST_BSONGEN_H
#define MDBEE_TEST_BSONGEN_H

#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

typedef struct bsongen {
  uint64_t state;
  int decimals;   /* also produce decimal128 values */
} bsongen;

/* Next pseudo-random 64 bits (xorshift64*). */
uint64_t bsongen_next(bsongen *g);

/* Appends one random value under key to doc; depth bounds nesting.  The
 * values are drawn from small pools so that equal and nearly equal values
 * (int 1, long 1, double 1.0; "a" and "a\0") come up often. */
void bsongen_append(bsongen *g, bson_t *doc, const char *key, int depth);

/* The single element of doc as type byte + value bytes, in a malloc'd
 * buffer the caller frees; the element's key must be one character long. */
uint8_t *bsongen_value(const bson_t *doc, size_t *len);

#endif
