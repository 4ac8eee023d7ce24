/* One snapshot: pending changes -> documents, indexes and meta in the
 * manifest -> chunks on the node -> pin -> feed update -> local commit.
 * The order matters: the local state is committed last, so any failure
 * leaves the pending changes in place and the next snapshot repeats the
 * same content-addressed work. */
#include <stdlib.h>
#include <string.h>

#include "mdbee/docid.h"
#include "mdbee/ejson.h"
#include "mdbee/feed.h"
#include "mdbee/indexkey.h"
#include "mdbee/keccak.h"
#include "mdbee/mantaray.h"
#include "mdbee/publish.h"
#include "publish_internal.h"

/* One planned change of the document index, applied in the final
 * transaction.  The key bytes are copied out of the read transaction. */
struct planned {
  uint8_t *key_buf; /* db, coll, id copies, back to back */
  mdb_store_key key;
  uint64_t seq;
  int deleted;
  int has_doc;
  mdb_store_doc doc;
  mdb_store_index_key *index_keys; /* owned copies */
  size_t n_index_keys;
  struct planned *next;
};

struct walk {
  mdb_publisher *p;
  mdb_store_txn *txn;
  mdb_mantaray *tree;
  struct planned *plans, **tail;
  mdb_publish_result *result;
  mdb_error *err;
};

static void free_plans(struct planned *pl) {
  while (pl) {
    struct planned *next = pl->next;
    for (size_t i = 0; i < pl->n_index_keys; i++)
      free((void *)pl->index_keys[i].key);
    free(pl->index_keys);
    free(pl->key_buf);
    free(pl);
    pl = next;
  }
}

static struct planned *plan_for(const mdb_store_change *c) {
  struct planned *pl = calloc(1, sizeof *pl);
  size_t n = c->key.db_len + c->key.coll_len + c->key.id_len + 2;
  if (!pl || !(pl->key_buf = malloc(n))) {
    free(pl);
    return NULL;
  }
  char *db = (char *)pl->key_buf, *coll = db + c->key.db_len + 1;
  uint8_t *id = (uint8_t *)coll + c->key.coll_len + 1;
  memcpy(db, c->key.db, c->key.db_len);
  db[c->key.db_len] = '\0';
  memcpy(coll, c->key.coll, c->key.coll_len);
  coll[c->key.coll_len] = '\0';
  memcpy(id, c->key.id, c->key.id_len);
  mdb_store_key_init(&pl->key, db, coll, id, c->key.id_len);
  pl->seq = c->seq;
  pl->deleted = c->deleted;
  return pl;
}

/* Removes the document's index entries that the last snapshot published. */
static int remove_old_index_entries(struct walk *w,
                                    const mdb_store_doc *old,
                                    const char *coll, const char *docid) {
  size_t pos = 0;
  mdb_store_index_key ik;
  int more;
  while ((more = mdb_store_doc_index_next(old, &pos, &ik)) == 1) {
    char *path = publish_index_path(coll, ik.index, ik.index_len, ik.key,
                                    ik.key_len, docid);
    if (!path) return mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
    int rc = publish_remove(w->tree, path, w->err);
    free(path);
    if (rc != MDBEE_OK) return rc;
  }
  if (more < 0)
    return mdb_error_set(w->err, MDBEE_ESTATE,
                         "corrupt index list for a document of %s", coll);
  return MDBEE_OK;
}

/* Keeps key (taking ownership) as one of the document's index entries. */
static int remember_index_key(struct walk *w, struct planned *pl,
                              const char *index, char *key) {
  mdb_store_index_key *grown =
      realloc(pl->index_keys, (pl->n_index_keys + 1) * sizeof *grown);
  if (!grown) {
    free(key);
    return mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
  }
  pl->index_keys = grown;
  grown[pl->n_index_keys++] = (mdb_store_index_key){
      .index = index, .index_len = strlen(index),
      .key = (const uint8_t *)key, .key_len = strlen(key)};
  return MDBEE_OK;
}

