/* Every Keccak-f[1600] implementation (Nettle, portable C, AVX2 4-way,
 * AVX-512 8-way) must give the same digests: against the bee-js vectors and
 * against each other on random inputs, one state at a time and through the
 * multi-buffer and BMT batch paths.  An implementation the CPU lacks is
 * reported as skipped, never as passed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/bmt.h"
#include "mdbee/error.h"
#include "mdbee/keccak.h"
#include "support.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void) { /* xorshift64*: reproducible test data */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Du;
}

static void fill(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rng();
}

/* The BMT as the Swarm book defines it, with no batching and no zero-subtree
 * shortcut: the reference for the optimised paths in src/swarm/bmt.c. */
static void naive_address(const uint8_t *data, size_t size,
                          uint8_t out[MDB_REF_SIZE]) {
  uint8_t level[MDB_CHUNK_PAYLOAD_MAX] = {0}, head[40];
  memcpy(level, data + MDB_SPAN_SIZE, size - MDB_SPAN_SIZE);
  for (size_t w = MDB_CHUNK_PAYLOAD_MAX; w > MDB_SEGMENT_SIZE; w /= 2)
    for (size_t i = 0; i < w / 64; i++)
      mdb_keccak256(level + 64 * i, 64, level + 32 * i);
  memcpy(head, data, MDB_SPAN_SIZE);
  memcpy(head + MDB_SPAN_SIZE, level, MDB_REF_SIZE);
  mdb_keccak256(head, sizeof head, out);
}

/* Selects the implementation under test, or skips when the CPU lacks it. */
static void use(mdb_keccak_impl impl) {
  if (!mdb_keccak_impl_available(impl)) {
    print_message("%s: not supported by this CPU or build\n",
                  mdb_keccak_impl_name(impl));
    skip();
  }
  assert_int_equal(mdb_keccak_impl_select(impl), MDBEE_OK);
  assert_int_equal(mdb_keccak_impl_current(), impl);
}

static void check_keccak_vectors(void) {
  vec_file v;
  vec_open(&v, "keccak.txt");
  size_t cases = 0, short_cases = 0;
  while (vec_next(&v)) {
    size_t n, dn;
    uint8_t *data = vec_bytes(&v, 0, &n), *want = vec_bytes(&v, 1, &dn);
    uint8_t got[MDB_KECCAK_SIZE];
    mdb_keccak256(data, n, got);
    if (memcmp(got, want, MDB_KECCAK_SIZE) != 0)
      fail_msg("%s: digest mismatch, %zu-byte input (line %zu)",
               mdb_keccak_impl_name(mdb_keccak_impl_current()), n, v.lineno);
    if (n <= MDB_KECCAK_SHORT_MAX) {
      /* the same message in every lane position of a 9-message batch */
      const uint8_t *in[9];
      uint8_t outs[9][MDB_KECCAK_SIZE], *out[9];
      for (int i = 0; i < 9; i++) in[i] = data, out[i] = outs[i];
      mdb_keccak256_many(in, n, out, 9);
      for (int i = 0; i < 9; i++)
        if (memcmp(outs[i], want, MDB_KECCAK_SIZE) != 0)
          fail_msg("batched digest mismatch, %zu bytes, lane %d", n, i);
      short_cases++;
    }
    free(data);
    free(want);
    cases++;
  }
  vec_close(&v);
  assert_true(cases > 400);
  assert_true(short_cases > 100);
}

static void check_bmt_vectors(void) {
  vec_file v;
  vec_open(&v, "bmt.txt");
  enum { MAX = 128 };
  uint8_t *chunk[MAX], want[MAX][MDB_REF_SIZE], got[MAX][MDB_REF_SIZE];
  mdb_bmt_job jobs[MAX];
  size_t n = 0;
  while (vec_next(&v) && n < MAX) {
    size_t len, wn;
    uint8_t *payload = vec_bytes(&v, 1, &len), *w = vec_bytes(&v, 2, &wn);
    chunk[n] = malloc(MDB_SPAN_SIZE + len);
    assert_non_null(chunk[n]);
    mdb_bmt_span_encode(strtoull(v.fields[0], NULL, 10), chunk[n]);
    memcpy(chunk[n] + MDB_SPAN_SIZE, payload, len);
    memcpy(want[n], w, MDB_REF_SIZE);
    jobs[n] = (mdb_bmt_job){chunk[n], MDB_SPAN_SIZE + len, got[n]};
    uint8_t one[MDB_REF_SIZE];
    mdb_bmt_chunk_address(mdb_bmt_span_decode(chunk[n]), payload, len, one);
    assert_memory_equal(one, want[n], MDB_REF_SIZE);
    free(payload);
    free(w);
    n++;
  }
  vec_close(&v);
  assert_true(n >= 64);
  for (unsigned threads = 1; threads <= 2; threads++) {
    mdb_bmt_set_threads(threads);
    memset(got, 0, sizeof got);
    mdb_bmt_hash_chunks(jobs, n);
    for (size_t i = 0; i < n; i++)
      if (memcmp(got[i], want[i], MDB_REF_SIZE) != 0)
        fail_msg("batch address mismatch, job %zu, %u thread(s)", i, threads);
  }
  mdb_bmt_set_threads(0);
  for (size_t i = 0; i < n; i++) free(chunk[i]);
}

