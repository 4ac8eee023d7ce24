/* Bounds-checked reading of untrusted BSON bytes, shared by the Extended
 * JSON encoder, document paths and index keys.  Internal to libmdbee.
 * libbson's iterator is not used here because these callers need to say
 * precisely which field is wrong and why, and to accept every type,
 * deprecated ones included. */
#ifndef MDBEE_BSON_READ_H
#define MDBEE_BSON_READ_H

#include <stddef.h>
#include <stdint.h>

/* BSON element types. */
enum {
  MDB_BSON_DOUBLE = 0x01, MDB_BSON_STRING = 0x02, MDB_BSON_DOCUMENT = 0x03,
  MDB_BSON_ARRAY = 0x04, MDB_BSON_BINARY = 0x05, MDB_BSON_UNDEFINED = 0x06,
  MDB_BSON_OID = 0x07, MDB_BSON_BOOL = 0x08, MDB_BSON_DATE = 0x09,
  MDB_BSON_NULL = 0x0A, MDB_BSON_REGEX = 0x0B, MDB_BSON_DBPOINTER = 0x0C,
  MDB_BSON_CODE = 0x0D, MDB_BSON_SYMBOL = 0x0E, MDB_BSON_CODEWSCOPE = 0x0F,
  MDB_BSON_INT32 = 0x10, MDB_BSON_TIMESTAMP = 0x11, MDB_BSON_INT64 = 0x12,
  MDB_BSON_DECIMAL128 = 0x13, MDB_BSON_MINKEY = 0xFF, MDB_BSON_MAXKEY = 0x7F
};

/* One element of a document. */
typedef struct mdb_bsonr_elem {
  uint8_t type;
  const char *key;         /* NUL-terminated inside the input */
  size_t key_len;
  const uint8_t *value;    /* the value bytes, as in the element */
  size_t value_len;
} mdb_bsonr_elem;

/* Walks the elements of one document. */
typedef struct mdb_bsonr_iter {
  const uint8_t *p;        /* next element */
  const uint8_t *end;      /* the document's terminating NUL */
} mdb_bsonr_iter;

/* Starts walking the document doc[0..len): its int32 length must equal
 * len and its last byte be NUL.  Returns NULL, or a static reason. */
const char *mdb_bsonr_init(mdb_bsonr_iter *it, const uint8_t *doc,
                           size_t len);

/* Reads the next element.  Returns 1 with *e filled, 0 at the end, -1 on
 * malformed bytes with *why set to a static reason (e->key is then the
 * field name when it could be read, else NULL).  The value's length
 * and internal structure are checked (see mdb_bsonr_value_size). */
int mdb_bsonr_next(mdb_bsonr_iter *it, mdb_bsonr_elem *e, const char **why);

/* Size of a value of type at p, with avail bytes available; checks every
 * length inside it (strings NUL-terminated, documents sized and
 * NUL-terminated, code with scope consistent, bool 0 or 1).  Returns NULL
 * and sets *size, or a static reason. */
const char *mdb_bsonr_value_size(uint8_t type, const uint8_t *p,
                                 size_t avail, size_t *size);

/* Walks the whole document doc[0..len), nested documents, arrays and
 * code-with-scope scopes included, up to max_depth levels.  Returns NULL
 * when every length and type is sound, or a static reason. */
const char *mdb_bsonr_validate(const uint8_t *doc, size_t len, int max_depth);

/* Little-endian readers. */
int32_t mdb_bsonr_i32(const uint8_t *p);
int64_t mdb_bsonr_i64(const uint8_t *p);
double mdb_bsonr_double(const uint8_t *p);

/* Room for the text of a decimal128 (libbson's BSON_DECIMAL128_STRING). */
#define MDB_BSONR_DECIMAL_TEXT 43

/* Writes the decimal128 at p as the specification's string form
 * ("1.50E+3", "NaN", "-Infinity"). */
void mdb_bsonr_decimal128_text(const uint8_t *p,
                               char out[MDB_BSONR_DECIMAL_TEXT]);

/* The length (2 to 4) of the well-formed multi-byte UTF-8 sequence that
 * starts at s (s[0] >= 0x80, left bytes readable), or 0 when it is not
 * one: a stray continuation byte, a truncated sequence, an overlong form,
 * a surrogate or a code point above U+10FFFF.  Callers step over ASCII
 * themselves, which is most text. */
size_t mdb_bsonr_utf8_seq(const uint8_t *s, size_t left);

#endif
