/* Document index and per-collection statistics.
 *
 * Entry layout: u8 LAYOUT_V2 | ref_len, ref, u64 size, then for each index
 * key: u16 name length, name, u32 key length, key (all LE).
 *
 * State directories written before 2026-11 hold entries without the flag
 * bit (ref_len is at most 64) and with a 32-byte Keccak-256 of the JSON
 * between ref and size.  Nothing needed that hash (the reference already
 * names the bytes), so it is no longer computed, but such entries are still
 * read, skipping it, and are rewritten in the new layout the next time their
 * document is published: an old state needs no migration. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define LAYOUT_V2 0x80
#define FIXED(ref_len) (1 + (ref_len) + 8)
#define OLD_HASH 32 /* bytes after ref in an entry without LAYOUT_V2 */

/* Length of the statistics key of an encoded document key: a document key
 * starts with its namespace's prefix (u16 length and name, twice). */
static size_t ns_len(const MDB_val *k) {
  const uint8_t *p = k->mv_data;
  size_t dl = (size_t)p[0] << 8 | p[1];
  return 4 + dl + ((size_t)p[2 + dl] << 8 | p[3 + dl]);
}

/* Adds the batch's sums to its namespace's statistics. */
static int stats_flush(store_doc_batch *b, mdb_error *err) {
  if (b->ns_len == 0) return MDBEE_OK;
  MDB_val k = {b->ns_len, b->ns}, v;
  uint64_t count = 0, bytes = 0;
  int rc = mdb_get(b->txn->txn, b->txn->store->stats, &k, &v);
  if (rc == 0 && v.mv_size == 16) {
    count = store_get_le(v.mv_data, 8);
    bytes = store_get_le((const uint8_t *)v.mv_data + 8, 8);
  } else if (rc != 0 && rc != MDB_NOTFOUND) {
    return store_fail(b->txn, err, rc, "reading statistics");
  }
  uint8_t val[16];
  store_put_le(val, count + (uint64_t)b->count, 8);
  store_put_le(val + 8, bytes + (uint64_t)b->bytes, 8);
  MDB_val nv = {16, val};
  rc = mdb_put(b->txn->txn, b->txn->store->stats, &k, &nv, 0);
  if (rc != 0) return store_fail(b->txn, err, rc, "writing statistics");
  b->ns_len = 0;
  return MDBEE_OK;
}

static int stats_add(store_doc_batch *b, const MDB_val *k, int64_t dcount,
                     int64_t dbytes, mdb_error *err) {
  size_t n = ns_len(k);
  if (n != b->ns_len || memcmp(b->ns, k->mv_data, n) != 0) {
    int rc = stats_flush(b, err);
    if (rc != MDBEE_OK) return rc;
    memcpy(b->ns, k->mv_data, n);
    b->ns_len = n;
    b->count = b->bytes = 0;
  }
  b->count += dcount;
  b->bytes += dbytes;
  return MDBEE_OK;
}

int store_doc_batch_begin(mdb_store_txn *txn, store_doc_batch *b,
                          mdb_error *err) {
  b->txn = txn;
  b->ns_len = 0;
  int rc = mdb_cursor_open(txn->txn, txn->store->docs, &b->cur);
  return rc ? store_fail(txn, err, rc, "opening a cursor") : MDBEE_OK;
}

int store_doc_batch_end(store_doc_batch *b, int status, mdb_error *err) {
  if (status == MDBEE_OK) status = stats_flush(b, err);
  mdb_cursor_close(b->cur);
  return status;
}

int store_doc_decode(const MDB_val *v, mdb_store_doc *out) {
  const uint8_t *p = v->mv_data;
  if (v->mv_size < 1) return -1;
  size_t rl = p[0] & ~LAYOUT_V2;
  size_t fixed = FIXED(rl) + (p[0] & LAYOUT_V2 ? 0 : OLD_HASH);
  if (rl > MDB_STORE_REF_MAX || v->mv_size < fixed) return -1;
  memset(out, 0, sizeof *out);
  out->ref_len = rl;
  memcpy(out->ref, p + 1, rl);
  out->size = store_get_le(p + fixed - 8, 8);
  out->index_blob = p + fixed;
  out->index_blob_len = v->mv_size - fixed;
  size_t pos = 0;
  mdb_store_index_key ik;
  int r;
  while ((r = mdb_store_doc_index_next(out, &pos, &ik)) == 1) out->n_index_keys++;
  return r;
}

