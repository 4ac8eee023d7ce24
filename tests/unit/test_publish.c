/* The publisher against an in-process fake Bee (a chunk map that checks
 * every address), over a real LMDB store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mdbee/chunk.h"
#include "mdbee/encrypt.h"
#include "mdbee/ingest.h"
#include "mdbee/mantaray.h"
#include "mdbee/publish.h"
#include "mdbee/store.h"
#include "fake_bee.h"

/* ---- fixture ------------------------------------------------------------ */

struct fixture {
  char dir[64];
  fake_setup s;
  uint32_t checkpoint_every; /* 0: the default */
};

static const char *const redact[] = {"secret"};
static const char *const city_field[] = {"city"};
static const mdb_publish_index by_city[] = {{"by_city", city_field, 1}};
static const mdb_publish_collection collections[] = {
    {"people", redact, 1, by_city, 1},
    {"notes", NULL, 0, NULL, 0},
};

/* Opens the state in f->dir and a publisher over it. */
static void open_state(struct fixture *f, uint32_t keep_last, int encrypt) {
  const char *allow[] = {"shop.people", "shop.notes"};
  uint8_t secret[32];
  for (int i = 0; i < 32; i++) secret[i] = (uint8_t)(i + 1);
  mdb_publish_options opts = {.db = "shop", .collections = collections,
                              .n_collections = 2, .keep_last = keep_last,
                              .encrypt = encrypt,
                              .checkpoint_every = f->checkpoint_every};
  memset(opts.topic, 0xab, 32);
  mdb_error err = {0};
  if (fake_setup_open(&f->s, f->dir, allow, 2, opts, secret, &err) != MDBEE_OK)
    fail_msg("%s", err.message);
}

