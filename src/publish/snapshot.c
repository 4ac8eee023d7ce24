/* One snapshot: pending changes -> documents, indexes and meta in the
 * manifest -> chunks on the node -> pin -> feed update -> local commit.
 * The order matters: the snapshot is recorded in the local state last, so
 * any failure leaves the pending changes in place and the next snapshot
 * repeats the same content-addressed work.
 *
 * Memory does not grow with the number of changes: documents are encoded
 * in batches, the document-index changes are staged in the store, and a
 * large walk saves the manifest every checkpoint_every changes and drops
 * it from memory (it is read back from the node cache as needed).  The
 * staged changes are applied after the snapshot is recorded, in bounded
 * transactions; a crash between them leaves pending changes that the
 * next snapshot re-applies to the recorded root without changing it. */
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

/* The document-index change of one pending change, staged once the
 * change is applied to the manifest. */
struct planned {
  int has_doc; /* doc is the new index entry */
  mdb_store_doc doc;
  mdb_store_index_key *index_keys; /* owned copies */
  size_t n_index_keys;
};

/* One batch of the walk: collected, then encoded, then applied. */
struct batch {
  publish_doc_job jobs[PUBLISH_ENCODE_BATCH];
  size_t n;
  size_t doc_bytes;
  int checkpoint; /* ends checkpoint_every changes: save after applying */
};

struct walk {
  mdb_publisher *p;
  mdb_store_txn *txn; /* read transaction of the current step */
  mdb_mantaray *tree;
  int64_t *count_delta; /* documents added minus removed, per collection */
  mdb_publish_result *result;
  mdb_error *err;
  struct batch *filling; /* the batch on_change collects into */
  mdb_error *read_err;   /* on_change's errors */
  size_t collected;      /* changes collected since the last checkpoint */
  size_t checkpoint_every;
  uint8_t after[MDB_STORE_KEY_MAX]; /* key of the last change collected */
  mdb_store_key after_key;
  double encode_wall;
};

/* on_change's answer when the walk should pause between batches; not an
 * MDBEE code. */
enum { WALK_PAUSE = -1 };

