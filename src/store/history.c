/* Resume points of the change streams and the snapshot history. */
#include <string.h>

#include "store_internal.h"

/* Stream name: a level byte (so that a collection named "" cannot be
 * confused with a database stream) then the namespace prefix. */
static int stream_key(const char *db, const char *coll, uint8_t *buf,
                      size_t *len, mdb_error *err) {
  if (!db && coll)
    return mdb_error_set(err, MDBEE_EINVAL, "collection stream without db");
  buf[0] = db ? (coll ? 'c' : 'd') : 'a';
  int rc = store_prefix(db, coll, buf + 1, len, err);
  *len += 1;
  return rc;
}

int mdb_store_resume_put(mdb_store_txn *txn, const char *db,
                         const char *coll, const mdb_store_resume *point,
                         mdb_error *err) {
  if (!point->token || point->token_len == 0)
    return mdb_error_set(err, MDBEE_EINVAL, "empty resume token");
  uint8_t kb[MDB_STORE_KEY_MAX];
  size_t kl;
  int rc = stream_key(db, coll, kb, &kl, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val k = {kl, kb}, v = {8 + point->token_len, NULL};
  rc = mdb_put(txn->txn, txn->store->resume, &k, &v, MDB_RESERVE);
  if (rc != 0) return store_fail(txn, err, rc, "storing a resume token");
  store_put_le(v.mv_data, point->cluster_t, 4);
  store_put_le((uint8_t *)v.mv_data + 4, point->cluster_i, 4);
  memcpy((uint8_t *)v.mv_data + 8, point->token, point->token_len);
  return MDBEE_OK;
}

int mdb_store_resume_get(mdb_store_txn *txn, const char *db,
                         const char *coll, mdb_store_resume *out,
                         mdb_error *err) {
  uint8_t kb[MDB_STORE_KEY_MAX];
  size_t kl;
  int rc = stream_key(db, coll, kb, &kl, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val k = {kl, kb}, v;
  rc = mdb_get(txn->txn, txn->store->resume, &k, &v);
  if (rc == MDB_NOTFOUND)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "no resume token");
  if (rc != 0) return store_fail(txn, err, rc, "reading a resume token");
  if (v.mv_size <= 8)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt resume token");
  out->cluster_t = store_get_le(v.mv_data, 4);
  out->cluster_i = store_get_le((const uint8_t *)v.mv_data + 4, 4);
  out->token = (const uint8_t *)v.mv_data + 8;
  out->token_len = v.mv_size - 8;
  return MDBEE_OK;
}

int mdb_store_resume_del(mdb_store_txn *txn, const char *db,
                         const char *coll, mdb_error *err) {
  uint8_t kb[MDB_STORE_KEY_MAX];
  size_t kl;
  int rc = stream_key(db, coll, kb, &kl, err);
  if (rc != MDBEE_OK) return rc;
  MDB_val k = {kl, kb};
  rc = mdb_del(txn->txn, txn->store->resume, &k, NULL);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(txn, err, rc, "forgetting a resume token");
  return MDBEE_OK;
}

/* History: key = database prefix (as document keys) then u64 big-endian
 * seq, so each database's snapshots are contiguous and in numeric order;
 * value u8 root_len, root, i64 LE time, u64 LE feed index, u8 pinned. */
static int history_key(const char *db, uint64_t seq, uint8_t *buf, size_t *len,
                       mdb_error *err) {
  if (!db) return mdb_error_set(err, MDBEE_EINVAL, "snapshot without database");
  int rc = store_prefix(db, NULL, buf, len, err);
  if (rc != MDBEE_OK) return rc;
  for (int i = 0; i < 8; i++) buf[*len + i] = (uint8_t)(seq >> (56 - 8 * i));
  *len += 8;
  return MDBEE_OK;
}

static int decode_snapshot(const MDB_val *k, const MDB_val *v,
                           mdb_store_snapshot *out) {
  const uint8_t *p = v->mv_data, *kp = k->mv_data;
  if (k->mv_size < 8 || v->mv_size < 1) return -1;
  size_t rl = p[0];
  if (rl > MDB_STORE_REF_MAX || v->mv_size != 1 + rl + 17) return -1;
  memset(out, 0, sizeof *out);
  for (size_t i = k->mv_size - 8; i < k->mv_size; i++)
    out->seq = out->seq << 8 | kp[i];
  out->root_len = rl;
  memcpy(out->root, p + 1, rl);
  out->time = (int64_t)store_get_le(p + 1 + rl, 8);
  out->feed_index = store_get_le(p + 9 + rl, 8);
  out->pinned = p[17 + rl] != 0;
  return 0;
}

static int put_snapshot(mdb_store_txn *txn, const char *db,
                        const mdb_store_snapshot *s, mdb_error *err) {
  uint8_t kb[MDB_STORE_KEY_MAX], vb[1 + MDB_STORE_REF_MAX + 17];
  size_t kl;
  int rc = history_key(db, s->seq, kb, &kl, err);
  if (rc != MDBEE_OK) return rc;
  vb[0] = (uint8_t)s->root_len;
  memcpy(vb + 1, s->root, s->root_len);
  store_put_le(vb + 1 + s->root_len, (uint64_t)s->time, 8);
  store_put_le(vb + 9 + s->root_len, s->feed_index, 8);
  vb[17 + s->root_len] = s->pinned ? 1 : 0;
  MDB_val k = {kl, kb}, v = {18 + s->root_len, vb};
  rc = mdb_put(txn->txn, txn->store->history, &k, &v, 0);
  if (rc != 0) return store_fail(txn, err, rc, "recording a snapshot");
  return MDBEE_OK;
}

/* Reads the newest (seq 0) or a given snapshot of db. */
static int get_snapshot(mdb_store_txn *txn, const char *db, uint64_t seq,
                        mdb_store_snapshot *out, mdb_error *err) {
  uint8_t kb[MDB_STORE_KEY_MAX];
  size_t kl;
  int rc = history_key(db, seq ? seq : UINT64_MAX, kb, &kl, err);
  if (rc != MDBEE_OK) return rc;
  MDB_cursor *cur;
  rc = mdb_cursor_open(txn->txn, txn->store->history, &cur);
  if (rc != 0) return store_fail(txn, err, rc, "opening a cursor");
  size_t plen = kl - 8;
  MDB_val k = {kl, kb}, v;
  if (seq) {
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
  } else {
    /* The newest is the entry just before the database's largest key. */
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
                 : mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && (k.mv_size != kl || memcmp(k.mv_data, kb, plen) != 0))
      rc = MDB_NOTFOUND;
  }
  int status = MDBEE_OK;
  if (rc == MDB_NOTFOUND)
    status = mdb_error_set(err, MDBEE_ENOTFOUND, "no snapshot %llu of %s",
                           (unsigned long long)seq, db);
  else if (rc != 0)
    status = store_fail(txn, err, rc, "reading the history");
  else if (decode_snapshot(&k, &v, out) != 0)
    status = mdb_error_set(err, MDBEE_ESTATE, "corrupt snapshot record");
  mdb_cursor_close(cur);
  return status;
}

