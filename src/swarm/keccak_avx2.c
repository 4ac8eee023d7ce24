/* Keccak-256 of 4 short messages at once: one Keccak-f[1600] permutation
 * of 4 independent states, lane i of every state in one ymm register.
 * Compiled with -mavx2 (see meson.build); reached only after cpuid says the
 * CPU has AVX2.
 *
 * Written out by hand rather than through keccak_perm.inc because AVX2 has
 * no 64-bit rotate: the permutation is bound by vector ALU throughput (4
 * ops per cycle on the development machine's Zen 3, 2 of them shifts), so
 * every op saved counts (docs/performance.md has the measurements):
 *  - rotations by 8 and 56 are one byte shuffle instead of two shifts and
 *    an or;
 *  - the next round's column parities are accumulated while each row of
 *    the new state is produced, so no lane is read back from a spill slot
 *    only to compute them;
 *  - the last round computes only the 4 lanes a 256-bit digest reads;
 *  - 64-byte messages (every BMT node) are loaded and digests stored with
 *    4x4 transposes of whole 32-byte rows instead of lane-by-lane inserts
 *    and extracts. */
#include <immintrin.h>

#include "keccak_f.h"

typedef __m256i v4;

#define XOR(a, b) _mm256_xor_si256(a, b)
/* a ^ (~b & c): chi */
#define CHI(a, b, c) _mm256_xor_si256(a, _mm256_andnot_si256(b, c))

/* Rotations by a constant; n is a literal, so the choice folds away. */
#define ROL(v, n)                                                            \
  ((n) == 0    ? (v)                                                         \
   : (n) == 8  ? _mm256_shuffle_epi8(v, rot8)                                \
   : (n) == 56 ? _mm256_shuffle_epi8(v, rot56)                               \
               : _mm256_or_si256(_mm256_slli_epi64(v, (n) & 63),              \
                                 _mm256_srli_epi64(v, (64 - (n)) & 63)))
/* x + x is a left shift by one that runs on any vector ALU, not only the
 * two that shift. */
#define ROL1(v) _mm256_or_si256(_mm256_add_epi64(v, v), _mm256_srli_epi64(v, 63))

static const uint64_t rc[24] = {
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A,
    0x8000000080008000, 0x000000000000808B, 0x0000000080000001,
    0x8000000080008081, 0x8000000000008009, 0x000000000000008A,
    0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
    0x8000000000008003, 0x8000000000008002, 0x8000000000000080,
    0x000000000000800A, 0x800000008000000A, 0x8000000080008081,
    0x8000000000008080, 0x0000000080000001, 0x8000000080008008};

/* theta's D from the column parities c[5] */
#define THETA_D()                                                            \
  do {                                                                       \
    d[0] = XOR(c[4], ROL1(c[1]));                                            \
    d[1] = XOR(c[0], ROL1(c[2]));                                            \
    d[2] = XOR(c[1], ROL1(c[3]));                                            \
    d[3] = XOR(c[2], ROL1(c[4]));                                            \
    d[4] = XOR(c[3], ROL1(c[0]));                                            \
  } while (0)

/* Written out rather than looped: GCC at -O2 (meson's default build type)
 * keeps a looped-over array in memory, which halves the speed. */
#define PARITY_ADD(y, x)                                                     \
  (c[x] = (y) == 0 ? e[5 * (y) + (x)] : XOR(c[x], e[5 * (y) + (x)]))

/* Row y of the next state e from state a: theta (with d), rho and pi give
 * the five lanes b, chi combines them.  Source lanes sK with rotations rK
 * follow from pi: output (x, y) reads lane (x + 3y mod 5, x).  The row is
 * also added into the next round's column parities c. */
