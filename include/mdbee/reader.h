/* mdbee reader: reads a published database through any Bee node or
 * gateway without trusting it.
 *
 * Everything is fetched as raw chunks (GET /chunks/{address}) and checked
 * before use: every content-addressed chunk must hash to the address that
 * led to it, and every feed update must be a single owner chunk signed by
 * the expected owner for the expected topic and index.  A gateway that
 * serves anything else gets MDBEE_EVERIFY, never a wrong answer.
 */
#ifndef MDBEE_READER_H
#define MDBEE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

typedef struct mdb_bee mdb_bee;

/* Largest document or file the reader reassembles (documents are at most
 * 16 MiB of BSON; their JSON is larger). */
#define MDB_READER_FILE_MAX (256ull << 20)

/* A verified feed update. */
typedef struct mdb_reader_update {
  uint64_t index;
  uint64_t timestamp;   /* Unix seconds, from the signed payload */
  uint8_t root[32];     /* the snapshot root it announces */
} mdb_reader_update;

/* Finds the newest update of owner's feed for topic (at 0), or the newest
 * one whose timestamp is at most at.  Uses O(log n) chunk fetches (an
 * exponential then a binary search over indexes).  MDBEE_ENOTFOUND when
 * the feed has no (such) update. */
int mdb_reader_feed_update(mdb_bee *gateway, const uint8_t owner[20],
                           const uint8_t topic[32], int64_t at,
                           mdb_reader_update *out, mdb_error *err);

/* Reads the file at path under the manifest root: looks the path up
 * (loading only the manifest nodes on it), then reassembles its chunk
 * tree (decrypting it when its reference is 64 bytes, address || key).
 * *data is malloc'd and the caller's, as is *content_type (NULL when
 * the entry has none).  MDBEE_ENOTFOUND when there is no such path. */
int mdb_reader_get(mdb_bee *gateway, const uint8_t root[32], const char *path,
                   uint8_t **data, size_t *len, char **content_type,
                   mdb_error *err);

#endif
