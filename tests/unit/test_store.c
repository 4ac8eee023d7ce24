/* Local state (LMDB): every table, transactions, key layout, and crash
 * safety under kill -9. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <bson/bson.h>
#include <lmdb.h>

#include "mdbee/store.h"

/* A fresh state directory per test, removed afterwards. */
typedef struct fixture {
  char dir[64];
  mdb_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/mdbee-store-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  mdb_error err = {0};
  if (mdb_store_open(f->dir, &f->store, &err) != MDBEE_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  mdb_store_close(f->store);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

/* An int32 _id as BSON element value bytes. */
static void int_id(int32_t v, uint8_t out[5]) {
  out[0] = BSON_TYPE_INT32;
  for (int i = 0; i < 4; i++) out[1 + i] = (uint8_t)((uint32_t)v >> (8 * i));
}

/* {_id: id, v: value} */
static bson_t *make_doc(int32_t id, int32_t value) {
  bson_t *b = bson_new();
  BSON_APPEND_INT32(b, "_id", id);
  BSON_APPEND_INT32(b, "v", value);
  return b;
}

/* A document key with an int32 _id; k.id points into id. */
typedef struct test_key {
  uint8_t id[5];
  mdb_store_key k;
} test_key;

static const mdb_store_key *key_of(test_key *t, const char *db,
                                   const char *coll, int32_t id) {
  int_id(id, t->id);
  mdb_store_key_init(&t->k, db, coll, t->id, sizeof t->id);
  return &t->k;
}

static int32_t doc_value(const uint8_t *data, size_t len) {
  bson_t b;
  assert_true(bson_init_static(&b, data, len));
  bson_iter_t it;
  assert_true(bson_iter_init_find(&it, &b, "v"));
  return bson_iter_int32(&it);
}

static mdb_store_txn *begin(mdb_store *s, int ro) {
  mdb_store_txn *t = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_store_begin(s, ro, &t, &err), MDBEE_OK);
  return t;
}

static void commit(mdb_store_txn *t) {
  mdb_error err = {0};
  assert_int_equal(mdb_store_commit(t, &err), MDBEE_OK);
}

static void upsert(mdb_store_txn *t, const char *db, const char *coll,
                   int32_t id, int32_t value) {
  test_key tk;
  const mdb_store_key *key = key_of(&tk, db, coll, id);
  bson_t *d = make_doc(id, value);
  mdb_error err = {0};
  assert_int_equal(
      mdb_store_pending_upsert(t, key, bson_get_data(d), d->len, &err),
      MDBEE_OK);
  bson_destroy(d);
}

/* Reads the pending change of db.coll/id: -1 absent, -2 delete, else v. */
static int32_t pending_of(mdb_store_txn *t, const char *db, const char *coll,
                          int32_t id) {
  test_key tk;
  const mdb_store_key *key = key_of(&tk, db, coll, id);
  mdb_store_change c;
  mdb_error err = {0};
  int rc = mdb_store_pending_get(t, key, &c, &err);
  if (rc == MDBEE_ENOTFOUND) return -1;
  assert_int_equal(rc, MDBEE_OK);
  if (c.deleted) return -2;
  return doc_value(c.doc, c.doc_len);
}

static void index_doc(mdb_store_txn *t, const char *db, const char *coll,
                      int32_t id, uint8_t tag, uint64_t size) {
  test_key tk;
  const mdb_store_key *key = key_of(&tk, db, coll, id);
  mdb_store_doc d = {0};
  memset(d.ref, tag, 32);
  d.ref_len = 32;
  d.size = size;
  mdb_error err = {0};
  assert_int_equal(mdb_store_doc_put(t, key, &d, &err), MDBEE_OK);
}

static void test_pending_latest_wins(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  upsert(t, "db", "c", 1, 10);
  upsert(t, "db", "c", 1, 11);
  upsert(t, "db", "c", 2, 20);
  test_key tk;
  const mdb_store_key *key = key_of(&tk, "db", "c", 2);
  mdb_error err = {0};
  assert_int_equal(mdb_store_pending_delete(t, key, &err), MDBEE_OK);
  commit(t);

  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "c", 1), 11);
  assert_int_equal(pending_of(t, "db", "c", 2), -2);
  assert_int_equal(pending_of(t, "db", "c", 3), -1);
  uint64_t n = 0;
  assert_int_equal(mdb_store_pending_count(t, &n, &err), MDBEE_OK);
  assert_int_equal(n, 2);
  mdb_store_abort(t);
}

static void test_pending_rejects_bad_input(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  test_key tk;
  const mdb_store_key *key = key_of(&tk, "db", "c", 1);
  mdb_error err = {0};
  const uint8_t junk[] = {9, 0, 0, 0, 1, 2, 3, 4, 0}; /* length lies */
  assert_int_equal(mdb_store_pending_upsert(t, key, junk, 6, &err),
                   MDBEE_EINVAL);
  uint8_t big[600];
  memset(big, 'x', sizeof big);
  big[0] = BSON_TYPE_BINARY;
  mdb_store_key k;
  mdb_store_key_init(&k, "db", "c", big, sizeof big);
  assert_int_equal(mdb_store_pending_delete(t, &k, &err), MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "_id too large"));
  mdb_store_key_init(&k, "db", "c", big, 0);
  assert_int_equal(mdb_store_pending_delete(t, &k, &err), MDBEE_EINVAL);
  commit(t);
  t = begin(f->store, 1);
  uint64_t n = 1;
  assert_int_equal(mdb_store_pending_count(t, &n, &err), MDBEE_OK);
  assert_int_equal(n, 0);
  mdb_store_abort(t);
}

struct walk {
  char names[16][32];
  int32_t values[16];
  uint64_t seqs[16];
  int n;
};

static int collect(void *ctx, const mdb_store_change *c) {
  struct walk *w = ctx;
  snprintf(w->names[w->n], 32, "%.*s/%.*s", (int)c->key.db_len, c->key.db,
           (int)c->key.coll_len, c->key.coll);
  w->values[w->n] = c->deleted ? -2 : doc_value(c->doc, c->doc_len);
  w->seqs[w->n] = c->seq;
  w->n++;
  return 0;
}

