#include "mdbee/reader.h"

#include <stdlib.h>
#include <string.h>

#include "mdbee/bee.h"
#include "mdbee/chunk.h"
#include "mdbee/encrypt.h"
#include "mdbee/feed.h"
#include "mdbee/mantaray.h"

/* mdb_chunk_source over a gateway that checks each chunk's address. */
static int fetch_verified(void *ctx, const uint8_t address[32], uint8_t *buf,
                          size_t *size, mdb_error *err) {
  uint8_t *data = NULL;
  size_t len = 0;
  int rc = mdb_bee_get_chunk(ctx, address, &data, &len, err);
  if (rc != MDBEE_OK) return rc;
  if (len < MDB_SPAN_SIZE || len > MDB_CHUNK_SIZE_MAX) {
    free(data);
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "gateway sent a chunk of %zu bytes", len);
  }
  uint8_t got[32];
  mdb_bmt_chunk_address(mdb_bmt_span_decode(data), data + MDB_SPAN_SIZE,
                        len - MDB_SPAN_SIZE, got);
  if (memcmp(got, address, 32) != 0) {
    free(data);
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "gateway sent a chunk that does not hash to its address");
  }
  memcpy(buf, data, len);
  *size = len;
  free(data);
  return MDBEE_OK;
}

/* Fetches and verifies update index; MDBEE_ENOTFOUND when absent. */
static int fetch_update(mdb_bee *gw, const uint8_t owner[20],
                        const uint8_t topic[32], uint64_t index,
                        mdb_reader_update *out, mdb_error *err) {
  uint8_t address[32];
  mdb_feed_update_address(owner, topic, index, address);
  uint8_t *data = NULL;
  size_t len = 0;
  int rc = mdb_bee_get_chunk(gw, address, &data, &len, err);
  if (rc != MDBEE_OK) return rc;
  mdb_feed_update u;
  rc = mdb_feed_update_parse(data, len, owner, topic, index, &u, err);
  if (rc == MDBEE_OK && (!u.legacy || u.reference_len != 32))
    rc = mdb_error_set(err, MDBEE_EFORMAT,
                       "feed update %llu is not a snapshot announcement",
                       (unsigned long long)index);
  if (rc == MDBEE_OK) {
    out->index = index;
    out->timestamp = u.timestamp;
    memcpy(out->root, u.reference, 32);
  }
  free(data);
  return rc;
}

/* Largest index i in [lo, hi) for which ok(i); lo is known good. */
typedef int (*probe_fn)(void *ctx, uint64_t index, int *ok, mdb_error *err);

static int search(probe_fn probe, void *ctx, uint64_t lo, uint64_t hi,
                  uint64_t *found, mdb_error *err) {
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    int ok, rc = probe(ctx, mid, &ok, err);
    if (rc != MDBEE_OK) return rc;
    if (ok) lo = mid;
    else hi = mid;
  }
  *found = lo;
  return MDBEE_OK;
}

struct probe {
  mdb_bee *gw;
  const uint8_t *owner, *topic;
  int64_t at;
  mdb_reader_update last;
};

static int probe_exists(void *ctx, uint64_t index, int *ok, mdb_error *err) {
  struct probe *p = ctx;
  mdb_reader_update u;
  int rc = fetch_update(p->gw, p->owner, p->topic, index, &u, err);
  *ok = rc == MDBEE_OK;
  return rc == MDBEE_ENOTFOUND ? MDBEE_OK : rc;
}

/* Timestamps of a sequence feed never decrease, so "at or before" is a
 * prefix of the indexes. */
static int probe_before(void *ctx, uint64_t index, int *ok, mdb_error *err) {
  struct probe *p = ctx;
  mdb_reader_update u;
  int rc = fetch_update(p->gw, p->owner, p->topic, index, &u, err);
  if (rc != MDBEE_OK) return rc;
  *ok = (int64_t)u.timestamp <= p->at;
  return MDBEE_OK;
}

int mdb_reader_feed_update(mdb_bee *gw, const uint8_t owner[20],
                           const uint8_t topic[32], int64_t at,
                           mdb_reader_update *out, mdb_error *err) {
  struct probe p = {gw, owner, topic, at, {0}};
  int ok, rc = probe_exists(&p, 0, &ok, err);
  if (rc != MDBEE_OK) return rc;
  if (!ok) return mdb_error_set(err, MDBEE_ENOTFOUND, "the feed has no update");
  uint64_t hi = 1;
  while (hi < (1ull << 62)) { /* exponential search for the first gap */
    rc = probe_exists(&p, hi, &ok, err);
    if (rc != MDBEE_OK) return rc;
    if (!ok) break;
    hi *= 2;
  }
  uint64_t newest;
  rc = search(probe_exists, &p, hi / 2, hi, &newest, err);
  if (rc == MDBEE_OK && at > 0) {
    rc = fetch_update(gw, owner, topic, 0, out, err);
    if (rc == MDBEE_OK && (int64_t)out->timestamp > at)
      return mdb_error_set(err, MDBEE_ENOTFOUND,
                           "the feed has no update at or before %lld",
                           (long long)at);
    if (rc == MDBEE_OK) rc = search(probe_before, &p, 0, newest + 1, &newest, err);
  }
  if (rc != MDBEE_OK) return rc;
  return fetch_update(gw, owner, topic, newest, out, err);
}

int mdb_reader_get(mdb_bee *gw, const uint8_t root[32], const char *path,
                   uint8_t **data, size_t *len, char **content_type,
                   mdb_error *err) {
  mdb_mantaray *tree;
  int rc = mdb_mantaray_open(root, fetch_verified, gw, &tree, err);
  if (rc != MDBEE_OK) return rc;
  mdb_mantaray_entry e;
  rc = mdb_mantaray_lookup(tree, (const uint8_t *)path, strlen(path), &e, err);
  *content_type = NULL;
  if (rc == MDBEE_OK && e.ref_size != MDB_REF_SIZE &&
      e.ref_size != MDB_ENCRYPT_REF_SIZE)
    rc = mdb_error_set(err, MDBEE_EFORMAT, "%s has a %zu-byte reference", path,
                       e.ref_size);
  uint8_t ref[MDB_ENCRYPT_REF_SIZE];
  size_t ref_size = e.ref_size;
  if (rc == MDBEE_OK) {
    memcpy(ref, e.ref, ref_size);
    for (size_t i = 0; i < e.n_meta; i++)
      if (strcmp(e.meta[i].key, "Content-Type") == 0)
        *content_type = strdup(e.meta[i].value);
  }
  mdb_mantaray_free(tree);
  /* An encrypted entry decrypts with the key its reference carries. */
  if (rc == MDBEE_OK && ref_size == MDB_ENCRYPT_REF_SIZE)
    rc = mdb_encrypt_tree_join(ref, fetch_verified, gw, MDB_READER_FILE_MAX,
                               data, len, err);
  else if (rc == MDBEE_OK)
    rc = mdb_chunk_tree_join(ref, fetch_verified, gw, MDB_READER_FILE_MAX,
                             data, len, err);
  if (rc != MDBEE_OK) {
    free(*content_type);
    *content_type = NULL;
  }
  return rc;
}
