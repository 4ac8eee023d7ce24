/* The portable permutation of keccak_perm.inc, built with -mbmi -mbmi2
 * (see meson.build): GCC then computes chi with andn and rotates with
 * rorx, neither of which needs a register copy, and the permutation runs
 * about 20 % faster on the development machine (docs/performance.md).
 * Reached only after cpuid says the CPU has both extensions. */
#include "keccak_f.h"

#define KP_T uint64_t
#define KP_PERMUTE permute_bmi2
#include "keccak_perm.inc"

void mdb_keccakf_bmi2(uint64_t lanes[25]) { permute_bmi2(lanes); }
