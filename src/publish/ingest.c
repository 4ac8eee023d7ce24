#include "mdbee/ingest.h"

#include <stdlib.h>
#include <string.h>

/* Scanned documents carry no resume point, so they can be committed in
 * batches of any size; these bound one transaction, whose dirty pages
 * LMDB holds in memory until the commit (about 20 MiB for 16 MiB of
 * documents).  Each commit waits for the disk twice, so fewer, larger
 * ones save that much: 4096 1 KiB documents a commit spent more time in
 * fdatasync than in all the rest of the ingest. */
enum { SCAN_COMMIT_EVERY = 65536, SCAN_COMMIT_BYTES = 16 << 20 };

struct mdb_ingest {
  mdb_store *store;
  char **allow;
  size_t n_allow;
  mdb_store_txn *txn;
  size_t in_txn, bytes_in_txn; /* events and document bytes */
  mdb_ingest_stats stats;
};

int mdb_ingest_new(mdb_store *store, const char *const *allow, size_t n,
                   mdb_ingest **out, mdb_error *err) {
  mdb_ingest *in = calloc(1, sizeof *in);
  if (!in || !(in->allow = calloc(n ? n : 1, sizeof *in->allow))) {
    free(in);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  in->store = store;
  for (; in->n_allow < n; in->n_allow++) {
    if (!(in->allow[in->n_allow] = strdup(allow[in->n_allow]))) {
      mdb_ingest_free(in);
      return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    }
  }
  *out = in;
  return MDBEE_OK;
}

void mdb_ingest_free(mdb_ingest *in) {
  if (!in) return;
  mdb_ingest_abort(in);
  for (size_t i = 0; i < in->n_allow; i++) free(in->allow[i]);
  free(in->allow);
  free(in);
}

static int allowed(const mdb_ingest *in, const char *db, const char *coll) {
  size_t dl = strlen(db);
  for (size_t i = 0; i < in->n_allow; i++) {
    const char *ns = in->allow[i];
    if (strncmp(ns, db, dl) != 0 || ns[dl] != '.') continue;
    if (!coll || strcmp(ns + dl + 1, coll) == 0) return 1;
  }
  return 0;
}

static int put_resume(mdb_ingest *in, const mdb_source_event *ev,
                      mdb_error *err) {
  if (!ev->resume_token) return MDBEE_OK;
  mdb_store_resume point = {
      .token = bson_get_data(ev->resume_token),
      .token_len = ev->resume_token->len,
      .cluster_t = ev->cluster_t,
      .cluster_i = ev->cluster_i,
  };
  return mdb_store_resume_put(in->txn, ev->stream_db, ev->stream_coll, &point,
                              err);
}

static int apply(mdb_ingest *in, const mdb_source_event *ev, mdb_error *err) {
  mdb_store_key key;
  if (ev->id_key)
    mdb_store_key_init(&key, ev->db, ev->coll, ev->id_key, ev->id_key_len);
  switch (ev->op) {
  case MDB_SOURCE_UPSERT: {
    int rc = mdb_store_pending_upsert(in->txn, &key, bson_get_data(ev->doc),
                                      ev->doc->len, err);
    if (rc == MDBEE_OK && ev->from_scan)
      rc = mdb_store_scan_mark(in->txn, &key, err);
    in->stats.upserts++;
    in->stats.scanned += ev->from_scan ? 1 : 0;
    return rc;
  }
  case MDB_SOURCE_DELETE:
    in->stats.deletes++;
    return mdb_store_pending_delete(in->txn, &key, err);
  case MDB_SOURCE_DROP:
    in->stats.drops++;
    return mdb_store_pending_drop(in->txn, ev->db, ev->coll, err);
  case MDB_SOURCE_DROP_DATABASE:
    in->stats.drops++;
    return mdb_store_pending_drop(in->txn, ev->db, NULL, err);
  case MDB_SOURCE_SCAN_BEGIN:
    return mdb_store_scan_begin(in->txn, ev->db, ev->coll, err);
  case MDB_SOURCE_SCAN_END:
    return mdb_store_scan_end(in->txn, ev->db, ev->coll, err);
  case MDB_SOURCE_CHECKPOINT:
    return MDBEE_OK;
  }
  return mdb_error_set(err, MDBEE_EINVAL, "unknown source event %d", ev->op);
}

int mdb_ingest_event(void *ctx, const mdb_source_event *ev, mdb_error *err) {
  mdb_ingest *in = ctx;
  if (ev->db && ev->op != MDB_SOURCE_CHECKPOINT &&
      !allowed(in, ev->db, ev->op == MDB_SOURCE_DROP_DATABASE ? NULL : ev->coll))
    return mdb_error_set(err, MDBEE_EINVAL,
                         "source delivered an event for %s.%s, which is not "
                         "in the publication allow-list",
                         ev->db, ev->coll ? ev->coll : "*");
  if (!in->txn) {
    int rc = mdb_store_begin(in->store, 0, &in->txn, err);
    if (rc != MDBEE_OK) return rc;
  }
  int rc = apply(in, ev, err);
  if (rc == MDBEE_OK) rc = put_resume(in, ev, err);
  if (rc != MDBEE_OK) {
    mdb_ingest_abort(in);
    return rc;
  }
  in->stats.events++;
  if (ev->cluster_t) {
    in->stats.cluster_t = ev->cluster_t;
    in->stats.cluster_i = ev->cluster_i;
  }
  if (ev->doc) in->bytes_in_txn += ev->doc->len;
  if ((++in->in_txn >= SCAN_COMMIT_EVERY ||
       in->bytes_in_txn >= SCAN_COMMIT_BYTES) && ev->from_scan)
    return mdb_ingest_commit(in, err);
  return MDBEE_OK;
}

int mdb_ingest_commit(mdb_ingest *in, mdb_error *err) {
  if (!in->txn) return MDBEE_OK;
  mdb_store_txn *txn = in->txn;
  in->txn = NULL;
  in->in_txn = in->bytes_in_txn = 0;
  int rc = mdb_store_commit(txn, err);
  if (rc == MDBEE_OK) in->stats.commits++;
  mdb_store_trim(in->store); /* a scan reads as much as it writes */
  return rc;
}

void mdb_ingest_abort(mdb_ingest *in) {
  mdb_store_abort(in->txn);
  in->txn = NULL;
  in->in_txn = in->bytes_in_txn = 0;
}

int mdb_ingest_resume_token(void *ctx, const char *db, const char *coll,
                            bson_t *token) {
  mdb_ingest *in = ctx;
  mdb_store_txn *txn;
  if (mdb_store_begin(in->store, 1, &txn, NULL) != MDBEE_OK) return -1;
  mdb_store_resume point;
  int rc = mdb_store_resume_get(txn, db, coll, &point, NULL), found = 0;
  if (rc == MDBEE_OK) {
    bson_t stored;
    found = bson_init_static(&stored, point.token, point.token_len) ? 1 : -1;
    if (found == 1) bson_copy_to(&stored, token);
  } else if (rc != MDBEE_ENOTFOUND) {
    found = -1;
  }
  mdb_store_abort(txn);
  return found;
}

void mdb_ingest_stats_get(const mdb_ingest *in, mdb_ingest_stats *out) {
  *out = in->stats;
}
