#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "mdbee/encrypt.h"
#include "mdbee/keccak.h"
#include "support.h"

/* A deterministic "random" source: a counter hashed with Keccak.  fail
 * makes it refuse from the given call on (0: never). */
struct fake_random {
  uint64_t counter;
  size_t calls, fail_at;
};

static int fake_random(void *ctx, uint8_t *buf, size_t len, mdb_error *err) {
  struct fake_random *r = ctx;
  if (r->fail_at && ++r->calls >= r->fail_at)
    return mdb_error_set(err, MDBEE_ECRYPTO, "entropy exhausted");
  for (size_t off = 0; off < len; off += MDB_KECCAK_SIZE) {
    uint8_t block[MDB_KECCAK_SIZE];
    mdb_keccak256(&r->counter, sizeof r->counter, block);
    r->counter++;
    size_t take = len - off < sizeof block ? len - off : sizeof block;
    memcpy(buf + off, block, take);
  }
  return MDBEE_OK;
}

/* The keystream segment for counter ctr, computed on its own. */
static void segment_key(const uint8_t key[32], uint32_t ctr, uint8_t out[32]) {
  uint8_t seed[36];
  memcpy(seed, key, 32);
  for (int b = 0; b < 4; b++) seed[32 + b] = (uint8_t)(ctr >> (8 * b));
  mdb_keccak256(seed, sizeof seed, out);
  mdb_keccak256(out, 32, out);
}

/* One chunk against the scheme written out segment by segment: span with
 * counter 128, payload from counter 0, padding from the random source. */
static void test_chunk_keystream(void **state) {
  (void)state;
  const size_t lengths[] = {0, 1, 31, 32, 33, 1000, 4095, 4096};
  for (size_t t = 0; t < sizeof lengths / sizeof lengths[0]; t++) {
    size_t n = lengths[t], size = MDB_SPAN_SIZE + n;
    uint8_t key[32], chunk[MDB_CHUNK_SIZE_MAX], plain[MDB_CHUNK_SIZE_MAX];
    uint8_t *data = test_pattern(n);
    memset(key, (int)t + 1, sizeof key);
    mdb_bmt_span_encode(n, plain);
    memcpy(plain + MDB_SPAN_SIZE, data, n);
    memcpy(chunk, plain, size);
    struct fake_random r = {0}, padding = {0};
    mdb_error err = {0};
    assert_int_equal(mdb_encrypt_chunk(key, chunk, &size, fake_random, &r,
                                       &err),
                     MDBEE_OK);
    assert_int_equal(size, MDB_CHUNK_SIZE_MAX);
    uint8_t ks[32];
    segment_key(key, 128, ks);
    for (size_t i = 0; i < MDB_SPAN_SIZE; i++)
      assert_int_equal(chunk[i], plain[i] ^ ks[i]);
    for (size_t i = 0; i < n; i++) {
      if (i % 32 == 0) segment_key(key, (uint32_t)(i / 32), ks);
      assert_int_equal(chunk[MDB_SPAN_SIZE + i],
                       plain[MDB_SPAN_SIZE + i] ^ ks[i % 32]);
    }
    if (n < MDB_CHUNK_PAYLOAD_MAX) {
      uint8_t pad[MDB_CHUNK_PAYLOAD_MAX];
      fake_random(&padding, pad, MDB_CHUNK_PAYLOAD_MAX - n, &err);
      assert_memory_equal(chunk + MDB_SPAN_SIZE + n, pad,
                          MDB_CHUNK_PAYLOAD_MAX - n);
    }

    assert_int_equal(mdb_encrypt_chunk_open(key, chunk, &size, &err),
                     MDBEE_OK);
    assert_int_equal(size, MDB_SPAN_SIZE + n);
    assert_memory_equal(chunk, plain, size);
    free(data);
  }
}

