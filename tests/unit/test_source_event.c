/* MongoDB source: normalisation of change events in MongoDB's documented
 * format and in mongo-java-server's (see DESIGN.md "Real peers"), _id key
 * bytes, and option checks that need no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mongoc/mongoc.h>

#include "../../src/mongo/source_internal.h"

static bson_t *json(const char *text) {
  bson_error_t e;
  bson_t *b = bson_new_from_json((const uint8_t *)text, -1, &e);
  assert_non_null(b);
  return b;
}

static int32_t id_int(const source_change *c) {
  assert_int_equal(c->id.value_type, BSON_TYPE_INT32);
  return c->id.value.v_int32;
}

static void test_mongod_insert_update_replace_delete(void **state) {
  (void)state;
  source_change c;
  mdb_error err = {0};
  bson_t *ev = json("{\"_id\": {\"_data\": \"82\"}, \"operationType\": \"insert\","
                    " \"clusterTime\": {\"$timestamp\": {\"t\": 7, \"i\": 2}},"
                    " \"ns\": {\"db\": \"shop\", \"coll\": \"items\"},"
                    " \"documentKey\": {\"_id\": 5},"
                    " \"fullDocument\": {\"_id\": 5, \"name\": \"a\"}}");
  assert_int_equal(source_normalise(ev, "x", "y", &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_UPSERT);
  assert_string_equal(c.db, "shop");
  assert_string_equal(c.coll, "items");
  assert_int_equal(id_int(&c), 5);
  assert_int_equal(c.cluster_t, 7);
  assert_int_equal(c.cluster_i, 2);
  bson_iter_t it;
  assert_true(bson_iter_init_find(&it, &c.doc, "name"));
  bson_destroy(ev);

  /* updateLookup found nothing (mongod: fullDocument null): delete. */
  ev = json("{\"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"},"
            " \"documentKey\": {\"_id\": 9}, \"fullDocument\": null,"
            " \"updateDescription\": {\"updatedFields\": {\"a\": 1}}}");
  assert_int_equal(source_normalise(ev, NULL, NULL, &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_DELETE);
  assert_int_equal(id_int(&c), 9);
  bson_destroy(ev);

  ev = json("{\"operationType\": \"replace\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"},"
            " \"documentKey\": {\"_id\": 9}, \"fullDocument\": {\"_id\": 9, \"w\": 1}}");
  assert_int_equal(source_normalise(ev, NULL, NULL, &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_UPSERT);
  bson_destroy(ev);

  ev = json("{\"operationType\": \"delete\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"},"
            " \"documentKey\": {\"_id\": \"k\"}}");
  assert_int_equal(source_normalise(ev, NULL, NULL, &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_DELETE);
  assert_int_equal(c.id.value_type, BSON_TYPE_UTF8);
  assert_string_equal(c.id.value.v_utf8.str, "k");
  bson_destroy(ev);
}

/* mongo-java-server: no ns, documentKey is the update specification,
 * fullDocument of a gone document is the $set fields without _id. */
