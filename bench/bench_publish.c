/* Publishing cost without MongoDB or Bee in the loop, for
 * docs/performance.md:
 *   bench_publish ingest N        N generated ~1 KiB documents: ingest as a
 *                                 scan, then one full snapshot
 *   bench_publish update N [N..]  for each n: a snapshot of n documents,
 *                                 then single-document updates, each its
 *                                 own snapshot: chunks written and time
 * The publish target only checks and counts chunks, so the figures are
 * mdbee's own work (encoding, hashing, manifests, LMDB).  With
 * MDBEE_BENCH_ENCRYPT=1 the publisher encrypts (snapshot.encrypt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mdbee/ingest.h"
#include "mdbee/publish.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long peak_rss_mib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

struct counter {
  uint64_t chunks, bytes;
};

static int begin(void *ctx, mdb_error *err) {
  (void)ctx, (void)err;
  return MDBEE_OK;
}
static int put_chunk(void *ctx, const mdb_chunk *c, mdb_error *err) {
  (void)err;
  struct counter *k = ctx;
  k->chunks++;
  k->bytes += c->size;
  return MDBEE_OK;
}
static int flush(void *ctx, mdb_error *err) {
  (void)ctx, (void)err;
  return MDBEE_OK;
}
static int put_soc(void *ctx, const uint8_t o[20], const uint8_t i[32],
                   const uint8_t s[65], const uint8_t *d, size_t n, mdb_error *e) {
  (void)ctx, (void)o, (void)i, (void)s, (void)d, (void)n, (void)e;
  return MDBEE_OK;
}
static int pin(void *ctx, const uint8_t r[32], mdb_error *e) {
  (void)ctx, (void)r, (void)e;
  return MDBEE_OK;
}

struct bench {
  char dir[64];
  mdb_store *store;
  mdb_ingest *ingest;
  mdb_key *key;
  struct counter count;
  mdb_publish_target target;
  mdb_publisher *pub;
  int64_t clock;
};

static void check(int rc, const mdb_error *err, const char *what) {
  if (rc == MDBEE_OK) return;
  fprintf(stderr, "bench_publish: %s: %s\n", what, err->message);
  exit(1);
}

static void bench_open(struct bench *b) {
  mdb_error err = {0};
  strcpy(b->dir, "/tmp/mdbee-bench-XXXXXX");
  if (!mkdtemp(b->dir)) exit(1);
  check(mdb_store_open(b->dir, &b->store, &err), &err, "store");
  const char *allow[] = {"bench.docs"};
  check(mdb_ingest_new(b->store, allow, 1, &b->ingest, &err), &err, "ingest");
  uint8_t secret[32];
  memset(secret, 7, sizeof secret);
  check(mdb_key_from_secret(secret, &b->key, &err), &err, "key");
  b->target = (mdb_publish_target){&b->count, begin, put_chunk, flush, put_soc, pin, pin};
  static const mdb_publish_collection docs = {"docs", NULL, 0, NULL, 0};
  mdb_publish_options opts = {.db = "bench", .collections = &docs,
                              .n_collections = 1, .key = b->key,
                              .encrypt = getenv("MDBEE_BENCH_ENCRYPT") != NULL};
  check(mdb_publisher_new(&opts, b->store, &b->target, &b->pub, &err), &err, "publisher");
  b->clock = 1700000000;
}

static void bench_close(struct bench *b) {
  mdb_publisher_free(b->pub);
  mdb_key_free(b->key);
  mdb_ingest_free(b->ingest);
  mdb_store_close(b->store);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", b->dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_publish: could not remove %s\n", b->dir);
}

/* Document i, version v: an ObjectId-like _id (sequential, as ObjectIds of
 * one process are) and about 1 KiB of fields. */