int mdb_store_history_append(mdb_store_txn *txn, const char *db,
                             mdb_store_snapshot *snap, mdb_error *err) {
  if (snap->root_len == 0 || snap->root_len > MDB_STORE_REF_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "root of %zu bytes", snap->root_len);
  mdb_store_snapshot last;
  mdb_error scratch = {0};
  int rc = get_snapshot(txn, db, 0, &last, &scratch);
  if (rc == MDBEE_ENOTFOUND) last.seq = 0;
  else if (rc != MDBEE_OK) return mdb_error_set(err, rc, "%s", scratch.message);
  snap->seq = last.seq + 1;
  return put_snapshot(txn, db, snap, err);
}

int mdb_store_history_get(mdb_store_txn *txn, const char *db, uint64_t seq,
                          mdb_store_snapshot *out, mdb_error *err) {
  return get_snapshot(txn, db, seq, out, err);
}

int mdb_store_history_set_pinned(mdb_store_txn *txn, const char *db,
                                 uint64_t seq, int pinned, mdb_error *err) {
  if (seq == 0) return mdb_error_set(err, MDBEE_EINVAL, "snapshot 0");
  mdb_store_snapshot s;
  int rc = get_snapshot(txn, db, seq, &s, err);
  if (rc != MDBEE_OK) return rc;
  s.pinned = pinned;
  return put_snapshot(txn, db, &s, err);
}

struct each_ctx {
  mdb_store_snapshot_fn fn;
  void *ctx;
  mdb_error *err;
};

static int each_entry(void *ctx, MDB_cursor *cur, MDB_val *k, MDB_val *v) {
  (void)cur;
  struct each_ctx *e = ctx;
  mdb_store_snapshot s;
  if (decode_snapshot(k, v, &s) != 0)
    return mdb_error_set(e->err, MDBEE_ESTATE, "corrupt snapshot record");
  return e->fn(e->ctx, &s);
}

int mdb_store_history_each(mdb_store_txn *txn, const char *db,
                           mdb_store_snapshot_fn fn, void *ctx,
                           mdb_error *err) {
  uint8_t prefix[MDB_STORE_KEY_MAX];
  size_t plen;
  int rc = store_prefix(db, NULL, prefix, &plen, err);
  if (rc != MDBEE_OK) return rc;
  struct each_ctx e = {fn, ctx, err};
  return store_each(txn, txn->store->history, prefix, plen, each_entry, &e, err);
}