static void test_java_server_quirks(void **state) {
  (void)state;
  source_change c;
  mdb_error err = {0};
  bson_t *ev = json("{\"operationType\": \"update\","
                    " \"documentKey\": {\"$set\": {\"v\": 2}},"
                    " \"fullDocument\": {\"_id\": 3, \"v\": 2}}");
  assert_int_equal(source_normalise(ev, "d", "c", &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_UPSERT);
  assert_string_equal(c.db, "d");
  assert_string_equal(c.coll, "c");
  assert_int_equal(id_int(&c), 3);
  bson_destroy(ev);

  ev = json("{\"operationType\": \"update\","
            " \"documentKey\": {\"$set\": {\"v\": 2}}, \"fullDocument\": {\"v\": 2}}");
  assert_int_equal(source_normalise(ev, "d", "c", &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_CHECKPOINT); /* its delete follows */
  bson_destroy(ev);

  /* A drop without ns may be of another collection of the database
   * (mongo-java-server sends it to every stream): re-scan, never drop. */
  ev = json("{\"operationType\": \"drop\"}");
  assert_int_equal(source_normalise(ev, "d", "c", &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_CHECKPOINT);
  assert_true(c.rescan);
  bson_destroy(ev);
}

static void test_namespace_events(void **state) {
  (void)state;
  source_change c;
  mdb_error err = {0};
  bson_t *ev = json("{\"operationType\": \"rename\", \"ns\": {\"db\": \"d\", \"coll\": \"a\"},"
                    " \"to\": {\"db\": \"d\", \"coll\": \"b\"}}");
  assert_int_equal(source_normalise(ev, NULL, NULL, &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_DROP);
  assert_false(c.rescan);
  assert_string_equal(c.coll, "a");
  assert_string_equal(c.to_db, "d");
  assert_string_equal(c.to_coll, "b");
  bson_destroy(ev);

  ev = json("{\"operationType\": \"dropDatabase\", \"ns\": {\"db\": \"d\"}}");
  assert_int_equal(source_normalise(ev, "d", "c", &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_DROP_DATABASE);
  assert_string_equal(c.db, "d");
  assert_null(c.coll);
  bson_destroy(ev);

  ev = json("{\"operationType\": \"invalidate\"}");
  assert_int_equal(source_normalise(ev, "d", "c", &c, &err), MDBEE_OK);
  assert_true(c.invalidate);
  assert_int_equal(c.op, MDB_SOURCE_CHECKPOINT);
  bson_destroy(ev);

  ev = json("{\"operationType\": \"createIndexes\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}}");
  assert_int_equal(source_normalise(ev, NULL, NULL, &c, &err), MDBEE_OK);
  assert_int_equal(c.op, MDB_SOURCE_CHECKPOINT);
  assert_false(c.invalidate);
  bson_destroy(ev);
}

static void test_malformed_events(void **state) {
  (void)state;
  source_change c;
  mdb_error err = {0};
  const char *bad[] = {
      "{\"ns\": {\"db\": \"d\", \"coll\": \"c\"}}",
      "{\"operationType\": 5}",
      /* an insert without its document */
      ("{\"operationType\": \"insert\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"},"
       " \"documentKey\": {\"_id\": 1}}"),
      "{\"operationType\": \"delete\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}}",
      /* a database stream's event without ns names no collection */
      "{\"operationType\": \"delete\", \"documentKey\": {\"_id\": 1}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bson_t *ev = json(bad[i]);
    assert_int_equal(source_normalise(ev, "d", NULL, &c, &err), MDBEE_EFORMAT);
    assert_true(strlen(err.message) > 0);
    bson_destroy(ev);
  }
}

/* Key bytes are the BSON element value: type byte then value bytes. */
static void test_id_key(void **state) {
  (void)state;
  mdb_error err = {0};
  bson_value_t v = {.value_type = BSON_TYPE_INT32, .value.v_int32 = 0x01020304};
  uint8_t *key;
  size_t len;
  assert_int_equal(mdb_source_id_key(&v, &key, &len, &err), MDBEE_OK);
  const uint8_t want_int[] = {0x10, 4, 3, 2, 1};
  assert_int_equal(len, sizeof want_int);
  assert_memory_equal(key, want_int, len);
  free(key);

  v.value_type = BSON_TYPE_UTF8;
  v.value.v_utf8.str = "ab";
  v.value.v_utf8.len = 2;
  assert_int_equal(mdb_source_id_key(&v, &key, &len, &err), MDBEE_OK);
  const uint8_t want_str[] = {0x02, 3, 0, 0, 0, 'a', 'b', 0};
  assert_int_equal(len, sizeof want_str);
  assert_memory_equal(key, want_str, len);
  free(key);

  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "0123456789abcdef01234567");
  v.value_type = BSON_TYPE_OID;
  v.value.v_oid = oid;
  assert_int_equal(mdb_source_id_key(&v, &key, &len, &err), MDBEE_OK);
  assert_int_equal(len, 13);
  assert_int_equal(key[0], 0x07);
  assert_memory_equal(key + 1, oid.bytes, 12);
  free(key);
}

/* Key bytes read back from the store give the same _id again; anything
 * but exactly one well-formed value is refused. */
static void test_id_value_round_trip(void **state) {
  (void)state;
  mdb_error err = {0};
  bson_t *src = json("{\"a\": 7, \"b\": \"str\", \"c\": {\"x\": [1, 2]},"
                     " \"d\": {\"$oid\": \"0123456789abcdef01234567\"},"
                     " \"e\": {\"$numberDecimal\": \"1.5\"}, \"f\": null}");
  bson_iter_t it;
  assert_true(bson_iter_init(&it, src));
  int n = 0;
  while (bson_iter_next(&it)) {
    uint8_t *key;
    size_t len;
    assert_int_equal(mdb_source_id_key(bson_iter_value(&it), &key, &len, &err),
                     MDBEE_OK);
    bson_t *holder;
    bson_value_t v;
    assert_int_equal(mdb_source_id_value(key, len, &holder, &v, &err), MDBEE_OK);
    uint8_t *again;
    size_t again_len;
    assert_int_equal(mdb_source_id_key(&v, &again, &again_len, &err), MDBEE_OK);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, key, len);
    free(again);
    free(key);
    bson_destroy(holder);
    n++;
  }
  assert_int_equal(n, 6);
  bson_destroy(src);

  bson_t *holder = NULL;
  bson_value_t v;
  const uint8_t truncated[] = {0x02, 9, 0, 0, 0, 'a', 0};  /* says 9 bytes */
  assert_int_equal(mdb_source_id_value(truncated, sizeof truncated, &holder,
                                       &v, &err), MDBEE_EFORMAT);
  const uint8_t two[] = {0x10, 1, 0, 0, 0, 0x10, 0, 2, 0, 0, 0};
  assert_int_equal(mdb_source_id_value(two, sizeof two, &holder, &v, &err),
                   MDBEE_EFORMAT);
  const uint8_t bad_type[] = {0x77, 1, 2, 3};
  assert_int_equal(mdb_source_id_value(bad_type, sizeof bad_type, &holder, &v,
                                       &err), MDBEE_EFORMAT);
  assert_int_equal(mdb_source_id_value(bad_type, 0, &holder, &v, &err),
                   MDBEE_EFORMAT);
  /* Types MongoDB refuses as _id, in both directions. */
  const uint8_t regex[] = {0x0b, 'a', 0, 'i', 0};
  assert_int_equal(mdb_source_id_value(regex, sizeof regex, &holder, &v, &err),
                   MDBEE_EFORMAT);
  bson_t *arr = json("{\"a\": [1]}");
  bson_iter_t ai;
  assert_true(bson_iter_init_find(&ai, arr, "a"));
  uint8_t *key = NULL;
  size_t len;
  assert_int_equal(mdb_source_id_key(bson_iter_value(&ai), &key, &len, &err),
                   MDBEE_EFORMAT);
  assert_null(key);
  bson_destroy(arr);
  assert_null(holder);
}

static void test_open_checks_options(void **state) {
  (void)state;
  mdb_error err = {0};
  mdb_source *src = NULL;
  const char *bad_ns[] = {"nodot"};
  mdb_source_options o = {.uri = "mongodb://127.0.0.1:1", .namespaces = bad_ns,
                          .n_namespaces = 1};
  assert_int_equal(mdb_source_open(&o, &src, &err), MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "nodot"));

  const char *ns[] = {"d.c"};
  o.namespaces = ns;
  o.uri = "http://user:s3cretpw@host";
  assert_int_equal(mdb_source_open(&o, &src, &err), MDBEE_ECONFIG);
  assert_null(strstr(err.message, "s3cretpw"));

  /* Nothing listens on port 1: a network error, still without password. */
  o.uri = "mongodb://user:s3cretpw@127.0.0.1:1/?serverSelectionTimeoutMS=200"
          "&connectTimeoutMS=200";
  assert_int_equal(mdb_source_open(&o, &src, &err), MDBEE_ENET);
  assert_null(strstr(err.message, "s3cretpw"));
  assert_null(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mongod_insert_update_replace_delete),
      cmocka_unit_test(test_java_server_quirks),
      cmocka_unit_test(test_namespace_events),
      cmocka_unit_test(test_malformed_events),
      cmocka_unit_test(test_id_key),
      cmocka_unit_test(test_id_value_round_trip),
      cmocka_unit_test(test_open_checks_options),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  mongoc_cleanup();
  return rc;
}
