/* Configuration loading: the shipped example, every default, secrets, and
 * errors naming FILE:LINE and the key path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mdbee/config.h"
#include "mdbee/hex.h"
#include "mdbee/keccak.h"

static mdb_config *parse_ok(const char *text) {
  mdb_config *cfg = NULL;
  mdb_error err = {0};
  if (mdb_config_parse("/etc/mdbee/t.yaml", text, strlen(text), &cfg, &err) !=
      MDBEE_OK)
    fail_msg("parse: %s", err.message);
  return cfg;
}

static void expect_error(const char *text, const char *message) {
  mdb_config *cfg = NULL;
  mdb_error err = {0};
  assert_int_equal(mdb_config_parse("t.yaml", text, strlen(text), &cfg, &err),
                   MDBEE_ECONFIG);
  assert_null(cfg);
  if (!strstr(err.message, message))
    fail_msg("got '%s', expected '%s'", err.message, message);
}

#define BASE                                                                 \
  "mongodb:\n  uri: mongodb://h:27017\n"                                     \
  "bee:\n  url: http://b:1633/\n  postage:\n    batch: auto\n"               \
  "    amount: 1000\n    depth: 17\n"                                        \
  "key_file: k.key\nstate_dir: /var/lib/mdbee\n"

static void test_example_file_loads(void **state) {
  (void)state;
  /* The vectors live in <source>/tests/vectors. */
  const char *vectors = getenv("MDBEE_VECTORS");
  assert_non_null(vectors);
  char path[1024];
  snprintf(path, sizeof path, "%s/../../config/mdbee.example.yaml", vectors);
  mdb_config *cfg = NULL;
  mdb_error err = {0};
  if (mdb_config_load(path, &cfg, &err) != MDBEE_OK)
    fail_msg("%s", err.message);
  assert_int_equal(cfg->n_databases, 1);
  const mdb_config_collection *c = mdb_config_find(cfg, "shop", "customers");
  assert_non_null(c);
  assert_int_equal(c->n_redact, 3);
  assert_string_equal(c->indexes[0].fields[0], "address.city");
  assert_null(mdb_config_find(cfg, "shop", "orders"));
  assert_int_equal(cfg->snapshot_interval_ms, 30000);
  assert_int_equal(cfg->retention_keep_last, 48);
  assert_int_equal(cfg->retention_keep_for_ms, 7ull * 86400000);
  assert_string_equal(cfg->listen, "127.0.0.1:9464");
  /* relative paths are taken from the file's directory */
  assert_non_null(strstr(cfg->key_file, "/config/publisher.key"));
  mdb_config_free(cfg);
}

static void test_defaults_and_topic(void **state) {
  (void)state;
  mdb_config *cfg = parse_ok(BASE "databases:\n  - name: shop\n"
                                  "    collections:\n      - name: items\n");
  assert_int_equal(cfg->watch, MDB_SOURCE_WATCH_COLLECTION);
  assert_int_equal(cfg->json_mode, MDB_EJSON_RELAXED);
  assert_int_equal(cfg->snapshot_interval_ms, 60000);
  assert_int_equal(cfg->encrypt, 0);
  assert_int_equal(cfg->retention_keep_last, 0);
  assert_null(cfg->listen);
  assert_string_equal(cfg->bee_url, "http://b:1633");
  assert_int_equal(cfg->batch_auto, 1);
  assert_int_equal(cfg->batch_amount, 1000);
  assert_string_equal(cfg->key_file, "/etc/mdbee/k.key");
  assert_string_equal(cfg->state_dir, "/var/lib/mdbee");
  assert_string_equal(cfg->mongo_uri, "mongodb://h:27017");
  uint8_t topic[32];
  mdb_keccak256("mdbee:shop", 10, topic);
  assert_memory_equal(cfg->databases[0].feed_topic, topic, 32);
  assert_string_equal(cfg->databases[0].feed_topic_text, "mdbee:shop");
  mdb_config_free(cfg);

  cfg = parse_ok(
      "mongodb: {uri: 'mongodb://h', watch: deployment}\n"
      "bee: {url: 'https://b', postage: {batch: "
      "0x1111111111111111111111111111111111111111111111111111111111111111}}\n"
      "key_file: k\nstate_dir: s\n"
      "snapshot: {interval: 1h30m, json: canonical, encrypt: true}\n"
      "databases:\n  - name: d\n    feed_topic: "
      "abababababababababababababababababababababababababababababababab\n"
      "    collections: [{name: c, redact: [a.b], indexes: [{name: i, keys: [x, y.z]}]}]\n");
  assert_int_equal(cfg->watch, MDB_SOURCE_WATCH_DEPLOYMENT);
  assert_int_equal(cfg->batch_auto, 0);
  assert_int_equal(cfg->batch_id[31], 0x11);
  assert_int_equal(cfg->snapshot_interval_ms, 5400000);
  assert_int_equal(cfg->json_mode, MDB_EJSON_CANONICAL);
  assert_int_equal(cfg->encrypt, 1);
  assert_null(cfg->databases[0].feed_topic_text);
  assert_int_equal(cfg->databases[0].feed_topic[0], 0xab);
  assert_int_equal(cfg->databases[0].collections[0].indexes[0].n_fields, 2);
  mdb_config_free(cfg);
}

