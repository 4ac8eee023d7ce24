/* Swarm chunk encryption (see include/mdbee/encrypt.h), learnt from Bee's
 * pkg/encryption and checked against it (docs/protocol.md, Encryption). */
#include "mdbee/encrypt.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mdbee/keccak.h"
#include "tree_internal.h"

/* The span's keystream starts after the payload's 128 segments. */
#define SPAN_COUNTER (MDB_CHUNK_PAYLOAD_MAX / MDB_SEGMENT_SIZE)
#define KEY_BRANCHES (MDB_CHUNK_PAYLOAD_MAX / MDB_ENCRYPT_REF_SIZE)

int mdb_encrypt_random_system(void *ctx, uint8_t *buf, size_t len,
                              mdb_error *err) {
  (void)ctx;
  if (sodium_init() < 0)
    return mdb_error_set(err, MDBEE_ECRYPTO, "libsodium failed to start");
  randombytes_buf(buf, len);
  return MDBEE_OK;
}

/* XORs len bytes of buf with the keystream from counter ctr0 on: segment i
 * uses Keccak256(Keccak256(key || le32(ctr0 + i))). */
static void transcrypt(const uint8_t key[MDB_ENCRYPT_KEY_SIZE], uint32_t ctr0,
                       uint8_t *buf, size_t len) {
  enum { SEGS = MDB_CHUNK_PAYLOAD_MAX / MDB_SEGMENT_SIZE };
  uint8_t seed[SEGS][MDB_ENCRYPT_KEY_SIZE + 4];
  const uint8_t *in[SEGS];
  uint8_t *out[SEGS];
  size_t n = (len + MDB_SEGMENT_SIZE - 1) / MDB_SEGMENT_SIZE;
  for (size_t i = 0; i < n; i++) {
    uint32_t ctr = ctr0 + (uint32_t)i;
    memcpy(seed[i], key, MDB_ENCRYPT_KEY_SIZE);
    for (int b = 0; b < 4; b++)
      seed[i][MDB_ENCRYPT_KEY_SIZE + b] = (uint8_t)(ctr >> (8 * b));
    in[i] = seed[i];
    out[i] = seed[i];
  }
  /* Both rounds in place: digest i overwrites input i only. */
  mdb_keccak256_many(in, MDB_ENCRYPT_KEY_SIZE + 4, out, n);
  mdb_keccak256_many(in, MDB_KECCAK_SIZE, out, n);
  for (size_t i = 0; i < len; i++)
    buf[i] ^= seed[i / MDB_SEGMENT_SIZE][i % MDB_SEGMENT_SIZE];
}

int mdb_encrypt_chunk(const uint8_t key[MDB_ENCRYPT_KEY_SIZE], uint8_t *chunk,
                      size_t *size, mdb_encrypt_random random, void *rctx,
                      mdb_error *err) {
  if (*size < MDB_SPAN_SIZE || *size > MDB_CHUNK_SIZE_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "chunk of %zu bytes", *size);
  size_t payload = *size - MDB_SPAN_SIZE;
  transcrypt(key, SPAN_COUNTER, chunk, MDB_SPAN_SIZE);
  transcrypt(key, 0, chunk + MDB_SPAN_SIZE, payload);
  int rc = random(rctx, chunk + MDB_SPAN_SIZE + payload,
                  MDB_CHUNK_PAYLOAD_MAX - payload, err);
  if (rc != MDBEE_OK) return rc;
  *size = MDB_CHUNK_SIZE_MAX;
  return MDBEE_OK;
}

int mdb_encrypt_chunk_open(const uint8_t key[MDB_ENCRYPT_KEY_SIZE],
                           uint8_t *chunk, size_t *size, mdb_error *err) {
  if (*size != MDB_CHUNK_SIZE_MAX)
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "encrypted chunk of %zu bytes (must be %d)", *size,
                         MDB_CHUNK_SIZE_MAX);
  transcrypt(key, SPAN_COUNTER, chunk, MDB_SPAN_SIZE);
  /* The padding is only recognisable from the span: an intermediate
   * chunk holds as many references as its span needs (never more than
   * fit, whatever the span). */
  uint64_t span = mdb_bmt_span_decode(chunk), payload = span;
  if (span > MDB_CHUNK_PAYLOAD_MAX) {
    uint64_t cap = mdb_tree_child_capacity(span, KEY_BRANCHES);
    payload = (span / cap + (span % cap != 0)) * MDB_ENCRYPT_REF_SIZE;
  }
  transcrypt(key, 0, chunk + MDB_SPAN_SIZE, payload);
  *size = MDB_SPAN_SIZE + payload;
  return MDBEE_OK;
}