/* Reads every pending change in a read transaction. */
static void walk_pending(mdb_store *s, struct walk *w) {
  mdb_store_txn *t = begin(s, 1);
  mdb_error err = {0};
  memset(w, 0, sizeof *w);
  assert_int_equal(mdb_store_pending_each(t, collect, w, &err), MDBEE_OK);
  mdb_store_abort(t);
}

/* ("ab","c") and ("a","bc") must be different keys; iteration follows the
 * documented byte layout (length-prefixed names, then the _id). */
static void test_key_layout_and_order(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  upsert(t, "ab", "c", 1, 1);
  upsert(t, "a", "bc", 1, 2);
  upsert(t, "a", "bc", 0, 3);
  commit(t);
  struct walk w;
  walk_pending(f->store, &w);
  assert_int_equal(w.n, 3);
  /* u16 length 1 sorts before length 2; within a.bc, _id 0 before 1. */
  assert_string_equal(w.names[0], "a/bc");
  assert_int_equal(w.values[0], 3);
  assert_string_equal(w.names[1], "a/bc");
  assert_int_equal(w.values[1], 2);
  assert_string_equal(w.names[2], "ab/c");
  assert_int_equal(w.values[2], 1);
}

static int stop_at_two(void *ctx, const mdb_store_change *c) {
  (void)c;
  return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_each_stops_on_request(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  for (int i = 0; i < 5; i++) upsert(t, "db", "c", i, i);
  commit(t);
  t = begin(f->store, 1);
  int calls = 0;
  mdb_error err = {0};
  assert_int_equal(mdb_store_pending_each(t, stop_at_two, &calls, &err), 42);
  assert_int_equal(calls, 2);
  mdb_store_abort(t);
}

/* Walking on from a key in a new transaction resumes right after it. */
static void test_each_after_resumes(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  for (int i = 0; i < 6; i++) upsert(t, "db", "c", i, 10 + i);
  commit(t);
  t = begin(f->store, 1);
  struct walk w = {0};
  test_key tk;
  mdb_error err = {0};
  assert_int_equal(mdb_store_pending_each_after(t, key_of(&tk, "db", "c", 2),
                                                collect, &w, &err),
                   MDBEE_OK);
  assert_int_equal(w.n, 3);
  assert_int_equal(w.values[0], 13);
  assert_int_equal(w.values[2], 15);
  /* A key between entries (no pending change of its own) starts at the
   * next one. */
  memset(&w, 0, sizeof w);
  assert_int_equal(mdb_store_pending_each_after(t, key_of(&tk, "db", "b", 99),
                                                collect, &w, &err),
                   MDBEE_OK);
  assert_int_equal(w.n, 6);
  mdb_store_abort(t);
}

/* Pending changes arrive mostly in key order (a scan) and then out of
 * it: puts after the last key, before it and onto an existing key all
 * land, in one transaction and across two, and the walk sees them in key
 * order.  ids below 256 are in key order (the int32 is little-endian). */
static int count_in_order(void *ctx, const mdb_store_change *c) {
  int32_t *prev = ctx;
  int32_t id = c->key.id[1];
  if (id <= prev[0]) return 99;
  prev[0] = id;
  prev[1]++;
  prev[2] += c->deleted ? -1 : doc_value(c->doc, c->doc_len);
  return 0;
}

static void test_pending_in_and_out_of_order(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  for (int32_t id = 10; id < 100; id++) upsert(t, "db", "c", id, 1);
  upsert(t, "db", "c", 5, 1);   /* before the last key */
  upsert(t, "db", "c", 50, 2);  /* onto an existing key */
  upsert(t, "db", "c", 100, 1); /* after it again */
  commit(t);
  t = begin(f->store, 0);
  for (int32_t id = 101; id < 200; id++) upsert(t, "db", "c", id, 1);
  upsert(t, "db", "c", 7, 1);
  upsert(t, "db", "c", 150, 3);
  commit(t);
  t = begin(f->store, 1);
  int32_t seen[3] = {-1, 0, 0}; /* last id, entries, sum of values */
  mdb_error err = {0};
  assert_int_equal(mdb_store_pending_each(t, count_in_order, seen, &err),
                   MDBEE_OK);
  assert_int_equal(seen[1], 90 + 2 + 99 + 1);
  assert_int_equal(seen[2], seen[1] + 1 + 2); /* 50 and 150 updated */
  assert_int_equal(pending_of(t, "db", "c", 50), 2);
  assert_int_equal(pending_of(t, "db", "c", 150), 3);
  assert_int_equal(pending_of(t, "db", "c", 5), 1);
  assert_int_equal(pending_of(t, "db", "c", 6), -1);
  mdb_store_abort(t);
}

/* Staged changes reach the document index only when applied, in batches,
 * with pending changes cleared unless a newer event replaced them. */
static void test_stage_apply(void **state) {
  fixture *f = *state;
  mdb_error err = {0};
  mdb_store_txn *t = begin(f->store, 0);
  for (int i = 1; i <= 4; i++) upsert(t, "db", "c", i, i);
  upsert(t, "other", "c", 1, 1);
  index_doc(t, "db", "c", 3, 3, 30);
  index_doc(t, "db", "c", 4, 4, 40);
  commit(t);
  struct walk w;
  walk_pending(f->store, &w); /* seqs of db/c 1..4 in w.seqs[0..3] */

  t = begin(f->store, 0);
  test_key tk;
  mdb_store_doc d = {.ref_len = 32, .size = 7};
  memset(d.ref, 0xaa, 32);
  /* 1: new document; 2: new, but an event replaces it meanwhile; 3:
   * unchanged; 4: deleted; and a leftover of another database. */
  assert_int_equal(mdb_store_stage_put(t, key_of(&tk, "db", "c", 1), w.seqs[0], &d, 0, &err), MDBEE_OK);
  assert_int_equal(mdb_store_stage_put(t, key_of(&tk, "db", "c", 2), w.seqs[1], &d, 0, &err), MDBEE_OK);
  assert_int_equal(mdb_store_stage_put(t, key_of(&tk, "db", "c", 3), w.seqs[2], NULL, 0, &err), MDBEE_OK);
  assert_int_equal(mdb_store_stage_put(t, key_of(&tk, "db", "c", 4), w.seqs[3], NULL, 1, &err), MDBEE_OK);
  assert_int_equal(mdb_store_stage_put(t, key_of(&tk, "other", "c", 1), 1, &d, 0, &err), MDBEE_OK);
  upsert(t, "db", "c", 2, 22);
  commit(t);

  t = begin(f->store, 0);
  mdb_store_doc got;
  assert_int_equal(mdb_store_doc_get(t, key_of(&tk, "db", "c", 1), &got, &err), MDBEE_ENOTFOUND);
  /* What the index will hold: staged entries over published ones. */
  assert_int_equal(mdb_store_stage_doc_get(t, key_of(&tk, "db", "c", 1), &got, &err), MDBEE_OK);
  assert_int_equal(got.size, 7);
  assert_int_equal(mdb_store_stage_doc_get(t, key_of(&tk, "db", "c", 3), &got, &err), MDBEE_OK);
  assert_int_equal(got.size, 30);
  assert_int_equal(mdb_store_stage_doc_get(t, key_of(&tk, "db", "c", 4), &got, &err),
                   MDBEE_ENOTFOUND);
  int sealed = 1;
  assert_int_equal(mdb_store_stage_sealed(t, "db", &sealed, &err), MDBEE_OK);
  assert_int_equal(sealed, 0);
  assert_int_equal(mdb_store_stage_seal(t, "db", &err), MDBEE_OK);
  assert_int_equal(mdb_store_stage_seal(t, "other", &err), MDBEE_OK);
  commit(t);

  /* The seal stays until the last staged change of db is applied. */
  int more = 0, rounds = 0;
  do {
    t = begin(f->store, 0);
    assert_int_equal(mdb_store_stage_apply(t, "db", 3, &more, &err), MDBEE_OK);
    assert_int_equal(mdb_store_stage_sealed(t, "db", &sealed, &err), MDBEE_OK);
    assert_int_equal(sealed, more);
    commit(t);
    rounds++;
  } while (more);
  assert_int_equal(rounds, 2);

  t = begin(f->store, 1);
  assert_int_equal(mdb_store_doc_get(t, key_of(&tk, "db", "c", 1), &got, &err), MDBEE_OK);
  assert_int_equal(got.size, 7);
  assert_int_equal(mdb_store_doc_get(t, key_of(&tk, "db", "c", 3), &got, &err), MDBEE_OK);
  assert_int_equal(got.size, 30);
  assert_int_equal(mdb_store_doc_get(t, key_of(&tk, "db", "c", 4), &got, &err), MDBEE_ENOTFOUND);
  assert_int_equal(pending_of(t, "db", "c", 1), -1);
  assert_int_equal(pending_of(t, "db", "c", 2), 22);
  assert_int_equal(pending_of(t, "db", "c", 3), -1);
  assert_int_equal(pending_of(t, "db", "c", 4), -1);
  mdb_store_stats st;
  assert_int_equal(mdb_store_stats_get(t, "db", "c", &st, &err), MDBEE_OK);
  assert_int_equal(st.count, 3);
  assert_int_equal(st.bytes, 7 + 7 + 30);
  mdb_store_abort(t);

  /* The other database's leftover is its own; clearing forgets it. */
  t = begin(f->store, 0);
  assert_int_equal(mdb_store_stage_sealed(t, "other", &sealed, &err), MDBEE_OK);
  assert_int_equal(sealed, 1);
  assert_int_equal(mdb_store_stage_clear(t, "other", &err), MDBEE_OK);
  assert_int_equal(mdb_store_stage_sealed(t, "other", &sealed, &err), MDBEE_OK);
  assert_int_equal(sealed, 0);
  assert_int_equal(mdb_store_stage_apply(t, "other", 10, &more, &err), MDBEE_OK);
  assert_int_equal(more, 0);
  assert_int_equal(mdb_store_doc_get(t, key_of(&tk, "other", "c", 1), &got, &err), MDBEE_ENOTFOUND);
  commit(t);
}

/* One apply spanning several collections keeps each one's statistics:
 * the sums of a collection are written when the next begins, and a
 * deletion of a document never indexed counts for nothing. */
static void test_stage_apply_stats_per_collection(void **state) {
  fixture *f = *state;
  mdb_error err = {0};
  mdb_store_txn *t = begin(f->store, 0);
  index_doc(t, "db", "a", 1, 1, 100);
  index_doc(t, "db", "b", 1, 1, 1000);
  index_doc(t, "db", "b", 2, 2, 2000);
  commit(t);

  t = begin(f->store, 0);
  test_key tk;
  mdb_store_doc d = {.ref_len = 32};
  memset(d.ref, 0xbb, 32);
  const struct { const char *coll; int32_t id; uint64_t size; int del; } ch[] = {
      {"a", 1, 150, 0}, {"a", 2, 20, 0}, {"b", 1, 0, 1}, {"b", 3, 0, 1},
      {"b", 4, 4, 0},   {"c", 1, 0, 1},  {"d", 1, 9, 0},
  };
  for (size_t i = 0; i < sizeof ch / sizeof *ch; i++) {
    d.size = ch[i].size;
    assert_int_equal(mdb_store_stage_put(t, key_of(&tk, "db", ch[i].coll, ch[i].id),
                                         1, &d, ch[i].del, &err),
                     MDBEE_OK);
  }
  assert_int_equal(mdb_store_stage_seal(t, "db", &err), MDBEE_OK);
  int more = 1;
  assert_int_equal(mdb_store_stage_apply(t, "db", 100, &more, &err), MDBEE_OK);
  assert_int_equal(more, 0);
  commit(t);

  t = begin(f->store, 1);
  const struct { const char *coll; uint64_t count, bytes; } want[] = {
      {"a", 2, 170}, {"b", 2, 2004}, {"c", 0, 0}, {"d", 1, 9},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    mdb_store_stats st;
    assert_int_equal(mdb_store_stats_get(t, "db", want[i].coll, &st, &err), MDBEE_OK);
    assert_int_equal(st.count, want[i].count);
    assert_int_equal(st.bytes, want[i].bytes);
  }
  mdb_store_abort(t);
}

/* Trimming drops only the process's view of the map: data read before
 * and after stays the same, even through pointers taken before. */
static void test_trim_keeps_data(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  for (int i = 0; i < 2000; i++) upsert(t, "db", "c", i, i);
  commit(t);
  t = begin(f->store, 1);
  mdb_store_change c;
  test_key tk;
  mdb_error err = {0};
  assert_int_equal(mdb_store_pending_get(t, key_of(&tk, "db", "c", 1234), &c, &err), MDBEE_OK);
  mdb_store_trim(f->store);
  assert_int_equal(doc_value(c.doc, c.doc_len), 1234);
  mdb_store_abort(t);
  mdb_store_trim(f->store);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "c", 1999), 1999);
  mdb_store_abort(t);
}

