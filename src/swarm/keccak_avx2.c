/* Compiled with -mavx2 (see meson.build); reached only after cpuid says
 * the CPU has AVX2. */
#include "keccak_f.h"

typedef uint64_t lanes4 __attribute__((vector_size(32)));

#define KP_T lanes4
#define KP_PERMUTE permute_x4
#define KP_LANES 4
#define KP_HASH mdb_keccak256_x4_avx2
#include "keccak_perm.inc"
