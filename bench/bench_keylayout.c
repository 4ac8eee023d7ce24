/* How the kind of _id shapes a collection's manifest (issue 8, item 2):
 * for ObjectIds (one inserting process, and 64 of them), random UUIDs
 * (binary subtype 4), sequential int32 and int64, short random strings and
 * sequential strings, builds the manifest of n documents exactly as the
 * publisher files them (<collection>/<docId> with Content-Type and
 * Filename metadata), then measures the trie depth of 500 entries (nodes
 * read by a lookup from the root), the chunks one update writes, and the
 * largest serialised node.
 *
 *   build/release/bench/bench_keylayout [MAX_N]   (default 100000)
 *
 * Chunks live in the unit tests' fake Bee (memory), so this is about the
 * shape, not storage speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_bee.h"
#include "mdbee/docid.h"
#include "mdbee/mantaray.h"

static uint64_t mix(uint64_t x) { /* splitmix64 */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Writes the i-th _id of a kind as type byte + value bytes; returns the
 * length. */
typedef size_t (*id_fn)(uint64_t i, uint8_t *out);

static size_t oid_bytes(uint32_t ts, uint64_t process, uint32_t counter,
                        uint8_t *out) {
  out[0] = 0x07;
  for (int k = 0; k < 4; k++) out[1 + k] = (uint8_t)(ts >> (24 - 8 * k));
  for (int k = 0; k < 5; k++) out[5 + k] = (uint8_t)(process >> (8 * k));
  for (int k = 0; k < 3; k++) out[10 + k] = (uint8_t)(counter >> (16 - 8 * k));
  return 13;
}

/* One process inserting 50 documents a second. */
static size_t oid_one(uint64_t i, uint8_t *out) {
  return oid_bytes(1700000000u + (uint32_t)(i / 50), 0x4f0cd15eull,
                   0x3a5b7cu + (uint32_t)i, out);
}

/* 64 processes (their own random bytes and counters), 500 a second. */
static size_t oid_many(uint64_t i, uint8_t *out) {
  uint64_t p = mix(i) % 64;
  return oid_bytes(1700000000u + (uint32_t)(i / 500), mix(p + 1000),
                   (uint32_t)mix(p) + (uint32_t)(i / 64), out);
}

static size_t uuid(uint64_t i, uint8_t *out) {
  uint8_t *v = out + 1;
  out[0] = 0x05;
  v[0] = 16, v[1] = v[2] = v[3] = 0, v[4] = 4;
  uint64_t a = mix(i), b = mix(a);
  memcpy(v + 5, &a, 8);
  memcpy(v + 13, &b, 8);
  v[5 + 6] = (uint8_t)((v[5 + 6] & 0x0f) | 0x40); /* version 4 */
  v[5 + 8] = (uint8_t)((v[5 + 8] & 0x3f) | 0x80); /* variant */
  return 22;
}

static size_t int32_seq(uint64_t i, uint8_t *out) {
  uint32_t v = (uint32_t)i + 1;
  out[0] = 0x10;
  memcpy(out + 1, &v, 4); /* little-endian hosts, as BSON */
  return 5;
}

static size_t int64_seq(uint64_t i, uint8_t *out) {
  uint64_t v = 1000000000000ull + i;
  out[0] = 0x12;
  memcpy(out + 1, &v, 8);
  return 9;
}

static size_t string_value(const char *s, uint8_t *out) {
  uint32_t len = (uint32_t)strlen(s) + 1;
  out[0] = 0x02;
  memcpy(out + 1, &len, 4);
  memcpy(out + 5, s, len);
  return 5 + len;
}