/* A snapshot read a pending entry; an event arriving before the snapshot
 * commits must survive the clear. */
static void test_pending_clear_respects_seq(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  upsert(t, "db", "c", 1, 1);
  upsert(t, "db", "c", 2, 2);
  commit(t);

  struct walk w;
  walk_pending(f->store, &w);
  mdb_error err = {0};
  assert_int_equal(w.n, 2);
  assert_true(w.seqs[1] > w.seqs[0]);

  t = begin(f->store, 0);
  upsert(t, "db", "c", 2, 22); /* arrives while the snapshot is built */
  commit(t);

  t = begin(f->store, 0);
  for (int i = 0; i < 2; i++) {
    test_key tk;
    const mdb_store_key *key = key_of(&tk, "db", "c", i + 1);
    assert_int_equal(mdb_store_pending_clear(t, key, w.seqs[i], &err), MDBEE_OK);
  }
  commit(t);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "c", 1), -1);
  assert_int_equal(pending_of(t, "db", "c", 2), 22);
  mdb_store_abort(t);
}

static void test_abort_discards(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  upsert(t, "db", "c", 1, 1);
  mdb_store_abort(t);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "c", 1), -1);
  mdb_store_abort(t);
}

/* The entry of key reads back as want (as given to mdb_store_doc_put). */
static void expect_doc(mdb_store_txn *t, const mdb_store_key *key,
                       const mdb_store_doc *want) {
  mdb_store_doc got;
  mdb_error err = {0};
  assert_int_equal(mdb_store_doc_get(t, key, &got, &err), MDBEE_OK);
  assert_int_equal(got.ref_len, want->ref_len);
  assert_memory_equal(got.ref, want->ref, want->ref_len);
  assert_int_equal(got.size, want->size);
  assert_int_equal(got.n_index_keys, want->n_index_keys);
  size_t pos = 0;
  mdb_store_index_key ik;
  for (size_t i = 0; i < want->n_index_keys; i++) {
    const mdb_store_index_key *k = &want->index_keys[i];
    assert_int_equal(mdb_store_doc_index_next(&got, &pos, &ik), 1);
    assert_int_equal(ik.index_len, k->index_len);
    assert_memory_equal(ik.index, k->index, ik.index_len);
    assert_int_equal(ik.key_len, k->key_len);
    assert_memory_equal(ik.key, k->key, ik.key_len);
  }
  assert_int_equal(mdb_store_doc_index_next(&got, &pos, &ik), 0);
}

