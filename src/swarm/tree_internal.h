/* Internal to the chunk-tree code: what an encrypted tree changes.
 *
 * A plain tree's reference is the chunk address (32 bytes).  An encrypted
 * tree seals each chunk before hashing it and references it by address ||
 * key (64 bytes), so fewer references fit in an intermediate chunk.  The
 * splitter and joiner take the differences from this table and are
 * otherwise shared. */
#ifndef MDBEE_TREE_INTERNAL_H
#define MDBEE_TREE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/chunk.h"

#define MDB_TREE_REF_MAX 64

typedef struct mdb_tree_codec {
  size_t ref_size; /* MDB_REF_SIZE, or MDB_REF_SIZE + key size */
  /* Seals chunk (span || payload, *size bytes, buffer MDB_CHUNK_SIZE_MAX)
   * in place, updates *size and writes the key part of the reference. */
  int (*seal)(void *ctx, uint8_t *chunk, size_t *size, uint8_t *key,
              mdb_error *err);
  /* Reverses seal with key, in place; *size becomes the plain size. */
  int (*open)(void *ctx, const uint8_t *key, uint8_t *chunk, size_t *size,
              mdb_error *err);
  void *ctx;
  void (*free_ctx)(void *ctx); /* called by mdb_splitter_free when set */
} mdb_tree_codec;

/* The capacity of each child of a chunk spanning span > 4096 bytes in a
 * tree of the given branching: the largest 4096 * branches^k below span. */
uint64_t mdb_tree_child_capacity(uint64_t span, size_t branches);

/* The reference size of sp's tree. */
size_t mdb_tree_splitter_ref_size(const mdb_splitter *sp);

/* mdb_splitter_new with a codec (NULL: plain tree). */
int mdb_tree_splitter_new(const mdb_tree_codec *codec, mdb_chunk_sink sink,
                          void *ctx, mdb_splitter **out, mdb_error *err);

/* mdb_splitter_finish for any reference size: writes codec->ref_size bytes. */
int mdb_tree_splitter_finish(mdb_splitter *sp, uint8_t *ref, mdb_error *err);

/* mdb_chunk_tree_join with a codec (NULL: plain tree); ref has
 * codec->ref_size bytes. */
int mdb_tree_join(const mdb_tree_codec *codec, const uint8_t *ref,
                  mdb_chunk_source source, void *ctx, uint64_t max_size,
                  uint8_t **data, size_t *size, mdb_error *err);

#endif