static void free_plan(struct planned *pl) {
  for (size_t i = 0; i < pl->n_index_keys; i++)
    free((void *)pl->index_keys[i].key);
  free(pl->index_keys);
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
                             const uint8_t *ref) {
  for (size_t i = 0; i < pl->n_index_keys; i++) {
    const mdb_store_index_key *k = &pl->index_keys[i];
    char *path = publish_index_path(coll, k->index, k->index_len, k->key,
                                    k->key_len, docid);
    int rc = path ? publish_put_ref(w->p, w->tree, path, ref, "application/json", w->err)
                  : mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
    free(path);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

/* Files one upserted document (encoded by the publish_encoder) under its
 * paths, unless its bytes and index keys are those already published. */
static int publish_document(struct walk *w, struct planned *pl,
                            publish_doc_job *job, const char *docid,
                            const char *path, const mdb_store_doc *old,
                            int had_old) {
  const mdb_publish_collection *coll = job->coll;
  if (job->rc != MDBEE_OK) {
    *w->err = job->err;
    return mdb_error_wrap(w->err, "document %s/%s", coll->name, docid);
  }
  /* A document published with these very bytes has its chunks on the
   * node already; other documents' chunks are new to it. */
  size_t ref_len = w->p->ref_size;
  int same = had_old && old->ref_len == ref_len &&
             memcmp(old->ref, job->ref, ref_len) == 0;
  int rc = publish_send_job(w->p, job, !same, w->err);
  if (rc != MDBEE_OK) return rc;
  memcpy(pl->doc.ref, job->ref, ref_len);
  pl->doc.ref_len = ref_len;
  pl->doc.size = job->size;
  rc = collect_index_keys(w, pl, coll, &job->change, docid);
  if (rc != MDBEE_OK) return rc;
  if (same && same_index_keys(old, pl))
    return MDBEE_OK; /* has_doc stays 0: nothing to change */
  pl->has_doc = 1;
  if (had_old) {
    rc = remove_old_index_entries(w, old, coll->name, docid);
    if (rc != MDBEE_OK) return rc;
  }
  rc = publish_put_ref(w->p, w->tree, path, job->ref, "application/json", w->err);
  if (rc != MDBEE_OK) return mdb_error_wrap(w->err, "adding %s", path);
  w->result->documents_written++;
  return add_index_entries(w, pl, coll->name, docid, job->ref);
}

/* Applies one change to the manifest and stages its index change. */
static int apply_change(struct walk *w, publish_doc_job *job) {
  const mdb_store_change *c = &job->change;
  w->result->changes++;
  const mdb_publish_collection *coll = job->coll;
  struct planned pl = {0};
  int rc = MDBEE_OK;
  if (coll) { /* else no longer configured: never published */
    char *docid = NULL;
    rc = mdb_docid_encode(c->key.id, c->key.id_len, &docid, w->err);
    if (rc != MDBEE_OK)
      return mdb_error_wrap(w->err, "an _id in %s", coll->name);
    char *path = publish_doc_path(coll->name, docid);
    if (!path) {
      free(docid);
      return mdb_error_set(w->err, MDBEE_ENOMEM, "out of memory");
    }
    mdb_store_doc old;
    publish_random_read(w->p);
    rc = mdb_store_doc_get(w->txn, &c->key, &old, w->err);
    int had_old = rc == MDBEE_OK;
    if (rc == MDBEE_ENOTFOUND) rc = MDBEE_OK;
    size_t ci = (size_t)(coll - w->p->opts.collections);
    if (rc == MDBEE_OK && c->deleted) {
      if (had_old) {
        rc = remove_old_index_entries(w, &old, coll->name, docid);
        if (rc == MDBEE_OK) rc = publish_remove(w->tree, path, w->err);
        w->result->documents_written++;
        w->count_delta[ci]--;
      }
    } else if (rc == MDBEE_OK) {
      rc = publish_document(w, &pl, job, docid, path, &old, had_old);
      if (rc == MDBEE_OK && pl.has_doc && !had_old) w->count_delta[ci]++;
    }
    free(path);
    free(docid);
  }
  mdb_store_txn *wtxn;
  if (rc == MDBEE_OK) rc = publish_write_txn(w->p, &wtxn, w->err);
  if (rc == MDBEE_OK) {
    pl.doc.index_keys = pl.index_keys;
    pl.doc.n_index_keys = pl.n_index_keys;
    rc = mdb_store_stage_put(wtxn, &c->key, c->seq, pl.has_doc ? &pl.doc : NULL,
                             c->deleted, w->err);
  }
  free_plan(&pl);
  return rc;
}

/* Saves the manifest built so far and drops it from memory, with the
 * store pages the walk read: what keeps a large snapshot's memory
 * bounded. */
static int checkpoint(struct walk *w) {
  double t0 = publish_seconds();
  /* With no transaction open, the store may grow its map. */
  publish_end_have_txn(w->p);
  publish_end_tree_txn(w->p);
  uint8_t root[32];
  int rc = publish_commit_writes(w->p, w->err);
  if (rc == MDBEE_OK) rc = publish_save_tree(w->p, w->tree, root, w->err);
  if (rc == MDBEE_OK) rc = publish_unload_tree(w->p, w->tree, w->err);
  mdb_store_trim(w->p->store);
  w->result->seconds_manifest += publish_seconds() - t0;
  return rc;
}

/* Applies the batch's changes, encoded, in key order. */
static int apply_batch(struct walk *w, struct batch *b) {
  double t0 = publish_seconds();
  int rc = MDBEE_OK;
  for (size_t i = 0; rc == MDBEE_OK && i < b->n; i++)
    rc = apply_change(w, &b->jobs[i]);
  for (size_t i = 0; i < b->n; i++) {
    publish_doc_job *job = &b->jobs[i];
    if (job->bytes_cap > PUBLISH_JOB_KEEP) {
      free(job->bytes);
      job->bytes = NULL;
      job->bytes_cap = 0;
    }
    if (job->chunks_cap > PUBLISH_JOB_KEEP) {
      free(job->chunks);
      job->chunks = NULL;
      job->chunks_cap = 0;
    }
  }
  b->n = 0;
  b->doc_bytes = 0;
  b->checkpoint = 0;
  mdb_store_trim(w->p->store);
  w->result->seconds_manifest += publish_seconds() - t0;
  return rc;
}

/* Copies key's bytes to b and points out at them; returns their length. */
static size_t copy_key(uint8_t *b, const mdb_store_key *k, mdb_store_key *out) {
  memcpy(b, k->db, k->db_len);
  memcpy(b + k->db_len, k->coll, k->coll_len);
  memcpy(b + k->db_len + k->coll_len, k->id, k->id_len);
  *out = (mdb_store_key){(const char *)b, k->db_len,
                         (const char *)b + k->db_len, k->coll_len,
                         b + k->db_len + k->coll_len, k->id_len};
  return k->db_len + k->coll_len + k->id_len;
}

/* Copies the change into the job: the read transaction it points into
 * ends while the job is encoded. */
static int keep_change(publish_doc_job *job, const mdb_store_change *c,
                       mdb_error *err) {
  const mdb_store_key *k = &c->key;
  size_t need = k->db_len + k->coll_len + k->id_len + c->doc_len;
  if (need > job->bytes_cap) {
    free(job->bytes);
    job->bytes_cap = 0;
    if (!(job->bytes = malloc(need)))
      return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    job->bytes_cap = need;
  }
  job->change = *c;
  size_t at = copy_key(job->bytes, k, &job->change.key);
  if (c->doc) {
    memcpy(job->bytes + at, c->doc, c->doc_len);
    job->change.doc = job->bytes + at;
  }
  return MDBEE_OK;
}

static int on_change(void *ctx, const mdb_store_change *c) {
  struct walk *w = ctx;
  mdb_publisher *p = w->p;
  if (c->key.db_len != strlen(p->opts.db) ||
      memcmp(c->key.db, p->opts.db, c->key.db_len) != 0)
    return MDBEE_OK; /* another database's change: its own publisher */
  struct batch *b = w->filling;
  publish_doc_job *job = &b->jobs[b->n];
  int rc = keep_change(job, c, w->read_err);
  if (rc != MDBEE_OK) return rc;
  b->n++;
  b->doc_bytes += c->doc_len;
  /* The collection name needs its NUL for the lookup. */
  char name[MDB_STORE_KEY_MAX + 1];
  memcpy(name, c->key.coll, c->key.coll_len);
  name[c->key.coll_len] = '\0';
  job->coll = publish_find_collection(p, name);
  job->encode = job->coll && !c->deleted;
  if (++w->collected == w->checkpoint_every) {
    b->checkpoint = 1;
    w->collected = 0;
  } else if (b->n < PUBLISH_ENCODE_BATCH && b->doc_bytes < PUBLISH_BATCH_BYTES) {
    return MDBEE_OK;
  }
  /* Pause after every batch, so that no read transaction lives across
   * many commits: LMDB reuses no page freed while a reader is open, and
   * its free list, growing, costs time and memory.  Remember where to go
   * on: the key points into the transaction. */
  copy_key(w->after, &c->key, &w->after_key);
  return WALK_PAUSE;
}

/* Records the snapshot (snap NULL: it is recorded), then applies the
 * staged index changes in transactions of PUBLISH_APPLY_BATCH times
 * PUBLISH_APPLY_TRIMS, dropping the map's pages between batches: each
 * commit waits for the disk twice, so fewer are better (at 2*10^5
 * documents 13 commits waited 0.23 s where 49 waited 0.5 s), while the
 * pages a batch reads (the pending changes it clears, about 1 KiB each)
 * need not stay mapped until the commit (without the trims, 16384 changes
 * a transaction raised the peak RSS by 30 MiB at 2*10^5 documents).  The
 * stage is sealed with the record: a crash before the last change is
 * applied leaves the rest to finish_recorded, not to
 * mdb_store_stage_clear, since the manifest's uncached leaves are rebuilt
 * from the document index. */
static int commit_snapshot(mdb_publisher *p, mdb_store_snapshot *snap,
                           mdb_error *err) {
  int more = 1, first = 1, rc = MDBEE_OK;
  while (rc == MDBEE_OK && more) {
    mdb_store_txn *txn;
    rc = mdb_store_begin(p->store, 0, &txn, err);
    if (rc != MDBEE_OK) return rc;
    if (first && snap) {
      rc = mdb_store_history_append(txn, p->opts.db, snap, err);
      if (rc == MDBEE_OK) rc = mdb_store_stage_seal(txn, p->opts.db, err);
    }
    for (int i = 0; rc == MDBEE_OK && more && i < PUBLISH_APPLY_TRIMS; i++) {
      rc = mdb_store_stage_apply(txn, p->opts.db, PUBLISH_APPLY_BATCH, &more,
                                 err);
      mdb_store_trim(p->store);
    }
    if (rc == MDBEE_OK) rc = mdb_store_commit(txn, err);
    else mdb_store_abort(txn);
    first = 0;
  }
  return rc;
}

/* Applies what a crash left staged of a recorded snapshot. */
static int finish_recorded(mdb_publisher *p, mdb_error *err) {
  mdb_store_txn *txn = NULL;
  int sealed = 0;
  int rc = mdb_store_begin(p->store, 1, &txn, err);
  if (rc == MDBEE_OK) rc = mdb_store_stage_sealed(txn, p->opts.db, &sealed, err);
  mdb_store_abort(txn);
  return rc == MDBEE_OK && sealed ? commit_snapshot(p, NULL, err) : rc;
}

/* Counts per collection after the walk's changes, for collection meta. */
static int collection_counts(mdb_publisher *p, mdb_store_txn *txn,
                             const int64_t *delta, uint64_t *counts,
                             mdb_error *err) {
  for (size_t i = 0; i < p->opts.n_collections; i++) {
    mdb_store_stats st;
    int rc = mdb_store_stats_get(txn, p->opts.db, p->opts.collections[i].name,
                                 &st, err);
    if (rc != MDBEE_OK) return rc;
    counts[i] = st.count + (uint64_t)delta[i];
  }
  return MDBEE_OK;
}

static void free_batches(struct batch *b) {
  if (!b) return;
  for (size_t k = 0; k < PUBLISH_AHEAD; k++)
    for (size_t i = 0; i < PUBLISH_ENCODE_BATCH; i++) {
      free(b[k].jobs[i].chunks);
      free(b[k].jobs[i].bytes);
    }
  free(b);
}

/* Walks the pending changes into the manifest and the stage as a
 * pipeline of batches: each step, in one read transaction, collects
 * batches ahead (up to the encoder's depth) for the encoder thread,
 * waits for the oldest (helping with it) and applies it; a checkpoint or
 * a renewal of the readers follows with no transaction open. */
static int walk_pending(struct walk *w, mdb_error *err) {
  struct batch *b = calloc(PUBLISH_AHEAD, sizeof *b);
  if (!b) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  publish_encoder *enc = NULL;
  int rc = publish_encoder_start(w->p, &enc, err);
  size_t depth = rc == MDBEE_OK ? publish_encoder_depth(enc) : 0;
  size_t first = 0, queued = 0, ahead_bytes = 0;
  int started = 0, more = 1, read_rc = MDBEE_OK;
  mdb_error read_err;
  w->read_err = &read_err;
  double t0 = publish_seconds();
  while (rc == MDBEE_OK && (queued || (more && read_rc == MDBEE_OK))) {
    rc = mdb_store_begin(w->p->store, 1, &w->txn, err);
    if (rc != MDBEE_OK) break;
    while (more && read_rc == MDBEE_OK && queued < depth &&
           ahead_bytes < PUBLISH_AHEAD_BYTES) {
      struct batch *next = &b[(first + queued) % depth];
      w->filling = next;
      read_rc = mdb_store_pending_each_after(
          w->txn, started ? &w->after_key : NULL, on_change, w, &read_err);
      started = 1;
      more = read_rc == WALK_PAUSE;
      if (more) read_rc = MDBEE_OK;
      if (read_rc != MDBEE_OK) {
        next->n = 0; /* never applied: the error stops the walk */
      } else if (next->n) {
        publish_encoder_submit(enc, next->jobs, next->n);
        queued++;
        ahead_bytes += next->doc_bytes;
      }
    }
    int saves = 0, applied = queued > 0;
    if (applied) {
      struct batch *cur = &b[first];
      double t1 = publish_seconds();
      publish_encoder_wait(enc);
      w->encode_wall += publish_seconds() - t1;
      saves = cur->checkpoint;
      ahead_bytes -= cur->doc_bytes;
      rc = apply_batch(w, cur);
      first = (first + 1) % depth;
      queued--;
    }
    /* A change that cannot be read is reported after those before it. */
    if (rc == MDBEE_OK && !queued && read_rc != MDBEE_OK) {
      *err = read_err;
      rc = read_rc;
    }
    mdb_store_abort(w->txn);
    w->txn = NULL;
    if (rc == MDBEE_OK && saves) rc = checkpoint(w);
    else if (rc == MDBEE_OK && applied && (queued || more))
      rc = publish_renew_readers(w->p, err);
  }
  publish_encoder_free(enc);
  w->result->seconds_read +=
      publish_seconds() - t0 - w->encode_wall - w->result->seconds_manifest;
  free_batches(b);
  return rc;
}

static int snapshot(mdb_publisher *p, const mdb_publish_stamp *stamp,
                    mdb_publish_result *result, mdb_error *err) {
  int64_t now = stamp->time;
  memset(result, 0, sizeof *result);
  p->result = result;
  mdb_store_txn *txn = NULL;
  mdb_mantaray *tree = NULL;
  struct walk w = {.p = p, .result = result, .err = err,
                   .checkpoint_every = p->opts.checkpoint_every
                                           ? p->opts.checkpoint_every
                                           : PUBLISH_CHECKPOINT};
  mdb_store_snapshot prev = {0};
  int rc = finish_recorded(p, err);
  if (rc == MDBEE_OK) rc = mdb_store_begin(p->store, 1, &txn, err);
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
  mdb_store_txn *wtxn;
  if (rc == MDBEE_OK) rc = publish_write_txn(p, &wtxn, err);
  if (rc == MDBEE_OK) rc = mdb_store_stage_clear(wtxn, p->opts.db, err);
  if (rc == MDBEE_OK) rc = p->target.begin(p->target.ctx, err);
  mdb_store_abort(txn);
  txn = NULL;
  if (rc == MDBEE_OK) rc = publish_open_tree(p, first ? NULL : prev.root, &tree, err);
  w.tree = tree;
  uint64_t *counts = calloc(p->opts.n_collections + 1, sizeof *counts);
  w.count_delta = calloc(p->opts.n_collections + 1, sizeof *w.count_delta);
  if (rc == MDBEE_OK && (!counts || !w.count_delta))
    rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (rc == MDBEE_OK) rc = walk_pending(&w, err);
  if (rc == MDBEE_OK) rc = mdb_store_begin(p->store, 1, &txn, err);
  if (rc == MDBEE_OK) rc = collection_counts(p, txn, w.count_delta, counts, err);
  free(w.count_delta);
  mdb_store_abort(txn);
  txn = NULL;
  if (rc == MDBEE_OK && !first && result->changes == 0) {
    /* Only other databases had pending changes. */
    free(counts);
    publish_close_tree(p, tree);
    return MDBEE_OK;
  }

  mdb_store_snapshot snap = {.time = now, .feed_index = first ? 0 : prev.feed_index + 1,
                             .pinned = 1, .root_len = 32};
  double t0 = publish_seconds();
  if (rc == MDBEE_OK) rc = publish_collection_meta(p, tree, counts, err);
  if (rc == MDBEE_OK) rc = publish_explorer(p, tree, err);
  if (rc == MDBEE_OK) rc = publish_save_tree(p, tree, result->state_root, err);
  if (rc == MDBEE_OK)
    rc = publish_db_meta(p, tree, result->state_root, first ? NULL : prev.root,
                         stamp, err);
  if (rc == MDBEE_OK) rc = publish_save_tree(p, tree, result->root, err);
  if (rc == MDBEE_OK) rc = publish_feed_manifest_upload(p, err);
  double t1 = publish_seconds();
  result->seconds_manifest += t1 - t0;
  if (rc == MDBEE_OK) rc = publish_flush_have(p, err);
  if (rc == MDBEE_OK) rc = p->target.pin(p->target.ctx, result->root, err);
  if (rc == MDBEE_OK)
    rc = publish_feed_update(p, snap.feed_index, now, result->root, err);
  if (rc == MDBEE_OK) {
    memcpy(snap.root, result->root, 32);
    /* No reader open while the staged changes are applied: the map may
     * grow, and pages freed meanwhile are reused at once. */
    publish_close_tree(p, tree);
    tree = NULL;
    publish_end_have_txn(p);
    rc = commit_snapshot(p, &snap, err);
  }
  if (rc == MDBEE_OK) rc = publish_apply_retention(p, now, err);
  result->seconds_commit += publish_seconds() - t1;
  if (rc == MDBEE_OK) {
    result->published = 1;
    result->seq = snap.seq;
    result->feed_index = snap.feed_index;
    result->time = now;
    rc = mdb_publisher_feed_manifest(p, result->feed_manifest, err);
  }
  free(counts);
  publish_close_tree(p, tree);
  return rc;
}
int mdb_publisher_snapshot(mdb_publisher *p, const mdb_publish_stamp *stamp,
                           mdb_publish_result *result, mdb_error *err) {
  int rc = snapshot(p, stamp, result, err);
  publish_end_have_txn(p);
  publish_abort_writes(p); /* left open only by a failure */
  return rc;
}
