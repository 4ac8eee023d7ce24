/* A growing byte buffer for building output of unknown size (JSON text,
 * keys).  Capacity doubles, so appending n bytes in any number of pieces
 * costs O(n).  The data is kept NUL-terminated so text can be used as a C
 * string.  Zero-initialise (or use MDB_BUF_INIT) before first use. */
#ifndef MDBEE_BUF_H
#define MDBEE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

typedef struct mdb_buf {
  char *data;    /* NULL until the first append */
  size_t len;
  size_t cap;
  int failed;    /* set once an allocation failed; later appends do nothing */
} mdb_buf;

#define MDB_BUF_INIT {NULL, 0, 0, 0}

/* Appends len bytes.  Returns 0, or -1 (and sets failed) when memory runs
 * out, so a writer can append freely and check failed once at the end. */
int mdb_buf_append(mdb_buf *b, const void *data, size_t len);

/* Makes room for n more bytes (and a NUL after them) at data + len, for a
 * writer that fills them itself and then adds what it wrote to len; the
 * NUL after the text is restored by the next append or mdb_buf_take.
 * Returns 0, or -1 (and sets failed) when memory runs out. */
int mdb_buf_reserve(mdb_buf *b, size_t n);

/* Appends a NUL-terminated string. */
int mdb_buf_puts(mdb_buf *b, const char *s);

/* Appends one byte. */
int mdb_buf_putc(mdb_buf *b, char c);

/* Appends printf-style formatted text. */
int mdb_buf_printf(mdb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hands the data to the caller (a malloc'd, NUL-terminated string, even
 * when empty) and resets b.  MDBEE_ENOMEM (b freed) when an earlier append
 * failed or the final allocation fails. */
int mdb_buf_take(mdb_buf *b, char **out, size_t *len, mdb_error *err);

/* Frees the data and resets b. */
void mdb_buf_free(mdb_buf *b);

#endif