/* 8 random characters of [a-z0-9], as short generated keys are. */
static size_t string_random(uint64_t i, uint8_t *out) {
  char s[9];
  uint64_t r = mix(i);
  for (int k = 0; k < 8; k++, r /= 36) s[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
  s[8] = '\0';
  return string_value(s, out);
}

static size_t string_seq(uint64_t i, uint8_t *out) {
  char s[32];
  snprintf(s, sizeof s, "user%llu", (unsigned long long)i + 1);
  return string_value(s, out);
}

static const struct kind {
  const char *name;
  id_fn id;
} kinds[] = {
    {"ObjectId, one process", oid_one},
    {"ObjectId, 64 processes", oid_many},
    {"UUID (binary 4), random", uuid},
    {"int32, sequential", int32_seq},
    {"int64, sequential", int64_seq},
    {"string, 8 random chars", string_random},
    {"string, \"user<n>\"", string_seq},
};

static void die(const char *what, const mdb_error *err) {
  fprintf(stderr, "bench_keylayout: %s: %s\n", what, err->message);
  exit(1);
}

/* The path and metadata of the i-th document, as the publisher files it. */
static void entry(const struct kind *k, uint64_t i, char *path, char **docid) {
  uint8_t value[64];
  size_t len = k->id(i, value);
  mdb_error err = {0};
  if (mdb_docid_encode(value, len, docid, &err)) die("docid", &err);
  snprintf(path, 128, "items/%s", *docid);
}

static void put(mdb_mantaray *m, const struct kind *k, uint64_t i,
                uint32_t version) {
  char path[128], *docid;
  entry(k, i, path, &docid);
  uint8_t ref[32] = {0};
  memcpy(ref, &i, sizeof i);
  memcpy(ref + 8, &version, sizeof version);
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"},
                            {"Filename", docid}};
  mdb_mantaray_entry e = {(const uint8_t *)path, strlen(path), ref, 32, meta, 2};
  mdb_error err = {0};
  if (mdb_mantaray_put(m, &e, &err)) die("put", &err);
  free(docid);
}

static void measure(const struct kind *k, uint64_t n) {
  fake_bee bee = {0};
  mdb_publish_target t = fake_bee_target(&bee);
  mdb_error err = {0};
  mdb_mantaray *m;
  uint8_t root[32];
  if (mdb_mantaray_new(&m, &err)) die("new", &err);
  for (uint64_t i = 0; i < n; i++) put(m, k, i, 0);
  if (mdb_mantaray_save(m, t.put_chunk, &bee, root, &err)) die("save", &err);
  mdb_mantaray_free(m);
  size_t largest = 0;
  for (size_t s = 0; s < bee.cap; s++)
    if (bee.slots[s].data && bee.slots[s].size > largest) largest = bee.slots[s].size;

  enum { SAMPLES = 500, UPDATES = 100 };
  size_t depth_sum = 0, depth_max = 0, written = 0;
  for (uint64_t s = 0; s < SAMPLES; s++) {
    char path[128], *docid;
    entry(k, mix(s + 77) % n, path, &docid);
    free(docid);
    if (mdb_mantaray_open(root, fake_bee_source, &bee, &m, &err)) die("open", &err);
    mdb_mantaray_entry found;
    if (mdb_mantaray_lookup(m, (const uint8_t *)path, strlen(path), &found, &err))
      die("lookup", &err);
    size_t d = mdb_mantaray_loads(m);
    depth_sum += d;
    if (d > depth_max) depth_max = d;
    mdb_mantaray_free(m);
  }
  for (uint32_t u = 0; u < UPDATES; u++) {
    if (mdb_mantaray_open(root, fake_bee_source, &bee, &m, &err)) die("open", &err);
    put(m, k, mix(u + 991) % n, u + 1);
    size_t before = bee.puts;
    uint8_t r2[32];
    if (mdb_mantaray_save(m, t.put_chunk, &bee, r2, &err)) die("save", &err);
    written += bee.puts - before;
    mdb_mantaray_free(m);
  }
  printf("| %s | %llu | %.2f | %zu | %.2f | %zu |\n", k->name,
         (unsigned long long)n, (double)depth_sum / SAMPLES, depth_max,
         (double)written / UPDATES, largest - MDB_SPAN_SIZE);
  fflush(stdout);
  fake_bee_free(&bee);
}

int main(int argc, char **argv) {
  uint64_t max = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
  printf("| _id | documents | mean depth | max depth | chunks per update | "
         "largest node (bytes) |\n|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    for (uint64_t n = 1000; n <= max; n *= 10) measure(&kinds[k], n);
  return 0;
}