static void test_doc_index_and_stats(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  test_key tk;
  const mdb_store_key *key = key_of(&tk, "db", "c", 7);
  mdb_store_index_key keys[2] = {
      {"by_name", 7, (const uint8_t *)"\x02" "alice", 6},
      {"by_age", 6, (const uint8_t *)"\x01\x80\x00\x00\x2a", 5}};
  mdb_store_doc d = {0};
  memset(d.ref, 0xab, 64);
  d.ref_len = 64;
  d.size = 100;
  d.index_keys = keys;
  d.n_index_keys = 2;
  mdb_error err = {0};
  assert_int_equal(mdb_store_doc_put(t, key, &d, &err), MDBEE_OK);
  index_doc(t, "db", "c", 8, 0x22, 50);
  index_doc(t, "db", "other", 1, 0x33, 5);
  commit(t);

  t = begin(f->store, 0);
  expect_doc(t, key, &d);
  mdb_store_doc got;

  mdb_store_stats st;
  assert_int_equal(mdb_store_stats_get(t, "db", "c", &st, &err), MDBEE_OK);
  assert_int_equal(st.count, 2);
  assert_int_equal(st.bytes, 150);

  /* Replacing keeps the count and adjusts the bytes; deleting drops it. */
  index_doc(t, "db", "c", 8, 0x23, 70);
  assert_int_equal(mdb_store_doc_del(t, key, &err), MDBEE_OK);
  assert_int_equal(mdb_store_doc_del(t, key, &err), MDBEE_OK);
  assert_int_equal(mdb_store_doc_get(t, key, &got, &err), MDBEE_ENOTFOUND);
  assert_int_equal(mdb_store_stats_get(t, "db", "c", &st, &err), MDBEE_OK);
  assert_int_equal(st.count, 1);
  assert_int_equal(st.bytes, 70);
  assert_int_equal(mdb_store_stats_get(t, "db", "none", &st, &err), MDBEE_OK);
  assert_int_equal(st.count, 0);
  commit(t);
}

/* Runs fn on the only entry of the docs table, with the store closed:
 * stands for a state directory written by an older mdbee. */
