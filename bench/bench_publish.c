/* Publishing cost without MongoDB or Bee in the loop, for bench/ingest,
 * bench/update and docs/performance.md:
 *   bench_publish ingest N [DIR]  N generated ~1 KiB documents through the
 *                                 ingest path (LMDB pending changes), then
 *                                 one full snapshot; DIR keeps the state
 *                                 for bench_publish update
 *   bench_publish update N [DIR]  single-document updates of a state of N
 *                                 documents (DIR from ingest, else built
 *                                 in a temporary one), each its own
 *                                 snapshot, then one snapshot of 1000
 *                                 dirty documents
 * The publisher does all an upload does but the network (have-set checks
 * and bookkeeping included); its target, the unit tests' fake Bee, only
 * counts the chunks, so the figures are mdbee's own work: encoding,
 * hashing, manifests, LMDB.  With MDBEE_BENCH_ENCRYPT=1 the publisher
 * encrypts (snapshot.encrypt).  The document generator (make_doc) stands
 * in for MongoDB; since session 3 it writes the BSON bytes directly, with
 * no snprintf, BCON_NEW or libbson appends, and draws 13 words per random
 * number (the same shape and sizes as before, other words, at a fraction
 * of the cost), so the ingest figure is the ingest path's own. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdbee/ingest.h"
#include "mdbee/publish.h"
#include "fake_bee.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

/* The resident set split at its peak, sampled every 5 ms by a thread:
 * anonymous memory (heap, LMDB's dirty pages) and pages of the state file
 * mapped while reading it (the kernel's page cache, shared). */
static struct {
  pthread_mutex_t lock;
  long rss, anon, file; /* KiB */
  int stop;
} peak = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *sample_rss(void *arg) {
  (void)arg;
  for (;;) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long rss = 0, anon = 0, file = 0;
    while (f && fgets(line, sizeof line, f)) {
      sscanf(line, "VmRSS: %ld", &rss);
      sscanf(line, "RssAnon: %ld", &anon);
      sscanf(line, "RssFile: %ld", &file);
    }
    if (f) fclose(f);
    pthread_mutex_lock(&peak.lock);
    if (rss > peak.rss) peak.rss = rss, peak.anon = anon, peak.file = file;
    int stop = peak.stop;
    pthread_mutex_unlock(&peak.lock);
    if (stop) return NULL;
    nanosleep(&(struct timespec){0, 5000000}, NULL);
  }
}

static long peak_rss_mib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

enum { DOC_MAX = 2048 }; /* bytes of a generated document: at most 1.3 KiB */

struct bench {
  char dir[256];
  int temporary;
  fake_setup s;
  int64_t clock;
  uint8_t doc_bytes[DOC_MAX]; /* the generated document */
};

static void check(int rc, const mdb_error *err, const char *what) {
  if (rc == MDBEE_OK) return;
  fprintf(stderr, "bench_publish: %s: %s\n", what, err->message);
  exit(1);
}

static void bench_open(struct bench *b, const char *dir) {
  mdb_error err = {0};
  if (dir) {
    snprintf(b->dir, sizeof b->dir, "%s", dir);
  } else {
    strcpy(b->dir, "/tmp/mdbee-bench-XXXXXX");
    if (!mkdtemp(b->dir)) exit(1);
    b->temporary = 1;
  }
  const char *allow[] = {"bench.docs"};
  uint8_t secret[32];
  memset(secret, 7, sizeof secret);
  static const mdb_publish_collection docs = {"docs", NULL, 0, NULL, 0};
  mdb_publish_options opts = {.db = "bench", .collections = &docs,
                              .n_collections = 1,
                              .encrypt = getenv("MDBEE_BENCH_ENCRYPT") != NULL};
  b->s.bee.count_only = 1;
  check(fake_setup_open(&b->s, b->dir, allow, 1, opts, secret, &err), &err,
        "opening the state");
  b->clock = 1700000000 + (int64_t)time(NULL) % 100000;
}

