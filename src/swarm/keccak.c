#include "mdbee/keccak.h"

#include <stdatomic.h>
#include <string.h>

#include "keccak_f.h"
#include "mdbee/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86_SIMD 1
#else
#define HAVE_X86_SIMD 0
#endif

/* The one-state permutation used when no multi-buffer one applies: our
 * portable C measured a little faster than Nettle's sha3_permute on the
 * development machine (bench/hash, docs/performance.md), and needs no
 * assembly on other architectures.  Where the multi-buffer ones are in use
 * and the CPU has BMI1 and BMI2, the build of the same C with those
 * extensions takes its place (one_state below). */
#define FASTEST_ONE_STATE MDB_KECCAK_SCALAR

#if HAVE_X86_SIMD
static int have_bmi2(void) {
  return __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}
#endif

/* 0 = not resolved yet; resolved on first use or by select. */
static _Atomic int current_impl;

int mdb_keccak_impl_available(mdb_keccak_impl impl) {
  switch (impl) {
  case MDB_KECCAK_AUTO:
  case MDB_KECCAK_NETTLE:
  case MDB_KECCAK_SCALAR:
    return 1;
#if HAVE_X86_SIMD
  case MDB_KECCAK_AVX2:
    return __builtin_cpu_supports("avx2") ? 1 : 0;
  case MDB_KECCAK_AVX512:
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#endif
  default:
    return 0;
  }
}

static mdb_keccak_impl fastest(void) {
  if (mdb_keccak_impl_available(MDB_KECCAK_AVX512)) return MDB_KECCAK_AVX512;
  if (mdb_keccak_impl_available(MDB_KECCAK_AVX2)) return MDB_KECCAK_AVX2;
  return FASTEST_ONE_STATE;
}

int mdb_keccak_impl_select(mdb_keccak_impl impl) {
  if (!mdb_keccak_impl_available(impl)) return MDBEE_EINVAL;
  atomic_store(&current_impl, impl == MDB_KECCAK_AUTO ? fastest() : impl);
  return MDBEE_OK;
}

mdb_keccak_impl mdb_keccak_impl_current(void) {
  int impl = atomic_load_explicit(&current_impl, memory_order_relaxed);
  if (impl == MDB_KECCAK_AUTO) {
    impl = fastest();
    atomic_store(&current_impl, impl);
  }
  return (mdb_keccak_impl)impl;
}

const char *mdb_keccak_impl_name(mdb_keccak_impl impl) {
  switch (impl) {
  case MDB_KECCAK_AUTO: return "auto";
  case MDB_KECCAK_NETTLE: return "nettle";
  case MDB_KECCAK_SCALAR: return "scalar";
  case MDB_KECCAK_AVX2: return "avx2";
  case MDB_KECCAK_AVX512: return "avx512";
  }
  return NULL;
}

void mdb_keccak_f1600(uint64_t lanes[25]) {
  mdb_keccak_impl impl = mdb_keccak_impl_current();
  if (impl == MDB_KECCAK_AVX2 || impl == MDB_KECCAK_AVX512) {
#if HAVE_X86_SIMD
    if (have_bmi2()) {
      mdb_keccakf_bmi2(lanes);
      return;
    }
#endif
    impl = FASTEST_ONE_STATE;
  }
  if (impl == MDB_KECCAK_SCALAR)
    mdb_keccakf_scalar(lanes);
  else
    mdb_keccakf_nettle(lanes);
}

static void hash_one(const uint8_t *in, size_t len, uint8_t *out) {
  uint64_t st[25] = {0};
  for (size_t w = 0; w < MDB_KECCAK_RATE / 8; w++)
    st[w] = mdb_keccak_block_word(in, len, w);
  mdb_keccak_f1600(st);
  for (size_t w = 0; w < MDB_KECCAK_SIZE / 8; w++)
    mdb_keccak_store_le(out + 8 * w, st[w]);
}

#if HAVE_X86_SIMD
/* Fewer than 4 messages still take one 4-way permutation (cheaper than
 * even two one-state ones): idle lanes repeat message 0 into scratch. */
static void hash_x4_partial(const uint8_t *const *in, size_t len,
                            uint8_t *const *out, size_t n) {
  uint8_t scratch[4][MDB_KECCAK_SIZE];
  const uint8_t *lin[4];
  uint8_t *lout[4];
  for (size_t l = 0; l < 4; l++) {
    lin[l] = l < n ? in[l] : in[0];
    lout[l] = l < n ? out[l] : scratch[l];
  }
  mdb_keccak256_x4_avx2(lin, len, lout);
}
#endif

void mdb_keccak256_many(const uint8_t *const *in, size_t len,
                        uint8_t *const *out, size_t n) {
  size_t i = 0;
#if HAVE_X86_SIMD
  mdb_keccak_impl impl = mdb_keccak_impl_current();
  if (impl == MDB_KECCAK_AVX512)
    for (; i + 8 <= n; i += 8) mdb_keccak256_x8_avx512(in + i, len, out + i);
  if (impl == MDB_KECCAK_AVX2)
    for (; i + 8 <= n; i += 8) mdb_keccak256_x8_avx2(in + i, len, out + i);
  if (impl == MDB_KECCAK_AVX512 || impl == MDB_KECCAK_AVX2) {
    for (; i + 4 <= n; i += 4) mdb_keccak256_x4_avx2(in + i, len, out + i);
    /* A lone message takes about a tenth less time on the one-state BMI
     * permutation than in a 4-way one (docs/performance.md); two or three
     * still share a 4-way one.  A single chunk's upper BMT levels are
     * lone messages. */
    if (i + 1 == n && have_bmi2())
      hash_one(in[i], len, out[i]);
    else if (i < n)
      hash_x4_partial(in + i, len, out + i, n - i);
    return;
  }
#endif
  for (; i < n; i++) hash_one(in[i], len, out[i]);
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
    if (ctx->absorbed == MDB_KECCAK_RATE) {
      mdb_keccak_f1600(ctx->lanes);
      ctx->absorbed = 0;
    }
  }
}

void mdb_keccak_final(mdb_keccak *ctx, uint8_t out[MDB_KECCAK_SIZE]) {
  xor_byte(ctx, ctx->absorbed, 0x01);
  xor_byte(ctx, MDB_KECCAK_RATE - 1, 0x80);
  mdb_keccak_f1600(ctx->lanes);
  for (size_t i = 0; i < MDB_KECCAK_SIZE; i++)
    out[i] = (uint8_t)(ctx->lanes[i / 8] >> (8 * (i % 8)));
}

void mdb_keccak256(const void *data, size_t len, uint8_t out[MDB_KECCAK_SIZE]) {
  mdb_keccak ctx;
  mdb_keccak_init(&ctx);
  mdb_keccak_update(&ctx, data, len);
  mdb_keccak_final(&ctx, out);
}