static void test_password_from_env_and_file(void **state) {
  (void)state;
  setenv("MDBEE_TEST_PW", "p@ss:w/rd", 1);
  mdb_config *cfg = parse_ok(
      "mongodb:\n  uri: mongodb://mdbee@h:27017/?replicaSet=rs0\n"
      "  password_env: MDBEE_TEST_PW\n"
      "bee: {url: 'http://b', postage: {batch: auto, amount: 1, depth: 20}}\n"
      "key_file: k\nstate_dir: s\n"
      "databases: [{name: d, collections: [{name: c}]}]\n");
  assert_string_equal(cfg->mongo_uri,
                      "mongodb://mdbee:p%40ss%3Aw%2Frd@h:27017/?replicaSet=rs0");
  assert_string_equal(cfg->mongo_uri_redacted,
                      "mongodb://mdbee:***@h:27017/?replicaSet=rs0");
  mdb_config_free(cfg);

  char dir[] = "/tmp/mdbee-config-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char pw[64], yaml[256];
  snprintf(pw, sizeof pw, "%s/pw", dir);
  FILE *f = fopen(pw, "w");
  fputs("secret\n", f);
  fclose(f);
  chmod(pw, 0644);
  snprintf(yaml, sizeof yaml,
           "mongodb:\n  uri: mongodb://u@h\n  password_file: %s\n"
           "bee: {url: 'http://b', postage: {batch: auto, amount: 1, depth: 20}}\n"
           "key_file: k\nstate_dir: s\n"
           "databases: [{name: d, collections: [{name: c}]}]\n", pw);
  expect_error(yaml, "t.yaml:3: mongodb.password_file: ");
  expect_error(yaml, "is readable by others (mode 0644)");
  chmod(pw, 0600);
  cfg = parse_ok(yaml);
  assert_string_equal(cfg->mongo_uri, "mongodb://u:secret@h");
  mdb_config_free(cfg);
  unlink(pw);
  rmdir(dir);
}

static void test_uri_redaction(void **state) {
  (void)state;
  char *r = mdb_config_redact_uri("mongodb://a:b@h1,h2/db?x=1");
  assert_string_equal(r, "mongodb://a:***@h1,h2/db?x=1");
  free(r);
  r = mdb_config_redact_uri("mongodb://h/?authSource=a@b");
  assert_string_equal(r, "mongodb://h/?authSource=a@b");
  free(r);
  r = mdb_config_redact_uri("garbage:secret@host");
  assert_string_equal(r, "***");
  free(r);
}

