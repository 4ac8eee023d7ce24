/* Staged document-index changes of the snapshot in progress.
 *
 * Entry layout: u64 seq (of the pending change it consumes), u8 op, then
 * for OP_PUT the document index entry (layout in docs.c).  A database's
 * seal is an empty entry under its bare prefix, which sorts before its
 * changes and is no document key. */
#include <string.h>

#include "store_internal.h"

enum { OP_KEEP = 0, OP_PUT = 1, OP_DELETE = 2 };
#define HEAD 9

static int valid_change(const MDB_val *v) {
  const uint8_t *p = v->mv_data;
  return v->mv_size >= HEAD && p[8] <= OP_DELETE &&
         (p[8] == OP_PUT) == (v->mv_size > HEAD);
}

int mdb_store_stage_put(mdb_store_txn *txn, const mdb_store_key *key,
                        uint64_t seq, const mdb_store_doc *doc, int deleted,
                        mdb_error *err) {
  size_t len = 0;
  if (doc && !deleted && (len = store_doc_size(doc, err)) == 0)
    return MDBEE_EINVAL;
  uint8_t kbuf[MDB_STORE_KEY_MAX];
  MDB_val k, v = {HEAD + len, NULL};
  int rc = store_key_encode(key, kbuf, &k, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_put(txn->txn, txn->store->stage, &k, &v, MDB_RESERVE);
  if (rc != 0) return store_fail(txn, err, rc, "staging an index change");
  uint8_t *p = v.mv_data;
  store_put_le(p, seq, 8);
  p[8] = deleted ? OP_DELETE : len ? OP_PUT : OP_KEEP;
  if (len) store_doc_write(doc, p + HEAD);
  return MDBEE_OK;
}

int mdb_store_stage_doc_get(mdb_store_txn *txn, const mdb_store_key *key,
                            mdb_store_doc *out, mdb_error *err) {
  uint8_t kbuf[MDB_STORE_KEY_MAX];
  MDB_val k, v;
  int rc = store_key_encode(key, kbuf, &k, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_get(txn->txn, txn->store->stage, &k, &v);
  if (rc == MDB_NOTFOUND) return mdb_store_doc_get(txn, key, out, err);
  if (rc != 0) return store_fail(txn, err, rc, "reading a staged change");
  const uint8_t *p = v.mv_data;
  if (!valid_change(&v))
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt staged index change");
  if (p[8] == OP_KEEP) return mdb_store_doc_get(txn, key, out, err);
  if (p[8] == OP_DELETE)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "document deleted (staged)");
  MDB_val entry = {v.mv_size - HEAD, (void *)(p + HEAD)};
  if (store_doc_decode(&entry, out) != 0)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt staged index entry");
  return MDBEE_OK;
}

int mdb_store_stage_seal(mdb_store_txn *txn, const char *db, mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, NULL, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val k = {plen, prefix}, v = {0, prefix};
  rc = mdb_put(txn->txn, txn->store->stage, &k, &v, 0);
  return rc ? store_fail(txn, err, rc, "sealing the staged changes") : MDBEE_OK;
}

int mdb_store_stage_sealed(mdb_store_txn *txn, const char *db, int *sealed,
                           mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, NULL, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val k = {plen, prefix}, v;
  rc = mdb_get(txn->txn, txn->store->stage, &k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(txn, err, rc, "reading the stage's seal");
  *sealed = rc == 0;
  return MDBEE_OK;
}

/* Applies the change at k (its key, copied out of the stage) of value v
 * to the document index and the pending change it consumed. */
static int apply_one(mdb_store_txn *txn, store_doc_batch *docs,
                     MDB_cursor *pending, MDB_val *k, const MDB_val *v,
                     mdb_error *err) {
  const uint8_t *p = v->mv_data;
  int rc = MDBEE_OK;
  if (p[8] == OP_PUT) {
    MDB_val entry = {v->mv_size - HEAD, (void *)(p + HEAD)};
    mdb_store_doc d;
    if (store_doc_decode(&entry, &d) != 0)
      return mdb_error_set(err, MDBEE_ESTATE, "corrupt staged index entry");
    rc = store_doc_batch_put(docs, k, NULL, entry.mv_data, entry.mv_size,
                             d.size, err);
  } else if (p[8] == OP_DELETE) {
    rc = store_doc_batch_del(docs, k, err);
  }
  if (rc != MDBEE_OK) return rc;
  return store_pending_clear_at(txn, pending, k, store_get_le(p, 8), err);
}

/* The stage, the document index and the pending table share their key
 * order, so each is walked with a cursor of its own: LMDB finds the next
 * key on the cursor's leaf page without a search from the root. */
int mdb_store_stage_apply(mdb_store_txn *txn, const char *db, size_t max,
                          int *more, mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  *more = 0;
  int rc = store_prefix(db, NULL, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  MDB_cursor *cur, *pending;
  int lrc = mdb_cursor_open(txn->txn, txn->store->stage, &cur);
  if (lrc != 0) return store_fail(txn, err, lrc, "opening a cursor");
  lrc = mdb_cursor_open(txn->txn, txn->store->pending, &pending);
  if (lrc != 0) {
    mdb_cursor_close(cur);
    return store_fail(txn, err, lrc, "opening a cursor");
  }
  store_doc_batch docs;
  rc = store_doc_batch_begin(txn, &docs, err);
  if (rc != MDBEE_OK) {
    mdb_cursor_close(pending);
    mdb_cursor_close(cur);
    return rc;
  }
  MDB_val k = {plen, prefix}, v;
  lrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  if (lrc == 0 && k.mv_size == plen && memcmp(k.mv_data, prefix, plen) == 0)
    lrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* the seal */
  size_t done = 0;
  for (; lrc == 0 && rc == MDBEE_OK; lrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0) break;
    if (done == max) break;
    mdb_store_key key;
    if (store_key_decode(k.mv_data, k.mv_size, &key) != 0 || !valid_change(&v)) {
      rc = mdb_error_set(err, MDBEE_ESTATE, "corrupt staged index change");
      break;
    }
    /* The key must not point into a page the writes below may move. */
    uint8_t kbuf[MDB_STORE_KEY_MAX];
    memcpy(kbuf, k.mv_data, k.mv_size);
    MDB_val kc = {k.mv_size, kbuf};
    rc = apply_one(txn, &docs, pending, &kc, &v, err);
    if (rc != MDBEE_OK) break;
    /* The cursor's next step after a delete lands on the following entry. */
    lrc = mdb_cursor_del(cur, 0);
    if (lrc != 0) {
      rc = store_fail(txn, err, lrc, "unstaging an index change");
      break;
    }
    done++;
  }
  rc = store_doc_batch_end(&docs, rc, err);
  *more = rc == MDBEE_OK && lrc == 0 && done == max &&
          k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0;
  mdb_cursor_close(pending);
  mdb_cursor_close(cur);
  if (rc == MDBEE_OK && lrc != 0 && lrc != MDB_NOTFOUND)
    rc = store_fail(txn, err, lrc, "walking the staged changes");
  if (rc == MDBEE_OK && !*more) {
    MDB_val seal = {plen, prefix};
    lrc = mdb_del(txn->txn, txn->store->stage, &seal, NULL);
    if (lrc != 0 && lrc != MDB_NOTFOUND)
      rc = store_fail(txn, err, lrc, "unsealing the staged changes");
  }
  return rc;
}

int mdb_store_stage_clear(mdb_store_txn *txn, const char *db, mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, NULL, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  return store_del_prefix(txn, txn->store->stage, prefix, plen, err);
}
