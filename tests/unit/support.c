#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/hex.h"

void vec_open(vec_file *v, const char *name) {
  memset(v, 0, sizeof *v);
  const char *dir = getenv("MDBEE_VECTORS");
  assert_non_null(dir);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  v->f = fopen(path, "r");
  if (!v->f) fail_msg("cannot open vector file %s", path);
}

int vec_next(vec_file *v) {
  ssize_t n = getline(&v->line, &v->cap, v->f);
  if (n <= 0) return 0;
  v->lineno++;
  if (v->line[n - 1] == '\n') v->line[n - 1] = '\0';
  v->nfields = 0;
  for (char *save = NULL, *tok = strtok_r(v->line, "\t", &save);
       tok && v->nfields < 8; tok = strtok_r(NULL, "\t", &save))
    v->fields[v->nfields++] = tok;
  return 1;
}

uint8_t *vec_bytes(vec_file *v, size_t i, size_t *len) {
  assert_true(i < v->nfields);
  const char *text = v->fields[i];
  if (strcmp(text, "-") == 0) text = "";
  *len = strlen(text) / 2;
  uint8_t *out = malloc(*len + 1);
  assert_non_null(out);
  mdb_error err = {0};
  if (mdb_hex_decode(text, out, *len, &err) != MDBEE_OK)
    fail_msg("line %zu field %zu: %s", v->lineno, i, err.message);
  return out;
}

void vec_close(vec_file *v) {
  fclose(v->f);
  free(v->line);
}

void test_store_put(test_store *s, const uint8_t *addr, const uint8_t *data,
                    size_t size) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 64;
    s->addr = realloc(s->addr, s->cap * sizeof *s->addr);
    s->data = realloc(s->data, s->cap * sizeof *s->data);
    s->size = realloc(s->size, s->cap * sizeof *s->size);
    assert_true(s->addr && s->data && s->size);
  }
  memcpy(s->addr[s->n], addr, MDB_REF_SIZE);
  memcpy(s->data[s->n], data, size);
  s->size[s->n++] = size;
}

long test_store_find(const test_store *s, const uint8_t *addr) {
  for (size_t i = 0; i < s->n; i++)
    if (memcmp(s->addr[i], addr, MDB_REF_SIZE) == 0) return (long)i;
  return -1;
}

int test_store_sink(void *ctx, const mdb_chunk *c, mdb_error *err) {
  test_store *s = ctx;
  if (s->fail_after && s->n == s->fail_after)
    return mdb_error_set(err, MDBEE_EIO, "disk full");
  assert_true(c->size >= MDB_SPAN_SIZE && c->size <= MDB_CHUNK_SIZE_MAX);
  uint8_t want[MDB_REF_SIZE];
  mdb_bmt_chunk_address(mdb_bmt_span_decode(c->data), c->data + MDB_SPAN_SIZE,
                        c->size - MDB_SPAN_SIZE, want);
  assert_memory_equal(want, c->address, MDB_REF_SIZE);
  test_store_put(s, c->address, c->data, c->size);
  return MDBEE_OK;
}

int test_store_source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                      uint8_t *buf, size_t *size, mdb_error *err) {
  test_store *s = ctx;
  s->fetches++;
  long i = test_store_find(s, address);
  if (i < 0) return mdb_error_set(err, MDBEE_ENOTFOUND, "no such chunk");
  memcpy(buf, s->data[i], s->size[i]);
  *size = s->size[i];
  return MDBEE_OK;
}

void test_store_free(test_store *s) {
  free(s->addr);
  free(s->data);
  free(s->size);
  memset(s, 0, sizeof *s);
}

uint8_t *test_pattern(size_t n) {
  uint8_t *b = malloc(n ? n : 1);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)((i * 7) ^ (i >> 9) ^ (i >> 17));
  return b;
}
