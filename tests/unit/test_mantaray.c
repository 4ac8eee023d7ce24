#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/hex.h"
#include "mdbee/mantaray.h"
#include "support.h"

/* An in-process chunk store: the sink saves, the source serves and counts. */
typedef struct stored {
  uint8_t address[MDB_REF_SIZE];
  uint8_t *data;
  size_t size;
} stored;

typedef struct store {
  stored *chunks;
  size_t n, cap;
  size_t puts, gets;
} store;

static stored *store_find(store *s, const uint8_t address[MDB_REF_SIZE]) {
  for (size_t i = 0; i < s->n; i++)
    if (memcmp(s->chunks[i].address, address, MDB_REF_SIZE) == 0)
      return &s->chunks[i];
  return NULL;
}

static void store_set(store *s, const uint8_t address[MDB_REF_SIZE],
                      const uint8_t *data, size_t size) {
  stored *c = store_find(s, address);
  if (!c) {
    if (s->n == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 64;
      s->chunks = realloc(s->chunks, s->cap * sizeof *s->chunks);
      assert_non_null(s->chunks);
    }
    c = &s->chunks[s->n++];
    memcpy(c->address, address, MDB_REF_SIZE);
  } else {
    free(c->data);
  }
  c->data = malloc(size);
  assert_non_null(c->data);
  memcpy(c->data, data, size);
  c->size = size;
}

static int store_sink(void *ctx, const mdb_chunk *chunk, mdb_error *err) {
  (void)err;
  store *s = ctx;
  s->puts++;
  store_set(s, chunk->address, chunk->data, chunk->size);
  return MDBEE_OK;
}

static int store_source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                        uint8_t *buf, size_t *size, mdb_error *err) {
  store *s = ctx;
  s->gets++;
  stored *c = store_find(s, address);
  if (!c)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "no such chunk");
  memcpy(buf, c->data, c->size);
  *size = c->size;
  return MDBEE_OK;
}

static void store_free(store *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->chunks[i].data);
  free(s->chunks);
  memset(s, 0, sizeof *s);
}

static mdb_mantaray_entry entry(const char *path, const uint8_t *ref) {
  return (mdb_mantaray_entry){(const uint8_t *)path, strlen(path), ref, 32,
                              NULL, 0};
}

/* Puts path -> a reference made of fill and, in its last bytes, seq (so
 * that leaves differ and do not share chunks). */
static void put_seq(mdb_mantaray *m, const char *path, uint8_t fill,
                    uint32_t seq) {
  uint8_t ref[32];
  memset(ref, fill, sizeof ref);
  memcpy(ref + 28, &seq, 4);
  mdb_mantaray_entry e = entry(path, ref);
  mdb_error err = {0};
  if (mdb_mantaray_put(m, &e, &err))
    fail_msg("put %s: %s", path, err.message);
}

static void put(mdb_mantaray *m, const char *path, uint8_t fill) {
  put_seq(m, path, fill, 0);
}

static void save(mdb_mantaray *m, store *s, uint8_t root[32]) {
  mdb_error err = {0};
  if (mdb_mantaray_save(m, s ? store_sink : NULL, s, root, &err))
    fail_msg("save: %s", err.message);
}

/* Root of a fresh tree holding paths[i] -> fill i+1. */
static void fresh_root(const char **paths, size_t n, const size_t *fills,
                       uint8_t root[32]) {
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (size_t i = 0; i < n; i++)
    put(m, paths[i], (uint8_t)fills[i]);
  save(m, NULL, root);
  mdb_mantaray_free(m);
}

/* --- known answers from bee-js (tests/vectors/mantaray.txt) --- */

typedef struct vec_set {
  mdb_mantaray_entry *entries;
  size_t n;
  uint8_t *blob[3 * 64]; /* decoded buffers to free */
  size_t nblob;
  mdb_mantaray_kv kv[64 * 4];
  char *strings[64 * 8];
  size_t nkv, nstrings;
} vec_set;

static uint8_t *unhex(vec_set *v, const char *text, size_t len, size_t *n) {
  char *t = strndup(text, len);
  *n = len / 2;
  uint8_t *b = malloc(*n + 1);
  assert_non_null(t);
  assert_non_null(b);
  assert_int_equal(mdb_hex_decode(t, b, *n, NULL), MDBEE_OK);
  b[*n] = 0;
  free(t);
  assert_true(v->nblob < sizeof v->blob / sizeof v->blob[0]);
  v->blob[v->nblob++] = b;
  return b;
}

static void parse_set(vec_set *v, char *list) {
  memset(v, 0, sizeof *v);
  v->entries = calloc(64, sizeof *v->entries);
  for (char *item = strtok(list, ","); item; item = strtok(NULL, ",")) {
    assert_true(v->n < 64);
    mdb_mantaray_entry *e = &v->entries[v->n++];
    char *c1 = strchr(item, ':'), *c2 = strchr(c1 + 1, ':');
    e->path = unhex(v, item, (size_t)(c1 - item), &e->path_len);
    e->ref = unhex(v, c1 + 1, (size_t)(c2 - c1 - 1), &e->ref_size);
    e->meta = &v->kv[v->nkv];
    for (char *p = c2 + 1; *p;) {
      char *eq = strchr(p, '='), *end = strchr(p, ';');
      if (!end)
        end = p + strlen(p);
      size_t kl, vl;
      v->kv[v->nkv].key = (char *)unhex(v, p, (size_t)(eq - p), &kl);
      v->kv[v->nkv].value = (char *)unhex(v, eq + 1, (size_t)(end - eq - 1), &vl);
      v->nkv++;
      e->n_meta++;
      p = *end ? end + 1 : end;
    }
    if (!e->n_meta)
      e->meta = NULL;
  }
}

static void free_set(vec_set *v) {
  for (size_t i = 0; i < v->nblob; i++)
    free(v->blob[i]);
  free(v->entries);
}

typedef struct walk_check {
  const vec_set *set;
  size_t next;
} walk_check;

