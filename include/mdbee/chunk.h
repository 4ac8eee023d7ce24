/* Swarm chunk trees: data of any size as content-addressed chunks.
 *
 * Data up to 4096 bytes is one chunk.  Larger data is split into 4096-byte
 * leaf chunks; their references are packed 128 to an intermediate chunk,
 * level by level, until one root chunk remains.  Each chunk's span is the
 * byte length of all data beneath it.  The result is the reference that
 * `bee split`, bee-js and Bee's POST /bytes give for the same bytes. */
#ifndef MDBEE_CHUNK_H
#define MDBEE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/bmt.h"
#include "mdbee/error.h"

#define MDB_CHUNK_SIZE_MAX (MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX)

/* A chunk as it travels: data is span || payload, exactly the body of Bee's
 * POST /chunks.  data is valid only during the callback that receives it. */
typedef struct mdb_chunk {
  uint8_t address[MDB_REF_SIZE];
  const uint8_t *data;
  size_t size;
} mdb_chunk;

/* Receives every chunk of a tree, leaves before the intermediate chunks that
 * reference them.  Return MDBEE_OK to go on; any other code aborts the split
 * and is returned by the splitter (set err to say why). */
typedef int (*mdb_chunk_sink)(void *ctx, const mdb_chunk *chunk,
                              mdb_error *err);

/* Streaming splitter: holds at most one chunk per tree level in memory. */
typedef struct mdb_splitter mdb_splitter;

/* Creates a splitter that hands each chunk to sink(ctx, ...).  The caller
 * owns *out and frees it with mdb_splitter_free. */
int mdb_splitter_new(mdb_chunk_sink sink, void *ctx, mdb_splitter **out,
                     mdb_error *err);

/* Appends len bytes of data. */
int mdb_splitter_write(mdb_splitter *sp, const void *data, size_t len,
                       mdb_error *err);

/* Flushes the remaining chunks and writes the root reference; the splitter
 * cannot be written to afterwards.  Zero bytes of data give the address of
 * the empty chunk (span 0), as bee-js and Bee do. */
int mdb_splitter_finish(mdb_splitter *sp, uint8_t root[MDB_REF_SIZE],
                        mdb_error *err);

void mdb_splitter_free(mdb_splitter *sp);

/* One-shot split of a buffer; sink may be NULL to only compute the root. */
int mdb_chunk_tree_split(const void *data, size_t len, mdb_chunk_sink sink,
                         void *ctx, uint8_t root[MDB_REF_SIZE],
                         mdb_error *err);

/* Supplies the chunk stored at address: copies span || payload into buf
 * (MDB_CHUNK_SIZE_MAX bytes) and sets *size.  Return MDBEE_ENOTFOUND when
 * the chunk is unknown. */
typedef int (*mdb_chunk_source)(void *ctx, const uint8_t address[MDB_REF_SIZE],
                                uint8_t *buf, size_t *size, mdb_error *err);

/* Reassembles the data under root, verifying every chunk's address against
 * the reference that led to it (MDBEE_EVERIFY on mismatch) and the spans
 * against each other (MDBEE_EFORMAT).  Refuses data longer than max_size
 * (MDBEE_EFORMAT) before allocating it.  *data is malloc'd and owned by the
 * caller. */
int mdb_chunk_tree_join(const uint8_t root[MDB_REF_SIZE],
                        mdb_chunk_source source, void *ctx,
                        uint64_t max_size, uint8_t **data, size_t *size,
                        mdb_error *err);

#endif
