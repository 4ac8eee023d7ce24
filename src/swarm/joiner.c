/* Verifying chunk-tree joiner.
 *
 * Chunks come from an untrusted source, so nothing read from one is used
 * before its address has been checked against the reference that named it.
 * The tree's shape is then fully determined by the root span: a chunk of
 * span s > 4096 has children of the largest capacity 4096 * 128^k below s,
 * all full but the last, so every child's span, the number of references
 * and every leaf's length are checked against what they must be.  A tree
 * Bee or mdbee built always passes; anything else is refused. */
#include <stdlib.h>
#include <string.h>

#include "mdbee/chunk.h"
#include "mdbee/hex.h"
#include "tree_internal.h"

/* Levels a 64-bit span can need, plus the root. */
#define DEPTH_MAX 11

struct joiner {
  mdb_tree_codec codec;
  size_t branches;
  mdb_chunk_source source;
  void *ctx;
  uint8_t *bufs[DEPTH_MAX]; /* one chunk per tree level being walked */
  uint8_t *leaves;          /* a whole intermediate chunk's leaves */
  mdb_bmt_job *jobs;
  uint8_t (*addrs)[MDB_REF_SIZE];
};

static int fail_at(mdb_error *err, int code, const uint8_t *address,
                   const char *what) {
  char hex[2 * MDB_REF_SIZE + 1];
  mdb_hex_encode(address, MDB_REF_SIZE, hex);
  return mdb_error_set(err, code, "chunk %s: %s", hex, what);
}

/* Asks the source for the chunk at ref's address; checks its size. */
static int fetch(struct joiner *j, const uint8_t *ref, uint8_t *buf,
                 size_t *size, mdb_error *err) {
  *size = 0;
  int rc = j->source(j->ctx, ref, buf, size, err);
  if (rc == MDBEE_ENOTFOUND && err && !err->message[0])
    return fail_at(err, rc, ref, "not found");
  if (rc != MDBEE_OK) return rc;
  if (*size < MDB_SPAN_SIZE || *size > MDB_CHUNK_SIZE_MAX)
    return fail_at(err, MDBEE_EFORMAT, ref, "size out of range");
  return MDBEE_OK;
}

/* Decrypts a verified chunk in place when the tree is encrypted. */
static int open_chunk(struct joiner *j, const uint8_t *ref, uint8_t *buf,
                      size_t *size, mdb_error *err) {
  if (!j->codec.open) return MDBEE_OK;
  return j->codec.open(j->codec.ctx, ref + MDB_REF_SIZE, buf, size, err);
}

/* Checks an opened chunk's span against the expected one and its payload
 * length against the span; *cap becomes the capacity of each child (0 for
 * a leaf). */
static int check_chunk(struct joiner *j, const uint8_t *ref,
                       const uint8_t *buf, size_t size, uint64_t expected,
                       uint64_t *cap, mdb_error *err) {
  uint64_t span = mdb_bmt_span_decode(buf);
  if (span != expected)
    return fail_at(err, MDBEE_EFORMAT, ref,
                   "span disagrees with the tree above it");
  size_t payload = size - MDB_SPAN_SIZE;
  if (span <= MDB_CHUNK_PAYLOAD_MAX) {
    *cap = 0;
    if (payload != span)
      return fail_at(err, MDBEE_EFORMAT, ref,
                     "leaf payload length differs from its span");
    return MDBEE_OK;
  }
  uint64_t c = mdb_tree_child_capacity(span, j->branches);
  uint64_t n = span / c + (span % c != 0);
  if (payload != n * j->codec.ref_size)
    return fail_at(err, MDBEE_EFORMAT, ref,
                   "intermediate chunk holds the wrong number of references");
  *cap = c;
  return MDBEE_OK;
}

uint64_t mdb_tree_child_capacity(uint64_t span, size_t branches) {
  uint64_t c = MDB_CHUNK_PAYLOAD_MAX;
  while (c <= UINT64_MAX / branches && c * branches < span) c *= branches;
  return c;
}

static int verify_address(const uint8_t *ref, const uint8_t *address,
                          mdb_error *err) {
  if (memcmp(ref, address, MDB_REF_SIZE) != 0)
    return fail_at(err, MDBEE_EVERIFY, ref,
                   "content does not hash to its address");
  return MDBEE_OK;
}

/* Fetches the chunk ref names, verifies its address and opens it. */
static int fetch_verified(struct joiner *j, const uint8_t *ref, uint8_t *buf,
                          size_t *size, mdb_error *err) {
  uint8_t address[MDB_REF_SIZE];
  int rc = fetch(j, ref, buf, size, err);
  if (rc != MDBEE_OK) return rc;
  mdb_bmt_hash_chunks(&(mdb_bmt_job){buf, *size, address}, 1);
  rc = verify_address(ref, address, err);
  return rc == MDBEE_OK ? open_chunk(j, ref, buf, size, err) : rc;
}

/* Copies out the leaves under an intermediate chunk whose children are all
 * leaves, hashing them as one batch. */