/* Computes the document's keys in every index of the collection into the
 * plan, in configuration order (each index's keys sorted). */
static int collect_index_keys(struct walk *w, struct planned *pl,
                              const mdb_publish_collection *coll,
                              const mdb_store_change *c, const char *docid) {
  int rc = MDBEE_OK;
  for (size_t i = 0; rc == MDBEE_OK && i < coll->n_indexes; i++) {
    const mdb_publish_index *ix = &coll->indexes[i];
    mdb_indexkey_set keys = {0};
    rc = mdb_indexkey_document(c->doc, c->doc_len, ix->fields, ix->n_fields,
                               &keys, w->err);
    if (rc != MDBEE_OK)
      return mdb_error_wrap(w->err, "index %s of %s/%s", ix->name, coll->name,
                            docid);
    for (size_t k = 0; rc == MDBEE_OK && k < keys.n; k++) {
      rc = remember_index_key(w, pl, ix->name, keys.keys[k]);
      keys.keys[k] = NULL; /* now owned by the plan */
    }
    mdb_indexkey_set_free(&keys);
  }
  return rc;
}

/* Whether the plan's index keys are exactly those published before. */
static int same_index_keys(const mdb_store_doc *old, const struct planned *pl) {
  size_t pos = 0, i = 0;
  mdb_store_index_key ik;
  int more;
  while ((more = mdb_store_doc_index_next(old, &pos, &ik)) == 1) {
    if (i == pl->n_index_keys) return 0;
    const mdb_store_index_key *k = &pl->index_keys[i++];
    if (ik.index_len != k->index_len || ik.key_len != k->key_len ||
        memcmp(ik.index, k->index, k->index_len) != 0 ||
        memcmp(ik.key, k->key, k->key_len) != 0)
      return 0;
  }
  return more == 0 && i == pl->n_index_keys;
}

