#include "mdbee/bmt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "bmt_pool.h"
#include "mdbee/keccak.h"

enum {
  LEVELS = 7,      /* 4096 bytes = 2^7 segments */
  BATCH = 8,       /* chunks whose tree levels are hashed together */
  PAIRS = MDB_CHUNK_PAYLOAD_MAX / (2 * MDB_SEGMENT_SIZE)
};

void mdb_bmt_span_encode(uint64_t span, uint8_t out[MDB_SPAN_SIZE]) {
  for (int i = 0; i < MDB_SPAN_SIZE; i++) out[i] = (uint8_t)(span >> (8 * i));
}

uint64_t mdb_bmt_span_decode(const uint8_t in[MDB_SPAN_SIZE]) {
  uint64_t span = 0;
  for (int i = MDB_SPAN_SIZE - 1; i >= 0; i--) span = span << 8 | in[i];
  return span;
}

/* zero_root[l]: root of a subtree of 2^l all-zero segments.  The padding of
 * a short chunk is made of such subtrees, so it is never hashed. */
static uint8_t zero_root[LEVELS + 1][MDB_SEGMENT_SIZE];
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void zero_init(void) {
  for (int l = 0; l < LEVELS; l++) {
    uint8_t pair[2 * MDB_SEGMENT_SIZE];
    memcpy(pair, zero_root[l], MDB_SEGMENT_SIZE);
    memcpy(pair + MDB_SEGMENT_SIZE, zero_root[l], MDB_SEGMENT_SIZE);
    mdb_keccak256(pair, sizeof pair, zero_root[l + 1]);
  }
}

/* Writes the BMT roots of n <= BATCH payloads.  Each tree level of all n
 * chunks goes to mdb_keccak256_many at once, so a multi-buffer permutation
 * always has a full set of lanes, even for a single chunk's upper levels
 * when n > 1.  A full payload's first level is read where it lies; short
 * ones are copied and zero-padded to whole pairs.  Upper levels are hashed
 * in place: pair i of a level lands in segment i, which no later pair of
 * that level reads. */
static void roots(const uint8_t *const payload[], const size_t len[], size_t n,
                  uint8_t *const root[]) {
  static _Thread_local uint8_t work[BATCH][MDB_CHUNK_PAYLOAD_MAX];
  const uint8_t *in[BATCH * PAIRS], *src[BATCH];
  uint8_t *out[BATCH * PAIRS];
  size_t used[BATCH]; /* segments at this level not known to be zero */
  pthread_once(&zero_once, zero_init);
  for (size_t j = 0; j < n; j++) {
    size_t l = len[j] < MDB_CHUNK_PAYLOAD_MAX ? len[j] : MDB_CHUNK_PAYLOAD_MAX;
    used[j] = (l + MDB_SEGMENT_SIZE - 1) / MDB_SEGMENT_SIZE;
    src[j] = payload[j];
    if (l < MDB_CHUNK_PAYLOAD_MAX) {
      memcpy(work[j], payload[j], l);
      memset(work[j] + l, 0, used[j] * MDB_SEGMENT_SIZE - l);
      src[j] = work[j];
    }
  }
  for (int level = 0; level < LEVELS; level++) {
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
      /* An odd last segment pairs with an all-zero sibling subtree (never
       * in a full payload, so src is work here). */
      if (used[j] % 2)
        memcpy(work[j] + used[j] * MDB_SEGMENT_SIZE, zero_root[level],
               MDB_SEGMENT_SIZE);
      used[j] = (used[j] + 1) / 2;
      for (size_t i = 0; i < used[j]; i++, k++) {
        in[k] = (level == 0 ? src[j] : work[j]) + 2 * MDB_SEGMENT_SIZE * i;
        out[k] = work[j] + MDB_SEGMENT_SIZE * i;
      }
    }
    mdb_keccak256_many(in, 2 * MDB_SEGMENT_SIZE, out, k);
  }
  for (size_t j = 0; j < n; j++)
    memcpy(root[j], used[j] ? work[j] : zero_root[LEVELS], MDB_REF_SIZE);
}

void mdb_bmt_root(const uint8_t *payload, size_t len,
                  uint8_t root[MDB_REF_SIZE]) {
  roots(&payload, &len, 1, &root);
}

void mdb_bmt_chunk_address(uint64_t span, const uint8_t *payload, size_t len,
                           uint8_t address[MDB_REF_SIZE]) {
  uint8_t buf[MDB_SPAN_SIZE + MDB_REF_SIZE];
  mdb_bmt_span_encode(span, buf);
  mdb_bmt_root(payload, len, buf + MDB_SPAN_SIZE);
  mdb_keccak256(buf, sizeof buf, address);
}

/* Hashes jobs[begin, end) in batches: mdb_pool_fn over mdb_bmt_job[]. */
static void hash_range(void *arg, size_t begin, size_t end) {
  const mdb_bmt_job *jobs = arg;
  for (size_t b = begin; b < end; b += BATCH) {
    size_t n = end - b < BATCH ? end - b : BATCH;
    const uint8_t *payload[BATCH], *in[BATCH];
    size_t len[BATCH];
    uint8_t head[BATCH][MDB_SPAN_SIZE + MDB_REF_SIZE], *root[BATCH],
        *out[BATCH];
    for (size_t j = 0; j < n; j++) {
      payload[j] = jobs[b + j].data + MDB_SPAN_SIZE;
      len[j] = jobs[b + j].size - MDB_SPAN_SIZE;
      memcpy(head[j], jobs[b + j].data, MDB_SPAN_SIZE);
      root[j] = head[j] + MDB_SPAN_SIZE;
      in[j] = head[j];
      out[j] = jobs[b + j].address;
    }
    roots(payload, len, n, root);
    mdb_keccak256_many(in, sizeof head[0], out, n);
  }
}

static atomic_uint thread_limit; /* 0: one per online CPU */

void mdb_bmt_set_threads(unsigned threads) {
  atomic_store(&thread_limit, threads);
}

void mdb_bmt_hash_chunks(const mdb_bmt_job *jobs, size_t n) {
  unsigned threads = atomic_load(&thread_limit);
  if (threads == 0) threads = mdb_pool_cpus();
  /* const dropped only to pass through the pool's void *; never written */
  mdb_pool_run(n, BATCH, hash_range, (void *)jobs, threads);
}
