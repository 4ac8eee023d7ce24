/* Swarm's binary Merkle tree (BMT) chunk hash.
 *
 * A content-addressed chunk is span (8 bytes, little-endian) followed by a
 * payload of at most 4096 bytes.  Its address is Keccak256(span || root),
 * where root is a binary Keccak tree over the payload zero-padded to 4096
 * bytes, taken in 32-byte segments. */
#ifndef MDBEE_BMT_H
#define MDBEE_BMT_H

#include <stddef.h>
#include <stdint.h>

#define MDB_CHUNK_PAYLOAD_MAX 4096
#define MDB_SPAN_SIZE 8
#define MDB_REF_SIZE 32
#define MDB_SEGMENT_SIZE 32
#define MDB_BRANCHES 128 /* references per intermediate chunk */

/* Encodes span as 8 little-endian bytes. */
void mdb_bmt_span_encode(uint64_t span, uint8_t out[MDB_SPAN_SIZE]);

/* Decodes 8 little-endian bytes. */
uint64_t mdb_bmt_span_decode(const uint8_t in[MDB_SPAN_SIZE]);

/* Writes the BMT root of payload (len <= 4096; longer is truncated to 4096
 * by contract, callers check). */
void mdb_bmt_root(const uint8_t *payload, size_t len,
                  uint8_t root[MDB_REF_SIZE]);

/* Writes the chunk address Keccak256(span || BMT root of payload).  The span
 * is given separately because an intermediate chunk's span is the size of
 * the data under it, not of its own payload. */
void mdb_bmt_chunk_address(uint64_t span, const uint8_t *payload, size_t len,
                           uint8_t address[MDB_REF_SIZE]);

/* One chunk to hash in a batch: data is span || payload (8 to 4104 bytes,
 * owned by the caller); the address is written to address. */
typedef struct mdb_bmt_job {
  const uint8_t *data;
  size_t size;
  uint8_t *address;
} mdb_bmt_job;

/* Computes the address of every job.  Equivalent to calling
 * mdb_bmt_chunk_address on each, but hashes several chunks at once
 * (multi-buffer SIMD) and, for 16 jobs or more, spreads them over a worker
 * pool created on first use, so callers hand over as many chunks as they
 * have (the chunk-tree splitter passes up to 128).  Jobs must not overlap
 * each other's addresses.  Safe to call from several threads; while one
 * call uses the pool, the others hash on their own thread. */
void mdb_bmt_hash_chunks(const mdb_bmt_job *jobs, size_t n);

/* Caps the threads mdb_bmt_hash_chunks uses, the caller's included;
 * 0 (the default) means one per online CPU, 1 means no worker threads. */
void mdb_bmt_set_threads(unsigned threads);

#endif
