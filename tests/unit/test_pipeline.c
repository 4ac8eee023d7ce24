/* A snapshot encodes documents on a thread of its own, batches ahead of
 * the thread that edits the manifest (docs/architecture.md, "Large
 * snapshots in bounded memory").  Its output must not depend on that: the
 * same changes published with threads = 1 and threads = 2 give the same
 * roots and counts over several batches, checkpoints, large documents and
 * deletes, and a document that cannot be encoded, deep inside the walk
 * while later batches are being encoded, fails the snapshot the same way
 * on both, losing nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/ingest.h"
#include "mdbee/publish.h"
#include "fake_bee.h"

enum { DOCS = 3000 };

typedef struct side {
  char dir[64];
  fake_setup s;
  unsigned threads;
} side;

static const char *const city_field[] = {"city"};
static const mdb_publish_index by_city[] = {{"by_city", city_field, 1}};
static const mdb_publish_collection colls[] = {{"items", NULL, 0, by_city, 1}};
static const char *const cities[] = {"Tartu", "Lima", "Oslo", "Pune", "Hilo"};

static void must(int rc, const mdb_error *err, const char *what) {
  if (rc != MDBEE_OK) fail_msg("%s: %s", what, err->message);
}

static void side_open(side *d, unsigned threads) {
  memset(d, 0, sizeof *d);
  strcpy(d->dir, "/tmp/mdbee-pipeline-XXXXXX");
  assert_non_null(mkdtemp(d->dir));
  d->threads = threads;
  const char *allow[] = {"db.items"};
  uint8_t secret[32];
  memset(secret, 9, sizeof secret);
  /* Checkpoints land inside the walk, between batches the encoder
   * thread has already taken. */
  mdb_publish_options opts = {.db = "db", .collections = colls,
                              .n_collections = 1, .checkpoint_every = 1000,
                              .threads = threads};
  mdb_error err = {0};
  must(fake_setup_open(&d->s, d->dir, allow, 1, opts, secret, &err), &err,
       "opening the state");
}

static void side_close(side *d) {
  assert_int_equal(fake_setup_remove(&d->s, d->dir), 0);
}

static void id_key(int32_t id, uint8_t key[5]) {
  key[0] = BSON_TYPE_INT32;
  memcpy(key + 1, &id, 4);
}

/* Upserts items/<id> with version v, or deletes it when v < 0.  Every
 * 499th document is about 100 KiB: several chunks, and a job buffer
 * beyond what the walk keeps.  Four first versions of 4 MB end their
 * batches early and fill the walk's allowance of documents ahead. */
static void change(side *d, int32_t id, int v) {
  uint8_t key[5];
  id_key(id, key);
  bson_t *doc = NULL;
  if (v >= 0) {
    size_t len = v == 0 && id >= 1000 && id < 1004 ? 4200000
                 : id % 499 == 0                       ? 100000
                                                       : (size_t)(id * 37 + v * 11) % 900;
    char *text = malloc(len + 1);
    for (size_t k = 0; k < len; k++) text[k] = (char)('a' + (id + v + k) % 26);
    text[len] = '\0';
    doc = BCON_NEW("_id", BCON_INT32(id), "city",
                   BCON_UTF8(cities[(id + v) % 5]), "v", BCON_INT32(v),
                   "text", BCON_UTF8(text));
    free(text);
  }
  mdb_source_event ev = {.op = doc ? MDB_SOURCE_UPSERT : MDB_SOURCE_DELETE,
                         .db = "db", .coll = "items", .id_key = key,
                         .id_key_len = 5, .doc = doc};
  mdb_error err = {0};
  must(mdb_ingest_event(d->s.ingest, &ev, &err), &err, "event");
  if (doc) bson_destroy(doc);
}

/* Pending bytes that state their length right but not their content: a
 * string running past the document's end. */
static void change_malformed(side *d, int32_t id) {
  static const uint8_t bad[14] = {14, 0, 0, 0, 0x02, 'a', 0, 0xff, 0xff,
                                  0xff, 0x7f, 'x', 0, 0};
  uint8_t key[5];
  id_key(id, key);
  mdb_store_key k;
  mdb_store_key_init(&k, "db", "items", key, 5);
  mdb_store_txn *txn;
  mdb_error err = {0};
  must(mdb_ingest_commit(d->s.ingest, &err), &err, "commit");
  must(mdb_store_begin(d->s.store, 0, &txn, &err), &err, "begin");
  must(mdb_store_pending_upsert(txn, &k, bad, sizeof bad, &err), &err,
       "malformed upsert");
  must(mdb_store_commit(txn, &err), &err, "commit");
}

