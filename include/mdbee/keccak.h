/* Legacy Keccak-256 (the Ethereum/Swarm hash: padding byte 0x01, not SHA3's
 * 0x06).  The context holds no heap memory. */
#ifndef MDBEE_KECCAK_H
#define MDBEE_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define MDB_KECCAK_SIZE 32

typedef struct mdb_keccak {
  uint64_t lanes[25];
  size_t absorbed; /* bytes absorbed into the current 136-byte block */
} mdb_keccak;

/* Starts a new hash. */
void mdb_keccak_init(mdb_keccak *ctx);

/* Absorbs len bytes; may be called any number of times. */
void mdb_keccak_update(mdb_keccak *ctx, const void *data, size_t len);

/* Writes the 32-byte digest; ctx must be re-initialised before reuse. */
void mdb_keccak_final(mdb_keccak *ctx, uint8_t out[MDB_KECCAK_SIZE]);

/* One-shot digest of data. */
void mdb_keccak256(const void *data, size_t len, uint8_t out[MDB_KECCAK_SIZE]);

#endif