static int walk_expect(void *ctx, const mdb_mantaray_entry *e,
                       mdb_error *err) {
  (void)err;
  walk_check *w = ctx;
  assert_true(w->next < w->set->n);
  const mdb_mantaray_entry *want = &w->set->entries[w->next++];
  assert_int_equal(e->path_len, want->path_len);
  assert_memory_equal(e->path, want->path, e->path_len);
  assert_memory_equal(e->ref, want->ref, 32);
  assert_int_equal(e->n_meta, want->n_meta);
  for (size_t i = 0; i < e->n_meta; i++) {
    assert_string_equal(e->meta[i].key, want->meta[i].key);
    assert_string_equal(e->meta[i].value, want->meta[i].value);
  }
  return MDBEE_OK;
}

/* Builds each set (in reverse order, to show order does not matter),
 * compares the root, then reads it back: lookups and an ordered walk. */
static void test_known_answers(void **state) {
  (void)state;
  vec_file vf;
  vec_open(&vf, "mantaray.txt");
  size_t sets = 0;
  while (vec_next(&vf)) {
    uint8_t want[32], root[32];
    assert_int_equal(mdb_hex_decode(vf.fields[0], want, 32, NULL), MDBEE_OK);
    vec_set v;
    parse_set(&v, vf.fields[1]);
    mdb_mantaray_entry *rev = calloc(v.n, sizeof *rev);
    for (size_t i = 0; i < v.n; i++)
      rev[i] = v.entries[v.n - 1 - i];
    store s = {0};
    mdb_error err = {0};
    if (mdb_mantaray_build(rev, v.n, store_sink, &s, root, &err))
      fail_msg("line %zu: %s", vf.lineno, err.message);
    if (memcmp(root, want, 32) != 0)
      fail_msg("line %zu: root differs from bee-js", vf.lineno);
    mdb_mantaray *m;
    assert_int_equal(mdb_mantaray_open(root, store_source, &s, &m, NULL), 0);
    for (size_t i = 0; i < v.n; i++) {
      mdb_mantaray_entry got;
      assert_int_equal(mdb_mantaray_lookup(m, v.entries[i].path,
                                           v.entries[i].path_len, &got, &err),
                       MDBEE_OK);
      assert_memory_equal(got.ref, v.entries[i].ref, 32);
      assert_int_equal(got.n_meta, v.entries[i].n_meta);
    }
    walk_check w = {&v, 0};
    assert_int_equal(mdb_mantaray_walk(m, walk_expect, &w, &err), MDBEE_OK);
    assert_int_equal(w.next, v.n);
    mdb_mantaray_free(m);
    store_free(&s);
    free(rev);
    free_set(&v);
    sets++;
  }
  vec_close(&vf);
  assert_true(sets >= 20);
}

/* --- tree operations --- */

static const char *paths[] = {
    "a", "ab", "abc", "abd", "b/x", "b/y", "b", "c",
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd1",
    "dddddddddddddddddddddddddddddddddd2", "ddd",
    "coll/507f1f77bcf86cd799439011", "coll/507f1f77bcf86cd799439012",
    "coll/$meta",
};
#define NPATHS (sizeof paths / sizeof paths[0])

static void test_lookup_and_not_found(void **state) {
  (void)state;
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (size_t i = 0; i < NPATHS; i++)
    put(m, paths[i], (uint8_t)(i + 1));
  mdb_error err = {0};
  mdb_mantaray_entry e;
  for (size_t i = 0; i < NPATHS; i++) {
    assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)paths[i],
                                         strlen(paths[i]), &e, &err),
                     MDBEE_OK);
    assert_int_equal(e.ref[0], i + 1);
  }
  /* Inner nodes and partial prefixes are not entries. */
  const char *absent[] = {"coll/", "d", "dddddddddddddddddddddddddddddd", "abcd",
                          "coll/507f", "z"};
  for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
    assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)absent[i],
                                         strlen(absent[i]), &e, &err),
                     MDBEE_ENOTFOUND);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"", 0, &e, &err),
                   MDBEE_EINVAL);
  /* Replacing an entry changes its reference and the root. */
  uint8_t before[32], after[32];
  save(m, NULL, before);
  put(m, "ab", 0x77);
  save(m, NULL, after);
  assert_memory_not_equal(before, after, 32);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"ab", 2, &e, &err),
                   MDBEE_OK);
  assert_int_equal(e.ref[0], 0x77);
  mdb_mantaray_free(m);
}

/* Removing entries leaves the root a fresh build of the rest would have,
 * whatever was removed: nodes that stop branching are merged back. */
static void test_remove_is_canonical(void **state) {
  (void)state;
  for (size_t mask = 1; mask < 1u << 7; mask += 5) {
    mdb_mantaray *m;
    assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
    for (size_t i = 0; i < NPATHS; i++)
      put(m, paths[i], (uint8_t)(i + 1));
    uint8_t ignored[32];
    save(m, NULL, ignored);
    const char *rest[NPATHS];
    size_t fills[NPATHS], n = 0;
    for (size_t i = 0; i < NPATHS; i++) {
      /* mask picks which of the first 7 paths go, plus every third other. */
      int drop = i < 7 ? (mask >> i & 1) : (i % 3 == mask % 3);
      if (drop) {
        mdb_error err = {0};
        if (mdb_mantaray_remove(m, (const uint8_t *)paths[i], strlen(paths[i]),
                                &err))
          fail_msg("remove %s: %s", paths[i], err.message);
      } else {
        rest[n] = paths[i];
        fills[n++] = i + 1;
      }
    }
    uint8_t got[32], want[32];
    save(m, NULL, got);
    fresh_root(rest, n, fills, want);
    if (memcmp(got, want, 32) != 0)
      fail_msg("mask %zu: root after removal is not canonical", mask);
    mdb_mantaray_free(m);
  }
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  put(m, "abc", 1);
  mdb_error err = {0};
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"ab", 2, &err),
                   MDBEE_ENOTFOUND);
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"abc", 3, &err),
                   MDBEE_OK);
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"abc", 3, &err),
                   MDBEE_ENOTFOUND);
  /* Removing everything gives the empty manifest. */
  uint8_t empty[32], got[32];
  save(m, NULL, got);
  fresh_root(NULL, 0, NULL, empty);
  assert_memory_equal(got, empty, 32);
  mdb_mantaray_free(m);
}