static void with_raw_doc_entry(fixture *f,
                               void (*fn)(MDB_txn *, MDB_dbi, MDB_val *,
                                          MDB_val *)) {
  mdb_store_close(f->store);
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  MDB_cursor *cur;
  MDB_val k, v;
  assert_int_equal(mdb_env_create(&env), 0);
  assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
  assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
  assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
  assert_int_equal(mdb_dbi_open(txn, "docs", 0, &dbi), 0);
  assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
  assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
  mdb_cursor_close(cur);
  fn(txn, dbi, &k, &v);
  assert_int_equal(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
  mdb_error err = {0};
  assert_int_equal(mdb_store_open(f->dir, &f->store, &err), MDBEE_OK);
}

/* Rewrites the entry in the layout of before 2026-11: ref length without
 * the flag bit, and a 32-byte content hash between ref and size. */
static void to_old_layout(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v) {
  const uint8_t *p = v->mv_data;
  size_t rl = p[0] & 0x7f;
  uint8_t old[512];
  assert_true(p[0] & 0x80);
  assert_true(v->mv_size + 32 <= sizeof old);
  old[0] = (uint8_t)rl;
  memcpy(old + 1, p + 1, rl);
  memset(old + 1 + rl, 0xee, 32);
  memcpy(old + 1 + rl + 32, p + 1 + rl, v->mv_size - 1 - rl);
  MDB_val ov = {v->mv_size + 32, old};
  assert_int_equal(mdb_put(txn, dbi, k, &ov, 0), 0);
}

static void expect_new_layout(MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
                              MDB_val *v) {
  (void)txn, (void)dbi, (void)k;
  assert_true(((const uint8_t *)v->mv_data)[0] & 0x80);
}

/* A state directory from before the content hash was dropped is read as
 * it is, and its entries move to the new layout when rewritten. */
static void test_doc_index_old_layout(void **state) {
  fixture *f = *state;
  test_key tk;
  const mdb_store_key *key = key_of(&tk, "db", "c", 7);
  mdb_store_index_key ik_in = {"by_name", 7, (const uint8_t *)"\x02" "bob", 4};
  mdb_store_doc d = {0};
  memset(d.ref, 0x5a, 32);
  d.ref_len = 32;
  d.size = 1234;
  d.index_keys = &ik_in;
  d.n_index_keys = 1;
  mdb_error err = {0};
  mdb_store_txn *t = begin(f->store, 0);
  assert_int_equal(mdb_store_doc_put(t, key, &d, &err), MDBEE_OK);
  commit(t);
  with_raw_doc_entry(f, to_old_layout);

  t = begin(f->store, 0);
  expect_doc(t, key, &d);
  /* Replacing it subtracts the old entry's size from the statistics. */
  d.size = 34;
  assert_int_equal(mdb_store_doc_put(t, key, &d, &err), MDBEE_OK);
  mdb_store_stats st;
  assert_int_equal(mdb_store_stats_get(t, "db", "c", &st, &err), MDBEE_OK);
  assert_int_equal(st.count, 1);
  assert_int_equal(st.bytes, 34);
  commit(t);
  with_raw_doc_entry(f, expect_new_layout);
}

/* A corrupt index list is reported, never read past its end. */
static void test_doc_index_next_bounds(void **state) {
  (void)state;
  const uint8_t blob[] = {3, 0, 'a', 'b', 'c', 9, 0, 0, 0, 'k'};
  mdb_store_doc d = {0};
  d.index_blob = blob;
  d.index_blob_len = sizeof blob;
  size_t pos = 0;
  mdb_store_index_key ik;
  assert_int_equal(mdb_store_doc_index_next(&d, &pos, &ik), -1);
  d.index_blob_len = 1;
  assert_int_equal(mdb_store_doc_index_next(&d, &pos, &ik), -1);
}

static int count_docs(void *ctx, const mdb_store_key *k,
                      const mdb_store_doc *d) {
  (void)k;
  (void)d;
  ++*(int *)ctx;
  return 0;
}

static void test_drop_collection_and_database(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  index_doc(t, "db", "a", 1, 1, 1);
  index_doc(t, "db", "a", 2, 2, 1);
  index_doc(t, "db", "b", 1, 3, 1);
  index_doc(t, "db2", "a", 1, 4, 1);
  upsert(t, "db", "a", 3, 3);   /* new, not yet indexed */
  upsert(t, "db", "b", 2, 2);
  commit(t);

  t = begin(f->store, 1);
  int n = 0;
  mdb_error err = {0};
  assert_int_equal(mdb_store_doc_each(t, "db", NULL, count_docs, &n, &err),
                   MDBEE_OK);
  assert_int_equal(n, 3);
  n = 0;
  assert_int_equal(mdb_store_doc_each(t, NULL, NULL, count_docs, &n, &err),
                   MDBEE_OK);
  assert_int_equal(n, 4);
  mdb_store_abort(t);

  t = begin(f->store, 0);
  assert_int_equal(mdb_store_pending_drop(t, "db", "a", &err), MDBEE_OK);
  commit(t);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "a", 1), -2);
  assert_int_equal(pending_of(t, "db", "a", 2), -2);
  assert_int_equal(pending_of(t, "db", "a", 3), -2);
  assert_int_equal(pending_of(t, "db", "b", 1), -1);
  assert_int_equal(pending_of(t, "db", "b", 2), 2);
  mdb_store_abort(t);

  t = begin(f->store, 0);
  assert_int_equal(mdb_store_pending_drop(t, "db", NULL, &err), MDBEE_OK);
  commit(t);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "b", 1), -2);
  assert_int_equal(pending_of(t, "db", "b", 2), -2);
  assert_int_equal(pending_of(t, "db2", "a", 1), -1);
  mdb_store_abort(t);
}

/* A re-scan that no longer sees a document deletes it, whether it was
 * indexed or only pending; seen documents are untouched. */
