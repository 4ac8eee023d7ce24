/* Helpers shared by the cmocka unit tests: reading the known-answer vector
 * files that tests/node/vectors/generate.mjs writes with bee-js, and an
 * in-process chunk store for chunk-tree tests. */
#ifndef MDBEE_TEST_SUPPORT_H
#define MDBEE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mdbee/chunk.h"

/* A vector file: one case per line, fields separated by tabs; "-" stands
 * for an empty field. */
typedef struct vec_file {
  FILE *f;
  char *line;
  size_t cap;
  char *fields[8];
  size_t nfields;
  size_t lineno;
} vec_file;

/* Opens name inside the directory given by the MDBEE_VECTORS environment
 * variable (meson sets it); fails the test when missing. */
void vec_open(vec_file *v, const char *name);

/* Advances to the next line; returns 0 at end of file. */
int vec_next(vec_file *v);

/* Decodes hex field i into a malloc'd buffer (caller frees); sets *len. */
uint8_t *vec_bytes(vec_file *v, size_t i, size_t *len);

void vec_close(vec_file *v);

/* A chunk store in memory: test_store_sink fills it, test_store_source
 * reads it (both take the store as ctx).  Zero-initialise it. */
typedef struct test_store {
  uint8_t (*addr)[MDB_REF_SIZE];
  uint8_t (*data)[MDB_CHUNK_SIZE_MAX];
  size_t *size;
  size_t n, cap;
  size_t fetches;    /* calls to test_store_source */
  size_t fail_after; /* the sink fails once this many chunks are stored */
} test_store;

void test_store_put(test_store *s, const uint8_t *addr, const uint8_t *data,
                    size_t size);

/* Index of the chunk at addr, or -1. */
long test_store_find(const test_store *s, const uint8_t *addr);

/* An mdb_chunk_sink: asserts that the chunk hashes to its address, then
 * stores it; fails with MDBEE_EIO "disk full" at fail_after (when set). */
int test_store_sink(void *ctx, const mdb_chunk *c, mdb_error *err);

/* An mdb_chunk_source over the store (MDBEE_ENOTFOUND when absent). */
int test_store_source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                      uint8_t *buf, size_t *size, mdb_error *err);

void test_store_free(test_store *s);

/* The bytes tests/node/vectors/generate.mjs's patternBytes gives bee-js:
 * byte i is (7i ^ i>>9 ^ i>>17) mod 256.  malloc'd, caller frees. */
uint8_t *test_pattern(size_t n);

#endif