/* A tree opened from its root reads only the nodes on the paths it touches
 * and saves only the nodes it changed. */
static void test_lazy_load_and_incremental_save(void **state) {
  (void)state;
  enum { N = 3000 };
  store s = {0};
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  char path[64];
  for (unsigned i = 0; i < N; i++) {
    snprintf(path, sizeof path, "coll/%08x%08x", i * 2654435761u, i);
    put_seq(m, path, 1, i);
  }
  uint8_t root[32];
  save(m, &s, root);
  mdb_mantaray_free(m);
  size_t total = s.n;
  assert_true(total > N);

  assert_int_equal(mdb_mantaray_open(root, store_source, &s, &m, NULL), 0);
  assert_int_equal(mdb_mantaray_loads(m), 0);
  snprintf(path, sizeof path, "coll/%08x%08x", 1234 * 2654435761u, 1234u);
  mdb_mantaray_entry e;
  mdb_error err = {0};
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)path, strlen(path),
                                       &e, &err),
                   MDBEE_OK);
  /* root, "coll/", a few branching hex digits, the leaf */
  size_t loads = mdb_mantaray_loads(m);
  assert_int_equal(loads, s.gets);
  assert_true(loads >= 3 && loads <= 8);

  /* Changing one entry rewrites only the nodes above it. */
  s.puts = 0;
  put_seq(m, path, 0xee, 1234);
  uint8_t root2[32];
  save(m, &s, root2);
  assert_true(s.puts >= 2 && s.puts <= loads);
  assert_int_equal(mdb_mantaray_loads(m), loads);
  /* A new path loads what it passes through, and no more. */
  put(m, "coll/zzz", 3);
  assert_true(mdb_mantaray_loads(m) <= loads + 1);
  mdb_mantaray_free(m);

  /* The edited tree equals a fresh build of the same entries. */
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (unsigned i = 0; i < N; i++) {
    snprintf(path, sizeof path, "coll/%08x%08x", i * 2654435761u, i);
    put_seq(m, path, i == 1234 ? 0xee : 1, i);
  }
  uint8_t fresh[32];
  save(m, NULL, fresh);
  assert_memory_equal(fresh, root2, 32);
  mdb_mantaray_free(m);
  store_free(&s);
}

/* Building in pieces (save, unload, go on) gives the root of a build in
 * one go, and an unloaded tree reads back only what it needs. */
static void test_unload_between_saves(void **state) {
  (void)state;
  enum { N = 2000, PIECE = 300 };
  store s = {0};
  mdb_mantaray *m;
  mdb_error err = {0};
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  char path[64];
  uint8_t root[32];
  for (unsigned i = 0; i < N; i++) {
    snprintf(path, sizeof path, "coll/%08x", i * 7919u);
    put_seq(m, path, 1, i);
    if (i % PIECE == PIECE - 1) {
      /* Unsaved changes cannot be dropped. */
      assert_int_equal(mdb_mantaray_unload(m, store_source, &s, &err), MDBEE_EINVAL);
      save(m, &s, root);
      size_t loads = mdb_mantaray_loads(m);
      assert_int_equal(mdb_mantaray_unload(m, store_source, &s, &err), MDBEE_OK);
      mdb_mantaray_entry e;
      assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)path,
                                           strlen(path), &e, &err),
                       MDBEE_OK);
      assert_true(mdb_mantaray_loads(m) - loads <= 8);
    }
  }
  save(m, &s, root);
  mdb_mantaray_free(m);

  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (unsigned i = 0; i < N; i++) {
    snprintf(path, sizeof path, "coll/%08x", i * 7919u);
    put_seq(m, path, 1, i);
  }
  uint8_t whole[32];
  save(m, NULL, whole);
  assert_memory_equal(whole, root, 32);
  mdb_mantaray_free(m);
  store_free(&s);
}

static void test_put_rejects_bad_entries(void **state) {
  (void)state;
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  uint8_t ref[64] = {1};
  mdb_error err = {0};
  mdb_mantaray_entry e = entry("", ref);
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_EINVAL);
  e = entry("p", ref);
  e.ref_size = 31;
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_EINVAL);
  mdb_mantaray_kv bad_utf8[] = {{"k", "\xc3\x28"}};
  e = entry("p", ref);
  e.meta = bad_utf8;
  e.n_meta = 1;
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_EINVAL);
  mdb_mantaray_kv dup[] = {{"k", "1"}, {"k", "2"}};
  e.meta = dup;
  e.n_meta = 2;
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "twice"));
  /* Nothing was added by the refused puts. */
  mdb_mantaray_entry got;
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"p", 1, &got, &err),
                   MDBEE_ENOTFOUND);
  /* A 64-byte (encrypted) entry is fine on a leaf, not above children. */
  e = entry("p", ref);
  e.ref_size = 64;
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_OK);
  uint8_t root[32];
  save(m, NULL, root);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"p", 1, &got, &err),
                   MDBEE_OK);
  assert_int_equal(got.ref_size, 64);
  put(m, "pq", 2);
  assert_int_equal(mdb_mantaray_save(m, NULL, NULL, root, &err), MDBEE_EINVAL);
  mdb_mantaray_free(m);
}

/* Metadata round-trips through JSON with escapes, sorted by key. */
static void test_metadata_round_trip(void **state) {
  (void)state;
  store s = {0};
  uint8_t ref[32] = {9}, root[32];
  mdb_mantaray_kv meta[] = {{"z-last", "tab\there"},
                            {"Content-Type", "text/plain; charset=\"utf-8\""},
                            {"ctl", "\x01\x1f\\/\xe6\x97\xa5\xf0\x9f\x90\x9d"}};
  mdb_mantaray_entry e = entry("doc", ref);
  e.meta = meta;
  e.n_meta = 3;
  mdb_error err = {0};
  assert_int_equal(mdb_mantaray_build(&e, 1, store_sink, &s, root, &err), 0);
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_open(root, store_source, &s, &m, NULL), 0);
  mdb_mantaray_entry got;
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"doc", 3, &got, &err),
                   MDBEE_OK);
  assert_int_equal(got.n_meta, 3);
  assert_string_equal(got.meta[0].key, "Content-Type");
  assert_string_equal(got.meta[0].value, meta[1].value);
  assert_string_equal(got.meta[1].key, "ctl");
  assert_string_equal(got.meta[1].value, meta[2].value);
  assert_string_equal(got.meta[2].value, "tab\there");
  mdb_mantaray_free(m);
  store_free(&s);
}

