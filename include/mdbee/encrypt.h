/* Swarm chunk encryption, as Bee does it for uploads with
 * `swarm-encrypt: true`.
 *
 * Each chunk gets its own random 32-byte key.  The chunk is XORed with a
 * keystream of Keccak256(Keccak256(key || counter)) blocks, one per 32-byte
 * segment, counter as 4 little-endian bytes: the payload from counter 0,
 * then padded to 4096 bytes with random bytes; the 8-byte span with
 * counter 128.  The encrypted chunk (8 + 4096 bytes) is stored under its
 * ordinary chunk address and referenced by address || key (64 bytes), so
 * intermediate chunks hold 64 references instead of 128.  Only a holder of the root
 * reference can read the data; the chunks themselves are indistinguishable
 * from random bytes. */
#ifndef MDBEE_ENCRYPT_H
#define MDBEE_ENCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/chunk.h"
#include "mdbee/error.h"

#define MDB_ENCRYPT_KEY_SIZE 32
#define MDB_ENCRYPT_REF_SIZE (MDB_REF_SIZE + MDB_ENCRYPT_KEY_SIZE)

/* Fills buf with len unpredictable bytes (chunk keys and padding).  Tests
 * inject a deterministic one; production uses mdb_encrypt_random_system. */
typedef int (*mdb_encrypt_random)(void *ctx, uint8_t *buf, size_t len,
                                  mdb_error *err);

/* The system's cryptographic random generator (libsodium's randombytes);
 * ctx is unused.  Fails with MDBEE_ECRYPTO only if libsodium cannot start. */
int mdb_encrypt_random_system(void *ctx, uint8_t *buf, size_t len,
                              mdb_error *err);

/* Encrypts chunk in place with key: chunk holds span || payload (*size
 * bytes, 8 to 4104) in a buffer of MDB_CHUNK_SIZE_MAX bytes; the payload is
 * padded with random bytes from random(rctx) and *size becomes 4104. */
int mdb_encrypt_chunk(const uint8_t key[MDB_ENCRYPT_KEY_SIZE], uint8_t *chunk,
                      size_t *size, mdb_encrypt_random random, void *rctx,
                      mdb_error *err);

/* Decrypts an encrypted chunk (exactly 4104 bytes) in place and strips the
 * padding: *size becomes 8 + the payload length the decrypted span implies
 * (the span itself for a leaf, 64 bytes per reference for an intermediate
 * chunk).  MDBEE_EFORMAT when the size is wrong.  A wrong key cannot be
 * detected here; it shows as spans that do not fit the tree. */
int mdb_encrypt_chunk_open(const uint8_t key[MDB_ENCRYPT_KEY_SIZE],
                           uint8_t *chunk, size_t *size, mdb_error *err);

/* Creates a splitter that encrypts every chunk (keys and padding from
 * random(rctx), which must outlive the splitter).  Write with
 * mdb_splitter_write, finish with mdb_encrypt_splitter_finish, free with
 * mdb_splitter_free.  The sink receives encrypted chunks. */
int mdb_encrypt_splitter_new(mdb_encrypt_random random, void *rctx,
                             mdb_chunk_sink sink, void *ctx,
                             mdb_splitter **out, mdb_error *err);

/* Flushes the tree and writes its 64-byte root reference (address ||
 * key).  MDBEE_EINVAL on a splitter not made by mdb_encrypt_splitter_new. */
int mdb_encrypt_splitter_finish(mdb_splitter *sp,
                                uint8_t ref[MDB_ENCRYPT_REF_SIZE],
                                mdb_error *err);

/* One-shot encrypted split of a buffer; sink may be NULL. */
int mdb_encrypt_tree_split(const void *data, size_t len,
                           mdb_encrypt_random random, void *rctx,
                           mdb_chunk_sink sink, void *ctx,
                           uint8_t ref[MDB_ENCRYPT_REF_SIZE], mdb_error *err);

/* Reassembles and decrypts the data under an encrypted reference, with the
 * checks of mdb_chunk_tree_join: every chunk must hash to the address in
 * its reference (MDBEE_EVERIFY), decrypted spans must fit the tree
 * (MDBEE_EFORMAT), data longer than max_size is refused (MDBEE_EFORMAT)
 * before allocation.  *data is malloc'd and owned by the caller. */
int mdb_encrypt_tree_join(const uint8_t ref[MDB_ENCRYPT_REF_SIZE],
                          mdb_chunk_source source, void *ctx,
                          uint64_t max_size, uint8_t **data, size_t *size,
                          mdb_error *err);

/* ---- Convergent encryption ------------------------------------------
 *
 * Random keys make every upload of the same data different, so a
 * publisher that re-uploads a snapshot would get new references for
 * unchanged chunks.  Convergent encryption derives each chunk's key from a
 * secret and the chunk's plain bytes instead (key = Keccak256(domain ||
 * secret || span || payload)) and its padding from the key, so the same
 * secret and data always give the same encrypted chunks and references.
 * Without the secret the key cannot be guessed from the data; with it,
 * equal chunks are recognisable as equal (docs/protocol.md, "Encrypted
 * publication").  Readers need no secret: the key travels in the
 * reference, and the chunks decrypt as any Bee-encrypted chunk. */

#define MDB_ENCRYPT_SECRET_SIZE 32

/* Encrypts chunk (as mdb_encrypt_chunk) with the key and padding derived
 * from secret and the chunk's plain bytes, and writes the key. */
int mdb_encrypt_chunk_convergent(const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE],
                                 uint8_t *chunk, size_t *size,
                                 uint8_t key[MDB_ENCRYPT_KEY_SIZE],
                                 mdb_error *err);

/* mdb_encrypt_splitter_new with convergent keys; secret is copied (and
 * wiped by mdb_splitter_free).  Finish with mdb_encrypt_splitter_finish. */
int mdb_encrypt_convergent_splitter_new(
    const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE], mdb_chunk_sink sink,
    void *ctx, mdb_splitter **out, mdb_error *err);

/* One-shot convergent split of a buffer; sink may be NULL. */
int mdb_encrypt_convergent_split(const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE],
                                 const void *data, size_t len,
                                 mdb_chunk_sink sink, void *ctx,
                                 uint8_t ref[MDB_ENCRYPT_REF_SIZE],
                                 mdb_error *err);

#endif