/* Random messages of one length in a batch of n (up to 19), against
 * Nettle one by one. */
static void check_random_batch(mdb_keccak_impl impl, size_t len, size_t n) {
  enum { N = 19 };
  uint8_t msg[N][MDB_KECCAK_SHORT_MAX], want[N][MDB_KECCAK_SIZE],
      got[N][MDB_KECCAK_SIZE];
  const uint8_t *in[N];
  uint8_t *out[N];
  assert_true(n <= N);
  fill(&msg[0][0], sizeof msg);
  assert_int_equal(mdb_keccak_impl_select(MDB_KECCAK_NETTLE), MDBEE_OK);
  for (size_t i = 0; i < n; i++) mdb_keccak256(msg[i], len, want[i]);
  assert_int_equal(mdb_keccak_impl_select(impl), MDBEE_OK);
  for (size_t i = 0; i < n; i++) in[i] = msg[i], out[i] = got[i];
  mdb_keccak256_many(in, len, out, n);
  for (size_t i = 0; i < n; i++)
    if (memcmp(got[i], want[i], MDB_KECCAK_SIZE) != 0)
      fail_msg("%s: %zu-byte message %zu of %zu differs from nettle",
               mdb_keccak_impl_name(impl), len, i, n);
}

/* Every short length, in batches of varying size; the lengths the BMT
 * uses (64-byte nodes, 40-byte span || root), which have fast paths of
 * their own, in batches of every size: full groups of 8 and 4 and each
 * remainder. */
static void check_random_batches(mdb_keccak_impl impl) {
  for (size_t len = 0; len <= MDB_KECCAK_SHORT_MAX; len++)
    check_random_batch(impl, len, 1 + len % 19);
  for (size_t n = 1; n <= 19; n++) {
    check_random_batch(impl, 64, n);
    check_random_batch(impl, 40, n);
  }
}

/* Random chunks of random sizes (all-zero and empty ones included), hashed
 * as one batch on 1 and 2 threads, against the naive BMT. */
static void check_random_chunks(void) {
  enum { N = 150 };
  static uint8_t data[N][MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX];
  uint8_t want[N][MDB_REF_SIZE], got[N][MDB_REF_SIZE];
  mdb_bmt_job jobs[N];
  for (size_t i = 0; i < N; i++) {
    size_t len = i < 10 ? i * 455 : rng() % (MDB_CHUNK_PAYLOAD_MAX + 1);
    if (i % 7 == 0) len = MDB_CHUNK_PAYLOAD_MAX;
    fill(data[i], MDB_SPAN_SIZE + len);
    if (i % 11 == 0) memset(data[i] + MDB_SPAN_SIZE, 0, len);
    jobs[i] = (mdb_bmt_job){data[i], MDB_SPAN_SIZE + len, got[i]};
    naive_address(data[i], MDB_SPAN_SIZE + len, want[i]);
  }
  for (unsigned threads = 1; threads <= 2; threads++) {
    mdb_bmt_set_threads(threads);
    memset(got, 0, sizeof got);
    mdb_bmt_hash_chunks(jobs, N);
    for (size_t i = 0; i < N; i++)
      if (memcmp(got[i], want[i], MDB_REF_SIZE) != 0)
        fail_msg("chunk %zu (%zu bytes) differs from the naive BMT, %u "
                 "thread(s)",
                 i, jobs[i].size - MDB_SPAN_SIZE, threads);
  }
  mdb_bmt_set_threads(0);
}

static void check_impl(mdb_keccak_impl impl) {
  use(impl);
  check_keccak_vectors();
  check_bmt_vectors();
  check_random_batches(impl);
  assert_int_equal(mdb_keccak_impl_select(impl), MDBEE_OK);
  check_random_chunks();
  assert_int_equal(mdb_keccak_impl_select(MDB_KECCAK_AUTO), MDBEE_OK);
}

static void test_nettle(void **state) {
  (void)state;
  check_impl(MDB_KECCAK_NETTLE);
}

static void test_scalar(void **state) {
  (void)state;
  check_impl(MDB_KECCAK_SCALAR);
}

static void test_avx2(void **state) {
  (void)state;
  check_impl(MDB_KECCAK_AVX2);
}

static void test_avx512(void **state) {
  (void)state;
  check_impl(MDB_KECCAK_AVX512);
}

/* The one-state permutation of impl equals Nettle's on random states,
 * including the all-zero state and repeated application. */
