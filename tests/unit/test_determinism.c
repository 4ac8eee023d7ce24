/* The published state root depends only on the published data (issue 8,
 * item 3): one random final state of a database, reached through many
 * histories - shuffled orders, different batchings into snapshots,
 * restarts between batches, intermediate versions, deletes and
 * re-inserts, manifest checkpoints inside a snapshot, a re-scan over a
 * stale state and a full re-sync into an empty state directory - must
 * give the same state root every time, and a different final state a
 * different root.
 *
 * The seed comes from MDBEE_SEED, else from the clock; it is printed
 * first and in every failure message, so any failure can be replayed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mdbee/ingest.h"
#include "mdbee/publish.h"
#include "bsongen.h"
#include "fake_bee.h"

enum { DOCS = 240, EXTRA = 60 };

static unsigned long long seed;

/* ---- the final state and its documents ---------------------------------- */

/* Document slot i: an _id of a type drawn by i (ObjectId, int32, int64,
 * string, binary UUID), and content version v (0 is the final one). */
typedef struct doc_id {
  uint8_t key[32]; /* type byte + value bytes */
  size_t len;
} doc_id;

static doc_id ids[DOCS + EXTRA];
static uint32_t final_value[DOCS];

static void make_ids(bsongen *g) {
  for (size_t i = 0; i < DOCS + EXTRA; i++) {
    doc_id *d = &ids[i];
    uint64_t r = bsongen_next(g);
    switch (i % 5) {
    case 0: /* ObjectId */
      d->key[0] = BSON_TYPE_OID;
      for (int k = 0; k < 12; k++) d->key[1 + k] = (uint8_t)(bsongen_next(g) >> 7);
      d->len = 13;
      break;
    case 1: /* int32 */
      d->key[0] = BSON_TYPE_INT32;
      for (int k = 0; k < 4; k++) d->key[1 + k] = (uint8_t)((i * 7 + 1) >> (8 * k));
      d->len = 5;
      break;
    case 2: /* int64 */
      d->key[0] = BSON_TYPE_INT64;
      for (int k = 0; k < 8; k++) d->key[1 + k] = (uint8_t)((r ^ i) >> (8 * k));
      d->len = 9;
      break;
    case 3: { /* short string */
      char s[12];
      int n = snprintf(s, sizeof s, "u%zu-%c", i, 'a' + (int)(r % 26));
      d->key[0] = BSON_TYPE_UTF8;
      uint32_t l = (uint32_t)n + 1;
      memcpy(d->key + 1, &l, 4);
      memcpy(d->key + 5, s, l);
      d->len = 5 + l;
      break;
    }
    default: /* UUID: binary subtype 4 */
      d->key[0] = BSON_TYPE_BINARY;
      d->key[1] = 16, d->key[2] = d->key[3] = d->key[4] = 0;
      d->key[5] = 4;
      for (int k = 0; k < 16; k++) d->key[6 + k] = (uint8_t)(bsongen_next(g) >> 9);
      d->len = 22;
    }
  }
}

/* Appends the _id of slot i to doc as its first field. */
static void append_id(bson_t *doc, size_t i) {
  const doc_id *d = &ids[i];
  const uint8_t *v = d->key + 1;
  switch (d->key[0]) {
  case BSON_TYPE_OID: {
    bson_oid_t oid;
    bson_oid_init_from_data(&oid, v);
    BSON_APPEND_OID(doc, "_id", &oid);
    break;
  }
  case BSON_TYPE_INT32: {
    int32_t x;
    memcpy(&x, v, 4);
    BSON_APPEND_INT32(doc, "_id", x);
    break;
  }
  case BSON_TYPE_INT64: {
    int64_t x;
    memcpy(&x, v, 8);
    BSON_APPEND_INT64(doc, "_id", x);
    break;
  }
  case BSON_TYPE_UTF8:
    BSON_APPEND_UTF8(doc, "_id", (const char *)v + 4);
    break;
  default:
    BSON_APPEND_BINARY(doc, "_id", BSON_SUBTYPE_UUID, v + 5, 16);
  }
}