static void test_chunk_open_rejects(void **state) {
  (void)state;
  uint8_t key[32] = {7}, chunk[MDB_CHUNK_SIZE_MAX] = {0};
  size_t size = 100;
  mdb_error err = {0};
  assert_int_equal(mdb_encrypt_chunk_open(key, chunk, &size, &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "must be 4104"));
  /* An intermediate chunk's payload is as long as its span needs: 64
   * bytes per reference. */
  uint8_t ks[32];
  segment_key(key, 128, ks);
  mdb_bmt_span_encode(5000, chunk);
  for (int i = 0; i < 8; i++) chunk[i] ^= ks[i];
  size = MDB_CHUNK_SIZE_MAX;
  assert_int_equal(mdb_encrypt_chunk_open(key, chunk, &size, &err), MDBEE_OK);
  assert_int_equal(size, MDB_SPAN_SIZE + 2 * MDB_ENCRYPT_REF_SIZE);
  assert_int_equal(mdb_bmt_span_decode(chunk), 5000);
}

/* Splits n pattern bytes encrypted into s; writes the reference. */
static void split_into(test_store *s, size_t n, uint64_t seed,
                       uint8_t ref[MDB_ENCRYPT_REF_SIZE]) {
  uint8_t *data = test_pattern(n);
  struct fake_random r = {.counter = seed};
  mdb_error err = {0};
  assert_int_equal(mdb_encrypt_tree_split(data, n, fake_random, &r,
                                          test_store_sink, s, ref, &err),
                   MDBEE_OK);
  free(data);
}

static void test_tree_round_trip(void **state) {
  (void)state;
  /* 64 references per intermediate chunk: 64 * 4096 + 1 bytes is 65
   * leaves, one intermediate chunk of 64 and the last leaf carried up. */
  const struct {
    size_t len, chunks;
  } cases[] = {{0, 1},
               {1, 1},
               {4096, 1},
               {4097, 3},
               {64 * 4096, 65},
               {64 * 4096 + 1, 67},
               {2 * 64 * 4096 + 3 * 4096 + 5, 2 * 64 + 4 + 2 + 1 + 1}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    test_store s = {0};
    uint8_t ref[MDB_ENCRYPT_REF_SIZE], *out = NULL;
    size_t len;
    mdb_error err = {0};
    split_into(&s, cases[t].len, t, ref);
    assert_int_equal(s.n, cases[t].chunks);
    for (size_t i = 0; i < s.n; i++)
      assert_int_equal(s.size[i], MDB_CHUNK_SIZE_MAX);
    assert_int_equal(mdb_encrypt_tree_join(ref, test_store_source, &s,
                                           cases[t].len, &out, &len, &err),
                     MDBEE_OK);
    assert_int_equal(len, cases[t].len);
    uint8_t *want = test_pattern(len);
    assert_true(len == 0 || memcmp(out, want, len) == 0);
    /* Without the key the stored chunks do not contain the data. */
    if (len >= 4096)
      for (size_t i = 0; i < s.n; i++)
        assert_true(memcmp(s.data[i] + MDB_SPAN_SIZE, want, 64) != 0);
    free(want);
    free(out);
    test_store_free(&s);
  }
}

/* Same data, same random source: same reference; another source: another
 * reference (keys and padding are random, so encrypted uploads are not
 * deduplicated). */
static void test_reference_depends_on_randomness(void **state) {
  (void)state;
  test_store s = {0};
  uint8_t a[MDB_ENCRYPT_REF_SIZE], b[MDB_ENCRYPT_REF_SIZE],
      c[MDB_ENCRYPT_REF_SIZE];
  split_into(&s, 10000, 1, a);
  split_into(&s, 10000, 1, b);
  split_into(&s, 10000, 2, c);
  assert_memory_equal(a, b, sizeof a);
  assert_memory_not_equal(a, c, MDB_REF_SIZE);
  assert_memory_not_equal(a + MDB_REF_SIZE, c + MDB_REF_SIZE,
                          MDB_ENCRYPT_KEY_SIZE);
  test_store_free(&s);
}

/* Convergent keys: the same secret and data give the same chunks (so
 * unchanged data deduplicates), another secret gives others; the key of
 * each chunk is what the writer derived, and the tree reads back with the
 * ordinary joiner, chunk by chunk as Bee decrypts. */