static int add_index_entries(struct walk *w, const struct planned *pl,
                             const char *coll, const char *docid,
                             const uint8_t ref[32]) {
  for (size_t i = 0; i < pl->n_index_keys; i++) {
    const mdb_store_index_key *k = &pl->index_keys[i];
    char *path = publish_index_path(coll, k->index, k->index_len, k->key,
                                    k->key_len, docid);
    int rc = path ? publish_put_ref(w->tree, path, ref, "application/json", w->err)
                  : mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
    free(path);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

/* Encodes one upserted document and files it under its paths, unless its
 * bytes and index keys are those already published. */
static int publish_document(struct walk *w, struct planned *pl,
                            const mdb_publish_collection *coll,
                            const mdb_store_change *c, const char *docid,
                            const char *path, const mdb_store_doc *old,
                            int had_old) {
  mdb_ejson_options opts = {.mode = w->p->ejson_mode,
                            .redact = coll->redact,
                            .n_redact = coll->n_redact};
  char *json = NULL;
  size_t json_len = 0;
  int rc = mdb_ejson_encode(c->doc, c->doc_len, &opts, &json, &json_len,
                            w->err);
  if (rc != MDBEE_OK)
    return mdb_error_wrap(w->err, "document %s/%s", coll->name, docid);
  uint8_t ref[32];
  rc = mdb_chunk_tree_split(json, json_len, publish_upload_sink, w->p, ref,
                            w->err);
  if (rc == MDBEE_OK) {
    memcpy(pl->doc.ref, ref, 32);
    pl->doc.ref_len = 32;
    mdb_keccak256(json, json_len, pl->doc.hash);
    pl->doc.size = json_len;
  }
  free(json);
  if (rc == MDBEE_OK) rc = collect_index_keys(w, pl, coll, c, docid);
  if (rc != MDBEE_OK) return rc;
  if (had_old && old->ref_len == 32 && memcmp(old->ref, ref, 32) == 0 &&
      same_index_keys(old, pl))
    return MDBEE_OK; /* has_doc stays 0: nothing to change */
  pl->has_doc = 1;
  if (had_old) {
    rc = remove_old_index_entries(w, old, coll->name, docid);
    if (rc != MDBEE_OK) return rc;
  }
  rc = publish_put_ref(w->tree, path, ref, "application/json", w->err);
  if (rc != MDBEE_OK) return mdb_error_wrap(w->err, "adding %s", path);
  w->result->documents_written++;
  return add_index_entries(w, pl, coll->name, docid, ref);
}

static int on_change(void *ctx, const mdb_store_change *c) {
  struct walk *w = ctx;
  mdb_publisher *p = w->p;
  if (c->key.db_len != strlen(p->opts.db) ||
      memcmp(c->key.db, p->opts.db, c->key.db_len) != 0)
    return MDBEE_OK; /* another database's change: its own publisher */
  struct planned *pl = plan_for(c);
  if (!pl) return mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
  *w->tail = pl;
  w->tail = &pl->next;
  w->result->changes++;
  const mdb_publish_collection *coll = publish_find_collection(p, pl->key.coll);
  if (!coll) return MDBEE_OK; /* no longer configured: never published */
  char *docid = NULL;
  int rc = mdb_docid_encode(c->key.id, c->key.id_len, &docid, w->err);
  if (rc != MDBEE_OK)
    return mdb_error_wrap(w->err, "an _id in %s", coll->name);
  char *path = publish_doc_path(coll->name, docid);
  if (!path) {
    free(docid);
    return mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
  }
  mdb_store_doc old;
  rc = mdb_store_doc_get(w->txn, &pl->key, &old, w->err);
  int had_old = rc == MDBEE_OK;
  if (rc == MDBEE_ENOTFOUND) rc = MDBEE_OK;
  if (rc == MDBEE_OK && c->deleted) {
    if (had_old) {
      rc = remove_old_index_entries(w, &old, coll->name, docid);
      if (rc == MDBEE_OK) rc = publish_remove(w->tree, path, w->err);
      w->result->documents_written++;
    }
  } else if (rc == MDBEE_OK) {
    rc = publish_document(w, pl, coll, c, docid, path, &old, had_old);
  }
  free(path);
  free(docid);
  return rc;
}

/* Applies the planned index changes, clears the consumed pending changes
 * and records the snapshot, all in one transaction. */
static int commit_plans(mdb_publisher *p, struct planned *plans,
                        mdb_store_snapshot *snap, mdb_error *err) {
  mdb_store_txn *txn;
  int rc = mdb_store_begin(p->store, 0, &txn, err);
  for (struct planned *pl = plans; rc == MDBEE_OK && pl; pl = pl->next) {
    if (pl->deleted)
      rc = mdb_store_doc_del(txn, &pl->key, err);
    else if (pl->has_doc) {
      pl->doc.index_keys = pl->index_keys;
      pl->doc.n_index_keys = pl->n_index_keys;
      rc = mdb_store_doc_put(txn, &pl->key, &pl->doc, err);
    }
    if (rc == MDBEE_OK) rc = mdb_store_pending_clear(txn, &pl->key, pl->seq, err);
  }
  if (rc == MDBEE_OK) rc = mdb_store_history_append(txn, p->opts.db, snap, err);
  if (rc == MDBEE_OK) return mdb_store_commit(txn, err);
  mdb_store_abort(txn);
  return rc;
}

/* Counts per collection after the planned changes, for collection meta. */
static int collection_counts(mdb_publisher *p, mdb_store_txn *txn,
                             const struct planned *plans, uint64_t *counts,
                             mdb_error *err) {
  for (size_t i = 0; i < p->opts.n_collections; i++) {
    mdb_store_stats st;
    int rc = mdb_store_stats_get(txn, p->opts.db, p->opts.collections[i].name,
                                 &st, err);
    if (rc != MDBEE_OK) return rc;
    counts[i] = st.count;
  }
  for (const struct planned *pl = plans; pl; pl = pl->next) {
    const mdb_publish_collection *c = publish_find_collection(p, pl->key.coll);
    if (!c) continue;
    size_t i = (size_t)(c - p->opts.collections);
    mdb_store_doc old;
    int rc = mdb_store_doc_get(txn, &pl->key, &old, err);
    if (rc != MDBEE_OK && rc != MDBEE_ENOTFOUND) return rc;
    int existed = rc == MDBEE_OK;
    if (pl->deleted && existed) counts[i]--;
    if (!pl->deleted && !existed && pl->has_doc) counts[i]++;
  }
  return MDBEE_OK;
}

int mdb_publisher_snapshot(mdb_publisher *p, const mdb_publish_stamp *stamp,
                           mdb_publish_result *result, mdb_error *err) {
  int64_t now = stamp->time;
  memset(result, 0, sizeof *result);
  p->result = result;
  mdb_store_txn *txn = NULL;
  mdb_mantaray *tree = NULL;
  struct walk w = {.p = p, .result = result, .err = err};
  w.tail = &w.plans;
  mdb_store_snapshot prev = {0};
  int rc = mdb_store_begin(p->store, 1, &txn, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_store_history_get(txn, p->opts.db, 0, &prev, err);
  int first = rc == MDBEE_ENOTFOUND;
  if (first) rc = MDBEE_OK;
  uint64_t pending = 0;
  if (rc == MDBEE_OK) rc = mdb_store_pending_count(txn, &pending, err);
  if (rc == MDBEE_OK && pending == 0 && !first) {
    mdb_store_abort(txn);
    return MDBEE_OK;
  }
  if (rc == MDBEE_OK) rc = p->target.begin(p->target.ctx, err);
  if (rc == MDBEE_OK) rc = publish_open_tree(p, first ? NULL : prev.root, &tree, err);
  w.txn = txn;
  w.tree = tree;
  if (rc == MDBEE_OK) rc = mdb_store_pending_each(txn, on_change, &w, err);
  uint64_t *counts = calloc(p->opts.n_collections + 1, sizeof *counts);
  if (rc == MDBEE_OK && !counts) rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (rc == MDBEE_OK) rc = collection_counts(p, txn, w.plans, counts, err);
  mdb_store_abort(txn);
  txn = NULL;
  if (rc == MDBEE_OK && !first && result->changes == 0) {
    /* Only other databases had pending changes. */
    free(counts);
    free_plans(w.plans);
    publish_close_tree(p, tree);
    return MDBEE_OK;
  }

  mdb_store_snapshot snap = {.time = now, .feed_index = first ? 0 : prev.feed_index + 1,
                             .pinned = 1, .root_len = 32};
  if (rc == MDBEE_OK) rc = publish_collection_meta(p, tree, counts, err);
  if (rc == MDBEE_OK) rc = publish_explorer(p, tree, err);
  if (rc == MDBEE_OK) rc = publish_save_tree(p, tree, result->state_root, err);
  if (rc == MDBEE_OK)
    rc = publish_db_meta(p, tree, result->state_root, first ? NULL : prev.root,
                         stamp, err);
  if (rc == MDBEE_OK) rc = publish_save_tree(p, tree, result->root, err);
  if (rc == MDBEE_OK) rc = publish_feed_manifest_upload(p, err);
  if (rc == MDBEE_OK) rc = publish_flush_have(p, err);
  if (rc == MDBEE_OK) rc = p->target.pin(p->target.ctx, result->root, err);
  if (rc == MDBEE_OK)
    rc = publish_feed_update(p, snap.feed_index, now, result->root, err);
  if (rc == MDBEE_OK) {
    memcpy(snap.root, result->root, 32);
    rc = commit_plans(p, w.plans, &snap, err);
  }
  if (rc == MDBEE_OK) rc = publish_apply_retention(p, now, err);
  if (rc == MDBEE_OK) {
    result->published = 1;
    result->seq = snap.seq;
    result->feed_index = snap.feed_index;
    result->time = now;
    rc = mdb_publisher_feed_manifest(p, result->feed_manifest, err);
  }
  free(counts);
  free_plans(w.plans);
  publish_close_tree(p, tree);
  return rc;
}