/* --- untrusted input --- */

/* Serves one forged root chunk (span || payload) under its true address. */
static int open_forged(store *s, const uint8_t *payload, size_t len,
                       mdb_error *err) {
  uint8_t *chunk = malloc(8 + len + 1), address[32];
  mdb_bmt_span_encode(len, chunk);
  memcpy(chunk + 8, payload, len);
  mdb_bmt_chunk_address(len, payload, len, address);
  store_set(s, address, chunk, 8 + len);
  free(chunk);
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_open(address, store_source, s, &m, NULL), 0);
  mdb_mantaray_entry e;
  int rc = mdb_mantaray_lookup(m, (const uint8_t *)"doc", 3, &e, err);
  mdb_mantaray_free(m);
  return rc;
}

/* The root node of a one-entry manifest with metadata, as saved. */
static size_t sample_root(store *s, uint8_t *payload) {
  uint8_t ref[32] = {5}, root[32];
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"}};
  mdb_mantaray_entry e = entry("doc", ref);
  e.meta = meta;
  e.n_meta = 1;
  assert_int_equal(mdb_mantaray_build(&e, 1, store_sink, s, root, NULL), 0);
  stored *c = store_find(s, root);
  memcpy(payload, c->data + 8, c->size - 8);
  return c->size - 8;
}

static void test_malformed_nodes(void **state) {
  (void)state;
  store s = {0};
  uint8_t good[4096], bad[4096];
  size_t len = sample_root(&s, good);
  mdb_error err = {0};
  assert_int_equal(open_forged(&s, good, len, &err), MDBEE_OK);
  /* Every truncation is refused. */
  for (size_t n = 0; n < len; n++) {
    int rc = open_forged(&s, good, n, &err);
    if (rc != MDBEE_EFORMAT)
      fail_msg("truncated to %zu bytes: %d (%s)", n, rc, err.message);
  }
  struct {
    size_t offset;
    uint8_t value;
    const char *message;
  } cases[] = {
      {32, 0x00, "version"},             /* version hash */
      {63, 31, "reference size"},        /* entry size */
      {63, 255, "reference size"},
      {128 + 1, 0, "prefix length"},     /* fork prefix length 0 */
      {128 + 1, 31, "prefix length"},    /* and 31 */
      {128 + 2, 'x', "bitmap byte"},     /* prefix vs bitmap */
      {128 + 64, 0xff, "truncated"},     /* metadata size */
      {128 + 66, '[', "metadata JSON"},  /* not an object */
      {128 + 67, 0x01, "metadata JSON"}, /* control char in key */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memcpy(bad, good, len);
    bad[cases[i].offset] = cases[i].value;
    int rc = open_forged(&s, bad, len, &err);
    if (rc != MDBEE_EFORMAT || !strstr(err.message, cases[i].message))
      fail_msg("case %zu: %d (%s)", i, rc, err.message);
  }
  /* A chunk that does not hash to the reference naming it. */
  uint8_t root[32];
  mdb_bmt_chunk_address(len, good, len, root);
  stored *c = store_find(&s, root);
  c->data[8 + 100] ^= 1;
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_open(root, store_source, &s, &m, NULL), 0);
  mdb_mantaray_entry e;
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"doc", 3, &e, &err),
                   MDBEE_EVERIFY);
  mdb_mantaray_free(m);
  /* A missing chunk is the source's error. */
  uint8_t nowhere[32] = {0xab};
  assert_int_equal(mdb_mantaray_open(nowhere, store_source, &s, &m, NULL), 0);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"doc", 3, &e, &err),
                   MDBEE_ENOTFOUND);
  mdb_mantaray_free(m);
  store_free(&s);
}

/* Writes a node by hand: the header of one mdbee saved (zero key, version,
 * reference size 32), the entry, the bitmap and plain fork records. */
typedef struct hand_fork {
  uint8_t type;
  const char *prefix;
  const uint8_t *ref;
} hand_fork;

static void hand_node(store *s, const uint8_t header[64], uint8_t entry_fill,
                      const hand_fork *forks, size_t n, uint8_t address[32]) {
  uint8_t payload[4096] = {0};
  memcpy(payload, header, 64);
  memset(payload + 64, entry_fill, 32);
  size_t off = 128;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = (uint8_t)forks[i].prefix[0];
    payload[96 + b / 8] |= (uint8_t)(1u << (b % 8));
    payload[off] = forks[i].type;
    payload[off + 1] = (uint8_t)strlen(forks[i].prefix);
    memcpy(payload + off + 2, forks[i].prefix, strlen(forks[i].prefix));
    memcpy(payload + off + 32, forks[i].ref, 32);
    off += 64;
  }
  uint8_t chunk[8 + 4096];
  mdb_bmt_span_encode(off, chunk);
  memcpy(chunk + 8, payload, off);
  mdb_bmt_chunk_address(off, payload, off, address);
  store_set(s, address, chunk, 8 + off);
}

/* Bee cuts long paths 30 bytes from each node, not from the path's start,
 * so its edges can cross a multiple of 30.  Removing from such a manifest
 * must not join prefixes beyond 30 bytes. */