static void test_rescan_sweeps_unseen(void **state) {
  fixture *f = *state;
  mdb_store_txn *t = begin(f->store, 0);
  index_doc(t, "db", "c", 1, 1, 1);
  index_doc(t, "db", "c", 2, 2, 1);
  index_doc(t, "db", "d", 9, 9, 1);
  upsert(t, "db", "c", 3, 3);
  mdb_error err = {0};
  /* Marks of a scan that a crash interrupted must not spare anything. */
  for (int32_t id = 1; id <= 3; id += 2) {
    test_key stale;
    assert_int_equal(mdb_store_scan_mark(t, key_of(&stale, "db", "c", id), &err),
                     MDBEE_OK);
  }
  assert_int_equal(mdb_store_scan_begin(t, "db", "c", &err), MDBEE_OK);
  commit(t);

  /* The scan spans transactions; it sees only _id 2. */
  t = begin(f->store, 0);
  upsert(t, "db", "c", 2, 22);
  test_key tk;
  const mdb_store_key *key = key_of(&tk, "db", "c", 2);
  assert_int_equal(mdb_store_scan_mark(t, key, &err), MDBEE_OK);
  commit(t);

  t = begin(f->store, 0);
  assert_int_equal(mdb_store_scan_end(t, "db", "c", &err), MDBEE_OK);
  commit(t);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "c", 1), -2);
  assert_int_equal(pending_of(t, "db", "c", 2), 22);
  assert_int_equal(pending_of(t, "db", "c", 3), -2);
  assert_int_equal(pending_of(t, "db", "d", 9), -1);
  mdb_store_abort(t);

  /* The marks are gone: a second empty scan deletes _id 2 too. */
  t = begin(f->store, 0);
  assert_int_equal(mdb_store_scan_begin(t, "db", "c", &err), MDBEE_OK);
  assert_int_equal(mdb_store_scan_end(t, "db", "c", &err), MDBEE_OK);
  commit(t);
  t = begin(f->store, 1);
  assert_int_equal(pending_of(t, "db", "c", 2), -2);
  mdb_store_abort(t);
}

static void test_chunk_cache_and_have_set(void **state) {
  fixture *f = *state;
  uint8_t a[32], b[32], data[4104];
  memset(a, 1, 32);
  memset(b, 2, 32);
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)i;
  mdb_error err = {0};
  mdb_store_txn *t = begin(f->store, 0);
  assert_int_equal(mdb_store_chunk_put(t, a, data, sizeof data, &err), MDBEE_OK);
  assert_int_equal(mdb_store_chunk_put(t, b, data, 7, &err), MDBEE_EINVAL);
  assert_int_equal(mdb_store_chunk_put(t, b, data, 4105, &err), MDBEE_EINVAL);
  assert_int_equal(mdb_store_have_set(t, a, 1, &err), MDBEE_OK);
  assert_int_equal(mdb_store_have_set(t, b, 1, &err), MDBEE_OK);
  assert_int_equal(mdb_store_have_set(t, b, 0, &err), MDBEE_OK);
  commit(t);

  t = begin(f->store, 0);
  const uint8_t *got;
  size_t len;
  assert_int_equal(mdb_store_chunk_get(t, a, &got, &len, &err), MDBEE_OK);
  assert_int_equal(len, sizeof data);
  assert_memory_equal(got, data, len);
  assert_int_equal(mdb_store_chunk_get(t, b, &got, &len, &err),
                   MDBEE_ENOTFOUND);
  int has = -1;
  assert_int_equal(mdb_store_have_get(t, a, &has, &err), MDBEE_OK);
  assert_int_equal(has, 1);
  assert_int_equal(mdb_store_have_get(t, b, &has, &err), MDBEE_OK);
  assert_int_equal(has, 0);
  assert_int_equal(mdb_store_chunk_del(t, a, &err), MDBEE_OK);
  assert_int_equal(mdb_store_chunk_get(t, a, &got, &len, &err),
                   MDBEE_ENOTFOUND);
  assert_int_equal(mdb_store_have_clear(t, &err), MDBEE_OK);
  assert_int_equal(mdb_store_have_get(t, a, &has, &err), MDBEE_OK);
  assert_int_equal(has, 0);
  commit(t);
}

static void test_resume_points(void **state) {
  fixture *f = *state;
  mdb_error err = {0};
  mdb_store_txn *t = begin(f->store, 0);
  mdb_store_resume r = {(const uint8_t *)"coll", 4, 10, 1};
  assert_int_equal(mdb_store_resume_put(t, "db", "c", &r, &err), MDBEE_OK);
  r = (mdb_store_resume){(const uint8_t *)"database", 8, 20, 2};
  assert_int_equal(mdb_store_resume_put(t, "db", NULL, &r, &err), MDBEE_OK);
  r = (mdb_store_resume){(const uint8_t *)"all", 3, 30, 3};
  assert_int_equal(mdb_store_resume_put(t, NULL, NULL, &r, &err), MDBEE_OK);
  r = (mdb_store_resume){(const uint8_t *)"x", 0, 0, 0};
  assert_int_equal(mdb_store_resume_put(t, "db", "c", &r, &err), MDBEE_EINVAL);
  assert_int_equal(mdb_store_resume_put(t, NULL, "c", &r, &err), MDBEE_EINVAL);
  commit(t);

  mdb_store_close(f->store);
  assert_int_equal(mdb_store_open(f->dir, &f->store, &err), MDBEE_OK);
  t = begin(f->store, 0);
  mdb_store_resume got;
  assert_int_equal(mdb_store_resume_get(t, "db", "c", &got, &err), MDBEE_OK);
  assert_int_equal(got.token_len, 4);
  assert_memory_equal(got.token, "coll", 4);
  assert_int_equal(got.cluster_t, 10);
  assert_int_equal(got.cluster_i, 1);
  assert_int_equal(mdb_store_resume_get(t, "db", NULL, &got, &err), MDBEE_OK);
  assert_memory_equal(got.token, "database", 8);
  assert_int_equal(mdb_store_resume_get(t, NULL, NULL, &got, &err), MDBEE_OK);
  assert_memory_equal(got.token, "all", 3);
  assert_int_equal(got.cluster_t, 30);
  assert_int_equal(mdb_store_resume_get(t, "db", "d", &got, &err),
                   MDBEE_ENOTFOUND);
  assert_int_equal(mdb_store_resume_del(t, "db", "c", &err), MDBEE_OK);
  assert_int_equal(mdb_store_resume_get(t, "db", "c", &got, &err),
                   MDBEE_ENOTFOUND);
  commit(t);
}

static int collect_seq(void *ctx, const mdb_store_snapshot *s) {
  uint64_t *seqs = ctx;
  seqs[seqs[0]++ + 1] = s->seq;
  return 0;
}

