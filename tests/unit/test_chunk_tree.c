#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/chunk.h"
#include "mdbee/hex.h"
#include "support.h"

/* Stores every chunk (checking its address) after checking that an
 * intermediate chunk only references chunks already received. */
static int sink(void *ctx, const mdb_chunk *c, mdb_error *err) {
  test_store *s = ctx;
  if (mdb_bmt_span_decode(c->data) > MDB_CHUNK_PAYLOAD_MAX)
    for (size_t off = MDB_SPAN_SIZE; off < c->size; off += MDB_REF_SIZE)
      assert_true(test_store_find(s, c->data + off) >= 0);
  return test_store_sink(ctx, c, err);
}


static int cmp_addr(const void *a, const void *b) {
  return memcmp(a, b, MDB_REF_SIZE);
}

/* Trees bee-js's MerkleTree built (tests/vectors/chunk_tree.txt): the root
 * and the set of chunk addresses must be the same, whether the data is
 * written at once or in odd pieces. */
static void test_known_trees(void **state) {
  (void)state;
  vec_file v;
  vec_open(&v, "chunk_tree.txt");
  size_t cases = 0;
  while (vec_next(&v)) {
    size_t n = strtoull(v.fields[0], NULL, 10), rn, an;
    uint8_t *data = test_pattern(n), *want_root = vec_bytes(&v, 1, &rn);
    /* Addresses are comma-separated: turn them into one hex string. */
    char *p = v.fields[2], *q = p;
    for (; *p; p++)
      if (*p != ',') *q++ = *p;
    *q = '\0';
    uint8_t *want = vec_bytes(&v, 2, &an);

    test_store s = {0};
    uint8_t root[MDB_REF_SIZE];
    mdb_error err = {0};
    assert_int_equal(mdb_chunk_tree_split(data, n, sink, &s, root, &err),
                     MDBEE_OK);
    if (memcmp(root, want_root, MDB_REF_SIZE) != 0)
      fail_msg("root differs from bee-js for %zu bytes", n);
    assert_int_equal(s.n * MDB_REF_SIZE, an);
    qsort(s.addr, s.n, MDB_REF_SIZE, cmp_addr);
    if (memcmp(s.addr, want, an) != 0)
      fail_msg("chunk set differs from bee-js for %zu bytes", n);

    mdb_splitter *sp;
    assert_int_equal(mdb_splitter_new(NULL, NULL, &sp, &err), MDBEE_OK);
    static const size_t pieces[] = {1, 4095, 7, 100000, 4096, 3};
    for (size_t off = 0, k = 0; off < n; k++) {
      size_t take = pieces[k % 6] < n - off ? pieces[k % 6] : n - off;
      assert_int_equal(mdb_splitter_write(sp, data + off, take, &err),
                       MDBEE_OK);
      off += take;
    }
    uint8_t streamed[MDB_REF_SIZE];
    assert_int_equal(mdb_splitter_finish(sp, streamed, &err), MDBEE_OK);
    assert_memory_equal(streamed, want_root, MDB_REF_SIZE);
    assert_int_equal(mdb_splitter_write(sp, "x", 1, &err), MDBEE_EINVAL);
    mdb_splitter_free(sp);

    test_store_free(&s);
    free(data);
    free(want_root);
    free(want);
    cases++;
  }
  vec_close(&v);
  assert_true(cases >= 16);
}

/* Splits pattern data of n bytes into s; writes the root. */
static void split_into(test_store *s, size_t n, uint8_t root[MDB_REF_SIZE]) {
  uint8_t *data = test_pattern(n);
  mdb_error err = {0};
  assert_int_equal(mdb_chunk_tree_split(data, n, sink, s, root, &err),
                   MDBEE_OK);
  free(data);
}

