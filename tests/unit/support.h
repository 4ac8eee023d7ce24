/* Helpers shared by the cmocka unit tests: reading the known-answer vector
 * files that tests/node/vectors/generate.mjs writes with bee-js. */
#ifndef MDBEE_TEST_SUPPORT_H
#define MDBEE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

#endif
