/* Pending changes and the re-scan marks. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

enum { OP_UPSERT = 1, OP_DELETE = 2 };
#define HEAD 9 /* u64 seq, u8 op */

static const MDB_val SEQ_KEY = {11, (void *)"pending_seq"};

static int next_seq(mdb_store_txn *t, uint64_t *seq, mdb_error *err) {
  MDB_val v;
  uint64_t cur = 0;
  int rc = mdb_get(t->txn, t->store->meta, (MDB_val *)&SEQ_KEY, &v);
  if (rc == 0 && v.mv_size == 8) cur = store_get_le(v.mv_data, 8);
  else if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(t, err, rc, "reading the change counter");
  uint8_t buf[8];
  store_put_le(buf, ++cur, 8);
  MDB_val nv = {8, buf};
  rc = mdb_put(t->txn, t->store->meta, (MDB_val *)&SEQ_KEY, &nv, 0);
  if (rc != 0) return store_fail(t, err, rc, "writing the change counter");
  *seq = cur;
  return MDBEE_OK;
}

/* Writes a pending entry at raw key k (already encoded). */
static int put_raw(mdb_store_txn *t, MDB_val *k, int op, const uint8_t *doc,
                   size_t doc_len, mdb_error *err) {
  uint64_t seq = 0;
  int rc = next_seq(t, &seq, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val v = {HEAD + doc_len, NULL};
  int lrc = store_put_ordered(t, t->store->pending, k, &v, MDB_RESERVE);
  if (lrc != 0) return store_fail(t, err, lrc, "recording a change");
  uint8_t *p = v.mv_data;
  store_put_le(p, seq, 8);
  p[8] = (uint8_t)op;
  if (doc_len) memcpy(p + HEAD, doc, doc_len);
  return MDBEE_OK;
}

int mdb_store_pending_upsert(mdb_store_txn *txn, const mdb_store_key *key,
                             const uint8_t *doc, size_t doc_len,
                             mdb_error *err) {
  /* The smallest BSON document is 5 bytes and states its own length. */
  if (!doc || doc_len < 5 || store_get_le(doc, 4) != doc_len ||
      doc[doc_len - 1] != 0)
    return mdb_error_set(err, MDBEE_EINVAL, "pending upsert: not a BSON document");
  uint8_t buf[MDB_STORE_KEY_MAX];
  MDB_val k;
  int rc = store_key_encode(key, buf, &k, err);
  if (rc != MDBEE_OK) return rc;
  return put_raw(txn, &k, OP_UPSERT, doc, doc_len, err);
}

int mdb_store_pending_delete(mdb_store_txn *txn, const mdb_store_key *key,
                             mdb_error *err) {
  uint8_t buf[MDB_STORE_KEY_MAX];
  MDB_val k;
  int rc = store_key_encode(key, buf, &k, err);
  if (rc != MDBEE_OK) return rc;
  return put_raw(txn, &k, OP_DELETE, NULL, 0, err);
}

static int decode_change(const MDB_val *k, const MDB_val *v,
                         mdb_store_change *out) {
  const uint8_t *p = v->mv_data;
  if (store_key_decode(k->mv_data, k->mv_size, &out->key) != 0) return -1;
  if (v->mv_size < HEAD) return -1;
  out->seq = store_get_le(p, 8);
  if (p[8] == OP_DELETE && v->mv_size == HEAD) {
    out->deleted = 1;
    out->doc = NULL;
    out->doc_len = 0;
    return 0;
  }
  if (p[8] != OP_UPSERT || v->mv_size < HEAD + 5) return -1;
  out->deleted = 0;
  out->doc = p + HEAD;
  out->doc_len = v->mv_size - HEAD;
  return 0;
}

int mdb_store_pending_get(mdb_store_txn *txn, const mdb_store_key *key,
                          mdb_store_change *out, mdb_error *err) {
  uint8_t buf[MDB_STORE_KEY_MAX];
  MDB_val k, v;
  int rc = store_key_encode(key, buf, &k, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_get(txn->txn, txn->store->pending, &k, &v);
  if (rc == MDB_NOTFOUND)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "no pending change");
  if (rc != 0) return store_fail(txn, err, rc, "reading a pending change");
  if (decode_change(&k, &v, out) != 0)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt pending change");
  out->key = *key; /* the caller's strings, not the local buffer */
  return MDBEE_OK;
}

int store_pending_clear_at(mdb_store_txn *txn, MDB_cursor *cur, MDB_val *k,
                           uint64_t seq, mdb_error *err) {
  MDB_val v;
  int rc = mdb_cursor_get(cur, k, &v, MDB_SET);
  if (rc == MDB_NOTFOUND) return MDBEE_OK;
  if (rc != 0) return store_fail(txn, err, rc, "reading a pending change");
  if (v.mv_size < HEAD || store_get_le(v.mv_data, 8) != seq) return MDBEE_OK;
  rc = mdb_cursor_del(cur, 0);
  if (rc != 0) return store_fail(txn, err, rc, "clearing a pending change");
  return MDBEE_OK;
}

int mdb_store_pending_clear(mdb_store_txn *txn, const mdb_store_key *key,
                            uint64_t seq, mdb_error *err) {
  uint8_t buf[MDB_STORE_KEY_MAX];
  MDB_val k;
  MDB_cursor *cur;
  int rc = store_key_encode(key, buf, &k, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_cursor_open(txn->txn, txn->store->pending, &cur);
  if (rc != 0) return store_fail(txn, err, rc, "opening a cursor");
  rc = store_pending_clear_at(txn, cur, &k, seq, err);
  mdb_cursor_close(cur);
  return rc;
}

int mdb_store_pending_count(mdb_store_txn *txn, uint64_t *out,
                            mdb_error *err) {
  MDB_stat st;
  int rc = mdb_stat(txn->txn, txn->store->pending, &st);
  if (rc != 0) return store_fail(txn, err, rc, "counting pending changes");
  *out = st.ms_entries;
  return MDBEE_OK;
}

struct each_ctx {
  mdb_store_change_fn fn;
  void *ctx;
  mdb_error *err;
};

static int each_entry(void *ctx, MDB_cursor *cur, MDB_val *k, MDB_val *v) {
  (void)cur;
  struct each_ctx *e = ctx;
  mdb_store_change c;
  if (decode_change(k, v, &c) != 0)
    return mdb_error_set(e->err, MDBEE_ESTATE, "corrupt pending change");
  return e->fn(e->ctx, &c);
}

int mdb_store_pending_each(mdb_store_txn *txn, mdb_store_change_fn fn,
                           void *ctx, mdb_error *err) {
  return mdb_store_pending_each_after(txn, NULL, fn, ctx, err);
}

int mdb_store_pending_each_after(mdb_store_txn *txn,
                                 const mdb_store_key *after,
                                 mdb_store_change_fn fn, void *ctx,
                                 mdb_error *err) {
  struct each_ctx e = {fn, ctx, err};
  uint8_t buf[MDB_STORE_KEY_MAX];
  MDB_val from = {0, NULL};
  if (after) {
    int rc = store_key_encode(after, buf, &from, err);
    if (rc != MDBEE_OK) return rc;
  }
  MDB_cursor *cur;
  int rc = mdb_cursor_open(txn->txn, txn->store->pending, &cur);
  if (rc != 0) return store_fail(txn, err, rc, "opening a cursor");
  MDB_val k = from, v;
  rc = after ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
             : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  if (rc == 0 && after && k.mv_size == from.mv_size &&
      memcmp(k.mv_data, from.mv_data, k.mv_size) == 0)
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  int status = MDBEE_OK;
  for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    if ((status = each_entry(&e, cur, &k, &v)) != MDBEE_OK) break;
  mdb_cursor_close(cur);
  if (status != MDBEE_OK) return status;
  if (rc != MDB_NOTFOUND) return store_fail(txn, err, rc, "walking pending changes");
  return MDBEE_OK;
}

/* Deleting every known document of a namespace, optionally sparing those a
 * scan marked as seen. */
struct sweep_ctx {
  mdb_store_txn *t;
  int spare_seen;
  mdb_error *err;
};

static int is_seen(struct sweep_ctx *s, MDB_val *k, int *seen) {
  MDB_val v;
  int rc = mdb_get(s->t->txn, s->t->store->seen, k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(s->t, s->err, rc, "reading scan marks");
  *seen = rc == 0;
  return MDBEE_OK;
}

/* For an indexed document: a pending delete unless spared. */
static int sweep_doc(void *ctx, MDB_cursor *cur, MDB_val *k, MDB_val *v) {
  (void)cur;
  (void)v;
  struct sweep_ctx *s = ctx;
  int seen = 0;
  if (s->spare_seen) {
    int rc = is_seen(s, k, &seen);
    if (rc != MDBEE_OK) return rc;
  }
  if (seen) return MDBEE_OK;
  /* k points into the docs table; copy it before writing to pending. */
  uint8_t buf[MDB_STORE_KEY_MAX];
  memcpy(buf, k->mv_data, k->mv_size);
  MDB_val key = {k->mv_size, buf};
  return put_raw(s->t, &key, OP_DELETE, NULL, 0, s->err);
}

/* For a pending entry: turn an upsert into a delete unless spared. */
static int sweep_pending(void *ctx, MDB_cursor *cur, MDB_val *k, MDB_val *v) {
  struct sweep_ctx *s = ctx;
  if (v->mv_size >= HEAD && ((const uint8_t *)v->mv_data)[8] == OP_DELETE)
    return MDBEE_OK;
  int seen = 0;
  if (s->spare_seen) {
    int rc = is_seen(s, k, &seen);
    if (rc != MDBEE_OK) return rc;
  }
  if (seen) return MDBEE_OK;
  uint64_t seq = 0;
  int rc = next_seq(s->t, &seq, s->err);
  if (rc != MDBEE_OK) return rc;
  uint8_t val[HEAD];
  store_put_le(val, seq, 8);
  val[8] = OP_DELETE;
  MDB_val nv = {HEAD, val};
  /* The value shrinks, so LMDB re-inserts: k must not point into the page
   * being rewritten. */
  uint8_t kbuf[MDB_STORE_KEY_MAX];
  memcpy(kbuf, k->mv_data, k->mv_size);
  MDB_val key = {k->mv_size, kbuf};
  int lrc = mdb_cursor_put(cur, &key, &nv, MDB_CURRENT);
  if (lrc != 0) return store_fail(s->t, s->err, lrc, "recording a delete");
  return MDBEE_OK;
}

static int sweep(mdb_store_txn *t, const char *db, const char *coll,
                 int spare_seen, mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, coll, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  struct sweep_ctx s = {t, spare_seen, err};
  rc = store_each(t, t->store->docs, prefix, plen, sweep_doc, &s, err);
  if (rc == MDBEE_OK)
    rc = store_each(t, t->store->pending, prefix, plen, sweep_pending, &s, err);
  return rc;
}

int mdb_store_pending_drop(mdb_store_txn *txn, const char *db,
                           const char *coll, mdb_error *err) {
  if (!db) return mdb_error_set(err, MDBEE_EINVAL, "drop without database");
  return sweep(txn, db, coll, 0, err);
}

int mdb_store_scan_begin(mdb_store_txn *txn, const char *db,
                         const char *coll, mdb_error *err) {
  if (!db || !coll) return mdb_error_set(err, MDBEE_EINVAL, "scan of what?");
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, coll, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  return store_del_prefix(txn, txn->store->seen, prefix, plen, err);
}

int mdb_store_scan_mark(mdb_store_txn *txn, const mdb_store_key *key,
                        mdb_error *err) {
  uint8_t buf[MDB_STORE_KEY_MAX];
  MDB_val k, v = {0, NULL};
  int rc = store_key_encode(key, buf, &k, err);
  if (rc != MDBEE_OK) return rc;
  rc = store_put_ordered(txn, txn->store->seen, &k, &v, 0);
  if (rc != 0) return store_fail(txn, err, rc, "marking a scanned document");
  return MDBEE_OK;
}

int mdb_store_scan_end(mdb_store_txn *txn, const char *db, const char *coll,
                       mdb_error *err) {
  if (!db || !coll) return mdb_error_set(err, MDBEE_EINVAL, "scan of what?");
  int rc = sweep(txn, db, coll, 1, err);
  if (rc != MDBEE_OK) return rc;
  return mdb_store_scan_begin(txn, db, coll, err);
}