/* Positions the batch's cursor on k's entry, if any: sets *found and
 * *old_size (the statistics need the size being replaced).  MDB_SET
 * leaves k pointing at the caller's bytes, which a put needs. */
static int lookup_old(store_doc_batch *b, MDB_val *k, int *found,
                      uint64_t *old_size, mdb_error *err) {
  MDB_val v;
  *found = 0;
  *old_size = 0;
  int rc = mdb_cursor_get(b->cur, k, &v, MDB_SET);
  if (rc == MDB_NOTFOUND) return MDBEE_OK;
  if (rc != 0) return store_fail(b->txn, err, rc, "reading the document index");
  mdb_store_doc d;
  if (store_doc_decode(&v, &d) != 0)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt document index entry");
  *found = 1;
  *old_size = d.size;
  return MDBEE_OK;
}

size_t store_doc_size(const mdb_store_doc *doc, mdb_error *err) {
  if (doc->ref_len == 0 || doc->ref_len > MDB_STORE_REF_MAX) {
    mdb_error_set(err, MDBEE_EINVAL, "reference of %zu bytes", doc->ref_len);
    return 0;
  }
  size_t len = FIXED(doc->ref_len);
  for (size_t i = 0; i < doc->n_index_keys; i++) {
    const mdb_store_index_key *ik = &doc->index_keys[i];
    if (ik->index_len > UINT16_MAX || ik->key_len > UINT32_MAX) {
      mdb_error_set(err, MDBEE_EINVAL, "index key too long");
      return 0;
    }
    len += 6 + ik->index_len + ik->key_len;
  }
  return len;
}

void store_doc_write(const mdb_store_doc *doc, uint8_t *p) {
  p[0] = (uint8_t)(LAYOUT_V2 | doc->ref_len);
  memcpy(p + 1, doc->ref, doc->ref_len);
  store_put_le(p + 1 + doc->ref_len, doc->size, 8);
  p += FIXED(doc->ref_len);
  for (size_t i = 0; i < doc->n_index_keys; i++) {
    const mdb_store_index_key *ik = &doc->index_keys[i];
    store_put_le(p, ik->index_len, 2);
    memcpy(p + 2, ik->index, ik->index_len);
    p += 2 + ik->index_len;
    store_put_le(p, (uint32_t)ik->key_len, 4);
    memcpy(p + 4, ik->key, ik->key_len);
    p += 4 + ik->key_len;
  }
}

