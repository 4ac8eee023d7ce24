#include "mdbee/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(mdb_buf *b, size_t extra) {
  if (b->failed) return -1;
  if (b->len + extra < b->cap) return 0; /* room for the NUL too */
  size_t cap = b->cap ? b->cap : 256;
  while (cap <= b->len + extra) {
    if (cap > SIZE_MAX / 2) {
      b->failed = 1;
      return -1;
    }
    cap *= 2;
  }
  char *grown = realloc(b->data, cap);
  if (!grown) {
    b->failed = 1;
    return -1;
  }
  b->data = grown;
  b->cap = cap;
  return 0;
}

int mdb_buf_reserve(mdb_buf *b, size_t n) { return reserve(b, n); }

int mdb_buf_append(mdb_buf *b, const void *data, size_t len) {
  if (reserve(b, len) != 0) return -1;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int mdb_buf_puts(mdb_buf *b, const char *s) {
  return mdb_buf_append(b, s, strlen(s));
}

int mdb_buf_putc(mdb_buf *b, char c) { return mdb_buf_append(b, &c, 1); }

int mdb_buf_printf(mdb_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(b, (size_t)n) != 0) {
    b->failed = 1;
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

int mdb_buf_take(mdb_buf *b, char **out, size_t *len, mdb_error *err) {
  if (!b->failed && !b->data) reserve(b, 0);
  if (b->failed) {
    mdb_buf_free(b);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  b->data[b->len] = '\0';
  *out = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return MDBEE_OK;
}

void mdb_buf_free(mdb_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}