static void open_fixture_encrypted(struct fixture *f, uint32_t keep_last,
                                   int encrypt) {
  strcpy(f->dir, "/tmp/mdbee-publish-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  open_state(f, keep_last, encrypt);
}

static void open_fixture(struct fixture *f, uint32_t keep_last) {
  open_fixture_encrypted(f, keep_last, 0);
}

static void close_fixture(struct fixture *f) {
  fake_setup_close(&f->s);
  fake_bee_free(&f->s.bee);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  memset(f, 0, sizeof *f);
}

/* A restart of the publishing process on the same state and node. */
static void reopen_fixture(struct fixture *f) {
  fake_setup_close(&f->s);
  open_state(f, 0, 0);
}

/* Applies an upsert of people/<id> (city given) or notes/<id>, or a delete
 * when city is NULL. */
static void change(struct fixture *f, const char *coll, int32_t id,
                   const char *city) {
  uint8_t key[5] = {BSON_TYPE_INT32};
  memcpy(key + 1, &id, 4);
  bson_t *doc = city ? BCON_NEW("_id", BCON_INT32(id), "city", BCON_UTF8(city),
                                "secret", BCON_UTF8("hunter2"))
                     : NULL;
  mdb_source_event ev = {.op = city ? MDB_SOURCE_UPSERT : MDB_SOURCE_DELETE,
                         .db = "shop", .coll = coll, .id_key = key,
                         .id_key_len = 5, .doc = doc};
  mdb_error err = {0};
  if (mdb_ingest_event(f->s.ingest, &ev, &err) != MDBEE_OK) fail_msg("%s", err.message);
  assert_int_equal(mdb_ingest_commit(f->s.ingest, NULL), MDBEE_OK);
  if (doc) bson_destroy(doc);
}

static void snapshot(struct fixture *f, int64_t time, mdb_publish_result *r) {
  mdb_error err = {0};
  mdb_publish_stamp stamp = {.time = time};
  if (mdb_publisher_snapshot(f->s.pub, &stamp, r, &err) != MDBEE_OK)
    fail_msg("snapshot: %s", err.message);
}

/* Reads path under root from the fake node, as a reader would. */
static char *read_path(struct fixture *f, const uint8_t root[32], const char *path) {
  mdb_mantaray *tree;
  assert_int_equal(mdb_mantaray_open(root, fake_bee_source, &f->s.bee, &tree, NULL), MDBEE_OK);
  mdb_mantaray_entry e;
  int rc = mdb_mantaray_lookup(tree, (const uint8_t *)path, strlen(path), &e, NULL);
  if (rc == MDBEE_ENOTFOUND) {
    mdb_mantaray_free(tree);
    return NULL;
  }
  assert_int_equal(rc, MDBEE_OK);
  uint8_t ref[MDB_ENCRYPT_REF_SIZE];
  size_t ref_size = e.ref_size;
  memcpy(ref, e.ref, ref_size);
  mdb_mantaray_free(tree);
  uint8_t *data;
  size_t len;
  if (ref_size == MDB_ENCRYPT_REF_SIZE)
    assert_int_equal(mdb_encrypt_tree_join(ref, fake_bee_source, &f->s.bee, 1 << 20,
                                           &data, &len, NULL),
                     MDBEE_OK);
  else
    assert_int_equal(mdb_chunk_tree_join(ref, fake_bee_source, &f->s.bee, 1 << 20,
                                         &data, &len, NULL),
                     MDBEE_OK);
  char *text = malloc(len + 1);
  memcpy(text, data, len);
  text[len] = '\0';
  free(data);
  return text;
}

/* ---- tests -------------------------------------------------------------- */

/* Opens a fixture and publishes two people and a note as snapshot 1. */
static void publish_three(struct fixture *f, int encrypt, const char *note,
                          mdb_publish_result *r) {
  open_fixture_encrypted(f, 0, encrypt);
  change(f, "people", 1, "Tartu");
  change(f, "people", 2, "Lima");
  change(f, "notes", 7, note);
  snapshot(f, 1700000000, r);
  assert_true(r->published);
  assert_int_equal(f->s.bee.pins, 1);
}

static void test_layout(void **state) {
  (void)state;
  struct fixture f = {0};
  mdb_publish_result r;
  publish_three(&f, 0, "x", &r);
  assert_int_equal(r.seq, 1);
  assert_int_equal(r.changes, 3);
  assert_int_equal(f.s.bee.socs, 1);
  assert_int_equal(f.s.bee.pins, 1);
  char *doc = read_path(&f, r.root, "people/i-1");
  assert_non_null(doc);
  assert_non_null(strstr(doc, "\"Tartu\""));
  assert_null(strstr(doc, "hunter2")); /* redacted */
  free(doc);
  char *meta = read_path(&f, r.root, "$meta");
  assert_non_null(meta);
  assert_non_null(strstr(meta, "\"stateRoot\""));
  assert_non_null(strstr(meta, "\"previousRoot\": null"));
  free(meta);
  char *cmeta = read_path(&f, r.root, "people/$meta");
  assert_non_null(strstr(cmeta, "\"count\": 2"));
  free(cmeta);
  assert_null(read_path(&f, r.state_root, "$meta"));
  char *html = read_path(&f, r.root, "index.html");
  assert_non_null(strstr(html, "<html"));
  free(html);
  /* Nothing pending: no new snapshot. */
  snapshot(&f, 1700000001, &r);
  assert_false(r.published);
  /* A delete removes the document and its index entries. */
  change(&f, "people", 2, NULL);
  snapshot(&f, 1700000002, &r);
  assert_true(r.published);
  assert_int_equal(r.seq, 2);
  assert_null(read_path(&f, r.root, "people/i-2"));
  cmeta = read_path(&f, r.root, "people/$meta");
  assert_non_null(strstr(cmeta, "\"count\": 1"));
  free(cmeta);
  close_fixture(&f);
}

/* The same final data through different histories gives the same state
 * root (docs/protocol.md, "State root and snapshot root"). */
static void state_root_depends_only_on_data(int encrypt) {
  uint8_t roots[3][32];
  for (int history = 0; history < 3; history++) {
    struct fixture f = {0};
    open_fixture_encrypted(&f, 0, encrypt);
    mdb_publish_result r;
    srand(100 + history);
    if (history == 1) {
      /* Everything at once, in reverse order. */
      for (int32_t id = 60; id >= 1; id--) change(&f, "people", id, id % 2 ? "Lima" : "Porto");
    } else {
      /* Several snapshots, shuffled order, detours that are undone. */
      for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 40; k++) {
          int32_t id = 1 + rand() % 80;
          change(&f, "people", id, rand() % 3 ? "Zagreb" : NULL);
        }
        snapshot(&f, 1700000000 + round, &r);
      }
      for (int32_t id = 1; id <= 80; id++)
        change(&f, "people", id, id > 60 ? NULL : (id % 2 ? "Lima" : "Porto"));
    }
    change(&f, "notes", 1, "n");
    snapshot(&f, 1800000000 + history, &r);
    assert_true(r.published);
    memcpy(roots[history], r.state_root, 32);
    close_fixture(&f);
  }
  assert_memory_equal(roots[0], roots[1], 32);
  assert_memory_equal(roots[0], roots[2], 32);
}