static void test_remove_in_foreign_shape(void **state) {
  (void)state;
  store s = {0};
  uint8_t empty[32], header[64];
  assert_int_equal(mdb_mantaray_build(NULL, 0, store_sink, &s, empty, NULL),
                   MDBEE_OK);
  memcpy(header, store_find(&s, empty)->data + 8, 64);
  /* "a" -> A (entry) -"b"x30-> N -{"b"x10 -> L1, "c" -> L2} */
  const char *b30 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", *b10 = "bbbbbbbbbb";
  uint8_t l1[32], l2[32], n[32], a[32], root[32];
  hand_node(&s, header, 1, NULL, 0, l1);
  hand_node(&s, header, 2, NULL, 0, l2);
  hand_fork nf[] = {{2, b10, l1}, {2, "c", l2}};
  hand_node(&s, header, 0, nf, 2, n);
  hand_fork af[] = {{4, b30, n}};
  hand_node(&s, header, 3, af, 1, a);
  hand_fork rf[] = {{6, "a", a}};
  hand_node(&s, header, 0, rf, 1, root);
  char p1[64], p2[64];
  snprintf(p1, sizeof p1, "a%s%s", b30, b10);
  snprintf(p2, sizeof p2, "a%sc", b30);

  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_open(root, store_source, &s, &m, NULL), 0);
  mdb_error err = {0};
  mdb_mantaray_entry e;
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)p1, strlen(p1), &e,
                                       &err),
                   MDBEE_OK);
  assert_int_equal(e.ref[0], 1);
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)p2, strlen(p2), &err),
                   MDBEE_OK);
  uint8_t after[32];
  if (mdb_mantaray_save(m, store_sink, &s, after, &err))
    fail_msg("save: %s", err.message);
  mdb_mantaray_free(m);
  assert_int_equal(mdb_mantaray_open(after, store_source, &s, &m, NULL), 0);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)p1, strlen(p1), &e,
                                       &err),
                   MDBEE_OK);
  assert_int_equal(e.ref[0], 1);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"a", 1, &e, &err),
                   MDBEE_OK);
  assert_int_equal(e.ref[0], 3);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)p2, strlen(p2), &e,
                                       &err),
                   MDBEE_ENOTFOUND);
  mdb_mantaray_free(m);
  store_free(&s);
}

/* --- nodes larger than one chunk --- */

#define WIDE 230 /* root forks; with metadata the root node is ~30 KB */

/* Path i of the wide manifest: a distinct first byte, then a tail. */
static size_t wide_path(size_t i, char *path) {
  return (size_t)snprintf(path, 64, "%c/doc-%zu.json", (char)(0x21 + i), i);
}

static void wide_put(mdb_mantaray *m, size_t i, uint8_t fill) {
  char path[64], name[32];
  size_t len = wide_path(i, path);
  snprintf(name, sizeof name, "doc-%zu.json", i);
  uint8_t ref[32];
  memset(ref, fill, sizeof ref);
  ref[0] = (uint8_t)i;
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"},
                            {"Filename", name}};
  mdb_mantaray_entry e = {(const uint8_t *)path, len, ref, 32, meta, 2};
  mdb_error err = {0};
  if (mdb_mantaray_put(m, &e, &err))
    fail_msg("put %s: %s", path, err.message);
}

static void wide_check(mdb_mantaray *m, size_t i, uint8_t fill) {
  char path[64], name[32];
  size_t len = wide_path(i, path);
  snprintf(name, sizeof name, "doc-%zu.json", i);
  mdb_error err = {0};
  mdb_mantaray_entry e;
  if (mdb_mantaray_lookup(m, (const uint8_t *)path, len, &e, &err))
    fail_msg("lookup %s: %s", path, err.message);
  assert_int_equal(e.ref[0], (uint8_t)i);
  assert_int_equal(e.ref[31], fill);
  assert_int_equal(e.n_meta, 2);
  assert_string_equal(e.meta[0].value, "application/json");
  assert_string_equal(e.meta[1].value, name);
}

static uint64_t stored_span(store *s, const uint8_t address[32]) {
  stored *c = store_find(s, address);
  assert_non_null(c);
  return mdb_bmt_span_decode(c->data);
}

static int lookup_first(store *s, const uint8_t root[32], mdb_error *err) {
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_open(root, store_source, s, &m, NULL), 0);
  char path[64];
  size_t len = wide_path(0, path);
  mdb_mantaray_entry e;
  int rc = mdb_mantaray_lookup(m, (const uint8_t *)path, len, &e, err);
  mdb_mantaray_free(m);
  return rc;
}

/* Saves the wide manifest (fill 7) to s and returns its root's span. */
static uint64_t wide_build(store *s, uint8_t root[32]) {
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (size_t i = 0; i < WIDE; i++)
    wide_put(m, i, 7);
  save(m, s, root);
  mdb_mantaray_free(m);
  return stored_span(s, root);
}

static void test_large_node_round_trip(void **state) {
  (void)state;
  store s = {0};
  mdb_mantaray *m;
  uint8_t root[32], unsunk[32];
  /* The root node is a chunk tree: its root chunk spans the whole node. */
  uint64_t span = wide_build(&s, root);
  assert_true(span > 4096 * 4);
  uint8_t *node;
  size_t node_len;
  assert_int_equal(mdb_chunk_tree_join(root, store_source, &s, span, &node,
                                       &node_len, NULL),
                   MDBEE_OK);
  assert_int_equal(node_len, span);
  free(node);

  /* Reverse order, no sink: the same root. */
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (size_t i = WIDE; i-- > 0;)
    wide_put(m, i, 7);
  save(m, NULL, unsunk);
  mdb_mantaray_free(m);
  assert_memory_equal(root, unsunk, 32);

  /* Every entry and its metadata reads back; one lookup reads each chunk of
   * the root's tree once (an intermediate chunk and its leaves) and one
   * leaf node. */
  assert_int_equal(mdb_mantaray_open(root, store_source, &s, &m, NULL), 0);
  wide_check(m, 17, 7);
  size_t leaves = (size_t)((span + 4095) / 4096);
  assert_int_equal(mdb_mantaray_loads(m), 1 + leaves + 1);
  for (size_t i = 0; i < WIDE; i++)
    wide_check(m, i, 7);

  /* An incremental save rewrites the wide node as a new tree. */
  wide_put(m, 100, 9);
  uint8_t after[32];
  save(m, &s, after);
  mdb_mantaray_free(m);
  assert_memory_not_equal(root, after, 32);
  assert_true(stored_span(&s, after) > 4096);
  assert_int_equal(mdb_mantaray_open(after, store_source, &s, &m, NULL), 0);
  wide_check(m, 100, 9);
  wide_check(m, 99, 7);
  mdb_mantaray_free(m);
  store_free(&s);
}

