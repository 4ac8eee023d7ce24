/* Document ids as URL path segments: /<collection>/<docId>.
 *
 * The encoding is injective over BSON values (type included), uses only
 * URL-unreserved characters ([A-Za-z0-9._~-]), never starts with '$' (the
 * prefix of mdbee's own entries such as $meta), and decodes back to the
 * exact BSON value.  An ObjectId is its 24 lower-case hex digits; every
 * other type starts with a tag that no ObjectId can, e.g. "s-alice" for
 * the string "alice" or "i-42" for the int32 42.  The full table is in
 * docs/protocol.md, "Document paths".
 *
 * Values that MongoDB considers equal but that differ in type (int32 1,
 * int64 1, double 1.0) get different segments: a collection never holds
 * two of them at once (the _id index is unique under BSON comparison), and
 * keeping the type lets the path decode to the exact _id.
 *
 * Values are passed the way mdb_store keys hold them: the BSON type byte
 * followed by the value's bytes as they appear in a BSON element.
 */
#ifndef MDBEE_DOCID_H
#define MDBEE_DOCID_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

/* Encodes the _id value (type byte + value bytes, len bytes in all) into a
 * malloc'd NUL-terminated segment *out (caller frees).  MDBEE_EFORMAT when
 * the value bytes are malformed or an array (MongoDB refuses arrays as
 * _id; every other type is encoded), MDBEE_ENOMEM when memory runs out. */
int mdb_docid_encode(const uint8_t *value, size_t len, char **out,
                     mdb_error *err);

/* Decodes a segment of seg_len characters back into the value bytes (type
 * byte + value bytes) in a malloc'd buffer *out of *out_len bytes (caller
 * frees).  Only the exact form mdb_docid_encode produces is accepted, so
 * each value has one segment.  MDBEE_EFORMAT otherwise. */
int mdb_docid_decode(const char *seg, size_t seg_len, uint8_t **out,
                     size_t *out_len, mdb_error *err);

#endif