static void test_state_root_depends_only_on_data(void **state) {
  (void)state;
  state_root_depends_only_on_data(0);
}

/* One changed document among many rewrites only the nodes on its paths. */
static void update_touches_few_chunks(int encrypt, int32_t n) {
  struct fixture f = {0};
  open_fixture_encrypted(&f, 0, encrypt);
  for (int32_t id = 1; id <= n; id++) change(&f, "notes", id, "n");
  mdb_publish_result r;
  snapshot(&f, 1700000000, &r);
  uint64_t full = r.manifest_chunks;
  change(&f, "notes", n / 3, "changed");
  snapshot(&f, 1700000060, &r);
  assert_int_equal(r.documents_written, 1);
  print_message("# manifest chunks: %llu for %d documents, %llu for one update\n",
                (unsigned long long)full, (int)n,
                (unsigned long long)r.manifest_chunks);
  assert_true(r.manifest_chunks * 10 < full);
  assert_true(r.manifest_chunks <= 24);
  /* Only the new document's chunk and the rewritten nodes went out. */
  assert_true(r.chunks_uploaded <= r.manifest_chunks + 4);
  close_fixture(&f);
}

static void test_update_touches_few_chunks(void **state) {
  (void)state;
  update_touches_few_chunks(0, 2000);
}

/* A failure before the commit keeps the pending changes; the retry
 * publishes the same data. */
/* Documents of one chunk and of several, mixed in one snapshot (the
 * encoder hashes one-chunk documents in groups, longer ones alone), are
 * all published whole and readable through their references. */
static void documents_of_any_size(int encrypt) {
  enum { NOTES = 37 };
  struct fixture f = {0};
  open_fixture_encrypted(&f, 0, encrypt);
  char *text[NOTES];
  for (int i = 0; i < NOTES; i++) {
    /* around 4096 bytes of JSON, and far beyond it */
    size_t len = i % 3 == 0 ? 4000 + 5 * (size_t)i : (size_t)i * 397 % 9000;
    text[i] = malloc(len + 1);
    for (size_t j = 0; j < len; j++) text[i][j] = (char)('a' + (i + j) % 26);
    text[i][len] = '\0';
    change(&f, "notes", i, text[i]);
  }
  mdb_publish_result r;
  snapshot(&f, 1700000000, &r);
  assert_true(r.published);
  for (int i = 0; i < NOTES; i++) {
    char path[32];
    snprintf(path, sizeof path, "notes/i-%d", i);
    char *doc = read_path(&f, r.root, path);
    assert_non_null(doc);
    char want[10000];
    snprintf(want, sizeof want, ": \"%s\",", text[i]);
    if (!strstr(doc, want)) fail_msg("note %d: %.200s", i, doc);
    free(doc);
    free(text[i]);
  }
  close_fixture(&f);
}