static void test_large_node_rejected(void **state) {
  (void)state;
  store s = {0};
  uint8_t root[32];
  uint64_t span = wide_build(&s, root);
  uint8_t *node;
  size_t len;
  assert_int_equal(mdb_chunk_tree_join(root, store_source, &s, span, &node,
                                       &len, NULL),
                   MDBEE_OK);
  mdb_error err = {0};

  /* A valid chunk tree holding a truncated node: the node parser refuses
   * it (the cut falls inside a fork record). */
  uint8_t cut[32];
  assert_int_equal(mdb_chunk_tree_split(node, len - 40, store_sink, &s, cut,
                                        NULL),
                   MDBEE_OK);
  assert_int_equal(lookup_first(&s, cut, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "truncated"));

  /* The root chunk claims a larger span than its references cover. */
  stored *c = store_find(&s, root);
  uint8_t forged[8 + 4096], forged_root[32];
  memcpy(forged, c->data, c->size);
  mdb_bmt_span_encode(span + 4096, forged);
  mdb_bmt_chunk_address(span + 4096, forged + 8, c->size - 8, forged_root);
  store_set(&s, forged_root, forged, c->size);
  assert_int_equal(lookup_first(&s, forged_root, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "references"));

  /* A span beyond the largest valid node (~16 MiB) is refused before any
   * of it is fetched or allocated. */
  s.gets = 0;
  mdb_bmt_span_encode(1ull << 40, forged);
  mdb_bmt_chunk_address(1ull << 40, forged + 8, c->size - 8, forged_root);
  store_set(&s, forged_root, forged, c->size);
  assert_int_equal(lookup_first(&s, forged_root, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "largest valid node"));
  assert_int_equal(s.gets, 1);
  mdb_bmt_span_encode(17u << 20, forged);
  mdb_bmt_chunk_address(17u << 20, forged + 8, c->size - 8, forged_root);
  store_set(&s, forged_root, forged, c->size);
  assert_int_equal(lookup_first(&s, forged_root, &err), MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "largest valid node"));

  /* A leaf of the node's tree that is missing is the source's error. */
  uint8_t leaf[32];
  memcpy(leaf, c->data + 8, 32);
  store_find(&s, leaf)->address[0] ^= 0xff;
  assert_int_equal(lookup_first(&s, root, &err), MDBEE_ENOTFOUND);
  free(node);
  store_free(&s);
}

/* --- encrypted trees (mdb_mantaray_encrypt) --- */

/* Puts path -> a 64-byte reference (as an encrypted file's) made of fill
 * and seq. */
static void put64(mdb_mantaray *m, const char *path, uint8_t fill,
                  uint32_t seq) {
  uint8_t ref[64];
  memset(ref, fill, sizeof ref);
  memcpy(ref + 60, &seq, 4);
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"}};
  mdb_mantaray_entry e = {(const uint8_t *)path, strlen(path), ref, 64, meta,
                          1};
  mdb_error err = {0};
  if (mdb_mantaray_put(m, &e, &err))
    fail_msg("put %s: %s", path, err.message);
}

/* Entries under "w/" with 200 distinct next bytes make the node at "w/"
 * wider than a chunk, so it is stored as an encrypted chunk tree. */
#define ENC_WIDE 200
static void enc_path(size_t i, char *path) {
  if (i < ENC_WIDE)
    snprintf(path, 64, "w/%c/doc-%zu.json", (char)(0x21 + i), i);
  else
    snprintf(path, 64, "n/%zu", i);
}

static int holds(const stored *c, const char *text) {
  size_t n = strlen(text);
  for (size_t j = 0; j + n <= c->size; j++)
    if (memcmp(c->data + j, text, n) == 0) return 1;
  return 0;
}

static void enc_build(store *s, int reverse, uint8_t root[32]) {
  static const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE] = {42};  /* as below */
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  mdb_mantaray_encrypt(m, secret);
  for (size_t k = 0; k < ENC_WIDE + 20; k++) {
    size_t i = reverse ? ENC_WIDE + 19 - k : k;
    char path[64];
    enc_path(i, path);
    put64(m, path, 5, (uint32_t)i);
  }
  save(m, s, root);
  mdb_mantaray_free(m);
}

static void test_encrypted_tree(void **state) {
  (void)state;
  static const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE] = {42};
  store a = {0}, b = {0};
  uint8_t root[32], again[32], after0[32];
  enc_build(&a, 0, root);
  enc_build(&b, 1, again);
  /* Convergent keys: the same entries give the same chunks. */
  assert_memory_equal(root, again, 32);
  assert_int_equal(a.n, b.n);
  /* The root is a plain chunk whose header says 64-byte references; every
   * other chunk is encrypted (4104 bytes) and holds no path in clear. */
  stored *r = store_find(&a, root);
  assert_non_null(r);
  assert_true(r->size < MDB_CHUNK_SIZE_MAX);
  assert_int_equal(r->data[MDB_SPAN_SIZE + 63], 64);
  for (size_t i = 0; i < a.n; i++) {
    if (&a.chunks[i] == r) continue;
    assert_int_equal(a.chunks[i].size, MDB_CHUNK_SIZE_MAX);
    assert_false(holds(&a.chunks[i], "doc-"));
    assert_false(holds(&a.chunks[i], "Content-Type"));
  }
  assert_true(a.n > ENC_WIDE / 8); /* the wide node is several chunks */

  /* Everything reads back through the keys in the references. */
  mdb_mantaray *m;
  mdb_error err = {0};
  assert_int_equal(mdb_mantaray_open(root, store_source, &a, &m, NULL), 0);
  for (size_t i = 0; i < ENC_WIDE + 20; i++) {
    char path[64];
    enc_path(i, path);
    mdb_mantaray_entry e;
    if (mdb_mantaray_lookup(m, (const uint8_t *)path, strlen(path), &e, &err))
      fail_msg("lookup %s: %s", path, err.message);
    assert_int_equal(e.ref_size, 64);
    uint32_t seq;
    memcpy(&seq, e.ref + 60, 4);
    assert_int_equal(seq, i);
  }
  mdb_mantaray_free(m);
  /* Without the secret new nodes would be plain beside encrypted ones. */
  assert_int_equal(mdb_mantaray_open(root, store_source, &a, &m, NULL), 0);
  put64(m, "n/new", 6, 1);
  assert_int_equal(mdb_mantaray_save(m, NULL, NULL, after0, &err),
                   MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "mdb_mantaray_encrypt"));
  mdb_mantaray_free(m);
  /* With it, an incremental save keeps the tree encrypted and readable. */
  assert_int_equal(mdb_mantaray_open(root, store_source, &a, &m, NULL), 0);
  mdb_mantaray_encrypt(m, secret);
  put64(m, "n/new", 6, 1);
  uint8_t after[32];
  save(m, &a, after);
  mdb_mantaray_free(m);
  assert_memory_not_equal(root, after, 32);
  assert_int_equal(mdb_mantaray_open(after, store_source, &a, &m, NULL), 0);
  mdb_mantaray_entry e;
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"n/new", 5, &e,
                                       &err),
                   MDBEE_OK);
  assert_int_equal(e.ref[0], 6);
  /* A 32-byte entry above 64-byte child references cannot be written. */
  put(m, "n/", 1);
  assert_int_equal(mdb_mantaray_save(m, NULL, NULL, after, &err), MDBEE_EINVAL);
  mdb_mantaray_free(m);
  /* A tampered encrypted node is refused. */
  for (size_t i = 0; i < a.n; i++)
    if (a.chunks[i].size == MDB_CHUNK_SIZE_MAX) a.chunks[i].data[100] ^= 1;
  assert_int_equal(mdb_mantaray_open(root, store_source, &a, &m, NULL), 0);
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"n/201", 5, &e,
                                       &err),
                   MDBEE_EVERIFY);
  mdb_mantaray_free(m);
  store_free(&a);
  store_free(&b);
}