static const char *const cities[] = {"Tartu", "Lima", "Oslo", "Pune"};

/* Content of slot i with value x: the city feeds the by_city index. */
static bson_t *make_doc(size_t i, uint32_t x) {
  bson_t *doc = bson_new();
  append_id(doc, i);
  BSON_APPEND_UTF8(doc, "city", cities[x % 4]);
  BSON_APPEND_INT64(doc, "x", x);
  bson_t sub;
  BSON_APPEND_DOCUMENT_BEGIN(doc, "nested", &sub);
  BSON_APPEND_INT32(&sub, "y", (int32_t)(x / 3));
  bson_append_document_end(doc, &sub);
  return doc;
}

/* ---- one history ---------------------------------------------------------- */

typedef struct run {
  char dir[64];
  fake_setup s;
  uint32_t checkpoint_every;
  int64_t clock;
  uint8_t state_root[32];
} run;

static const char *const city_field[] = {"city"};
static const mdb_publish_index by_city[] = {{"by_city", city_field, 1}};
static const mdb_publish_collection colls[] = {{"items", NULL, 0, by_city, 1}};

static void must(int rc, const mdb_error *err, const char *what) {
  if (rc != MDBEE_OK) fail_msg("seed %llu: %s: %s", seed, what, err->message);
}

static void run_open(run *r) {
  mdb_error err = {0};
  const char *allow[] = {"db.items"};
  uint8_t secret[32];
  memset(secret, 5, sizeof secret);
  mdb_publish_options opts = {.db = "db", .collections = colls,
                              .n_collections = 1,
                              .checkpoint_every = r->checkpoint_every};
  must(fake_setup_open(&r->s, r->dir, allow, 1, opts, secret, &err), &err,
       "opening the state");
}

static void run_begin(run *r, uint32_t checkpoint_every) {
  memset(r, 0, sizeof *r);
  strcpy(r->dir, "/tmp/mdbee-determinism-XXXXXX");
  assert_non_null(mkdtemp(r->dir));
  r->checkpoint_every = checkpoint_every;
  r->clock = 1700000000;
  run_open(r);
}

static void run_end(run *r) {
  assert_int_equal(fake_setup_remove(&r->s, r->dir), 0);
}

static void event(run *r, mdb_source_op op, size_t i, uint32_t x, int scan) {
  bson_t *doc = op == MDB_SOURCE_UPSERT ? make_doc(i, x) : NULL;
  mdb_source_event ev = {.op = op, .from_scan = scan, .db = "db",
                         .coll = "items"};
  if (op == MDB_SOURCE_UPSERT || op == MDB_SOURCE_DELETE) {
    ev.id_key = ids[i].key;
    ev.id_key_len = ids[i].len;
    ev.doc = doc;
  }
  mdb_error err = {0};
  must(mdb_ingest_event(r->s.ingest, &ev, &err), &err, "event");
  if (doc) bson_destroy(doc);
}

static void snapshot(run *r) {
  mdb_error err = {0};
  must(mdb_ingest_commit(r->s.ingest, &err), &err, "commit");
  mdb_publish_result res;
  mdb_publish_stamp stamp = {.time = r->clock++};
  must(mdb_publisher_snapshot(r->s.pub, &stamp, &res, &err), &err, "snapshot");
  if (res.published) memcpy(r->state_root, res.state_root, 32);
}

/* One step of a history: slot i gets value x (upsert) or is deleted. */
typedef struct step {
  size_t i;
  int del;
  uint32_t x;
} step;

static void shuffle(bsongen *g, step *s, size_t n) {
  for (size_t k = n; k > 1; k--) {
    size_t j = (size_t)(bsongen_next(g) % k);
    step t = s[k - 1];
    s[k - 1] = s[j];
    s[j] = t;
  }
}

/* A random history ending in the final state (with slot `changed` of the
 * final state holding final + 1 when changed < DOCS): intermediate values,
 * deleted extras, deletes and re-inserts, in a shuffled order where each
 * slot's last step is its final one, cut into random snapshots, with
 * restarts between some of them. */