struct sealer {
  mdb_encrypt_random random;
  void *rctx;
};

static int seal(void *ctx, uint8_t *chunk, size_t *size, uint8_t *key,
                mdb_error *err) {
  struct sealer *s = ctx;
  int rc = s->random(s->rctx, key, MDB_ENCRYPT_KEY_SIZE, err);
  return rc == MDBEE_OK ? mdb_encrypt_chunk(key, chunk, size, s->random,
                                            s->rctx, err)
                        : rc;
}

static int open_sealed(void *ctx, const uint8_t *key, uint8_t *chunk,
                       size_t *size, mdb_error *err) {
  (void)ctx;
  return mdb_encrypt_chunk_open(key, chunk, size, err);
}

/* An encrypting splitter sealing with seal(sctx, ...); sctx (NULL: out of
 * memory) is freed with free_ctx by mdb_splitter_free, or here on failure. */
static int sealing_splitter(int (*seal)(void *, uint8_t *, size_t *,
                                        uint8_t *, mdb_error *),
                            void *sctx, void (*free_ctx)(void *),
                            mdb_chunk_sink sink, void *ctx,
                            mdb_splitter **out, mdb_error *err) {
  if (!sctx) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  mdb_tree_codec codec = {.ref_size = MDB_ENCRYPT_REF_SIZE,
                          .seal = seal,
                          .ctx = sctx,
                          .free_ctx = free_ctx};
  int rc = mdb_tree_splitter_new(&codec, sink, ctx, out, err);
  if (rc != MDBEE_OK) free_ctx(sctx);
  return rc;
}

int mdb_encrypt_splitter_new(mdb_encrypt_random random, void *rctx,
                             mdb_chunk_sink sink, void *ctx,
                             mdb_splitter **out, mdb_error *err) {
  struct sealer *s = malloc(sizeof *s);
  if (s) *s = (struct sealer){random, rctx};
  return sealing_splitter(seal, s, free, sink, ctx, out, err);
}

int mdb_encrypt_splitter_finish(mdb_splitter *sp,
                                uint8_t ref[MDB_ENCRYPT_REF_SIZE],
                                mdb_error *err) {
  if (mdb_tree_splitter_ref_size(sp) != MDB_ENCRYPT_REF_SIZE)
    return mdb_error_set(err, MDBEE_EINVAL, "not an encrypting splitter");
  return mdb_tree_splitter_finish(sp, ref, err);
}

/* Writes data through the new encrypting splitter sp (rc: how making it
 * went), finishes and frees it. */
static int split_once(int rc, mdb_splitter *sp, const void *data, size_t len,
                      uint8_t ref[MDB_ENCRYPT_REF_SIZE], mdb_error *err) {
  if (rc != MDBEE_OK) return rc;
  rc = mdb_splitter_write(sp, data, len, err);
  if (rc == MDBEE_OK) rc = mdb_encrypt_splitter_finish(sp, ref, err);
  mdb_splitter_free(sp);
  return rc;
}

/* Domains of the convergent derivations (NUL included when hashed). */
static const char KEY_DOMAIN[] = "mdbee:chunk-key:v1";
static const char PAD_DOMAIN[] = "mdbee:chunk-pad:v1";

/* The padding of a convergent chunk: the ChaCha20 (RFC 8439) keystream
 * under Keccak256(domain || key) with a zero nonce (each seed is used
 * once) - pseudo-random to anyone without the key, like Bee's random
 * padding, and far cheaper than Keccak blocks, which would cost as much as
 * the chunk's own hash.  An mdb_encrypt_random over struct padding. */
