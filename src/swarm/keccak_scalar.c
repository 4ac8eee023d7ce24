#include <nettle/sha3.h>
#include <string.h>

#include "keccak_f.h"

#define KP_T uint64_t
#define KP_PERMUTE permute_scalar
#include "keccak_perm.inc"

void mdb_keccakf_scalar(uint64_t lanes[25]) { permute_scalar(lanes); }

_Static_assert(sizeof(struct sha3_state) == sizeof(uint64_t[25]),
               "nettle's sha3_state must be the 25-lane Keccak state");

void mdb_keccakf_nettle(uint64_t lanes[25]) {
  struct sha3_state st;
  memcpy(st.a, lanes, sizeof st.a);
  sha3_permute(&st);
  memcpy(lanes, st.a, sizeof st.a);
}