static int join_leaves(struct joiner *j, const uint8_t *refs, size_t n,
                       uint64_t span, uint8_t *out, mdb_error *err) {
  size_t sizes[MDB_BRANCHES];
  for (size_t i = 0; i < n; i++) {
    uint8_t *buf = j->leaves + i * MDB_CHUNK_SIZE_MAX;
    int rc = fetch(j, refs + i * j->codec.ref_size, buf, &sizes[i], err);
    if (rc != MDBEE_OK) return rc;
    j->jobs[i] = (mdb_bmt_job){buf, sizes[i], j->addrs[i]};
  }
  mdb_bmt_hash_chunks(j->jobs, n);
  for (size_t i = 0; i < n; i++) {
    const uint8_t *ref = refs + i * j->codec.ref_size;
    uint8_t *buf = j->leaves + i * MDB_CHUNK_SIZE_MAX;
    uint64_t expected = i + 1 < n ? MDB_CHUNK_PAYLOAD_MAX
                                  : span - (uint64_t)i * MDB_CHUNK_PAYLOAD_MAX;
    uint64_t cap;
    int rc = verify_address(ref, j->addrs[i], err);
    if (rc == MDBEE_OK) rc = open_chunk(j, ref, buf, &sizes[i], err);
    if (rc == MDBEE_OK)
      rc = check_chunk(j, ref, buf, sizes[i], expected, &cap, err);
    if (rc != MDBEE_OK) return rc;
    memcpy(out + i * MDB_CHUNK_PAYLOAD_MAX, buf + MDB_SPAN_SIZE, expected);
  }
  return MDBEE_OK;
}

/* Writes the data under an opened chunk (buf, span, child capacity cap) to
 * out. */
static int join_chunk(struct joiner *j, const uint8_t *buf, uint64_t span,
                      uint64_t cap, uint8_t *out, size_t depth,
                      mdb_error *err) {
  if (cap == 0) {
    memcpy(out, buf + MDB_SPAN_SIZE, span);
    return MDBEE_OK;
  }
  size_t n = span / cap + (span % cap != 0);
  const uint8_t *refs = buf + MDB_SPAN_SIZE;
  if (cap == MDB_CHUNK_PAYLOAD_MAX)
    return join_leaves(j, refs, n, span, out, err);
  if (depth + 1 >= DEPTH_MAX)
    return mdb_error_set(err, MDBEE_EFORMAT, "chunk tree too deep");
  uint8_t *child = j->bufs[depth + 1];
  for (size_t i = 0; i < n; i++) {
    const uint8_t *ref = refs + i * j->codec.ref_size;
    uint64_t expected = i + 1 < n ? cap : span - i * cap;
    size_t size;
    uint64_t child_cap;
    int rc = fetch_verified(j, ref, child, &size, err);
    if (rc == MDBEE_OK)
      rc = check_chunk(j, ref, child, size, expected, &child_cap, err);
    if (rc == MDBEE_OK)
      rc = join_chunk(j, child, expected, child_cap, out + i * cap, depth + 1,
                      err);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

static void joiner_free(struct joiner *j) {
  for (size_t i = 0; i < DEPTH_MAX; i++) free(j->bufs[i]);
  free(j->leaves);
  free(j->jobs);
  free(j->addrs);
}

int mdb_tree_join(const mdb_tree_codec *codec, const uint8_t *ref,
                  mdb_chunk_source source, void *ctx, uint64_t max_size,
                  uint8_t **data, size_t *size, mdb_error *err) {
  struct joiner j = {.source = source, .ctx = ctx};
  if (codec)
    j.codec = *codec;
  else
    j.codec.ref_size = MDB_REF_SIZE;
  j.branches = MDB_CHUNK_PAYLOAD_MAX / j.codec.ref_size;
  for (size_t i = 0; i < DEPTH_MAX; i++)
    j.bufs[i] = malloc(MDB_CHUNK_SIZE_MAX);
  j.leaves = malloc(j.branches * MDB_CHUNK_SIZE_MAX);
  j.jobs = malloc(j.branches * sizeof *j.jobs);
  j.addrs = malloc(j.branches * sizeof *j.addrs);
  int rc = MDBEE_OK;
  for (size_t i = 0; i < DEPTH_MAX && rc == MDBEE_OK; i++)
    if (!j.bufs[i]) rc = MDBEE_ENOMEM;
  if (!j.leaves || !j.jobs || !j.addrs) rc = MDBEE_ENOMEM;
  if (rc != MDBEE_OK) {
    joiner_free(&j);
    return mdb_error_set(err, rc, "out of memory");
  }

  uint8_t *root = j.bufs[0], *out = NULL;
  size_t root_size;
  uint64_t span = 0, cap;
  rc = fetch_verified(&j, ref, root, &root_size, err);
  if (rc == MDBEE_OK) {
    span = mdb_bmt_span_decode(root);
    if (span > max_size || span > SIZE_MAX)
      rc = mdb_error_set(err, MDBEE_EFORMAT,
                         "data of %llu bytes exceeds the limit of %llu",
                         (unsigned long long)span,
                         (unsigned long long)max_size);
  }
  if (rc == MDBEE_OK)
    rc = check_chunk(&j, ref, root, root_size, span, &cap, err);
  if (rc == MDBEE_OK) {
    out = malloc(span ? span : 1);
    if (!out) rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  if (rc == MDBEE_OK) rc = join_chunk(&j, root, span, cap, out, 0, err);
  joiner_free(&j);
  if (rc != MDBEE_OK) {
    free(out);
    return rc;
  }
  *data = out;
  *size = (size_t)span;
  return MDBEE_OK;
}

int mdb_chunk_tree_join(const uint8_t root[MDB_REF_SIZE],
                        mdb_chunk_source source, void *ctx,
                        uint64_t max_size, uint8_t **data, size_t *size,
                        mdb_error *err) {
  return mdb_tree_join(NULL, root, source, ctx, max_size, data, size, err);
}