static uint64_t pending(side *d) {
  mdb_store_txn *txn;
  uint64_t n;
  assert_int_equal(mdb_store_begin(d->s.store, 1, &txn, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_pending_count(txn, &n, NULL), MDBEE_OK);
  mdb_store_abort(txn);
  return n;
}

/* Commits the ingest and publishes a snapshot. */
static void snapshot(side *d, int64_t time, mdb_publish_result *r) {
  mdb_error err = {0};
  must(mdb_ingest_commit(d->s.ingest, &err), &err, "commit");
  mdb_publish_stamp stamp = {.time = time};
  must(mdb_publisher_snapshot(d->s.pub, &stamp, r, &err), &err, "snapshot");
  assert_true(r->published);
}

/* Both sides published the same thing. */
static void expect_same(const mdb_publish_result *a,
                        const mdb_publish_result *b, const char *what) {
  if (memcmp(a->root, b->root, 32) != 0 ||
      memcmp(a->state_root, b->state_root, 32) != 0)
    fail_msg("%s: threads 1 and 2 gave other roots", what);
  assert_int_equal(a->seq, b->seq);
  assert_int_equal(a->changes, b->changes);
  assert_int_equal(a->documents_written, b->documents_written);
  assert_int_equal(a->chunks_made, b->chunks_made);
  assert_int_equal(a->chunks_uploaded, b->chunks_uploaded);
  assert_int_equal(a->manifest_chunks, b->manifest_chunks);
}

static void test_threads_give_same_roots(void **state) {
  (void)state;
  side d[2];
  side_open(&d[0], 1);
  side_open(&d[1], 2);
  mdb_publish_result r[2], first;
  for (int k = 0; k < 2; k++) {
    for (int32_t id = 0; id < DOCS; id++) change(&d[k], id, 0);
    snapshot(&d[k], 1700000000, &r[k]);
  }
  expect_same(&r[0], &r[1], "a first snapshot");
  assert_int_equal(r[0].documents_written, DOCS);
  first = r[0];

  /* Updates, deletes (some of updated documents) and inserts. */
  for (int k = 0; k < 2; k++) {
    for (int32_t id = 0; id < DOCS; id++) {
      if (id % 3 == 0) change(&d[k], id, 1);
      if (id % 7 == 0) change(&d[k], id, -1);
    }
    for (int32_t id = DOCS; id < DOCS + 500; id++) change(&d[k], id, 2);
    snapshot(&d[k], 1700000060, &r[k]);
  }
  expect_same(&r[0], &r[1], "updates and deletes");
  assert_memory_not_equal(first.state_root, r[0].state_root, 32);

  /* A document that cannot be encoded among valid changes before and
   * after it: the snapshot fails with the same error on both sides, and
   * everything stays pending. */
  mdb_error err[2] = {{0}, {0}};
  int rc[2];
  for (int k = 0; k < 2; k++) {
    for (int32_t id = 1; id < DOCS; id += 2) change(&d[k], id, 3);
    change_malformed(&d[k], DOCS - 301);
    uint64_t before = pending(&d[k]);
    mdb_publish_stamp stamp = {.time = 1700000120};
    rc[k] = mdb_publisher_snapshot(d[k].s.pub, &stamp, &r[k], &err[k]);
    assert_int_not_equal(rc[k], MDBEE_OK);
    assert_int_equal(pending(&d[k]), before);
  }
  assert_int_equal(rc[0], MDBEE_EFORMAT);
  assert_int_equal(rc[1], rc[0]);
  assert_string_equal(err[1].message, err[0].message);
  assert_non_null(strstr(err[0].message, "items/"));

  /* Fixed, the next snapshot publishes all of it as the third. */
  for (int k = 0; k < 2; k++) {
    change(&d[k], DOCS - 301, 4);
    snapshot(&d[k], 1700000180, &r[k]);
    assert_int_equal(r[k].seq, 3);
  }
  expect_same(&r[0], &r[1], "after a failed snapshot");
  assert_int_equal(r[0].changes, DOCS / 2);
  side_close(&d[0]);
  side_close(&d[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads_give_same_roots),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