static void apply(struct bench *b, uint64_t i, int version, int from_scan) {
  bson_oid_t oid;
  uint8_t bytes[12] = {0x65, 0, 0, 0, 0xbe, 0xe0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < 4; k++) bytes[11 - k] = (uint8_t)(i >> (8 * k));
  bytes[3] = (uint8_t)(i >> 12);
  bson_oid_init_from_data(&oid, bytes);
  char text[900];
  for (size_t k = 0; k < sizeof text - 1; k++) text[k] = (char)('a' + (i * 31 + k * 7 + (size_t)version) % 26);
  text[sizeof text - 1] = '\0';
  bson_t *doc = BCON_NEW("_id", BCON_OID(&oid), "n", BCON_INT64((int64_t)i),
                         "version", BCON_INT32(version), "tags", "[",
                         BCON_UTF8("bench"), BCON_UTF8("mdbee"), "]", "body",
                         BCON_UTF8(text));
  uint8_t key[13] = {BSON_TYPE_OID};
  memcpy(key + 1, bytes, 12);
  mdb_source_event ev = {.op = MDB_SOURCE_UPSERT, .from_scan = from_scan,
                         .db = "bench", .coll = "docs", .id_key = key,
                         .id_key_len = 13, .doc = doc};
  mdb_error err = {0};
  check(mdb_ingest_event(b->ingest, &ev, &err), &err, "ingest event");
  bson_destroy(doc);
}

static mdb_publish_result snapshot(struct bench *b) {
  mdb_error err = {0};
  mdb_publish_result r;
  mdb_publish_stamp stamp = {.time = b->clock++};
  check(mdb_publisher_snapshot(b->pub, &stamp, &r, &err), &err, "snapshot");
  return r;
}

static void load(struct bench *b, uint64_t n, double *t_ingest, double *t_snap,
                 mdb_publish_result *r) {
  mdb_error err = {0};
  double t0 = now();
  for (uint64_t i = 0; i < n; i++) apply(b, i, 0, 1);
  check(mdb_ingest_commit(b->ingest, &err), &err, "commit");
  double t1 = now();
  *r = snapshot(b);
  *t_snap = now() - t1;
  *t_ingest = t1 - t0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_publish ingest N | update N [N...]\n");
    return 2;
  }
  if (strcmp(argv[1], "ingest") == 0) {
    uint64_t n = strtoull(argv[2], NULL, 10);
    struct bench b = {0};
    bench_open(&b);
    double ti, ts;
    mdb_publish_result r;
    load(&b, n, &ti, &ts, &r);
    printf("| %llu | %.1f s (%.0f docs/s) | %.1f s (%.0f docs/s) | %.1f s | %llu | %llu | %ld MiB |\n",
           (unsigned long long)n, ti, n / ti, ts, n / ts, ti + ts,
           (unsigned long long)r.chunks_made, (unsigned long long)r.manifest_chunks,
           peak_rss_mib());
    printf("snapshot phases: read %.2f s, encode %.2f s, hash %.2f s (summed over threads), manifest %.2f s, commit %.2f s\n",
           r.seconds_read, r.seconds_encode, r.seconds_hash, r.seconds_manifest, r.seconds_commit);
    bench_close(&b);
    return 0;
  }
  if (strcmp(argv[1], "update") != 0) return 2;
  enum { UPDATES = 25 };
  for (int a = 2; a < argc; a++) {
    uint64_t n = strtoull(argv[a], NULL, 10);
    struct bench b = {0};
    bench_open(&b);
    double ti, ts;
    mdb_publish_result r;
    load(&b, n, &ti, &ts, &r);
    double times[UPDATES];
    uint64_t chunks = 0, manifest = 0;
    srand(42);
    for (int u = 0; u < UPDATES; u++) {
      mdb_error err = {0};
      apply(&b, (uint64_t)rand() % n, u + 1, 0);
      check(mdb_ingest_commit(b.ingest, &err), &err, "commit");
      double t0 = now();
      r = snapshot(&b);
      times[u] = now() - t0;
      chunks += r.chunks_made;
      manifest += r.manifest_chunks;
    }
    qsort(times, UPDATES, sizeof times[0], cmp_double);
    /* A 1000-document batch among n: the cost of one busy interval. */
    mdb_error err = {0};
    for (uint64_t i = 0; i < 1000; i++) apply(&b, (uint64_t)rand() % n, 100, 0);
    check(mdb_ingest_commit(b.ingest, &err), &err, "commit");
    double t0 = now();
    mdb_publish_result batch = snapshot(&b);
    double t_batch = now() - t0;
    printf("| %llu | %.1f | %.1f | %.2f ms | %.2f ms | %.2f s | %llu | %ld MiB |\n",
           (unsigned long long)n, (double)manifest / UPDATES, (double)chunks / UPDATES,
           times[UPDATES / 2] * 1e3, times[UPDATES - 2] * 1e3, t_batch,
           (unsigned long long)batch.chunks_made, peak_rss_mib());
    fflush(stdout);
    bench_close(&b);
  }
  return 0;
}