static void test_convergent(void **state) {
  (void)state;
  uint8_t s1[MDB_ENCRYPT_SECRET_SIZE], s2[MDB_ENCRYPT_SECRET_SIZE];
  memset(s1, 1, sizeof s1);
  memset(s2, 2, sizeof s2);
  const size_t lengths[] = {0, 100, 4096, 64 * 4096 + 1, 300000};
  for (size_t t = 0; t < sizeof lengths / sizeof lengths[0]; t++) {
    size_t n = lengths[t];
    uint8_t *data = test_pattern(n), *out = NULL;
    uint8_t a[MDB_ENCRYPT_REF_SIZE], b[MDB_ENCRYPT_REF_SIZE],
        c[MDB_ENCRYPT_REF_SIZE];
    test_store sa = {0}, sb = {0};
    mdb_error err = {0};
    assert_int_equal(mdb_encrypt_convergent_split(s1, data, n, test_store_sink,
                                                  &sa, a, &err),
                     MDBEE_OK);
    assert_int_equal(mdb_encrypt_convergent_split(s1, data, n, test_store_sink,
                                                  &sb, b, &err),
                     MDBEE_OK);
    assert_int_equal(mdb_encrypt_convergent_split(s2, data, n, NULL, NULL, c,
                                                  &err),
                     MDBEE_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, MDB_REF_SIZE);
    assert_int_equal(sa.n, sb.n);
    for (size_t i = 0; i < sa.n; i++) {
      assert_int_equal(sa.size[i], MDB_CHUNK_SIZE_MAX);
      assert_memory_equal(sa.data[i], sb.data[i], MDB_CHUNK_SIZE_MAX);
    }
    size_t len;
    assert_int_equal(mdb_encrypt_tree_join(a, test_store_source, &sa, n, &out,
                                           &len, &err),
                     MDBEE_OK);
    assert_int_equal(len, n);
    assert_true(n == 0 || memcmp(out, data, n) == 0);
    free(out);
    free(data);
    test_store_free(&sa);
    test_store_free(&sb);
  }
  /* One chunk: the key is Keccak256 of the domain, the secret and the
   * plain chunk, and the padding comes from the key. */
  uint8_t chunk[MDB_CHUNK_SIZE_MAX], key[32], want_key[32];
  size_t size = MDB_SPAN_SIZE + 5;
  mdb_bmt_span_encode(5, chunk);
  memcpy(chunk + MDB_SPAN_SIZE, "hello", 5);
  uint8_t seed[sizeof "mdbee:chunk-key:v1" + 32 + 13];
  memcpy(seed, "mdbee:chunk-key:v1", sizeof "mdbee:chunk-key:v1");
  memcpy(seed + sizeof "mdbee:chunk-key:v1", s1, 32);
  memcpy(seed + sizeof "mdbee:chunk-key:v1" + 32, chunk, 13);
  mdb_keccak256(seed, sizeof seed, want_key);
  assert_int_equal(mdb_encrypt_chunk_convergent(s1, chunk, &size, key, NULL),
                   MDBEE_OK);
  assert_memory_equal(key, want_key, 32);
  assert_int_equal(size, MDB_CHUNK_SIZE_MAX);
  /* The padding is the ChaCha20 stream under Keccak256(domain || key). */
  uint8_t pad_seed[sizeof "mdbee:chunk-pad:v1" + 32], pad_key[32];
  static uint8_t want_pad[4096 - 5];
  static const uint8_t zero_nonce[12];
  memcpy(pad_seed, "mdbee:chunk-pad:v1", sizeof "mdbee:chunk-pad:v1");
  memcpy(pad_seed + sizeof "mdbee:chunk-pad:v1", key, 32);
  mdb_keccak256(pad_seed, sizeof pad_seed, pad_key);
  crypto_stream_chacha20_ietf(want_pad, sizeof want_pad, zero_nonce, pad_key);
  assert_memory_equal(chunk + MDB_SPAN_SIZE + 5, want_pad, sizeof want_pad);
  assert_int_equal(mdb_encrypt_chunk_open(key, chunk, &size, NULL), MDBEE_OK);
  assert_int_equal(size, MDB_SPAN_SIZE + 5);
  assert_memory_equal(chunk + MDB_SPAN_SIZE, "hello", 5);
}

