/* Internal: the Keccak-f[1600] implementations behind keccak.h and the
 * helpers they share for one-block messages. */
#ifndef MDBEE_KECCAK_F_H
#define MDBEE_KECCAK_F_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mdbee/keccak.h"

#define MDB_KECCAK_RATE 136

/* Portable permutation (keccak_scalar.c). */
void mdb_keccakf_scalar(uint64_t lanes[25]);

/* The portable permutation built with BMI1 and BMI2 (keccak_bmi2.c, only
 * on x86-64); call only when the CPU has both. */
void mdb_keccakf_bmi2(uint64_t lanes[25]);

/* Nettle's sha3_permute on our lane array (keccak_scalar.c). */
void mdb_keccakf_nettle(uint64_t lanes[25]);

/* Keccak-256 of 4 or 8 messages of len < MDB_KECCAK_RATE bytes each with
 * multi-buffer permutations (x8_avx2: two 4-way groups interleaved);
 * every input is read before any output is written.  Built only on
 * x86-64, with -mavx2 (x8_avx512: -mavx512f); call only when the CPU has
 * the extension. */
void mdb_keccak256_x4_avx2(const uint8_t *const in[4], size_t len,
                           uint8_t *const out[4]);
void mdb_keccak256_x8_avx2(const uint8_t *const in[8], size_t len,
                           uint8_t *const out[8]);
void mdb_keccak256_x8_avx512(const uint8_t *const in[8], size_t len,
                             uint8_t *const out[8]);

static inline void mdb_keccak_store_le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Word w of the single padded block holding a message of len bytes
 * (len < MDB_KECCAK_RATE): the bytes, then legacy Keccak padding 0x01 ...
 * 0x80, read little-endian. */
static inline uint64_t mdb_keccak_block_word(const uint8_t *in, size_t len,
                                             size_t w) {
  size_t pos = 8 * w;
  uint64_t v = 0;
  if (pos + 8 <= len) {
    for (int i = 7; i >= 0; i--) v = v << 8 | in[pos + (size_t)i];
    return v;
  }
  /* From here on len < pos + 8: this word holds the message's tail, if any,
   * and the first padding byte when len >= pos. */
  for (size_t i = pos; i < len; i++) v |= (uint64_t)in[i] << (8 * (i - pos));
  if (len >= pos) v ^= (uint64_t)0x01 << (8 * (len - pos));
  if (w == MDB_KECCAK_RATE / 8 - 1) v ^= (uint64_t)0x80 << 56;
  return v;
}

#endif