static void test_join_round_trip(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 4096, 4097, 128 * 4096, 128 * 4096 + 1,
                          2 * 128 * 4096 + 4096 * 3 + 5};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    test_store s = {0};
    uint8_t root[MDB_REF_SIZE], *out = NULL;
    size_t len;
    mdb_error err = {0};
    split_into(&s, sizes[i], root);
    assert_int_equal(mdb_chunk_tree_join(root, test_store_source, &s, sizes[i], &out,
                                         &len, &err),
                     MDBEE_OK);
    assert_int_equal(len, sizes[i]);
    uint8_t *want = test_pattern(sizes[i]);
    assert_true(len == 0 || memcmp(out, want, len) == 0);
    assert_int_equal(s.fetches, s.n); /* each chunk read once */
    free(want);
    free(out);
    test_store_free(&s);
  }
}

/* Changing any byte of a stored chunk, root, intermediate or leaf, must be
 * caught: the chunk no longer hashes to the reference that named it. */
static void test_join_detects_corruption(void **state) {
  (void)state;
  test_store s = {0};
  uint8_t root[MDB_REF_SIZE];
  split_into(&s, 128 * 4096 + 4097, root);
  for (size_t i = 0; i < s.n; i++) {
    size_t at = (i * 977) % s.size[i];
    s.data[i][at] ^= 0x01;
    uint8_t *out = NULL;
    size_t len;
    mdb_error err = {0};
    assert_int_equal(
        mdb_chunk_tree_join(root, test_store_source, &s, UINT64_MAX, &out, &len, &err),
        MDBEE_EVERIFY);
    assert_null(out);
    assert_non_null(strstr(err.message, "does not hash to its address"));
    s.data[i][at] ^= 0x01;
  }
  test_store_free(&s);
}

static void test_join_missing_chunk(void **state) {
  (void)state;
  test_store s = {0};
  uint8_t root[MDB_REF_SIZE], *out = NULL;
  size_t len;
  mdb_error err = {0};
  split_into(&s, 3 * 4096, root);
  s.n--; /* the root went in last; drop a leaf instead */
  memcpy(s.addr[0], s.addr[s.n], MDB_REF_SIZE);
  memcpy(s.data[0], s.data[s.n], s.size[s.n]);
  s.size[0] = s.size[s.n];
  assert_int_equal(
      mdb_chunk_tree_join(root, test_store_source, &s, UINT64_MAX, &out, &len, &err),
      MDBEE_ENOTFOUND);
  test_store_free(&s);
}

/* Builds a chunk from a span and payload, stores it and writes its
 * address. */
static void put_chunk(test_store *s, uint64_t span, const uint8_t *payload,
                      size_t len, uint8_t addr[MDB_REF_SIZE]) {
  uint8_t buf[MDB_CHUNK_SIZE_MAX];
  mdb_bmt_span_encode(span, buf);
  memcpy(buf + MDB_SPAN_SIZE, payload, len);
  mdb_bmt_chunk_address(span, payload, len, addr);
  test_store_put(s, addr, buf, MDB_SPAN_SIZE + len);
}

/* Hand-built trees whose chunks all hash correctly but whose spans or
 * lengths do not fit together. */
static int join_forged(uint64_t root_span, uint64_t leaf1_span,
                       size_t leaf1_len, size_t nrefs, uint64_t max_size,
                       size_t *fetches, mdb_error *err) {
  test_store s = {0};
  uint8_t *data = test_pattern(8192), refs[3 * MDB_REF_SIZE], root[MDB_REF_SIZE];
  put_chunk(&s, 4096, data, 4096, refs);
  put_chunk(&s, leaf1_span, data + 4096, leaf1_len, refs + MDB_REF_SIZE);
  put_chunk(&s, 4096, data, 4096, refs + 2 * MDB_REF_SIZE);
  put_chunk(&s, root_span, refs, nrefs * MDB_REF_SIZE, root);
  uint8_t *out = NULL;
  size_t len;
  int rc = mdb_chunk_tree_join(root, test_store_source, &s, max_size, &out, &len, err);
  if (rc == MDBEE_OK) assert_int_equal(len, root_span);
  free(out);
  free(data);
  *fetches = s.fetches;
  test_store_free(&s);
  return rc;
}