static void random_history(run *r, bsongen *g, int restarts, size_t changed) {
  size_t cap = 4 * (DOCS + EXTRA), n = 0;
  step *noise = calloc(cap, sizeof *noise), *steps = calloc(cap, sizeof *steps);
  for (size_t i = 0; i < DOCS + EXTRA; i++) {
    if (bsongen_next(g) % 2) noise[n++] = (step){i, 0, (uint32_t)bsongen_next(g)};
    if (bsongen_next(g) % 4 == 0) noise[n++] = (step){i, 1, 0};
  }
  shuffle(g, noise, n);
  size_t m = 0;
  for (size_t k = 0; k < n; k++) steps[m++] = noise[k];
  /* Final steps in a shuffled order of their own, after all noise. */
  step fin[DOCS + EXTRA];
  for (size_t i = 0; i < DOCS + EXTRA; i++)
    fin[i] = i < DOCS ? (step){i, 0, final_value[i] + (i == changed)}
                      : (step){i, 1, 0};
  shuffle(g, fin, DOCS + EXTRA);
  for (size_t i = 0; i < DOCS + EXTRA; i++) steps[m++] = fin[i];
  for (size_t k = 0; k < m; k++) {
    event(r, steps[k].del ? MDB_SOURCE_DELETE : MDB_SOURCE_UPSERT, steps[k].i,
          steps[k].x, 0);
    if (bsongen_next(g) % 97 == 0) {
      snapshot(r);
      if (restarts && bsongen_next(g) % 2) {
        fake_setup_close(&r->s); /* a restart */
        run_open(r);
      }
    }
  }
  snapshot(r);
  free(noise);
  free(steps);
}

/* The final state as a scan in key order into r (after any history). */
static void rescan(run *r) {
  event(r, MDB_SOURCE_SCAN_BEGIN, 0, 0, 0);
  for (size_t i = 0; i < DOCS; i++) event(r, MDB_SOURCE_UPSERT, i, final_value[i], 1);
  event(r, MDB_SOURCE_SCAN_END, 0, 0, 0);
  snapshot(r);
}

static void expect_root(const uint8_t want[32], const run *r, const char *what) {
  if (memcmp(want, r->state_root, 32) != 0)
    fail_msg("seed %llu: %s gave another state root", seed, what);
}

static void test_same_state_same_root(void **state) {
  (void)state;
  bsongen g = {.state = seed};
  make_ids(&g);
  for (size_t i = 0; i < DOCS; i++) final_value[i] = (uint32_t)bsongen_next(&g);

  /* Reference: a full re-sync into an empty state directory. */
  run r;
  run_begin(&r, 0);
  rescan(&r);
  uint8_t want[32];
  memcpy(want, r.state_root, 32);
  run_end(&r);

  for (int h = 0; h < 3; h++) {
    run_begin(&r, 0);
    random_history(&r, &g, h == 2, DOCS);
    expect_root(want, &r, h == 2 ? "a history with restarts" : "a shuffled history");
    /* A re-scan of the same data over a state that has it changes nothing
     * published. */
    rescan(&r);
    expect_root(want, &r, "a re-scan over the same state");
    run_end(&r);
  }

  /* Checkpoints inside one snapshot (every 7 changes) and a re-scan over
   * a stale state (a history of other values) converge too. */
  run_begin(&r, 7);
  random_history(&r, &g, 1, 0);
  rescan(&r);
  expect_root(want, &r, "a re-scan over a stale state, with checkpoints");
  run_end(&r);

  /* The test can fail: one document with another value is another root. */
  run_begin(&r, 0);
  random_history(&r, &g, 0, (size_t)(bsongen_next(&g) % DOCS));
  if (memcmp(want, r.state_root, 32) == 0)
    fail_msg("seed %llu: a different final state gave the same root", seed);
  run_end(&r);
}

int main(void) {
  const char *env = getenv("MDBEE_SEED");
  seed = env ? strtoull(env, NULL, 10) : (unsigned long long)time(NULL);
  if (seed == 0) seed = 1;
  printf("# seed %llu (MDBEE_SEED=%llu replays it)\n", seed, seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_state_same_root),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
