/* Order-preserving index keys: /<collection>/$indexes/<index>/<key>/<docId>.
 *
 * A key is one URL-safe path segment (characters [0-9A-Za-z] and
 * "-._~@") whose byte-wise order equals MongoDB's sort order of the key's
 * values, so a reader walking an index manifest in byte order reads the
 * keys sorted and can range-scan without a server.  Type brackets follow
 * MongoDB: MinKey < undefined < null < numbers < strings (and symbols) <
 * objects < arrays < binary < ObjectId < bool < date < timestamp < regex <
 * DBPointer < code < code with scope < MaxKey.  Numbers compare by value
 * across int32, int64 and double exactly; a decimal128 is placed by its
 * nearest double.  Values equal under MongoDB's comparison (int 1, double
 * 1.0) have the same key.  Strings compare by bytes (no collation).
 * Compound keys concatenate their components; no key is a prefix of
 * another key of the same index.  The format is in docs/protocol.md,
 * "Index keys".
 *
 * As in MongoDB, a field missing from a document is keyed as null, a field
 * holding an array yields one key per element (an empty array: undefined),
 * and a dotted path descends through arrays of documents.
 */
#ifndef MDBEE_INDEXKEY_H
#define MDBEE_INDEXKEY_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

/* Most keys one document may have in one index (array fields multiply);
 * a document with more is refused with MDBEE_EFORMAT. */
#define MDB_INDEXKEY_MAX_KEYS 1000

/* The distinct keys of one document in one index, sorted. */
typedef struct mdb_indexkey_set {
  char **keys;       /* NUL-terminated segments */
  size_t n;
} mdb_indexkey_set;

/* Computes the keys of the BSON document doc[0..len) for an index on the
 * dotted field paths fields[0..n_fields).  On success out is the caller's,
 * released with mdb_indexkey_set_free.  MDBEE_EFORMAT when the document is
 * malformed or yields more than MDB_INDEXKEY_MAX_KEYS keys, MDBEE_EINVAL
 * when n_fields is 0, MDBEE_ENOMEM when memory runs out. */
int mdb_indexkey_document(const uint8_t *doc, size_t len,
                          const char *const *fields, size_t n_fields,
                          mdb_indexkey_set *out, mdb_error *err);

/* Encodes one value (BSON type byte + value bytes) as a key component
 * into a malloc'd NUL-terminated string *out (caller frees).  The key of a
 * single-field index is exactly this component.  MDBEE_EFORMAT when the
 * value bytes are malformed. */
int mdb_indexkey_value(const uint8_t *value, size_t len, char **out,
                       mdb_error *err);

/* Frees the keys and resets set.  NULL is a no-op. */
void mdb_indexkey_set_free(mdb_indexkey_set *set);

#endif