static void bench_close(struct bench *b) {
  fake_setup_close(&b->s);
  if (!b->temporary) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", b->dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_publish: could not remove %s\n", b->dir);
}

static uint64_t mix(uint64_t x) { /* splitmix64 */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static const char *const words[] = {
    "swarm", "chunk", "mantaray", "bee", "postage", "stamp", "feed", "mongo",
    "replica", "oplog", "change", "stream", "manifest", "keccak", "node",
    "gateway", "reference", "document", "index", "snapshot", "publish",
    "é", "ünïcode", "日本", "data", "lorem", "ipsum", "dolor", "sit", "amet"};
enum { N_WORDS = sizeof words / sizeof words[0] };
/* Each word padded to 16 bytes, so that it is copied with one fixed-size
 * memcpy (the longest has 9). */
static char padded[N_WORDS][16];
static size_t word_len[N_WORDS];

/* The generator stands in for MongoDB and must cost little beside the
 * ingest it feeds: text is put together with memcpy and numbers with
 * put_uint rather than snprintf, and a sentence draws 13 words from one
 * 64-bit random number (30^13 < 2^64).  Before, generating took 70 % of
 * the ingest phase's CPU. */
static size_t put_str(char *out, const char *s, size_t n) {
  memcpy(out, s, n);
  return n;
}

static size_t put_uint(char *out, unsigned long long v) {
  char tmp[20];
  size_t n = 0;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

/* Words separated by spaces while at least 16 bytes of len are left. */
static size_t sentence(uint64_t *r, char *out, size_t len) {
  size_t at = 0;
  uint64_t digits = 0;
  int left = 0;
  while (at + 16 < len) {
    if (left == 0) {
      *r = mix(*r);
      digits = *r;
      left = 13;
    }
    size_t w = digits % N_WORDS;
    digits /= N_WORDS;
    left--;
    if (at) out[at++] = ' ';
    memcpy(out + at, padded[w], 16);
    at += word_len[w];
  }
  return at;
}

/* The generated document's BSON, written out directly as a driver puts
 * it on the wire (libbson's appends cost as much as making the text).
 * Lengths are patched in when a document closes. */
struct out {
  uint8_t *p;
  size_t n;
};

static void put(struct out *o, const void *bytes, size_t n) {
  memcpy(o->p + o->n, bytes, n);
  o->n += n;
}

static void le(struct out *o, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) o->p[o->n++] = (uint8_t)(v >> (8 * i));
}

static void el(struct out *o, uint8_t type, const char *name) {
  o->p[o->n++] = type;
  put(o, name, strlen(name) + 1);
}

static void str(struct out *o, const char *name, const char *s, size_t len) {
  el(o, BSON_TYPE_UTF8, name);
  le(o, len + 1, 4);
  put(o, s, len);
  o->p[o->n++] = 0;
}

static void dbl(struct out *o, const char *name, double d) {
  uint64_t bits;
  memcpy(&bits, &d, 8);
  el(o, BSON_TYPE_DOUBLE, name);
  le(o, bits, 8);
}

/* Where an embedded document's length goes; close_doc writes it. */
static size_t open_doc(struct out *o) {
  o->n += 4;
  return o->n - 4;
}

static void close_doc(struct out *o, size_t at) {
  o->p[o->n++] = 0;
  size_t end = o->n;
  o->n = at;
  le(o, end - at, 4);
  o->n = end;
}

/* Document i at version v into buf (returns its length), as one process
 * inserting users would make them: an ObjectId _id (timestamp,
 * per-process random bytes, counter), strings, numbers of three types, a
 * date, a nested document and an array; about 1 KiB of BSON, the text
 * varying from one to the next. */
static size_t make_doc(uint8_t buf[DOC_MAX], uint64_t i, int version,
                       uint8_t oid_bytes[12]) {
  if (!word_len[0])
    for (size_t w = 0; w < N_WORDS; w++) {
      word_len[w] = strlen(words[w]);
      memcpy(padded[w], words[w], word_len[w]);
    }
  uint64_t r = mix(i * 1000003 + (uint64_t)version);
  uint32_t ts = 1700000000u + (uint32_t)(i / 50); /* 50 inserts a second */
  uint32_t counter = 0x3a5b7cu + (uint32_t)i;
  uint8_t b[12] = {(uint8_t)(ts >> 24), (uint8_t)(ts >> 16), (uint8_t)(ts >> 8),
                   (uint8_t)ts, 0x5e, 0xd1, 0x0c, 0x4f, 0x93,
                   (uint8_t)(counter >> 16), (uint8_t)(counter >> 8), (uint8_t)counter};
  memcpy(oid_bytes, b, 12);
  char name[24], email[96], bio[700], city[32], street[64];
  size_t name_len = sentence(&r, name, sizeof name);
  size_t email_len = put_str(email, "user", 4);
  email_len += put_uint(email + email_len, i);
  email_len += put_str(email + email_len, (r & 1) ? "@example.org" : "@example.com", 12);
  size_t bio_len = sentence(&r, bio, 520 + (size_t)(r % 160));
  size_t city_len = put_str(city, "City ", 5);
  city_len += put_uint(city + city_len, mix(r) % 500);
  size_t street_len = put_uint(street, r % 9999);
  street[street_len++] = ' ';
  size_t w = (r >> 8) % N_WORDS;
  street_len += put_str(street + street_len, words[w], word_len[w]);
  street_len += put_str(street + street_len, " Street", 7);

  struct out o = {buf, 4};
  el(&o, BSON_TYPE_OID, "_id");
  put(&o, b, 12);
  str(&o, "name", name, name_len);
  str(&o, "email", email, email_len);
  el(&o, BSON_TYPE_INT32, "age");
  le(&o, (uint32_t)(18 + r % 70), 4);
  dbl(&o, "balance", (double)(r % 1000000) / 100.0);
  el(&o, BSON_TYPE_INT64, "visits");
  le(&o, r >> 20, 8);
  el(&o, BSON_TYPE_BOOL, "active");
  o.p[o.n++] = (r & 2) ? 1 : 0;
  el(&o, BSON_TYPE_DATE_TIME, "created");
  le(&o, (uint64_t)ts * 1000, 8);
  el(&o, BSON_TYPE_INT32, "version");
  le(&o, (uint32_t)version, 4);
  el(&o, BSON_TYPE_DOCUMENT, "address");
  size_t address = open_doc(&o);
  str(&o, "street", street, street_len);
  str(&o, "city", city, city_len);
  str(&o, "zip", "10115", 5);
  el(&o, BSON_TYPE_ARRAY, "geo");
  size_t geo = open_doc(&o);
  dbl(&o, "0", 52.52 + (double)(r % 100) / 1000);
  dbl(&o, "1", 13.40);
  close_doc(&o, geo);
  close_doc(&o, address);
  el(&o, BSON_TYPE_ARRAY, "tags");
  size_t tags = open_doc(&o);
  for (int t = 0; t < 3; t++) {
    size_t tw = (r >> (5 * t)) % N_WORDS;
    str(&o, t == 0 ? "0" : t == 1 ? "1" : "2", words[tw], word_len[tw]);
  }
  close_doc(&o, tags);
  str(&o, "bio", bio, bio_len);
  close_doc(&o, 0);
  return o.n;
}

static void apply(struct bench *b, uint64_t i, int version, int from_scan) {
  uint8_t oid[12];
  size_t len = make_doc(b->doc_bytes, i, version, oid);
  bson_t doc;
  if (!bson_init_static(&doc, b->doc_bytes, len)) exit(1);
  uint8_t key[13] = {BSON_TYPE_OID};
  memcpy(key + 1, oid, 12);
  mdb_source_event ev = {.op = MDB_SOURCE_UPSERT, .from_scan = from_scan,
                         .db = "bench", .coll = "docs", .id_key = key,
                         .id_key_len = 13, .doc = &doc};
  mdb_error err = {0};
  check(mdb_ingest_event(b->s.ingest, &ev, &err), &err, "ingest event");
}

static mdb_publish_result snapshot(struct bench *b) {
  mdb_error err = {0};
  mdb_publish_result r;
  mdb_publish_stamp stamp = {.time = b->clock++};
  check(mdb_publisher_snapshot(b->s.pub, &stamp, &r, &err), &err, "snapshot");
  return r;
}

static void commit(struct bench *b) {
  mdb_error err = {0};
  check(mdb_ingest_commit(b->s.ingest, &err), &err, "commit");
}

struct io {
  double written, accounted; /* MB */
};

/* What this process has written so far: "wchar" counts the bytes passed to
 * write calls (here LMDB's pages: nothing else writes much), "write_bytes"
 * what the kernel accounts to storage, which counts a whole large page-cache
 * folio (up to 256 KiB on ext4 since Linux 6.16) for a 4 KiB write into
 * it, although only the dirty blocks reach the disk. */
static struct io written(void) {
  FILE *f = fopen("/proc/self/io", "r");
  char line[128];
  unsigned long long bytes;
  struct io io = {0, 0};
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "wchar: %llu", &bytes) == 1)
      io.written = (double)bytes / 1e6;
    if (sscanf(line, "write_bytes: %llu", &bytes) == 1)
      io.accounted = (double)bytes / 1e6;
  }
  if (f) fclose(f);
  return io;
}

