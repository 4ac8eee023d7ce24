/* Manifest cost: building a collection manifest of N documents from
 * scratch, then editing it from its stored root the way the bridge does
 * (lazy loads, incremental saves).  Prints entries per second and, for an
 * edit of one document and of a batch of documents, the chunks read and
 * written, which should grow with log(N) and not with N.
 *
 *   build/release/bench/bench_mantaray [DOCS] [BATCH]
 *
 * Chunks live in an in-memory hash table, so storage speed is left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mdbee/mantaray.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const mdb_error *err) {
  fprintf(stderr, "bench_mantaray: %s: %s\n", what, err->message);
  exit(1);
}

/* Open addressing on the first 8 bytes of the address. */
typedef struct slot {
  uint8_t address[MDB_REF_SIZE];
  uint8_t *data;
  size_t size;
} slot;

typedef struct table {
  slot *slots;
  size_t cap, n;
  size_t written, bytes;
} table;

static slot *lookup(table *t, const uint8_t *address) {
  uint64_t h;
  memcpy(&h, address, 8);
  for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1))
    if (!t->slots[i].data || memcmp(t->slots[i].address, address, 32) == 0)
      return &t->slots[i];
}

static int sink(void *ctx, const mdb_chunk *c, mdb_error *err) {
  table *t = ctx;
  if (2 * (t->n + 1) > t->cap) {
    table bigger = {calloc(t->cap * 2, sizeof(slot)), t->cap * 2, t->n,
                    t->written, t->bytes};
    if (!bigger.slots)
      return mdb_error_set(err, MDBEE_ENOMEM, "table");
    for (size_t i = 0; i < t->cap; i++)
      if (t->slots[i].data)
        *lookup(&bigger, t->slots[i].address) = t->slots[i];
    free(t->slots);
    *t = bigger;
  }
  t->written++;
  t->bytes += c->size;
  slot *s = lookup(t, c->address);
  if (s->data)
    return MDBEE_OK;
  s->data = malloc(c->size);
  memcpy(s->data, c->data, c->size);
  memcpy(s->address, c->address, 32);
  s->size = c->size;
  t->n++;
  return MDBEE_OK;
}

static int source(void *ctx, const uint8_t address[MDB_REF_SIZE], uint8_t *buf,
                  size_t *size, mdb_error *err) {
  slot *s = lookup(ctx, address);
  if (!s->data)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "missing chunk");
  memcpy(buf, s->data, s->size);
  *size = s->size;
  return MDBEE_OK;
}

/* Document i's path and reference, as the bridge lays them out. */
static void doc(unsigned i, unsigned version, char *path, uint8_t ref[32]) {
  uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;
  snprintf(path, 64, "users/%08x%016llx", 0x65000000u + i / 7,
           (unsigned long long)x);
  memset(ref, 0, 32);
  memcpy(ref, &i, sizeof i);
  memcpy(ref + 8, &version, sizeof version);
  ref[31] = 1;
}

int main(int argc, char **argv) {
  unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
  unsigned batch = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
  table t = {calloc(1024, sizeof(slot)), 1024, 0, 0, 0};
  mdb_error err = {0};
  mdb_mantaray *m;
  char path[64];
  uint8_t ref[32], root[32];
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"}};
  mdb_mantaray_entry e = {(const uint8_t *)path, 0, ref, 32, meta, 1};

  double t0 = now();
  if (mdb_mantaray_new(&m, &err))
    die("new", &err);
  for (unsigned i = 0; i < n; i++) {
    doc(i, 0, path, ref);
    e.path_len = strlen(path);
    if (mdb_mantaray_put(m, &e, &err))
      die("put", &err);
  }
  if (mdb_mantaray_save(m, sink, &t, root, &err))
    die("save", &err);
  mdb_mantaray_free(m);
  double t1 = now();
  printf("build: %u entries in %.2f s (%.0f entries/s), %zu chunks, %.1f MB\n",
         n, t1 - t0, n / (t1 - t0), t.written, t.bytes / 1e6);

  /* One document changed per snapshot. */
  const unsigned rounds = 200;
  size_t loads = 0, written = 0;
  t0 = now();
  for (unsigned r = 0; r < rounds; r++) {
    if (mdb_mantaray_open(root, source, &t, &m, &err))
      die("open", &err);
    doc((r * 7919u) % n, r + 1, path, ref);
    e.path_len = strlen(path);
    size_t before = t.written;
    if (mdb_mantaray_put(m, &e, &err) ||
        mdb_mantaray_save(m, sink, &t, root, &err))
      die("edit", &err);
    loads += mdb_mantaray_loads(m);
    written += t.written - before;
    mdb_mantaray_free(m);
  }
  t1 = now();
  printf("edit 1 doc: %.1f chunks read, %.1f written, %.0f us each\n",
         (double)loads / rounds, (double)written / rounds,
         (t1 - t0) / rounds * 1e6);

  /* A batch of changes in one snapshot. */
  if (mdb_mantaray_open(root, source, &t, &m, &err))
    die("open", &err);
  size_t before = t.written;
  t0 = now();
  for (unsigned b = 0; b < batch; b++) {
    doc((b * 104729u) % n, 999, path, ref);
    e.path_len = strlen(path);
    if (mdb_mantaray_put(m, &e, &err))
      die("batch put", &err);
  }
  if (mdb_mantaray_save(m, sink, &t, root, &err))
    die("batch save", &err);
  t1 = now();
  printf("edit %u docs: %zu chunks read, %zu written, %.3f s\n", batch,
         mdb_mantaray_loads(m), t.written - before, t1 - t0);
  mdb_mantaray_free(m);

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("peak RSS: %.1f MB (includes the in-memory chunk table)\n",
         ru.ru_maxrss / 1024.0);
  for (size_t i = 0; i < t.cap; i++)
    free(t.slots[i].data);
  free(t.slots);
  return 0;
}
