/* Local state throughput: how fast change events can be recorded (one
 * transaction per event, and batched), walked by a snapshot, and committed
 * into the document index; and the peak RSS, which must not grow with the
 * number of documents.
 *
 *   build/release/bench/bench_store [DOCS] [DIR]
 *
 * DIR (default: a fresh directory under /tmp, removed afterwards) is where
 * the LMDB environment lives: put it on the disk the daemon would use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mdbee/store.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const mdb_error *err) {
  fprintf(stderr, "bench_store: %s: %s\n", what, err->message);
  exit(1);
}

/* A 200-byte BSON document {_id: i, pad: "xxx..."}. */
static size_t make_doc(uint8_t *buf, int32_t id) {
  const size_t len = 200, pad = len - 4 - 7 - 11 - 1 - 5;
  memset(buf, 0, len);
  size_t p = 0;
  buf[p++] = (uint8_t)len;
  p += 3;
  buf[p++] = 0x10;
  memcpy(buf + p, "_id", 4);
  p += 4;
  memcpy(buf + p, &id, 4);
  p += 4;
  buf[p++] = 0x02;
  memcpy(buf + p, "pad", 4);
  p += 4;
  uint32_t sl = (uint32_t)pad;
  memcpy(buf + p, &sl, 4);
  p += 4;
  memset(buf + p, 'x', pad - 1);
  return len;
}

static void key_of(mdb_store_key *k, uint8_t id[5], int32_t i) {
  id[0] = 0x10;
  memcpy(id + 1, &i, 4);
  mdb_store_key_init(k, "bench", "docs", id, 5);
}

static void record(mdb_store *s, int32_t from, int32_t to, int per_txn) {
  mdb_error err = {0};
  uint8_t doc[200], id[5];
  mdb_store_txn *t = NULL;
  for (int32_t i = from; i < to; i++) {
    if (!t && mdb_store_begin(s, 0, &t, &err)) die("begin", &err);
    mdb_store_key k;
    key_of(&k, id, i);
    size_t len = make_doc(doc, i);
    mdb_store_resume r = {id, 5, (uint32_t)i, 0};
    if (mdb_store_pending_upsert(t, &k, doc, len, &err) ||
        mdb_store_resume_put(t, "bench", "docs", &r, &err))
      die("record", &err);
    if ((i - from + 1) % per_txn == 0 || i + 1 == to) {
      if (mdb_store_commit(t, &err)) die("commit", &err);
      t = NULL;
    }
  }
}

struct walk {
  mdb_store_txn *w;
  uint64_t n;
};

static int commit_one(void *ctx, const mdb_store_change *c) {
  struct walk *wk = ctx;
  mdb_error err = {0};
  mdb_store_doc d = {0};
  memset(d.ref, (int)(c->seq & 0xff), 32);
  d.ref_len = 32;
  d.size = c->doc_len;
  if (mdb_store_doc_put(wk->w, &c->key, &d, &err) ||
      mdb_store_pending_clear(wk->w, &c->key, c->seq, &err))
    die("snapshot", &err);
  wk->n++;
  return 0;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Current value of a "Name:  N kB" line of /proc/self/status.  RSS counts
 * the LMDB map's file pages as they are touched; RssAnon is the process's
 * own memory, the part that must not grow with the data set. */
static long status_kib(const char *name) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(name);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0 && line[n] == ':') v = atol(line + n + 1);
  if (f) fclose(f);
  return v;
}

int main(int argc, char **argv) {
  int32_t docs = argc > 1 ? (int32_t)atol(argv[1]) : 100000;
  char tmp[] = "/tmp/mdbee-bench-XXXXXX";
  const char *dir = argc > 2 ? argv[2] : mkdtemp(tmp);
  if (!dir) return 1;
  mdb_store *s;
  mdb_error err = {0};
  if (mdb_store_open(dir, &s, &err)) die("open", &err);

  int single = docs / 20 > 0 ? docs / 20 : 1;
  double t0 = now();
  record(s, 0, single, 1);
  double t1 = now();
  record(s, single, docs, 1000);
  double t2 = now();

  /* A snapshot: walk the pending changes (read), then commit them into
   * the index and clear them (one write transaction). */
  mdb_store_txn *r, *w;
  if (mdb_store_begin(s, 0, &w, &err)) die("begin", &err);
  struct walk wk = {w, 0};
  double t3 = now();
  if (mdb_store_pending_each(w, commit_one, &wk, &err)) die("walk", &err);
  if (mdb_store_commit(w, &err)) die("commit", &err);
  double t4 = now();
  if (mdb_store_begin(s, 1, &r, &err)) die("begin", &err);
  uint64_t left = 1;
  mdb_store_pending_count(r, &left, &err);
  mdb_store_abort(r);
  long anon = status_kib("RssAnon"), file = status_kib("RssFile");
  mdb_store_close(s);

  printf("documents                         %d (200-byte BSON each)\n", docs);
  printf("record, 1 event per transaction   %.0f events/s (%d events)\n",
         single / (t1 - t0), single);
  printf("record, 1000 events per txn       %.0f events/s (%d events)\n",
         (docs - single) / (t2 - t1), docs - single);
  printf("snapshot walk + index + clear     %.0f documents/s (%llu, %llu left)\n",
         (double)wk.n / (t4 - t3), (unsigned long long)wk.n,
         (unsigned long long)left);
  printf("peak RSS                          %ld KiB (now: %ld KiB anonymous, "
         "%ld KiB mapped file)\n", peak_rss_kib(), anon, file);
  if (argc <= 2) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
  }
  return left == 0 && wk.n == (uint64_t)docs ? 0 : 1;
}