static void test_errors_name_line_and_key(void **state) {
  (void)state;
  expect_error(BASE "databases:\n  - name: d\n    collections:\n"
                    "      - name: a\n      - name: b\n        redact: x\n",
               "t.yaml:16: databases[0].collections[1].redact: expected a list");
  expect_error("mongodb:\n  uri: mongodb://h\n  wach: database\n",
               "t.yaml:3: mongodb.wach: unknown key (expected one of: uri, "
               "password_env, password_file, watch)");
  expect_error(BASE "snapshot:\n  interval: 10 minutes\n",
               "t.yaml:12: snapshot.interval: bad duration '10 minutes'");
  expect_error(BASE "snapshot:\n  interval: 5\n", "a number needs a unit");
  expect_error(BASE "snapshot:\n  encrypt: yes\n",
               "snapshot.encrypt: expected true or false");
  expect_error(BASE "snapshot:\n  json: loose\n", "expected relaxed or canonical");
  expect_error(BASE "snapshot:\n  retention: {keep_last: -1}\n",
               "snapshot.retention.keep_last: expected a whole number");
  expect_error("mongodb:\n  uri: mongodb://u:pw@h\n",
               "t.yaml:2: mongodb.uri: the URI contains a password");
  expect_error(BASE, "t.yaml:1: databases: missing");
  expect_error(BASE "databases: []\n", "list at least one database");
  expect_error(BASE "databases: [{name: d, collections: [{name: a/b}]}]\n",
               "cannot be published");
  expect_error(BASE "databases: [{name: d, collections: [{name: a}, {name: a}]}]\n",
               "collection 'a' is listed twice");
  expect_error(BASE "databases: [{name: d, collections: [{name: a, redact: [_id]}]}]\n",
               "'_id' cannot be redacted");
  expect_error(BASE "databases: [{name: d, collections: [{name: a, redact: [p.q],"
                    " indexes: [{name: i, keys: [p]}]}]}]\n",
               "key 'p' would publish the redacted field 'p.q'");
  expect_error(BASE "databases: [{name: d, collections: [{name: a,"
                    " indexes: [{name: 'a b', keys: [p]}]}]}]\n",
               "URL path segment");
  expect_error(BASE "databases: [{name: d, collections: [{name: a, redact: [a..b]}]}]\n",
               "has an empty part");
  expect_error("mongodb: {uri: 'mongodb://h'}\nmongodb: {uri: 'mongodb://h'}\n",
               "t.yaml:2: mongodb: duplicate key");
  expect_error("mongodb: [\n", "t.yaml:2: ");
  expect_error("", "the file is empty");
  expect_error("mongodb:\n  uri: mongodb://h\n"
               "bee: {url: 'http://b', postage: {batch: 1234}}\n",
               "bee.postage.batch: expected auto or a batch id");
  expect_error("mongodb:\n  uri: mongodb://h\n"
               "bee: {url: 'http://b', postage: {batch: auto, depth: 20}}\n",
               "bee.postage.amount: missing");
  expect_error("mongodb:\n  uri: mongodb://h\n  password_env: MDBEE_UNSET_VAR\n",
               "environment variable MDBEE_UNSET_VAR is not set");
  expect_error(BASE "metrics: {listen: 9464}\n", "expected HOST:PORT");
}

static void test_durations(void **state) {
  (void)state;
  uint64_t ms;
  assert_int_equal(mdb_config_parse_duration("500ms", &ms, NULL), MDBEE_OK);
  assert_int_equal(ms, 500);
  assert_int_equal(mdb_config_parse_duration("1h30m", &ms, NULL), MDBEE_OK);
  assert_int_equal(ms, 5400000);
  assert_int_equal(mdb_config_parse_duration("2d", &ms, NULL), MDBEE_OK);
  assert_int_equal(ms, 172800000);
  assert_int_equal(mdb_config_parse_duration("", &ms, NULL), MDBEE_ECONFIG);
  assert_int_equal(mdb_config_parse_duration("s", &ms, NULL), MDBEE_ECONFIG);
  assert_int_equal(mdb_config_parse_duration("1x", &ms, NULL), MDBEE_ECONFIG);
  assert_int_equal(mdb_config_parse_duration("99999999999999999999d", &ms, NULL),
                   MDBEE_ECONFIG);
  assert_int_equal(mdb_config_parse_duration("999999999999999d", &ms, NULL),
                   MDBEE_ECONFIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_example_file_loads),
      cmocka_unit_test(test_defaults_and_topic),
      cmocka_unit_test(test_password_from_env_and_file),
      cmocka_unit_test(test_uri_redaction),
      cmocka_unit_test(test_errors_name_line_and_key),
      cmocka_unit_test(test_durations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