/* Scan of n documents, then the full snapshot: prints the figures. */
static void load(struct bench *b, uint64_t n) {
  double w0 = now(), c0 = cpu_seconds();
  struct io io0 = written();
  for (uint64_t i = 0; i < n; i++) apply(b, i, 0, 1);
  commit(b);
  double w1 = now(), c1 = cpu_seconds();
  struct io io1 = written();
  long rss_ingest = peak_rss_mib();
  mdb_publish_result r = snapshot(b);
  double w2 = now(), c2 = cpu_seconds();
  struct io io2 = written();
  printf("documents: %llu (%.0f MB of chunks sent)\n", (unsigned long long)n,
         (double)b->s.bee.bytes / 1e6);
  printf("ingest:    %.1f s wall, %.1f s CPU (%.0f docs/s), peak RSS %ld MiB\n",
         w1 - w0, c1 - c0, (double)n / (w1 - w0), rss_ingest);
  printf("snapshot:  %.1f s wall, %.1f s CPU (%.0f docs/s)\n", w2 - w1, c2 - c1,
         (double)n / (w2 - w1));
  printf("  walk %.1f s, JSON encode %.1f s CPU, hash %.1f s CPU, manifest "
         "build %.1f s, store commit %.1f s\n",
         r.seconds_read, r.seconds_encode, r.seconds_hash, r.seconds_manifest,
         r.seconds_commit);
  printf("total:     %.1f s wall, %.1f s CPU\n", w2 - w0, c2 - c0);
  printf("written:   %.0f MB by the ingest, %.0f MB by the snapshot (kernel's "
         "write_bytes: %.0f and %.0f MB)\n",
         io1.written - io0.written, io2.written - io1.written,
         io1.accounted - io0.accounted, io2.accounted - io1.accounted);
  printf("chunks:    %llu made, %llu sent, %llu manifest\n",
         (unsigned long long)r.chunks_made, (unsigned long long)r.chunks_uploaded,
         (unsigned long long)r.manifest_chunks);
  /* Optimisations must not change it: compare with a run before them. */
  printf("state root: ");
  for (int i = 0; i < 32; i++) printf("%02x", r.state_root[i]);
  printf("\n");
  pthread_mutex_lock(&peak.lock);
  printf("peak RSS:  %ld MiB (sampled peak %ld MiB: %ld anonymous, %ld mapped "
         "from the state file)\n",
         peak_rss_mib(), peak.rss >> 10, peak.anon >> 10, peak.file >> 10);
  pthread_mutex_unlock(&peak.lock);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Number of documents a state directory from `ingest` holds, 0 if none. */
static uint64_t state_size(const char *dir) {
  char path[300];
  snprintf(path, sizeof path, "%s/bench-documents", dir);
  FILE *f = fopen(path, "r");
  unsigned long long n = 0;
  if (f && fscanf(f, "%llu", &n) != 1) n = 0;
  if (f) fclose(f);
  return n;
}

static void remember_size(const char *dir, uint64_t n) {
  char path[300];
  snprintf(path, sizeof path, "%s/bench-documents", dir);
  FILE *f = fopen(path, "w");
  if (f) {
    fprintf(f, "%llu\n", (unsigned long long)n);
    fclose(f);
  }
}

static void update(uint64_t n, const char *dir) {
  enum { UPDATES = 101 };
  struct bench b = {0};
  int reuse = dir && state_size(dir) == n;
  if (dir && !reuse) {
    fprintf(stderr, "bench_publish: %s does not hold %llu documents\n", dir,
            (unsigned long long)n);
    exit(1);
  }
  bench_open(&b, dir);
  if (!reuse) {
    for (uint64_t i = 0; i < n; i++) apply(&b, i, 0, 1);
    commit(&b);
    snapshot(&b);
  }
  double times[UPDATES];
  uint64_t chunks = 0, manifest = 0;
  uint64_t seed = (uint64_t)b.clock;
  for (int u = 0; u < UPDATES; u++) {
    seed = mix(seed);
    apply(&b, seed % n, (int)(seed >> 40) + 1, 0);
    commit(&b);
    double t0 = now();
    mdb_publish_result r = snapshot(&b);
    times[u] = now() - t0;
    chunks += r.chunks_made;
    manifest += r.manifest_chunks;
  }
  qsort(times, UPDATES, sizeof times[0], cmp_double);
  /* 1000 dirty documents among n: the cost of one busy interval. */
  for (uint64_t i = 0; i < 1000; i++) {
    seed = mix(seed);
    apply(&b, seed % n, (int)(seed >> 40) + 1, 0);
  }
  commit(&b);
  double t0 = now();
  mdb_publish_result batch = snapshot(&b);
  double t_batch = now() - t0;
  /* n, manifest chunks, all chunks, median ms, p99 ms, batch s, batch
   * chunks, peak RSS MiB */
  printf("%llu %.2f %.2f %.3f %.3f %.3f %llu %ld\n", (unsigned long long)n,
         (double)manifest / UPDATES, (double)chunks / UPDATES,
         times[UPDATES / 2] * 1e3, times[UPDATES - 2] * 1e3, t_batch,
         (unsigned long long)batch.chunks_made, peak_rss_mib());
  bench_close(&b);
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: bench_publish ingest|update N [STATE-DIR]\n");
    return 2;
  }
  uint64_t n = strtoull(argv[2], NULL, 10);
  const char *dir = argc == 4 ? argv[3] : NULL;
  if (n == 0) return 2;
  if (strcmp(argv[1], "ingest") == 0) {
    struct bench b = {0};
    if (dir && mkdir(dir, 0700) != 0) {
      fprintf(stderr, "bench_publish: cannot create %s (it must not exist)\n", dir);
      return 1;
    }
    bench_open(&b, dir);
    pthread_t sampler;
    if (pthread_create(&sampler, NULL, sample_rss, NULL) != 0) return 1;
    load(&b, n);
    pthread_mutex_lock(&peak.lock);
    peak.stop = 1;
    pthread_mutex_unlock(&peak.lock);
    pthread_join(sampler, NULL);
    if (dir) remember_size(dir, n);
    bench_close(&b);
    return 0;
  }
  if (strcmp(argv[1], "update") == 0) {
    update(n, dir);
    return 0;
  }
  return 2;
}
