#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mdbee/ingest.h"

struct fixture {
  char dir[64];
  mdb_store *store;
  mdb_ingest *in;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/mdbee-ingest-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  assert_int_equal(mdb_store_open(f->dir, &f->store, NULL), MDBEE_OK);
  const char *allow[] = {"shop.orders", "shop.customers"};
  assert_int_equal(mdb_ingest_new(f->store, allow, 2, &f->in, NULL), MDBEE_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  mdb_ingest_free(f->in);
  mdb_store_close(f->store);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

/* An upsert event for shop.<coll> with an int32 _id and a resume token
 * {_data: token}. */
struct event {
  mdb_source_event ev;
  bson_t *doc, *token;
  uint8_t id_key[5];
};

static void make_upsert(struct event *e, const char *coll, int32_t id,
                        const char *token) {
  memset(e, 0, sizeof *e);
  e->doc = BCON_NEW("_id", BCON_INT32(id), "v", BCON_UTF8("x"));
  e->token = BCON_NEW("_data", BCON_UTF8(token));
  e->id_key[0] = BSON_TYPE_INT32;
  memcpy(e->id_key + 1, &id, 4); /* BSON is little-endian, as is the host */
  e->ev = (mdb_source_event){
      .op = MDB_SOURCE_UPSERT, .db = "shop", .coll = coll,
      .id_key = e->id_key, .id_key_len = 5, .doc = e->doc,
      .resume_token = e->token, .stream_db = "shop", .stream_coll = coll,
      .cluster_t = 100, .cluster_i = (uint32_t)id, .operation = "insert"};
}

static void free_event(struct event *e) {
  bson_destroy(e->doc);
  bson_destroy(e->token);
}

static uint64_t pending(struct fixture *f) {
  mdb_store_txn *txn;
  uint64_t n = 0;
  assert_int_equal(mdb_store_begin(f->store, 1, &txn, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_pending_count(txn, &n, NULL), MDBEE_OK);
  mdb_store_abort(txn);
  return n;
}

static void test_batch_commits_changes_with_resume_token(void **state) {
  struct fixture *f = *state;
  struct event a, b;
  make_upsert(&a, "orders", 1, "0001");
  make_upsert(&b, "orders", 2, "0002");
  assert_int_equal(mdb_ingest_event(f->in, &a.ev, NULL), MDBEE_OK);
  assert_int_equal(mdb_ingest_event(f->in, &b.ev, NULL), MDBEE_OK);
  bson_t token = BSON_INITIALIZER;
  assert_int_equal(mdb_ingest_resume_token(f->in, "shop", "orders", &token), 0);
  assert_int_equal(mdb_ingest_commit(f->in, NULL), MDBEE_OK);
  assert_int_equal(pending(f), 2);
  assert_int_equal(mdb_ingest_resume_token(f->in, "shop", "orders", &token), 1);
  assert_true(bson_equal(&token, b.token));
  bson_destroy(&token);
  mdb_ingest_stats stats;
  mdb_ingest_stats_get(f->in, &stats);
  assert_int_equal(stats.upserts, 2);
  assert_int_equal(stats.cluster_i, 2);
  free_event(&a);
  free_event(&b);
}

static void test_abort_loses_changes_and_token_together(void **state) {
  struct fixture *f = *state;
  struct event a;
  make_upsert(&a, "orders", 1, "0001");
  assert_int_equal(mdb_ingest_event(f->in, &a.ev, NULL), MDBEE_OK);
  mdb_ingest_abort(f->in);
  assert_int_equal(pending(f), 0);
  bson_t token = BSON_INITIALIZER;
  assert_int_equal(mdb_ingest_resume_token(f->in, "shop", "orders", &token), 0);
  bson_destroy(&token);
  free_event(&a);
}

static void test_refuses_namespace_outside_allow_list(void **state) {
  struct fixture *f = *state;
  struct event a;
  make_upsert(&a, "secrets", 1, "0001");
  mdb_error err = {0};
  assert_int_equal(mdb_ingest_event(f->in, &a.ev, &err), MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "shop.secrets"));
  assert_int_equal(mdb_ingest_commit(f->in, NULL), MDBEE_OK);
  assert_int_equal(pending(f), 0);
  free_event(&a);
}

static void test_delete_and_drop_become_pending_deletes(void **state) {
  struct fixture *f = *state;
  struct event a, b;
  make_upsert(&a, "orders", 1, "0001");
  make_upsert(&b, "orders", 2, "0002");
  assert_int_equal(mdb_ingest_event(f->in, &a.ev, NULL), MDBEE_OK);
  assert_int_equal(mdb_ingest_event(f->in, &b.ev, NULL), MDBEE_OK);
  b.ev.op = MDB_SOURCE_DELETE;
  b.ev.doc = NULL;
  assert_int_equal(mdb_ingest_event(f->in, &b.ev, NULL), MDBEE_OK);
  mdb_source_event drop = {.op = MDB_SOURCE_DROP, .db = "shop",
                           .coll = "orders", .operation = "drop"};
  assert_int_equal(mdb_ingest_event(f->in, &drop, NULL), MDBEE_OK);
  assert_int_equal(mdb_ingest_commit(f->in, NULL), MDBEE_OK);
  mdb_store_txn *txn;
  assert_int_equal(mdb_store_begin(f->store, 1, &txn, NULL), MDBEE_OK);
  for (int32_t id = 1; id <= 2; id++) {
    struct event e;
    make_upsert(&e, "orders", id, "x");
    mdb_store_key key;
    mdb_store_key_init(&key, "shop", "orders", e.id_key, 5);
    mdb_store_change c;
    assert_int_equal(mdb_store_pending_get(txn, &key, &c, NULL), MDBEE_OK);
    assert_true(c.deleted);
    free_event(&e);
  }
  mdb_store_abort(txn);
  free_event(&a);
  free_event(&b);
}

/* A scan commits on its own once its open batch holds 16 MiB of
 * documents, however few they are, and the rest at mdb_ingest_commit. */
static void test_scan_commits_large_batches_by_size(void **state) {
  struct fixture *f = *state;
  enum { N = 40, TEXT = 1 << 20 };
  char *text = malloc(TEXT);
  memset(text, 'a', TEXT - 1);
  text[TEXT - 1] = '\0';
  for (int32_t id = 0; id < N; id++) {
    struct event e;
    make_upsert(&e, "orders", id, "x");
    bson_destroy(e.doc);
    e.doc = BCON_NEW("_id", BCON_INT32(id), "text", BCON_UTF8(text));
    e.ev.doc = e.doc;
    e.ev.from_scan = 1;
    e.ev.resume_token = NULL;
    assert_int_equal(mdb_ingest_event(f->in, &e.ev, NULL), MDBEE_OK);
    free_event(&e);
  }
  mdb_ingest_stats stats;
  mdb_ingest_stats_get(f->in, &stats);
  assert_int_equal(stats.commits, 2); /* after 16 and after 32 MiB */
  assert_int_equal(pending(f), 32);
  assert_int_equal(mdb_ingest_commit(f->in, NULL), MDBEE_OK);
  assert_int_equal(pending(f), N);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          test_batch_commits_changes_with_resume_token, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_abort_loses_changes_and_token_together, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_refuses_namespace_outside_allow_list, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_delete_and_drop_become_pending_deletes, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_scan_commits_large_batches_by_size, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