#define ROW(y, s0, r0, s1, r1, s2, r2, s3, r3, s4, r4)                       \
  do {                                                                       \
    v4 b0 = ROL(XOR(a[s0], d[(s0) % 5]), r0);                                \
    v4 b1 = ROL(XOR(a[s1], d[(s1) % 5]), r1);                                \
    v4 b2 = ROL(XOR(a[s2], d[(s2) % 5]), r2);                                \
    v4 b3 = ROL(XOR(a[s3], d[(s3) % 5]), r3);                                \
    v4 b4 = ROL(XOR(a[s4], d[(s4) % 5]), r4);                                \
    e[5 * (y) + 0] = CHI(b0, b1, b2);                                        \
    e[5 * (y) + 1] = CHI(b1, b2, b3);                                        \
    e[5 * (y) + 2] = CHI(b2, b3, b4);                                        \
    e[5 * (y) + 3] = CHI(b3, b4, b0);                                        \
    e[5 * (y) + 4] = CHI(b4, b0, b1);                                        \
    if ((y) == 0) e[0] = XOR(e[0], _mm256_set1_epi64x((long long)rc[r]));    \
    PARITY_ADD(y, 0);                                                        \
    PARITY_ADD(y, 1);                                                        \
    PARITY_ADD(y, 2);                                                        \
    PARITY_ADD(y, 3);                                                        \
    PARITY_ADD(y, 4);                                                        \
  } while (0)

/* One full round a -> e, given a's column parities in c (replaced by e's). */
static inline __attribute__((always_inline)) void
round4(const v4 a[25], v4 e[25], v4 c[5], int r, v4 rot8, v4 rot56) {
  v4 d[5];
  THETA_D();
  ROW(0, 0, 0, 6, 44, 12, 43, 18, 21, 24, 14);
  ROW(1, 3, 28, 9, 20, 10, 3, 16, 45, 22, 61);
  ROW(2, 1, 1, 7, 6, 13, 25, 19, 8, 20, 18);
  ROW(3, 4, 27, 5, 36, 11, 10, 17, 15, 23, 56);
  ROW(4, 2, 62, 8, 55, 14, 39, 15, 41, 21, 2);
}

#define ROT_CONSTANTS                                                        \
  const v4 rot8 = _mm256_set_epi8(14, 13, 12, 11, 10, 9, 8, 15, 6, 5, 4, 3, \
                                  2, 1, 0, 7, 14, 13, 12, 11, 10, 9, 8, 15, \
                                  6, 5, 4, 3, 2, 1, 0, 7);                  \
  const v4 rot56 = _mm256_set_epi8(8, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6,  \
                                   5, 4, 3, 2, 1, 8, 15, 14, 13, 12, 11, 10, \
                                   9, 0, 7, 6, 5, 4, 3, 2, 1)

static inline __attribute__((always_inline)) void parity(const v4 a[25],
                                                         v4 c[5]) {
#define COLUMN(x)                                                            \
  (c[x] = XOR(XOR(XOR(a[x], a[(x) + 5]), XOR(a[(x) + 10], a[(x) + 15])),      \
              a[(x) + 20]))
  COLUMN(0);
  COLUMN(1);
  COLUMN(2);
  COLUMN(3);
  COLUMN(4);
#undef COLUMN
}

/* Round 23, row 0 only: lanes 0..3 of a from e. */
static inline __attribute__((always_inline)) void
last_round(v4 a[4], const v4 e[25], const v4 c[5]) {
  v4 d[5];
  THETA_D();
  v4 b0 = XOR(e[0], d[0]);
  v4 b1 = _mm256_or_si256(_mm256_slli_epi64(XOR(e[6], d[1]), 44),
                          _mm256_srli_epi64(XOR(e[6], d[1]), 20));
  v4 b2 = _mm256_or_si256(_mm256_slli_epi64(XOR(e[12], d[2]), 43),
                          _mm256_srli_epi64(XOR(e[12], d[2]), 21));
  v4 b3 = _mm256_or_si256(_mm256_slli_epi64(XOR(e[18], d[3]), 21),
                          _mm256_srli_epi64(XOR(e[18], d[3]), 43));
  v4 b4 = _mm256_or_si256(_mm256_slli_epi64(XOR(e[24], d[4]), 14),
                          _mm256_srli_epi64(XOR(e[24], d[4]), 50));
  a[0] = XOR(CHI(b0, b1, b2), _mm256_set1_epi64x((long long)rc[23]));
  a[1] = CHI(b1, b2, b3);
  a[2] = CHI(b2, b3, b4);
  a[3] = CHI(b3, b4, b0);
}

enum { MAX_GROUPS = 2 };

