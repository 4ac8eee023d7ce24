/* Compiled with -mavx512f (see meson.build); reached only after cpuid says
 * the CPU has AVX-512F.  GCC turns the rotations into vprolq and the chi
 * step into vpternlogq. */
#include "keccak_f.h"

typedef uint64_t lanes8 __attribute__((vector_size(64)));

#define KP_T lanes8
#define KP_PERMUTE permute_x8
#define KP_LANES 8
#define KP_HASH mdb_keccak256_x8_avx512
#include "keccak_perm.inc"