/* --- leaves left out of the chunk source (mdb_mantaray_leaves) --- */

/* Entries c/i-<id> for id 1..LEAF_IDS-1, as the publisher files documents
 * with int32 _ids; version[id] 0 = absent, else the fill of its ref. */
enum { LEAF_IDS = 64 };

typedef struct leaf_world {
  store s;                      /* every node, leaves included */
  uint8_t version[LEAF_IDS];
  size_t leaf_denied;           /* leaves asked of leafless_source */
  size_t resolved;              /* calls of leaf_resolver */
  int wrong;                    /* leaf_resolver answers a wrong ref */
} leaf_world;

static void leaf_ref(unsigned id, uint8_t version, uint8_t ref[32]) {
  memset(ref, version, 32);
  memcpy(ref + 28, &id, 4);
}

static void put_leaf(mdb_mantaray *m, unsigned id, uint8_t version) {
  char path[32], name[16];
  snprintf(name, sizeof name, "i-%u", id);
  snprintf(path, sizeof path, "c/%s", name);
  uint8_t ref[32];
  leaf_ref(id, version, ref);
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"},
                            {"Filename", name}};
  mdb_mantaray_entry e = {(const uint8_t *)path, strlen(path), ref, 32, meta,
                          2};
  mdb_error err = {0};
  if (mdb_mantaray_put(m, &e, &err))
    fail_msg("put %s: %s", path, err.message);
}

/* A plain node with one 32-byte entry and no forks. */
static int is_leaf_chunk(const uint8_t *data, size_t size) {
  if (size != 8 + 128 || data[8 + 63] != 32)
    return 0;
  for (size_t i = 8 + 96; i < 8 + 128; i++)
    if (data[i])
      return 0;
  return 1;
}

/* The node cache of the publisher: every node but the leaves. */
static int leafless_source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                           uint8_t *buf, size_t *size, mdb_error *err) {
  leaf_world *w = ctx;
  stored *c = store_find(&w->s, address);
  if (c && is_leaf_chunk(c->data, c->size)) {
    w->leaf_denied++;
    return mdb_error_set(err, MDBEE_ENOTFOUND, "leaf not kept");
  }
  return store_source(&w->s, address, buf, size, err);
}

/* The publisher's document index: path c/i-<id> -> its current ref. */
static int leaf_resolver(void *ctx, const uint8_t *path, size_t path_len,
                         uint8_t ref[MDB_MANTARAY_REF_MAX], size_t *ref_size,
                         mdb_error *err) {
  leaf_world *w = ctx;
  w->resolved++;
  char text[32];
  assert_true(path_len > 4 && path_len < sizeof text);
  memcpy(text, path, path_len);
  text[path_len] = '\0';
  unsigned id = (unsigned)strtoul(text + 4, NULL, 10);
  if (strncmp(text, "c/i-", 4) != 0 || id >= LEAF_IDS || !w->version[id])
    return mdb_error_set(err, MDBEE_ENOTFOUND, "no document at %s", text);
  leaf_ref(id, (uint8_t)(w->version[id] + (w->wrong ? 1 : 0)), ref);
  *ref_size = 32;
  return MDBEE_OK;
}

static void leaf_fresh_root(const leaf_world *w, uint8_t root[32]) {
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (unsigned id = 1; id < LEAF_IDS; id++)
    if (w->version[id])
      put_leaf(m, id, w->version[id]);
  save(m, NULL, root);
  mdb_mantaray_free(m);
}

/* ids 1..9 and 20..29: i-1..i-9 are leaves, i-2 a node above i-20..29. */
static void leaf_world_build(leaf_world *w, uint8_t root[32]) {
  memset(w, 0, sizeof *w);
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (unsigned id = 1; id < 30; id++)
    if (id < 10 || id >= 20) {
      w->version[id] = 1;
      put_leaf(m, id, 1);
    }
  save(m, &w->s, root);
  mdb_mantaray_free(m);
}

static mdb_mantaray *leaf_open(leaf_world *w, const uint8_t root[32],
                               int resolver) {
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_open(root, leafless_source, w, &m, NULL), 0);
  if (resolver)
    mdb_mantaray_leaves(m, leaf_resolver, w);
  return m;
}

