/* BSON to MongoDB Extended JSON (v2), pretty-printed.
 *
 * The output is what the mdbee bridge publishes for each document, so it
 * is a pure function of the BSON bytes and the options: field order is
 * kept, numbers are formatted one way only, and the layout is that of
 * JavaScript's JSON.stringify(value, null, 2) (two-space indent, "key": value,
 * empty objects and arrays as {} and []), with no trailing newline.
 *
 * Both modes of the Extended JSON specification are produced: canonical
 * (every value in its type wrapper; lossless) and relaxed (native JSON
 * numbers for int32, int64 and finite doubles, ISO-8601 dates for years
 * 1970 to 9999; everything else as in canonical).  In relaxed mode a
 * double with an integral value keeps a ".0" and int64 values keep every
 * digit, so a reader with 64-bit integers loses nothing.  Every BSON type
 * is supported, the deprecated ones included (undefined, DBPointer,
 * symbol, code with scope).
 *
 * Input is untrusted: every length is bounds-checked.  Strings, keys,
 * regular expressions and code must be valid UTF-8 (as BSON requires);
 * a document breaking that is refused with MDBEE_EFORMAT naming the field,
 * rather than published with characters replaced.  Embedded NUL bytes in
 * strings are valid and encoded losslessly as \u0000.
 */
#ifndef MDBEE_EJSON_H
#define MDBEE_EJSON_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/buf.h"
#include "mdbee/error.h"

typedef enum mdb_ejson_mode {
  MDB_EJSON_RELAXED = 0,
  MDB_EJSON_CANONICAL = 1
} mdb_ejson_mode;

/* Deepest nesting of documents and arrays accepted by default (the
 * specification asks generators to support at least 100; MongoDB itself
 * stores at most 100 levels plus a few). */
#define MDB_EJSON_MAX_DEPTH_DEFAULT 200

typedef struct mdb_ejson_options {
  mdb_ejson_mode mode;
  /* Dotted field paths left out of the output, like MongoDB's projection
   * exclusion: "a.b" removes field b of document a, and of every document
   * in array a (or in arrays nested in it); a numeric part ("a.0.b")
   * also matches that array position.  Borrowed, may be NULL when
   * n_redact is 0. */
  const char *const *redact;
  size_t n_redact;
  uint32_t max_depth;          /* 0: MDB_EJSON_MAX_DEPTH_DEFAULT */
} mdb_ejson_options;

/* Encodes the BSON document bson[0..len) as Extended JSON.  On success
 * *out is a malloc'd NUL-terminated string owned by the caller and
 * *out_len its length.  opts NULL means relaxed with no redaction.
 * MDBEE_EFORMAT when the bytes are not a valid BSON document (message
 * gives the field path, e.g. "a.b[2]: string is not valid UTF-8"),
 * MDBEE_ENOMEM when memory runs out.  Nothing is written to *out on
 * failure. */
int mdb_ejson_encode(const uint8_t *bson, size_t len,
                     const mdb_ejson_options *opts, char **out,
                     size_t *out_len, mdb_error *err);

/* As mdb_ejson_encode, but appends the text (without a NUL) to out, so
 * that a caller encoding many documents reuses one buffer.  On failure
 * out->len is as before, except after MDBEE_ENOMEM, which leaves out
 * failed (see mdb_buf). */
int mdb_ejson_encode_append(const uint8_t *bson, size_t len,
                            const mdb_ejson_options *opts, mdb_buf *out,
                            mdb_error *err);

/* Parses a mode name ("relaxed" or "canonical"); MDBEE_EINVAL otherwise. */
int mdb_ejson_mode_parse(const char *name, mdb_ejson_mode *mode);

#endif