static void check_permutation_vs_nettle(mdb_keccak_impl impl) {
  for (int t = 0; t < 200; t++) {
    uint64_t a[25] = {0}, b[25];
    if (t > 0)
      for (int i = 0; i < 25; i++) a[i] = rng();
    memcpy(b, a, sizeof a);
    for (int rep = 0; rep < 1 + t % 3; rep++) {
      assert_int_equal(mdb_keccak_impl_select(impl), MDBEE_OK);
      mdb_keccak_f1600(a);
      assert_int_equal(mdb_keccak_impl_select(MDB_KECCAK_NETTLE), MDBEE_OK);
      mdb_keccak_f1600(b);
    }
    if (memcmp(a, b, sizeof a) != 0)
      fail_msg("%s: permutation %d differs from nettle",
               mdb_keccak_impl_name(impl), t);
    assert_memory_not_equal(a, (uint64_t[25]){0}, sizeof a);
  }
  assert_int_equal(mdb_keccak_impl_select(MDB_KECCAK_AUTO), MDBEE_OK);
}

static void test_permutation_scalar_vs_nettle(void **state) {
  (void)state;
  check_permutation_vs_nettle(MDB_KECCAK_SCALAR);
}

/* The multi-buffer implementations permute single states with the BMI
 * build of the portable C where the CPU has BMI1 and BMI2 (else with the
 * portable C itself). */
static void test_permutation_multi_one_state_vs_nettle(void **state) {
  (void)state;
  int checked = 0;
  for (mdb_keccak_impl impl = MDB_KECCAK_AVX2; impl <= MDB_KECCAK_AVX512;
       impl++)
    if (mdb_keccak_impl_available(impl)) {
      check_permutation_vs_nettle(impl);
      checked++;
    }
  if (!checked) {
    print_message("no multi-buffer implementation on this CPU or build\n");
    skip();
  }
}

static void test_selection(void **state) {
  (void)state;
  assert_int_equal(mdb_keccak_impl_select((mdb_keccak_impl)99), MDBEE_EINVAL);
  assert_null(mdb_keccak_impl_name((mdb_keccak_impl)99));
  assert_int_equal(mdb_keccak_impl_select(MDB_KECCAK_AUTO), MDBEE_OK);
  mdb_keccak_impl best = mdb_keccak_impl_current();
  assert_int_not_equal(best, MDB_KECCAK_AUTO);
  assert_true(mdb_keccak_impl_available(best));
  if (mdb_keccak_impl_available(MDB_KECCAK_AVX2))
    assert_true(best == MDB_KECCAK_AVX2 || best == MDB_KECCAK_AVX512);
  if (!mdb_keccak_impl_available(MDB_KECCAK_AVX512)) {
    assert_int_equal(mdb_keccak_impl_select(MDB_KECCAK_AVX512), MDBEE_EINVAL);
    assert_int_equal(mdb_keccak_impl_current(), best);
  }
}

/* Two threads hashing batches at once (one of them gets the pool, the other
 * works alone) both get the right addresses. */
enum { CONC_JOBS = 64 };
typedef struct conc {
  uint8_t data[CONC_JOBS][MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX];
  uint8_t want[CONC_JOBS][MDB_REF_SIZE], got[CONC_JOBS][MDB_REF_SIZE];
  mdb_bmt_job jobs[CONC_JOBS];
  int ok;
} conc;

static void *conc_run(void *p) {
  conc *c = p;
  c->ok = 1;
  for (int rep = 0; rep < 20; rep++) {
    memset(c->got, 0, sizeof c->got);
    mdb_bmt_hash_chunks(c->jobs, CONC_JOBS);
    if (memcmp(c->got, c->want, sizeof c->want) != 0) c->ok = 0;
  }
  return NULL;
}

static void test_concurrent_callers(void **state) {
  (void)state;
  static conc c[2];
  for (int t = 0; t < 2; t++)
    for (size_t i = 0; i < CONC_JOBS; i++) {
      size_t size = MDB_SPAN_SIZE + rng() % (MDB_CHUNK_PAYLOAD_MAX + 1);
      fill(c[t].data[i], size);
      c[t].jobs[i] = (mdb_bmt_job){c[t].data[i], size, c[t].got[i]};
      naive_address(c[t].data[i], size, c[t].want[i]);
    }
  mdb_bmt_set_threads(2);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, conc_run, &c[0]), 0);
  conc_run(&c[1]);
  assert_int_equal(pthread_join(th, NULL), 0);
  mdb_bmt_set_threads(0);
  assert_true(c[0].ok);
  assert_true(c[1].ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_selection),
      cmocka_unit_test(test_permutation_scalar_vs_nettle),
      cmocka_unit_test(test_permutation_multi_one_state_vs_nettle),
      cmocka_unit_test(test_nettle),
      cmocka_unit_test(test_scalar),
      cmocka_unit_test(test_avx2),
      cmocka_unit_test(test_avx512),
      cmocka_unit_test(test_concurrent_callers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