static void test_history(void **state) {
  fixture *f = *state;
  mdb_error err = {0};
  mdb_store_txn *t = begin(f->store, 0);
  mdb_store_snapshot s;
  assert_int_equal(mdb_store_history_get(t, "shop", 0, &s, &err), MDBEE_ENOTFOUND);
  /* 300 entries: big-endian keys keep numeric order past 255. */
  for (int i = 0; i < 300; i++) {
    memset(&s, 0, sizeof s);
    memset(s.root, i & 0xff, 32);
    s.root_len = 32;
    s.time = 1700000000 + i;
    s.feed_index = (uint64_t)i;
    s.pinned = 1;
    assert_int_equal(mdb_store_history_append(t, "shop", &s, &err), MDBEE_OK);
    assert_int_equal(s.seq, (uint64_t)i + 1);
  }
  s.root_len = 0;
  assert_int_equal(mdb_store_history_append(t, "shop", &s, &err), MDBEE_EINVAL);
  commit(t);

  t = begin(f->store, 0);
  assert_int_equal(mdb_store_history_get(t, "shop", 0, &s, &err), MDBEE_OK);
  assert_int_equal(s.seq, 300);
  assert_int_equal(s.feed_index, 299);
  assert_int_equal(s.time, 1700000299);
  assert_int_equal(mdb_store_history_get(t, "shop", 5, &s, &err), MDBEE_OK);
  assert_int_equal(s.root[0], 4);
  assert_true(s.pinned);
  assert_int_equal(mdb_store_history_set_pinned(t, "shop", 5, 0, &err), MDBEE_OK);
  assert_int_equal(mdb_store_history_get(t, "shop", 5, &s, &err), MDBEE_OK);
  assert_false(s.pinned);
  assert_int_equal(s.time, 1700000004);
  assert_int_equal(mdb_store_history_set_pinned(t, "shop", 301, 0, &err),
                   MDBEE_ENOTFOUND);
  static uint64_t seqs[302];
  assert_int_equal(mdb_store_history_each(t, "shop", collect_seq, seqs, &err), MDBEE_OK);
  assert_int_equal(seqs[0], 300);
  for (uint64_t i = 1; i <= 300; i++) assert_int_equal(seqs[i], i);
  commit(t);

  /* Databases have separate histories: "shop" sorts between "sho" and
   * "shopx", whose snapshots must not be taken for its own. */
  t = begin(f->store, 0);
  assert_int_equal(mdb_store_history_get(t, "shopx", 0, &s, &err), MDBEE_ENOTFOUND);
  assert_int_equal(mdb_store_history_get(t, "sho", 0, &s, &err), MDBEE_ENOTFOUND);
  s.root_len = 32;
  assert_int_equal(mdb_store_history_append(t, "shopx", &s, &err), MDBEE_OK);
  assert_int_equal(s.seq, 1);
  assert_int_equal(mdb_store_history_append(t, "sho", &s, &err), MDBEE_OK);
  assert_int_equal(s.seq, 1);
  assert_int_equal(mdb_store_history_get(t, "shop", 0, &s, &err), MDBEE_OK);
  assert_int_equal(s.seq, 300);
  memset(seqs, 0, sizeof seqs);
  assert_int_equal(mdb_store_history_each(t, "shopx", collect_seq, seqs, &err), MDBEE_OK);
  assert_int_equal(seqs[0], 1);
  commit(t);
}

/* The state directory is created; a missing parent is a named error. */
static void test_open_creates_directory(void **state) {
  fixture *f = *state;
  char sub[96];
  snprintf(sub, sizeof sub, "%s/nested", f->dir);
  mdb_store *s;
  mdb_error err = {0};
  assert_int_equal(mdb_store_open(sub, &s, &err), MDBEE_OK);
  assert_true(mdb_store_map_size(s) >= ((size_t)1 << 30));
  mdb_store_close(s);
  snprintf(sub, sizeof sub, "%s/no/such/parent", f->dir);
  assert_int_equal(mdb_store_open(sub, &s, &err), MDBEE_EIO);
  assert_non_null(strstr(err.message, sub));
}

/* ---- kill -9 ------------------------------------------------------------ */

#define DOCS 10

/* Tells the parent, once, through the pipe's write end, that the child's
 * first transaction is durable: the kill then lands at a random point
 * after it, however slowly a loaded machine let the child start. */
static void report_progress(int *fd) {
  if (*fd < 0) return;
  if (write(*fd, "x", 1) != 1) _exit(10);
  close(*fd);
  *fd = -1;
}

/* Child: event i (1, 2, ...) upserts doc i % DOCS with value i and stores
 * token i, in one transaction per event.  Runs until killed. */
static void event_writer(const char *dir, int progress) {
  mdb_store *s;
  mdb_error err = {0};
  if (mdb_store_open(dir, &s, &err) != MDBEE_OK) _exit(3);
  for (int32_t i = 1;; i++) {
    mdb_store_txn *t;
    if (mdb_store_begin(s, 0, &t, &err) != MDBEE_OK) _exit(4);
    test_key tk;
    const mdb_store_key *key = key_of(&tk, "db", "c", i % DOCS);
    bson_t *d = make_doc(i % DOCS, i);
    uint8_t tok[4];
    memcpy(tok, &i, 4);
    mdb_store_resume r = {tok, 4, (uint32_t)i, 0};
    if (mdb_store_pending_upsert(t, key, bson_get_data(d), d->len, &err) ||
        mdb_store_resume_put(t, "db", "c", &r, &err) ||
        mdb_store_commit(t, &err))
      _exit(5);
    report_progress(&progress);
    bson_destroy(d);
  }
}

/* Waits for the child's first durable transaction (fd: the pipe's read
 * end), then kills it after usec more microseconds. */
static void kill_after(pid_t pid, int fd, long usec) {
  char byte;
  assert_int_equal(read(fd, &byte, 1), 1);
  close(fd);
  struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
  nanosleep(&ts, NULL);
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
}

