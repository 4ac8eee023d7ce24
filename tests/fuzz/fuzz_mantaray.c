/* Fuzzes mantaray reading: the input is a list of chunk payloads, each as a
 * 2-byte big-endian length and the bytes; the first is the root node.  The
 * tree is opened lazily over them, walked (every path found is looked up
 * again), edited and saved, so parsing, lookup, traversal and re-marshalling
 * of whatever parsed all see untrusted bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdbee/mantaray.h"

#define MAX_CHUNKS 8

/* Addresses are hashed only when a lookup gets that far: hashing every
 * chunk of every input up front would dominate the run time. */
typedef struct corpus {
  const uint8_t *payload[MAX_CHUNKS];
  size_t len[MAX_CHUNKS];
  uint8_t address[MAX_CHUNKS][MDB_REF_SIZE];
  size_t n, hashed;
} corpus;

static const uint8_t *address_of(corpus *c, size_t i) {
  for (; c->hashed <= i; c->hashed++)
    mdb_bmt_chunk_address(c->len[c->hashed], c->payload[c->hashed],
                          c->len[c->hashed], c->address[c->hashed]);
  return c->address[i];
}

static int source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                  uint8_t *buf, size_t *size, mdb_error *err) {
  corpus *c = ctx;
  for (size_t i = 0; i < c->n; i++)
    if (memcmp(address_of(c, i), address, MDB_REF_SIZE) == 0) {
      mdb_bmt_span_encode(c->len[i], buf);
      memcpy(buf + MDB_SPAN_SIZE, c->payload[i], c->len[i]);
      *size = MDB_SPAN_SIZE + c->len[i];
      return MDBEE_OK;
    }
  return mdb_error_set(err, MDBEE_ENOTFOUND, "no such chunk");
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
  corpus c = {.n = 0};
  while (size >= 2 && c.n < MAX_CHUNKS) {
    size_t len = (size_t)data[0] << 8 | data[1];
    data += 2, size -= 2;
    if (len > size)
      len = size;
    if (len > MDB_CHUNK_PAYLOAD_MAX)
      len = MDB_CHUNK_PAYLOAD_MAX;
    c.payload[c.n] = data;
    c.len[c.n] = len;
    c.n++;
    data += len, size -= len;
  }
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
