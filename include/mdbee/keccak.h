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

/* Longest message mdb_keccak256_many takes: one 136-byte block minus the
 * padding byte. */
#define MDB_KECCAK_SHORT_MAX 135

/* Digests of n messages of len bytes each (len <= MDB_KECCAK_SHORT_MAX):
 * out[i] = Keccak256(in[i], len).  Several messages share one permutation
 * when a multi-buffer implementation is in use.  out[i] may overlap in[j]
 * only when j <= i (the BMT hashes a tree level in place this way). */
void mdb_keccak256_many(const uint8_t *const *in, size_t len,
                        uint8_t *const *out, size_t n);

/* The Keccak-f[1600] permutation of 25 little-endian lanes, with the
 * one-state implementation currently in use. */
void mdb_keccak_f1600(uint64_t lanes[25]);

/* Implementations of the permutation.  All give identical digests; they
 * differ in speed and in what the CPU must support. */
typedef enum mdb_keccak_impl {
  MDB_KECCAK_AUTO = 0, /* the fastest one this CPU runs (the default) */
  MDB_KECCAK_NETTLE,   /* Nettle's sha3_permute, one state at a time */
  MDB_KECCAK_SCALAR,   /* mdbee's portable C, one state at a time */
  MDB_KECCAK_AVX2,     /* 4 states per permutation in ymm registers */
  MDB_KECCAK_AVX512    /* 8 states per permutation in zmm registers */
} mdb_keccak_impl;

/* Returns 1 when impl runs on this build and CPU (cpuid), else 0. */
int mdb_keccak_impl_available(mdb_keccak_impl impl);

/* Makes impl the one every later hash in the process uses (tests and
 * benchmarks force each in turn).  MDB_KECCAK_AUTO restores the default.
 * Returns MDBEE_OK, or MDBEE_EINVAL when impl is unknown or unavailable
 * (the selection is then unchanged). */
int mdb_keccak_impl_select(mdb_keccak_impl impl);

/* The implementation in use, never MDB_KECCAK_AUTO. */
mdb_keccak_impl mdb_keccak_impl_current(void);

/* Static lower-case name ("nettle", "scalar", "avx2", "avx512", "auto"),
 * or NULL for an unknown value. */
const char *mdb_keccak_impl_name(mdb_keccak_impl impl);

#endif