static void test_join_forged_trees(void **state) {
  (void)state;
  mdb_error err = {0};
  size_t fetches;
  /* The honest shape passes. */
  assert_int_equal(join_forged(8000, 3904, 3904, 2, 8000, &fetches, &err),
                   MDBEE_OK);
  /* Root says 8000 bytes, the second leaf says 4000. */
  err = (mdb_error){0};
  assert_int_equal(join_forged(8000, 4000, 4000, 2, 8000, &fetches, &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "span disagrees"));
  /* A truncated leaf: span 3904 but only 3000 bytes of payload. */
  err = (mdb_error){0};
  assert_int_equal(join_forged(8000, 3904, 3000, 2, 8000, &fetches, &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "leaf payload length"));
  /* Root claims more data than its references can hold. */
  err = (mdb_error){0};
  assert_int_equal(join_forged(9000, 4096, 4096, 2, 9000, &fetches, &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "wrong number of references"));
  /* An extra reference beyond what the span needs. */
  err = (mdb_error){0};
  assert_int_equal(join_forged(8000, 3904, 3904, 3, 8000, &fetches, &err),
                   MDBEE_EFORMAT);
  /* A root of a petabyte is refused from its span alone, before anything
   * is allocated or fetched beyond the root. */
  err = (mdb_error){0};
  assert_int_equal(join_forged(1ull << 50, 4096, 4096, 2, 1 << 20, &fetches,
                               &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "exceeds the limit"));
  assert_int_equal(fetches, 1);
}

static void test_join_max_size(void **state) {
  (void)state;
  test_store s = {0};
  uint8_t root[MDB_REF_SIZE], *out = NULL;
  size_t len;
  mdb_error err = {0};
  split_into(&s, 128 * 4096 + 1, root);
  assert_int_equal(mdb_chunk_tree_join(root, test_store_source, &s, 128 * 4096, &out,
                                       &len, &err),
                   MDBEE_EFORMAT);
  assert_int_equal(s.fetches, 1);
  assert_null(out);
  assert_int_equal(mdb_chunk_tree_join(root, test_store_source, &s, 128 * 4096 + 1, &out,
                                       &len, &err),
                   MDBEE_OK);
  free(out);
  test_store_free(&s);
}

/* A chunk that is not even a chunk (under 8 bytes) from the source. */
static int short_source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                        uint8_t *buf, size_t *size, mdb_error *err) {
  (void)ctx;
  (void)address;
  (void)err;
  memset(buf, 0, 4);
  *size = 4;
  return MDBEE_OK;
}

static void test_join_short_chunk(void **state) {
  (void)state;
  uint8_t root[MDB_REF_SIZE] = {1}, *out = NULL;
  size_t len;
  mdb_error err = {0};
  assert_int_equal(mdb_chunk_tree_join(root, short_source, NULL, UINT64_MAX,
                                       &out, &len, &err),
                   MDBEE_EFORMAT);
  assert_non_null(strstr(err.message, "size out of range"));
}

/* A sink's error stops the split and comes back unchanged. */
static void test_sink_error_aborts(void **state) {
  (void)state;
  test_store s = {.fail_after = 5};
  uint8_t *data = test_pattern(10 * 4096), root[MDB_REF_SIZE];
  mdb_error err = {0};
  assert_int_equal(
      mdb_chunk_tree_split(data, 10 * 4096, sink, &s, root, &err),
      MDBEE_EIO);
  assert_string_equal(err.message, "disk full");
  assert_int_equal(s.n, 5);
  free(data);
  test_store_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_trees),
      cmocka_unit_test(test_join_round_trip),
      cmocka_unit_test(test_join_detects_corruption),
      cmocka_unit_test(test_join_missing_chunk),
      cmocka_unit_test(test_join_forged_trees),
      cmocka_unit_test(test_join_max_size),
      cmocka_unit_test(test_join_short_chunk),
      cmocka_unit_test(test_sink_error_aborts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