static void test_documents_of_any_size(void **state) {
  (void)state;
  documents_of_any_size(0);
}

static void test_encrypted_documents_of_any_size(void **state) {
  (void)state;
  documents_of_any_size(1);
}

static void test_failure_keeps_pending(void **state) {
  (void)state;
  struct fixture f = {0};
  open_fixture(&f, 0);
  change(&f, "people", 1, "Quito");
  f.s.bee.fail_soc = 1;
  mdb_publish_result r;
  mdb_error err = {0};
  mdb_publish_stamp stamp = {.time = 1700000000};
  assert_int_equal(mdb_publisher_snapshot(f.s.pub, &stamp, &r, &err), MDBEE_ENET);
  mdb_store_txn *txn;
  uint64_t pending;
  assert_int_equal(mdb_store_begin(f.s.store, 1, &txn, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_pending_count(txn, &pending, NULL), MDBEE_OK);
  mdb_store_abort(txn);
  assert_int_equal(pending, 1);
  snapshot(&f, 1700000000, &r);
  assert_int_equal(r.seq, 1);
  char *doc = read_path(&f, r.root, "people/i-1");
  assert_non_null(strstr(doc, "Quito"));
  free(doc);
  close_fixture(&f);
}

static void test_retention_unpins_old_snapshots(void **state) {
  (void)state;
  struct fixture f = {0};
  open_fixture(&f, 2);
  uint8_t roots[4][32];
  for (int i = 0; i < 4; i++) {
    change(&f, "notes", i, "n");
    mdb_publish_result r;
    snapshot(&f, 1700000000 + i, &r);
    memcpy(roots[i], r.root, 32);
  }
  assert_int_equal(f.s.bee.unpins, 2);
  assert_memory_equal(f.s.bee.unpinned[0], roots[0], 32);
  assert_memory_equal(f.s.bee.unpinned[1], roots[1], 32);
  close_fixture(&f);
}

/* ---- encrypted publication ---------------------------------------------- */

static int ref_size_is_64(void *ctx, const mdb_mantaray_entry *e,
                          mdb_error *err) {
  (void)err;
  size_t *n = ctx;
  assert_int_equal(e->ref_size, MDB_ENCRYPT_REF_SIZE);
  (*n)++;
  return MDBEE_OK;
}

static int contains(const fake_bee *b, const char *text) {
  size_t n = strlen(text);
  for (size_t i = 0; i < b->cap; i++)
    for (size_t j = 0; b->slots[i].data && j + n <= b->slots[i].size; j++)
      if (memcmp(b->slots[i].data + j, text, n) == 0) return 1;
  return 0;
}

static void test_encrypted_layout(void **state) {
  (void)state;
  struct fixture f = {0};
  mdb_publish_result r;
  publish_three(&f, 1, "Valparaiso", &r);
  /* Every entry and every node below the root: 64-byte references. */
  mdb_mantaray *tree;
  assert_int_equal(mdb_mantaray_open(r.root, fake_bee_source, &f.s.bee, &tree, NULL),
                   MDBEE_OK);
  size_t entries = 0;
  assert_int_equal(mdb_mantaray_walk(tree, ref_size_is_64, &entries, NULL),
                   MDBEE_OK);
  mdb_mantaray_free(tree);
  assert_true(entries >= 8); /* 3 documents, 2 index entries, 2 collection
                                $meta, $meta, index.html, "/" */
  /* Every chunk is encrypted (4104 bytes) but four: the root nodes of the
   * snapshot and of its state (the same minus $meta), and the two nodes
   * of the feed manifest. */
  size_t plain = 0;
  int root_plain = 0, feed_plain = 0;
  for (size_t i = 0; i < f.s.bee.cap; i++) {
    const fake_chunk *c = &f.s.bee.slots[i];
    if (!c->data || c->size == MDB_CHUNK_SIZE_MAX) continue;
    plain++;
    root_plain += memcmp(c->address, r.root, 32) == 0 ||
                  memcmp(c->address, r.state_root, 32) == 0;
    feed_plain |= memcmp(c->address, r.feed_manifest, 32) == 0;
  }
  assert_int_equal(plain, 4);
  assert_true(root_plain == 2 && feed_plain);
  /* No document text, field or index name, or document path in clear. */
  const char *secret_words[] = {"Tartu", "Lima", "Valparaiso", "city", "_id",
                                "by_city", "$indexes", "i-1", "stateRoot",
                                "<html"};
  for (size_t i = 0; i < sizeof secret_words / sizeof *secret_words; i++)
    if (contains(&f.s.bee, secret_words[i]))
      fail_msg("\"%s\" is readable in an uploaded chunk", secret_words[i]);
  /* ... yet everything reads back through the keys in the references. */
  char *doc = read_path(&f, r.root, "people/i-1");
  assert_non_null(strstr(doc, "\"Tartu\""));
  free(doc);
  char *meta = read_path(&f, r.root, "$meta");
  assert_non_null(strstr(meta, "\"stateRoot\""));
  free(meta);
  char *cmeta = read_path(&f, r.root, "people/$meta");
  assert_non_null(strstr(cmeta, "\"count\": 2"));
  free(cmeta);
  /* Publishing again re-sends nothing that is already there. */
  size_t stored = f.s.bee.n;
  change(&f, "people", 1, "Tartu");
  snapshot(&f, 1700000060, &r);
  assert_int_equal(r.documents_written, 0);
  assert_true(f.s.bee.n - stored <= 4); /* only $meta's chunks and the root */
  close_fixture(&f);
}

static void test_encrypted_state_root_depends_only_on_data(void **state) {
  (void)state;
  state_root_depends_only_on_data(1);
}

static void test_encrypted_update_touches_few_chunks(void **state) {
  (void)state;
  /* Fewer documents: every chunk costs a 4 KiB keystream. */
  update_touches_few_chunks(1, 500);
}

/* A state published one way is refused the other way, naming the key. */
static void test_encrypt_switch_is_refused(void **state) {
  (void)state;
  for (int was = 0; was < 2; was++) {
    struct fixture f = {0};
    open_fixture_encrypted(&f, 0, was);
    change(&f, "people", 1, "Tartu");
    mdb_publish_result r;
    snapshot(&f, 1700000000, &r);
    fake_setup_close(&f.s); /* restarted with the other setting */
    open_state(&f, 0, !was);
    change(&f, "people", 2, "Lima");
    mdb_error err = {0};
    mdb_publish_stamp stamp = {.time = 1700000060};
    assert_int_equal(mdb_publisher_snapshot(f.s.pub, &stamp, &r, &err),
                     MDBEE_ECONFIG);
    assert_non_null(strstr(err.message, "snapshot.encrypt"));
    assert_non_null(strstr(err.message, "state_dir"));
    close_fixture(&f);
  }
}

/* ---- leaves left out of the node cache ---------------------------------- */

/* The final data of test_leaves_rebuilt, published at once. */
static void leaves_final_state(struct fixture *f) {
  for (int32_t id = 1; id <= 12; id++) {
    if (id != 4) change(f, "notes", id, id == 2 ? "changed" : "n");
    change(f, "people", id, id == 5 ? "Quito" : id % 2 ? "Lima" : "Oslo");
  }
  for (int32_t id = 20; id <= 23; id++) change(f, "notes", id, "n");
  change(f, "notes", 30, "n");
  change(f, "people", 50, "Quito");
}

/* Leaf nodes stay out of the node cache.  A path that goes on past one
 * (i-1, then i-10) has the publisher rebuild it from the reference staged
 * by this snapshot or, for a document it leaves alone, from the document
 * index.  With a checkpoint (save and unload) every 3 changes and a
 * restart between the snapshots, the state root equals a build from
 * scratch. */
static void test_leaves_rebuilt(void **state) {
  (void)state;
  struct fixture f = {.checkpoint_every = 3};
  open_fixture(&f, 0);
  mdb_publish_result r;
  /* Changes go in key order (little-endian int32): i-1..i-3, then a
   * checkpoint, ... i-10 goes past i-1, saved and unloaded before. */
  for (int32_t id = 1; id <= 12; id++) {
    change(&f, "notes", id, "n");
    change(&f, "people", id, id % 2 ? "Lima" : "Oslo");
  }
  snapshot(&f, 1700000000, &r);
  reopen_fixture(&f);
  /* i-2 changes, i-3 is sent again unchanged, i-4 goes | checkpoint |
   * i-20.. go past i-2 (staged) | ... | i-30 past i-3 (document index);
   * people: i-5 moves to Quito | checkpoint | i-50 goes past people/i-5
   * and past its index entry .../Quito/i-5 (both staged). */
  change(&f, "notes", 2, "changed");
  change(&f, "notes", 3, "n");
  change(&f, "notes", 4, NULL);
  for (int32_t id = 20; id <= 23; id++) change(&f, "notes", id, "n");
  change(&f, "notes", 30, "n");
  change(&f, "people", 5, "Quito");
  change(&f, "people", 50, "Quito");
  snapshot(&f, 1700000060, &r);
  assert_int_equal(r.changes, 10);
  char *doc = read_path(&f, r.root, "notes/i-2");
  assert_non_null(strstr(doc, "changed"));
  free(doc);
  doc = read_path(&f, r.root, "notes/i-3");
  assert_non_null(doc);
  free(doc);
  uint8_t got[32];
  memcpy(got, r.state_root, 32);
  close_fixture(&f);

  open_fixture(&f, 0);
  leaves_final_state(&f);
  snapshot(&f, 1700000000, &r);
  assert_memory_equal(r.state_root, got, 32);
  close_fixture(&f);
}

/* A plain node with one 32-byte entry and no forks. */
static int is_leaf_chunk(const fake_chunk *c) {
  if (c->size != 8 + 128 || c->data[8 + 63] != 32) return 0;
  for (size_t i = 8 + 96; i < 8 + 128; i++)
    if (c->data[i]) return 0;
  return 1;
}

/* Only the leaves of the publisher's own files (two collection metas,
 * $meta, index.html and "/") are in the node cache.  A state whose cache
 * holds every leaf (as mdbee before it left them out) is read from the
 * cache first: with the document index entry of notes/i-3 gone, its leaf
 * could not be rebuilt, yet i-30 goes past it. */
static void test_cached_leaves_still_read(void **state) {
  (void)state;
  struct fixture f = {0};
  open_fixture(&f, 0);
  mdb_publish_result r;
  for (int32_t id = 1; id <= 5; id++) change(&f, "notes", id, "n");
  snapshot(&f, 1700000000, &r);
  mdb_store_txn *txn;
  assert_int_equal(mdb_store_begin(f.s.store, 0, &txn, NULL), MDBEE_OK);
  size_t leaves = 0, cached = 0;
  for (size_t i = 0; i < f.s.bee.cap; i++) {
    const fake_chunk *c = &f.s.bee.slots[i];
    const uint8_t *data;
    size_t len;
    if (!c->data || !is_leaf_chunk(c)) continue;
    leaves++;
    if (mdb_store_chunk_get(txn, c->address, &data, &len, NULL) == MDBEE_OK)
      cached++;
    assert_int_equal(mdb_store_chunk_put(txn, c->address, c->data, c->size, NULL),
                     MDBEE_OK);
  }
  assert_int_equal(leaves, 5 + 5);
  assert_int_equal(cached, 5);
  uint8_t id[5] = {BSON_TYPE_INT32, 3, 0, 0, 0};
  mdb_store_key key = {"shop", 4, "notes", 5, id, 5};
  assert_int_equal(mdb_store_doc_del(txn, &key, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_commit(txn, NULL), MDBEE_OK);
  change(&f, "notes", 30, "n");
  snapshot(&f, 1700000060, &r);
  assert_true(r.published);
  char *doc = read_path(&f, r.root, "notes/i-3");
  assert_non_null(doc);
  free(doc);
  doc = read_path(&f, r.root, "notes/i-30");
  assert_non_null(doc);
  free(doc);
  close_fixture(&f);
}

/* A crash while a recorded snapshot's staged changes were applied: the
 * snapshot is in the history, the new reference of notes/i-2 is still
 * staged (sealed) and the document index has the old one.  The next
 * snapshot finishes applying the stage first, so the leaf of i-2, which
 * i-256 goes past before i-2 comes again in key order (little-endian),
 * is rebuilt from the reference the recorded manifest holds. */
static void test_crash_while_applying_stage(void **state) {
  (void)state;
  struct fixture f = {0};
  open_fixture(&f, 0);
  mdb_publish_result r;
  uint8_t id[5] = {BSON_TYPE_INT32, 2, 0, 0, 0};
  mdb_store_key key = {"shop", 4, "notes", 5, id, 5};
  mdb_store_doc v1, v2;
  mdb_store_txn *txn;
  change(&f, "notes", 2, "v1");
  snapshot(&f, 1700000000, &r);
  assert_int_equal(mdb_store_begin(f.s.store, 1, &txn, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_doc_get(txn, &key, &v1, NULL), MDBEE_OK);
  mdb_store_abort(txn);
  change(&f, "notes", 2, "v2");
  snapshot(&f, 1700000060, &r);
  assert_int_equal(mdb_store_begin(f.s.store, 0, &txn, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_doc_get(txn, &key, &v2, NULL), MDBEE_OK);
  v1.index_keys = v2.index_keys = NULL; /* notes has no indexes */
  v1.n_index_keys = v2.n_index_keys = 0;
  assert_int_equal(mdb_store_stage_put(txn, &key, 0, &v2, 0, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_doc_put(txn, &key, &v1, NULL), MDBEE_OK);
  assert_int_equal(mdb_store_stage_seal(txn, "shop", NULL), MDBEE_OK);
  assert_int_equal(mdb_store_commit(txn, NULL), MDBEE_OK);
  change(&f, "notes", 2, "v2"); /* its pending change, not cleared */
  reopen_fixture(&f);
  change(&f, "notes", 256, "n");
  snapshot(&f, 1700000120, &r);
  uint8_t got[32];
  memcpy(got, r.state_root, 32);
  char *doc = read_path(&f, r.root, "notes/i-2");
  assert_non_null(strstr(doc, "v2"));
  free(doc);
  close_fixture(&f);

  open_fixture(&f, 0);
  change(&f, "notes", 2, "v2");
  change(&f, "notes", 256, "n");
  snapshot(&f, 1700000000, &r);
  assert_memory_equal(r.state_root, got, 32);
  close_fixture(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_state_root_depends_only_on_data),
      cmocka_unit_test(test_update_touches_few_chunks),
      cmocka_unit_test(test_documents_of_any_size),
      cmocka_unit_test(test_encrypted_documents_of_any_size),
      cmocka_unit_test(test_failure_keeps_pending),
      cmocka_unit_test(test_retention_unpins_old_snapshots),
      cmocka_unit_test(test_encrypted_layout),
      cmocka_unit_test(test_encrypted_state_root_depends_only_on_data),
      cmocka_unit_test(test_encrypted_update_touches_few_chunks),
      cmocka_unit_test(test_encrypt_switch_is_refused),
      cmocka_unit_test(test_leaves_rebuilt),
      cmocka_unit_test(test_cached_leaves_still_read),
      cmocka_unit_test(test_crash_while_applying_stage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