int store_doc_batch_put(store_doc_batch *b, MDB_val *k,
                        const mdb_store_doc *doc, const uint8_t *entry,
                        size_t len, uint64_t size, mdb_error *err) {
  int found;
  uint64_t old;
  int rc = lookup_old(b, k, &found, &old, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val v = {len, (void *)entry};
  rc = mdb_cursor_put(b->cur, k, &v, doc ? MDB_RESERVE : 0);
  if (rc != 0) return store_fail(b->txn, err, rc, "writing the document index");
  if (doc) store_doc_write(doc, v.mv_data);
  return stats_add(b, k, found ? 0 : 1, (int64_t)size - (int64_t)old, err);
}

int store_doc_batch_del(store_doc_batch *b, MDB_val *k, mdb_error *err) {
  int found;
  uint64_t old;
  int rc = lookup_old(b, k, &found, &old, err);
  if (rc != MDBEE_OK || !found) return rc;
  rc = mdb_cursor_del(b->cur, 0);
  if (rc != 0) return store_fail(b->txn, err, rc, "deleting an index entry");
  return stats_add(b, k, -1, -(int64_t)old, err);
}

/* Writes doc's entry of len bytes (doc NULL: deletes the entry) as a
 * batch of one. */
static int change_one(mdb_store_txn *txn, const mdb_store_key *key,
                      const mdb_store_doc *doc, size_t len, mdb_error *err) {
  uint8_t kbuf[MDB_STORE_KEY_MAX];
  MDB_val k;
  store_doc_batch b;
  int rc = store_key_encode(key, kbuf, &k, err);
  if (rc == MDBEE_OK) rc = store_doc_batch_begin(txn, &b, err);
  if (rc != MDBEE_OK) return rc;
  rc = doc ? store_doc_batch_put(&b, &k, doc, NULL, len, doc->size, err)
           : store_doc_batch_del(&b, &k, err);
  return store_doc_batch_end(&b, rc, err);
}

int mdb_store_doc_put(mdb_store_txn *txn, const mdb_store_key *key,
                      const mdb_store_doc *doc, mdb_error *err) {
  size_t len = store_doc_size(doc, err);
  if (len == 0) return MDBEE_EINVAL;
  return change_one(txn, key, doc, len, err);
}

int mdb_store_doc_get(mdb_store_txn *txn, const mdb_store_key *key,
                      mdb_store_doc *out, mdb_error *err) {
  uint8_t kbuf[MDB_STORE_KEY_MAX];
  MDB_val k, v;
  int rc = store_key_encode(key, kbuf, &k, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_get(txn->txn, txn->store->docs, &k, &v);
  if (rc == MDB_NOTFOUND)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "document not indexed");
  if (rc != 0) return store_fail(txn, err, rc, "reading the document index");
  if (store_doc_decode(&v, out) != 0)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt document index entry");
  return MDBEE_OK;
}

int mdb_store_doc_del(mdb_store_txn *txn, const mdb_store_key *key,
                      mdb_error *err) {
  return change_one(txn, key, NULL, 0, err);
}

int mdb_store_doc_index_next(const mdb_store_doc *doc, size_t *pos,
                             mdb_store_index_key *out) {
  const uint8_t *p = doc->index_blob;
  size_t n = doc->index_blob_len, i = *pos;
  if (i == n) return 0;
  if (n - i < 2) return -1;
  size_t nl = store_get_le(p + i, 2);
  if (n - i - 2 < nl + 4) return -1;
  size_t kl = store_get_le(p + i + 2 + nl, 4);
  if (n - i - 6 - nl < kl) return -1;
  out->index = (const char *)p + i + 2;
  out->index_len = nl;
  out->key = p + i + 6 + nl;
  out->key_len = kl;
  *pos = i + 6 + nl + kl;
  return 1;
}

struct each_ctx {
  mdb_store_doc_fn fn;
  void *ctx;
  mdb_error *err;
};

static int each_entry(void *ctx, MDB_cursor *cur, MDB_val *k, MDB_val *v) {
  (void)cur;
  struct each_ctx *e = ctx;
  mdb_store_key key;
  mdb_store_doc doc;
  if (store_key_decode(k->mv_data, k->mv_size, &key) != 0 ||
      store_doc_decode(v, &doc) != 0)
    return mdb_error_set(e->err, MDBEE_ESTATE, "corrupt document index entry");
  return e->fn(e->ctx, &key, &doc);
}

int mdb_store_doc_each(mdb_store_txn *txn, const char *db, const char *coll,
                       mdb_store_doc_fn fn, void *ctx, mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, db ? coll : NULL, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  struct each_ctx e = {fn, ctx, err};
  return store_each(txn, txn->store->docs, prefix, plen, each_entry, &e, err);
}

int mdb_store_stats_get(mdb_store_txn *txn, const char *db, const char *coll,
                        mdb_store_stats *out, mdb_error *err) {
  if (!db || !coll) return mdb_error_set(err, MDBEE_EINVAL, "stats of what?");
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, coll, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val k = {plen, prefix}, v;
  out->count = out->bytes = 0;
  rc = mdb_get(txn->txn, txn->store->stats, &k, &v);
  if (rc == MDB_NOTFOUND) return MDBEE_OK;
  if (rc != 0) return store_fail(txn, err, rc, "reading statistics");
  if (v.mv_size != 16)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt statistics");
  out->count = store_get_le(v.mv_data, 8);
  out->bytes = store_get_le((const uint8_t *)v.mv_data + 8, 8);
  return MDBEE_OK;
}