static void test_join_detects_corruption_and_wrong_key(void **state) {
  (void)state;
  test_store s = {0};
  uint8_t ref[MDB_ENCRYPT_REF_SIZE], *out = NULL;
  size_t len;
  mdb_error err = {0};
  split_into(&s, 64 * 4096 + 4097, 9, ref);
  for (size_t i = 0; i < s.n; i++) {
    s.data[i][(i * 131) % MDB_CHUNK_SIZE_MAX] ^= 0x80;
    assert_int_equal(mdb_encrypt_tree_join(ref, test_store_source, &s,
                                           UINT64_MAX, &out, &len, &err),
                     MDBEE_EVERIFY);
    s.data[i][(i * 131) % MDB_CHUNK_SIZE_MAX] ^= 0x80;
  }
  /* The right address with another key decrypts to a span that does not
   * fit: refused, never returned as data. */
  ref[MDB_REF_SIZE] ^= 1;
  err = (mdb_error){0};
  assert_int_equal(mdb_encrypt_tree_join(ref, test_store_source, &s,
                                         1 << 20, &out, &len, &err),
                   MDBEE_EFORMAT);
  assert_null(out);
  ref[MDB_REF_SIZE] ^= 1;
  /* max_size is checked on the decrypted root span. */
  s.fetches = 0;
  assert_int_equal(mdb_encrypt_tree_join(ref, test_store_source, &s,
                                         64 * 4096 + 4096, &out, &len, &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "exceeds the limit"));
  assert_int_equal(s.fetches, 1);
  test_store_free(&s);
}

static void test_splitter_kinds_do_not_mix(void **state) {
  (void)state;
  struct fake_random r = {0};
  mdb_splitter *plain, *enc;
  mdb_error err = {0};
  uint8_t ref[MDB_ENCRYPT_REF_SIZE];
  assert_int_equal(mdb_splitter_new(NULL, NULL, &plain, &err), MDBEE_OK);
  assert_int_equal(
      mdb_encrypt_splitter_new(fake_random, &r, NULL, NULL, &enc, &err),
      MDBEE_OK);
  assert_int_equal(mdb_encrypt_splitter_finish(plain, ref, &err),
                   MDBEE_EINVAL);
  assert_int_equal(mdb_splitter_finish(enc, ref, &err), MDBEE_EINVAL);
  assert_int_equal(mdb_encrypt_splitter_finish(enc, ref, &err), MDBEE_OK);
  mdb_splitter_free(plain);
  mdb_splitter_free(enc);
}

/* A failing random source stops the split with its error. */
static void test_random_failure(void **state) {
  (void)state;
  struct fake_random r = {.fail_at = 3};
  uint8_t *data = test_pattern(3 * 4096), ref[MDB_ENCRYPT_REF_SIZE];
  mdb_error err = {0};
  assert_int_equal(mdb_encrypt_tree_split(data, 3 * 4096, fake_random, &r,
                                          NULL, NULL, ref, &err),
                   MDBEE_ECRYPTO);
  assert_string_equal(err.message, "entropy exhausted");
  free(data);
}

static void test_system_random(void **state) {
  (void)state;
  uint8_t a[32] = {0}, b[32] = {0};
  mdb_error err = {0};
  assert_int_equal(mdb_encrypt_random_system(NULL, a, sizeof a, &err),
                   MDBEE_OK);
  assert_int_equal(mdb_encrypt_random_system(NULL, b, sizeof b, &err),
                   MDBEE_OK);
  assert_memory_not_equal(a, b, sizeof a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunk_keystream),
      cmocka_unit_test(test_chunk_open_rejects),
      cmocka_unit_test(test_tree_round_trip),
      cmocka_unit_test(test_reference_depends_on_randomness),
      cmocka_unit_test(test_join_detects_corruption_and_wrong_key),
      cmocka_unit_test(test_convergent),
      cmocka_unit_test(test_splitter_kinds_do_not_mix),
      cmocka_unit_test(test_random_failure),
      cmocka_unit_test(test_system_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