static void test_kill_between_events(void **state) {
  fixture *f = *state;
  mdb_store_close(f->store);
  f->store = NULL;
  srand((unsigned)time(NULL));
  uint32_t last = 0;
  for (int round = 0; round < 5; round++) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      event_writer(f->dir, fds[1]);
    }
    close(fds[1]);
    kill_after(pid, fds[0], rand() % 80000);

    mdb_error err = {0};
    assert_int_equal(mdb_store_open(f->dir, &f->store, &err), MDBEE_OK);
    mdb_store_txn *t = begin(f->store, 1);
    mdb_store_resume r;
    int rc = mdb_store_resume_get(t, "db", "c", &r, &err);
    if (rc == MDBEE_ENOTFOUND) {
      assert_int_equal(last, 0);
    } else {
      assert_int_equal(rc, MDBEE_OK);
      uint32_t k = r.cluster_t;
      /* Every round restarts at event 1, so token k alone says how far
       * the child got; the pending docs must be exactly events k-9..k. */
      for (int32_t d = 0; d < DOCS; d++) {
        int32_t v = pending_of(t, "db", "c", d);
        int32_t want = (int32_t)k - (((int32_t)k - d) % DOCS + DOCS) % DOCS;
        if (want <= 0 && last == 0) {
          assert_int_equal(v, -1);
        } else if (want > 0) {
          /* Written by this round, or still by a longer earlier one. */
          assert_true(v == want || (v > (int32_t)k && v % DOCS == d));
        }
      }
      last = k;
    }
    mdb_store_abort(t);
    mdb_store_close(f->store);
    f->store = NULL;
  }
  assert_true(last > 0);
  mdb_error err = {0};
  assert_int_equal(mdb_store_open(f->dir, &f->store, &err), MDBEE_OK);
}

/* Child: repeatedly (a) records events 1..DOCS as pending upserts with a
 * resume token, then (b) commits a snapshot: index entries for them,
 * cleared pendings and a history entry, in one transaction. */
static void snapshot_writer(const char *dir, int progress) {
  mdb_store *s;
  mdb_error err = {0};
  if (mdb_store_open(dir, &s, &err) != MDBEE_OK) _exit(3);
  for (int32_t round = 1;; round++) {
    mdb_store_txn *t;
    if (mdb_store_begin(s, 0, &t, &err) != MDBEE_OK) _exit(4);
    for (int32_t d = 0; d < DOCS; d++) {
      test_key tk;
      const mdb_store_key *key = key_of(&tk, "db", "c", d);
      bson_t *doc = make_doc(d, round);
      if (mdb_store_pending_upsert(t, key, bson_get_data(doc), doc->len, &err))
        _exit(5);
      bson_destroy(doc);
    }
    if (mdb_store_commit(t, &err)) _exit(6);

    if (mdb_store_begin(s, 0, &t, &err) != MDBEE_OK) _exit(4);
    for (int32_t d = 0; d < DOCS; d++) {
      test_key tk;
      const mdb_store_key *key = key_of(&tk, "db", "c", d);
      mdb_store_change c;
      if (mdb_store_pending_get(t, key, &c, &err)) _exit(7);
      mdb_store_doc doc = {0};
      memset(doc.ref, (uint8_t)round, 32);
      doc.ref_len = 32;
      doc.size = (uint64_t)round;
      if (mdb_store_doc_put(t, key, &doc, &err) ||
          mdb_store_pending_clear(t, key, c.seq, &err))
        _exit(8);
    }
    mdb_store_snapshot snap = {0};
    memset(snap.root, (uint8_t)round, 32);
    snap.root_len = 32;
    snap.feed_index = (uint64_t)round - 1;
    if (mdb_store_history_append(t, "shop", &snap, &err) || mdb_store_commit(t, &err))
      _exit(9);
    report_progress(&progress);
  }
}

static void test_kill_during_snapshots(void **state) {
  fixture *f = *state;
  mdb_store_close(f->store);
  f->store = NULL;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    snapshot_writer(f->dir, fds[1]);
  }
  close(fds[1]);
  kill_after(pid, fds[0], rand() % 100000);

  mdb_error err = {0};
  assert_int_equal(mdb_store_open(f->dir, &f->store, &err), MDBEE_OK);
  mdb_store_txn *t = begin(f->store, 1);
  mdb_store_snapshot snap;
  uint64_t snaps = 0;
  if (mdb_store_history_get(t, "shop", 0, &snap, &err) == MDBEE_OK) snaps = snap.seq;
  assert_true(snaps > 0);
  uint64_t pending = 0;
  assert_int_equal(mdb_store_pending_count(t, &pending, &err), MDBEE_OK);
  /* Either the crash hit after the events of round snaps+1 (all pending,
   * none indexed for it) or after its snapshot: never in between. */
  assert_true(pending == 0 || pending == DOCS);
  for (int32_t d = 0; d < DOCS; d++) {
    test_key tk;
    const mdb_store_key *key = key_of(&tk, "db", "c", d);
    mdb_store_doc doc;
    assert_int_equal(mdb_store_doc_get(t, key, &doc, &err), MDBEE_OK);
    assert_int_equal(doc.ref[0], (uint8_t)snaps);
    if (pending)
      assert_int_equal(pending_of(t, "db", "c", d), (int32_t)snaps + 1);
  }
  mdb_store_stats st;
  assert_int_equal(mdb_store_stats_get(t, "db", "c", &st, &err), MDBEE_OK);
  assert_int_equal(st.count, DOCS);
  assert_int_equal(st.bytes, DOCS * snaps);
  mdb_store_abort(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pending_latest_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pending_in_and_out_of_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_pending_rejects_bad_input, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_key_layout_and_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_each_stops_on_request, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_pending_clear_respects_seq, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_abort_discards, setup, teardown),
      cmocka_unit_test_setup_teardown(test_each_after_resumes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stage_apply, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stage_apply_stats_per_collection, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_trim_keeps_data, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_index_and_stats, setup, teardown),
      cmocka_unit_test_setup_teardown(test_doc_index_old_layout, setup,
                                      teardown),
      cmocka_unit_test(test_doc_index_next_bounds),
      cmocka_unit_test_setup_teardown(test_drop_collection_and_database, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_rescan_sweeps_unseen, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chunk_cache_and_have_set, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_resume_points, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_creates_directory, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_kill_between_events, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kill_during_snapshots, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
