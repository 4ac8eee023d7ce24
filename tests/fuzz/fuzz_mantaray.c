/* Fuzzes mantaray reading: the input is a list of chunks, the first being
 * the root node.  A chunk is either a 2-byte big-endian length (below
 * 0xff00) and that many payload bytes (at most 4096; its span is its
 * length), or an intermediate chunk of a chunk tree: 0xff, the number n of
 * references (at most 128), a 4-byte big-endian span and n bytes, each
 * naming a later chunk (i + 1 + byte % 8; past the end it names a missing
 * chunk).  The harness fills in the addresses, which a fuzzer cannot, so
 * nodes larger than one chunk are joined from mutated leaves.  The tree is
 * opened lazily over the chunks, walked (every path found is looked up
 * again), edited and saved, so joining, parsing, lookup, traversal and
 * re-marshalling of whatever parsed all see untrusted bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdbee/mantaray.h"

#define MAX_CHUNKS 8
#define TREE_TAG 0xff

/* Addresses are hashed only when a lookup gets that far: hashing every
 * chunk of every input up front would dominate the run time. */
typedef struct corpus {
  const uint8_t *payload[MAX_CHUNKS]; /* NULL for an intermediate chunk */
  size_t len[MAX_CHUNKS];
  uint64_t span[MAX_CHUNKS];
  const uint8_t *refs[MAX_CHUNKS]; /* an intermediate chunk's ref bytes */
  uint8_t tree[MAX_CHUNKS][MDB_CHUNK_PAYLOAD_MAX];
  uint8_t address[MAX_CHUNKS][MDB_REF_SIZE];
  bool hashed[MAX_CHUNKS];
  size_t n;
} corpus;

/* Recursion only goes to later chunks, so it ends. */
static const uint8_t *address_of(corpus *c, size_t i) {
  if (c->hashed[i])
    return c->address[i];
  const uint8_t *payload = c->payload[i];
  if (!payload) {
    for (size_t k = 0; k < c->len[i] / MDB_REF_SIZE; k++) {
      size_t j = i + 1 + c->refs[i][k] % MAX_CHUNKS;
      if (j < c->n)
        memcpy(c->tree[i] + k * MDB_REF_SIZE, address_of(c, j), MDB_REF_SIZE);
      else
        memset(c->tree[i] + k * MDB_REF_SIZE, 0, MDB_REF_SIZE);
    }
    payload = c->tree[i];
  }
  mdb_bmt_chunk_address(c->span[i], payload, c->len[i], c->address[i]);
  c->hashed[i] = true;
  return c->address[i];
}

static int source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                  uint8_t *buf, size_t *size, mdb_error *err) {
  corpus *c = ctx;
  for (size_t i = 0; i < c->n; i++)
    if (memcmp(address_of(c, i), address, MDB_REF_SIZE) == 0) {
      mdb_bmt_span_encode(c->span[i], buf);
      memcpy(buf + MDB_SPAN_SIZE, c->payload[i] ? c->payload[i] : c->tree[i],
             c->len[i]);
      *size = MDB_SPAN_SIZE + c->len[i];
      return MDBEE_OK;
    }
  return mdb_error_set(err, MDBEE_ENOTFOUND, "no such chunk");
}

/* Reads one chunk record; false when the input is used up. */
static bool read_chunk(corpus *c, const uint8_t **data, size_t *size) {
  const uint8_t *d = *data;
  size_t left = *size, i = c->n;
  if (left < 2)
    return false;
  if (d[0] == TREE_TAG) {
    if (left < 6)
      return false;
    size_t n = d[1] > MDB_BRANCHES ? MDB_BRANCHES : d[1];
    c->span[i] = (uint64_t)d[2] << 24 | (uint64_t)d[3] << 16 |
                 (uint64_t)d[4] << 8 | d[5];
    d += 6, left -= 6;
    if (n > left)
      n = left;
    c->payload[i] = NULL;
    c->refs[i] = d;
    c->len[i] = n * MDB_REF_SIZE;
    d += n, left -= n;
  } else {
    size_t len = (size_t)d[0] << 8 | d[1];
    d += 2, left -= 2;
    if (len > left)
      len = left;
    if (len > MDB_CHUNK_PAYLOAD_MAX)
      len = MDB_CHUNK_PAYLOAD_MAX;
    c->payload[i] = d;
    c->len[i] = c->span[i] = len;
    d += len, left -= len;
  }
  c->n++;
  *data = d;
  *size = left;
  return true;
}

typedef struct seen {
  mdb_mantaray *m;
  size_t entries;
  uint8_t first[64]; /* a path found, removed after the walk */
  size_t first_len;
} seen;

static int visit(void *ctx, const mdb_mantaray_entry *e, mdb_error *err) {
  seen *s = ctx;
  if (!s->entries++ && e->path_len <= sizeof s->first) {
    memcpy(s->first, e->path, e->path_len);
    s->first_len = e->path_len;
  }
  /* A lookup during a walk must not disturb it: it only loads nodes the
   * walk has already loaded. */
  mdb_mantaray_entry found;
  int rc = mdb_mantaray_lookup(s->m, e->path, e->path_len, &found, err);
  if (rc != MDBEE_OK || found.ref_size != e->ref_size ||
      memcmp(found.ref, e->ref, e->ref_size) != 0)
    abort();
  return MDBEE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static corpus c;
  c.n = 0;
  memset(c.hashed, 0, sizeof c.hashed);
  while (c.n < MAX_CHUNKS && read_chunk(&c, &data, &size))
    ;
  if (!c.n)
    return 0;
  mdb_error err = {0};
  mdb_mantaray *m;
  if (mdb_mantaray_open(address_of(&c, 0), source, &c, &m, &err))
    abort();
  seen s = {.m = m};
  mdb_mantaray_walk(m, visit, &s, &err);
  static const uint8_t ref[32] = {1};
  const mdb_mantaray_kv meta[] = {{"Content-Type", "text/plain"}};
  mdb_mantaray_entry e = {(const uint8_t *)"coll/x", 6, ref, 32, meta, 1};
  mdb_mantaray_put(m, &e, &err);
  if (s.first_len)
    mdb_mantaray_remove(m, s.first, s.first_len, &err);
  mdb_mantaray_remove(m, (const uint8_t *)"a", 1, &err);
  uint8_t root[MDB_REF_SIZE];
  mdb_mantaray_save(m, NULL, NULL, root, &err);
  mdb_mantaray_free(m);
  return 0;
}