/* A put or remove that ends at a leaf neither reads nor rebuilds it. */
static void test_leaf_put_remove_opaque(void **state) {
  (void)state;
  leaf_world w;
  uint8_t root[32], got[32], want[32];
  leaf_world_build(&w, root);
  mdb_mantaray *m = leaf_open(&w, root, 1);
  put_leaf(m, 3, 7);
  w.version[3] = 7;
  mdb_error err = {0};
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"c/i-5", 5, &err),
                   MDBEE_OK);
  w.version[5] = 0;
  /* i-2 has forks: its record says so and it is read as usual. */
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"c/i-2", 5, &err),
                   MDBEE_OK);
  w.version[2] = 0;
  put_leaf(m, 9, 1); /* the same entry again */
  assert_int_equal(w.leaf_denied, 0);
  assert_int_equal(w.resolved, 0);
  save(m, &w.s, got);
  leaf_fresh_root(&w, want);
  assert_memory_equal(got, want, 32);
  /* Removing a missing entry next to a leaf still says so. */
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"c/i-55", 6, &err),
                   MDBEE_ENOTFOUND);
  mdb_mantaray_free(m);
  store_free(&w.s);
}

/* A path that goes on past a leaf needs the leaf's entry: without a leaf
 * source the put fails and changes nothing; a leaf source that disagrees
 * with the manifest is MDBEE_ESTATE; the right one gives the root of a
 * fresh build, also after a save and unload. */
static void test_leaf_extended_through_resolver(void **state) {
  (void)state;
  leaf_world w;
  uint8_t root[32], got[32], want[32];
  leaf_world_build(&w, root);
  uint8_t ref[32];
  leaf_ref(10, 1, ref);
  mdb_mantaray_kv meta[] = {{"Content-Type", "application/json"},
                            {"Filename", "i-10"}};
  mdb_mantaray_entry e = {(const uint8_t *)"c/i-10", 6, ref, 32, meta, 2};
  mdb_error err = {0};

  mdb_mantaray *m = leaf_open(&w, root, 0);
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_ENOTFOUND);
  save(m, NULL, got);
  assert_memory_equal(got, root, 32);
  mdb_mantaray_free(m);

  m = leaf_open(&w, root, 1);
  w.leaf_denied = 0;
  w.wrong = 1;
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_ESTATE);
  assert_non_null(strstr(err.message, "c/i-1"));
  w.wrong = 0;
  assert_int_equal(mdb_mantaray_put(m, &e, &err), MDBEE_OK);
  w.version[10] = 1;
  assert_int_equal(w.leaf_denied, 2);
  save(m, &w.s, got);
  leaf_fresh_root(&w, want);
  assert_memory_equal(got, want, 32);

  /* After an unload: i-1 is no leaf now, i-4 still is. */
  assert_int_equal(mdb_mantaray_unload(m, leafless_source, &w, &err), 0);
  size_t resolved = w.resolved;
  put_leaf(m, 11, 2);
  w.version[11] = 2;
  assert_int_equal(w.resolved, resolved);
  put_leaf(m, 40, 1); /* goes past the leaf i-4 */
  assert_int_equal(w.resolved, resolved + 1);
  assert_int_equal(mdb_mantaray_remove(m, (const uint8_t *)"c/i-40", 6, &err),
                   MDBEE_OK);
  /* Lookups and walks read leaves too. */
  mdb_mantaray_entry found;
  assert_int_equal(mdb_mantaray_lookup(m, (const uint8_t *)"c/i-7", 5, &found,
                                       &err),
                   MDBEE_OK);
  leaf_ref(7, 1, ref);
  assert_memory_equal(found.ref, ref, 32);
  assert_int_equal(found.n_meta, 2);
  save(m, &w.s, got);
  leaf_fresh_root(&w, want);
  assert_memory_equal(got, want, 32);
  mdb_mantaray_free(m);
  store_free(&w.s);
}

/* A sink that takes `left` chunks, then fails. */
typedef struct failing_sink {
  store *s;
  size_t left;
} failing_sink;

static int fail_later(void *ctx, const mdb_chunk *chunk, mdb_error *err) {
  failing_sink *f = ctx;
  if (f->left == 0)
    return mdb_error_set(err, MDBEE_ENET, "sink gave up");
  f->left--;
  return store_sink(f->s, chunk, err);
}

/* Saving hashes nodes in groups, leaves first; a sink failing at any
 * point passes its error on, and saving again with a working sink gives
 * every chunk and the root of a save that never failed. */
static void test_save_after_sink_failure(void **state) {
  (void)state;
  enum { N = 700 };
  char path[64];
  uint8_t want[32];
  store ref = {0};
  mdb_mantaray *m;
  assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
  for (unsigned i = 0; i < N; i++) {
    snprintf(path, sizeof path, "c/%u", i * 7919u);
    put_seq(m, path, 1, i);
  }
  save(m, &ref, want);
  mdb_mantaray_free(m);
  for (size_t left = 0; left < ref.n; left += 97) {
    store s = {0};
    failing_sink f = {&s, left};
    assert_int_equal(mdb_mantaray_new(&m, NULL), MDBEE_OK);
    for (unsigned i = 0; i < N; i++) {
      snprintf(path, sizeof path, "c/%u", i * 7919u);
      put_seq(m, path, 1, i);
    }
    uint8_t root[32];
    mdb_error err = {0};
    assert_int_equal(mdb_mantaray_save(m, fail_later, &f, root, &err), MDBEE_ENET);
    assert_int_equal(s.n, left);
    save(m, &s, root);
    assert_memory_equal(root, want, 32);
    assert_int_equal(s.n, ref.n);
    for (size_t i = 0; i < ref.n; i++)
      assert_non_null(store_find(&s, ref.chunks[i].address));
    mdb_mantaray_free(m);
    store_free(&s);
  }
  store_free(&ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_encrypted_tree),
      cmocka_unit_test(test_lookup_and_not_found),
      cmocka_unit_test(test_remove_is_canonical),
      cmocka_unit_test(test_lazy_load_and_incremental_save),
      cmocka_unit_test(test_unload_between_saves),
      cmocka_unit_test(test_put_rejects_bad_entries),
      cmocka_unit_test(test_metadata_round_trip),
      cmocka_unit_test(test_malformed_nodes),
      cmocka_unit_test(test_remove_in_foreign_shape),
      cmocka_unit_test(test_large_node_round_trip),
      cmocka_unit_test(test_large_node_rejected),
      cmocka_unit_test(test_leaf_put_remove_opaque),
      cmocka_unit_test(test_leaf_extended_through_resolver),
      cmocka_unit_test(test_save_after_sink_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