/* Keccak-f[1600] on `groups` sets of 4 states (a constant after
 * inlining), of which only lanes 0..3 (the 256-bit digest) are computed in
 * the last round.  A round ends with every lane feeding the next round's
 * theta, so one group alone leaves the vector units idle at each round
 * boundary; the other group's round, already in the out-of-order window,
 * fills that gap.  The loop body is one round of one group, the states
 * swapped by pointer: GCC keeps the loop over groups rolled, and a body
 * of about 240 instructions stays in the core's op cache.  With two
 * rounds of both groups written out (about 900 instructions, 5.4 KB) the
 * speed depended on where the linker placed the loop, by about 10 %
 * (docs/performance.md). */
static inline __attribute__((always_inline)) void permute(v4 (*a)[25],
                                                          int groups) {
  ROT_CONSTANTS;
  v4 buf[MAX_GROUPS][25], c[MAX_GROUPS][5];
  v4(*cur)[25] = a, (*next)[25] = buf, (*t)[25];
  for (int g = 0; g < groups; g++) parity(a[g], c[g]);
  for (int r = 0; r < 23; r++) {
    for (int g = 0; g < groups; g++)
      round4(cur[g], next[g], c[g], r, rot8, rot56);
    t = cur;
    cur = next;
    next = t;
  }
  for (int g = 0; g < groups; g++) last_round(a[g], cur[g], c[g]);
}

/* r[0..3] = rows, transposed: r[w] gets word w of each of the 4 rows. */
static inline void transpose4(v4 r[4]) {
  v4 t0 = _mm256_unpacklo_epi64(r[0], r[1]); /* 00 10 02 12 */
  v4 t1 = _mm256_unpackhi_epi64(r[0], r[1]); /* 01 11 03 13 */
  v4 t2 = _mm256_unpacklo_epi64(r[2], r[3]); /* 20 30 22 32 */
  v4 t3 = _mm256_unpackhi_epi64(r[2], r[3]); /* 21 31 23 33 */
  r[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
  r[1] = _mm256_permute2x128_si256(t1, t3, 0x20);
  r[2] = _mm256_permute2x128_si256(t0, t2, 0x31);
  r[3] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "lanes are loaded in host byte order");

/* The padded block of 4 messages of len bytes into a fresh state. */
static inline __attribute__((always_inline)) void
absorb(v4 a[25], const uint8_t *const in[4], size_t len) {
  size_t w = 0;
  for (; w + 4 <= len / 8; w += 4) {
    v4 r[4];
    for (int l = 0; l < 4; l++)
      r[l] = _mm256_loadu_si256((const v4 *)(in[l] + 8 * w));
    transpose4(r);
    for (size_t k = 0; k < 4; k++) a[w + k] = r[k];
  }
  for (; w < MDB_KECCAK_RATE / 8; w++)
    a[w] = _mm256_set_epi64x((long long)mdb_keccak_block_word(in[3], len, w),
                             (long long)mdb_keccak_block_word(in[2], len, w),
                             (long long)mdb_keccak_block_word(in[1], len, w),
                             (long long)mdb_keccak_block_word(in[0], len, w));
  for (; w < 25; w++) a[w] = _mm256_setzero_si256();
}

/* Digests of 4 * groups messages of len bytes. */
static inline __attribute__((always_inline)) void
hash_groups(const uint8_t *const *in, size_t len, uint8_t *const *out,
            int groups) {
  v4 a[MAX_GROUPS][25];
  /* A BMT node is 64 bytes; a constant length turns the padding into
   * constants. */
  for (int g = 0; g < groups; g++)
    if (len == 64)
      absorb(a[g], in + 4 * g, 64);
    else
      absorb(a[g], in + 4 * g, len);
  permute(a, groups);
  for (int g = 0; g < groups; g++) {
    transpose4(a[g]);
    for (int l = 0; l < 4; l++)
      _mm256_storeu_si256((v4 *)out[4 * g + l], a[g][l]);
  }
}

void mdb_keccak256_x4_avx2(const uint8_t *const in[4], size_t len,
                           uint8_t *const out[4]) {
  hash_groups(in, len, out, 1);
}

void mdb_keccak256_x8_avx2(const uint8_t *const in[8], size_t len,
                           uint8_t *const out[8]) {
  hash_groups(in, len, out, 2);
}
