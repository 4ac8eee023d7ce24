#include "mdbee/keccak.h"

#include <nettle/sha3.h>
#include <string.h>

enum { RATE = 136 };

_Static_assert(sizeof(struct sha3_state) == sizeof(uint64_t[25]),
               "nettle's sha3_state must be the 25-lane Keccak state");

static void permute(mdb_keccak *ctx) {
  struct sha3_state st;
  memcpy(st.a, ctx->lanes, sizeof st.a);
  sha3_permute(&st);
  memcpy(ctx->lanes, st.a, sizeof st.a);
}

/* Lanes are little-endian, independent of the host byte order. */
static void xor_byte(mdb_keccak *ctx, size_t pos, uint8_t b) {
  ctx->lanes[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

void mdb_keccak_init(mdb_keccak *ctx) { memset(ctx, 0, sizeof *ctx); }

void mdb_keccak_update(mdb_keccak *ctx, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len--) {
    xor_byte(ctx, ctx->absorbed++, *p++);
    if (ctx->absorbed == RATE) {
      permute(ctx);
      ctx->absorbed = 0;
    }
  }
}

void mdb_keccak_final(mdb_keccak *ctx, uint8_t out[MDB_KECCAK_SIZE]) {
  xor_byte(ctx, ctx->absorbed, 0x01);
  xor_byte(ctx, RATE - 1, 0x80);
  permute(ctx);
  for (size_t i = 0; i < MDB_KECCAK_SIZE; i++)
    out[i] = (uint8_t)(ctx->lanes[i / 8] >> (8 * (i % 8)));
}

void mdb_keccak256(const void *data, size_t len, uint8_t out[MDB_KECCAK_SIZE]) {
  mdb_keccak ctx;
  mdb_keccak_init(&ctx);
  mdb_keccak_update(&ctx, data, len);
  mdb_keccak_final(&ctx, out);
}