struct padding {
  const uint8_t *key;
};

static int derived_padding(void *ctx, uint8_t *buf, size_t len,
                           mdb_error *err) {
  (void)err;
  const struct padding *pd = ctx;
  uint8_t seed[crypto_stream_chacha20_ietf_KEYBYTES];
  static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
  mdb_keccak h;
  mdb_keccak_init(&h);
  mdb_keccak_update(&h, PAD_DOMAIN, sizeof PAD_DOMAIN);
  mdb_keccak_update(&h, pd->key, MDB_ENCRYPT_KEY_SIZE);
  mdb_keccak_final(&h, seed);
  crypto_stream_chacha20_ietf(buf, len, nonce, seed);
  sodium_memzero(seed, sizeof seed);
  return MDBEE_OK;
}

int mdb_encrypt_chunk_convergent(const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE],
                                 uint8_t *chunk, size_t *size,
                                 uint8_t key[MDB_ENCRYPT_KEY_SIZE],
                                 mdb_error *err) {
  if (*size < MDB_SPAN_SIZE || *size > MDB_CHUNK_SIZE_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "chunk of %zu bytes", *size);
  if (sodium_init() < 0)
    return mdb_error_set(err, MDBEE_ECRYPTO, "libsodium failed to start");
  mdb_keccak h;
  mdb_keccak_init(&h);
  mdb_keccak_update(&h, KEY_DOMAIN, sizeof KEY_DOMAIN);
  mdb_keccak_update(&h, secret, MDB_ENCRYPT_SECRET_SIZE);
  mdb_keccak_update(&h, chunk, *size);
  mdb_keccak_final(&h, key);
  sodium_memzero(&h, sizeof h);
  struct padding pd = {key};
  return mdb_encrypt_chunk(key, chunk, size, derived_padding, &pd, err);
}

static int seal_convergent(void *ctx, uint8_t *chunk, size_t *size,
                           uint8_t *key, mdb_error *err) {
  return mdb_encrypt_chunk_convergent(ctx, chunk, size, key, err);
}

static void free_secret(void *ctx) {
  sodium_memzero(ctx, MDB_ENCRYPT_SECRET_SIZE);
  free(ctx);
}

int mdb_encrypt_convergent_splitter_new(
    const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE], mdb_chunk_sink sink,
    void *ctx, mdb_splitter **out, mdb_error *err) {
  uint8_t *copy = malloc(MDB_ENCRYPT_SECRET_SIZE);
  if (copy) memcpy(copy, secret, MDB_ENCRYPT_SECRET_SIZE);
  return sealing_splitter(seal_convergent, copy, free_secret, sink, ctx, out,
                          err);
}

int mdb_encrypt_convergent_split(const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE],
                                 const void *data, size_t len,
                                 mdb_chunk_sink sink, void *ctx,
                                 uint8_t ref[MDB_ENCRYPT_REF_SIZE],
                                 mdb_error *err) {
  mdb_splitter *sp = NULL;
  int rc = mdb_encrypt_convergent_splitter_new(secret, sink, ctx, &sp, err);
  return split_once(rc, sp, data, len, ref, err);
}

int mdb_encrypt_tree_split(const void *data, size_t len,
                           mdb_encrypt_random random, void *rctx,
                           mdb_chunk_sink sink, void *ctx,
                           uint8_t ref[MDB_ENCRYPT_REF_SIZE], mdb_error *err) {
  mdb_splitter *sp = NULL;
  int rc = mdb_encrypt_splitter_new(random, rctx, sink, ctx, &sp, err);
  return split_once(rc, sp, data, len, ref, err);
}

int mdb_encrypt_tree_join(const uint8_t ref[MDB_ENCRYPT_REF_SIZE],
                          mdb_chunk_source source, void *ctx,
                          uint64_t max_size, uint8_t **data, size_t *size,
                          mdb_error *err) {
  const mdb_tree_codec codec = {.ref_size = MDB_ENCRYPT_REF_SIZE,
                                .open = open_sealed};
  return mdb_tree_join(&codec, ref, source, ctx, max_size, data, size, err);
}
