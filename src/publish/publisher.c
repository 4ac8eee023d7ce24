/* The publisher object, manifest paths, uploads and retention. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdbee/ejson.h"
#include "publish_internal.h"

static const char *keep_string(mdb_publisher *p, const char *s) {
  char *copy = strdup(s);
  if (!copy) return NULL;
  p->strings[p->n_strings++] = copy;
  return copy;
}

static size_t count_strings(const mdb_publish_options *o) {
  size_t n = 1;
  for (size_t i = 0; i < o->n_collections; i++) {
    const mdb_publish_collection *c = &o->collections[i];
    n += 1 + c->n_redact;
    for (size_t j = 0; j < c->n_indexes; j++) n += 1 + c->indexes[j].n_fields;
  }
  return n;
}

/* Copies the option tree: arrays of pointers, then every string. */
static int copy_options(mdb_publisher *p, const mdb_publish_options *o) {
  p->opts = *o;
  p->strings = calloc(count_strings(o), sizeof *p->strings);
  mdb_publish_collection *cs = calloc(o->n_collections + 1, sizeof *cs);
  p->opts.collections = cs;
  if (!p->strings || !cs || !(p->opts.db = keep_string(p, o->db))) return 0;
  for (size_t i = 0; i < o->n_collections; i++) {
    const mdb_publish_collection *src = &o->collections[i];
    const char **redact = calloc(src->n_redact + 1, sizeof *redact);
    mdb_publish_index *ix = calloc(src->n_indexes + 1, sizeof *ix);
    cs[i] = *src;
    cs[i].redact = redact;
    cs[i].indexes = ix;
    if (!redact || !ix || !(cs[i].name = keep_string(p, src->name))) return 0;
    for (size_t j = 0; j < src->n_redact; j++)
      if (!(redact[j] = keep_string(p, src->redact[j]))) return 0;
    for (size_t j = 0; j < src->n_indexes; j++) {
      const char **fields = calloc(src->indexes[j].n_fields + 1, sizeof *fields);
      ix[j] = src->indexes[j];
      ix[j].fields = fields;
      if (!fields || !(ix[j].name = keep_string(p, src->indexes[j].name)))
        return 0;
      for (size_t k = 0; k < src->indexes[j].n_fields; k++)
        if (!(fields[k] = keep_string(p, src->indexes[j].fields[k]))) return 0;
    }
  }
  return 1;
}

int mdb_publisher_new(const mdb_publish_options *opts, mdb_store *store,
                      const mdb_publish_target *target, mdb_publisher **out,
                      mdb_error *err) {
  if (!opts->db || !opts->key)
    return mdb_error_set(err, MDBEE_EINVAL, "publisher needs a database and a key");
  mdb_publisher *p = calloc(1, sizeof *p);
  if (!p) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  p->store = store;
  p->target = *target;
  p->threads = opts->threads ? (opts->threads > 1 ? 2 : 1)
                             : sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
  p->ejson_mode = opts->canonical_json ? MDB_EJSON_CANONICAL : MDB_EJSON_RELAXED;
  p->ref_size = opts->encrypt ? MDB_ENCRYPT_REF_SIZE : MDB_REF_SIZE;
  if (opts->encrypt)
    mdb_key_derive(opts->key, "mdbee:publication-encryption:v1", p->secret);
  p->uploaded = malloc(PUBLISH_HAVE_BATCH * sizeof *p->uploaded);
  if (!p->uploaded || !copy_options(p, opts)) {
    mdb_publisher_free(p);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  *out = p;
  return MDBEE_OK;
}

void mdb_publisher_free(mdb_publisher *p) {
  if (!p) return;
  if (p->opts.collections) {
    for (size_t i = 0; i < p->opts.n_collections; i++) {
      const mdb_publish_collection *c = &p->opts.collections[i];
      if (c->indexes)
        for (size_t j = 0; j < c->n_indexes; j++) free((void *)c->indexes[j].fields);
      free((void *)c->redact);
      free((void *)c->indexes);
    }
    free((void *)p->opts.collections);
  }
  for (size_t i = 0; i < p->n_strings; i++) free(p->strings[i]);
  free(p->strings);
  free(p->uploaded);
  free(p->file_refs);
  sodium_memzero(p->secret, sizeof p->secret);
  free(p);
}

const char *mdb_publisher_database(const mdb_publisher *p) { return p->opts.db; }

const mdb_publish_collection *publish_find_collection(const mdb_publisher *p,
                                                      const char *name) {
  for (size_t i = 0; i < p->opts.n_collections; i++)
    if (strcmp(p->opts.collections[i].name, name) == 0)
      return &p->opts.collections[i];
  return NULL;
}

char *publish_doc_path(const char *coll, const char *docid) {
  size_t n = strlen(coll) + strlen(docid) + 2;
  char *path = malloc(n);
  if (path) snprintf(path, n, "%s/%s", coll, docid);
  return path;
}

char *publish_index_path(const char *coll, const char *index, size_t index_len,
                         const uint8_t *key, size_t key_len, const char *docid) {
  size_t n = strlen(coll) + index_len + key_len + strlen(docid) + 16;
  char *path = malloc(n);
  if (path)
    snprintf(path, n, "%s/$indexes/%.*s/%.*s/%s", coll, (int)index_len, index,
             (int)key_len, (const char *)key, docid);
  return path;
}

int publish_upload_sink(void *ctx, const mdb_chunk *chunk, mdb_error *err) {
  mdb_publisher *p = ctx;
  p->result->chunks_made++;
  publish_random_read(p);
  int has = 0, rc = MDBEE_OK;
  if (!p->have_txn) rc = mdb_store_begin(p->store, 1, &p->have_txn, err);
  if (rc == MDBEE_OK) rc = mdb_store_have_get(p->have_txn, chunk->address, &has, err);
  if (rc != MDBEE_OK || has) return rc;
  rc = p->target.put_chunk(p->target.ctx, chunk, err);
  if (rc != MDBEE_OK) return rc;
  p->result->chunks_uploaded++;
  memcpy(p->uploaded[p->n_uploaded++], chunk->address, 32);
  return p->n_uploaded == PUBLISH_HAVE_BATCH ? publish_flush_have(p, err)
                                             : MDBEE_OK;
}

void publish_random_read(mdb_publisher *p) {
  /* Each random lookup faults in a page of the map, and the kernel maps
   * its neighbours too: trimming every hundred or so keeps that bounded. */
  if (++p->random_reads % PUBLISH_TRIM_EVERY == 0) mdb_store_trim(p->store);
}

void publish_end_have_txn(mdb_publisher *p) {
  mdb_store_abort(p->have_txn);
  p->have_txn = NULL;
}

int publish_flush_have(mdb_publisher *p, mdb_error *err) {
  /* Queued chunks count as had only once the node confirmed them. */
  int rc = p->target.flush(p->target.ctx, err);
  if (rc != MDBEE_OK || p->n_uploaded == 0) return rc;
  publish_end_have_txn(p); /* later checks must see this batch */
  mdb_store_txn *txn;
  rc = publish_write_txn(p, &txn, err);
  for (size_t i = 0; rc == MDBEE_OK && i < p->n_uploaded; i++) {
    rc = mdb_store_have_set(txn, p->uploaded[i], 1, err);
    if (i % PUBLISH_TRIM_EVERY == PUBLISH_TRIM_EVERY - 1) mdb_store_trim(p->store);
  }
  if (rc == MDBEE_OK) p->n_uploaded = 0;
  /* Committed at once, with whatever else the shared transaction holds
   * (all of it safe to keep): a transaction's dirty pages are memory. */
  return rc == MDBEE_OK ? publish_commit_writes(p, err) : rc;
}

int publish_apply_retention(mdb_publisher *p, int64_t now, mdb_error *err) {
  if (p->opts.keep_last == 0 && p->opts.keep_seconds == 0) return MDBEE_OK;
  mdb_store_txn *txn;
  int rc = mdb_store_begin(p->store, 0, &txn, err);
  if (rc != MDBEE_OK) return rc;
  mdb_store_snapshot newest;
  rc = mdb_store_history_get(txn, p->opts.db, 0, &newest, err);
  for (uint64_t seq = 1; rc == MDBEE_OK && seq < newest.seq; seq++) {
    mdb_store_snapshot s;
    rc = mdb_store_history_get(txn, p->opts.db, seq, &s, err);
    if (rc == MDBEE_ENOTFOUND) {
      rc = MDBEE_OK;
      continue;
    }
    if (rc != MDBEE_OK || !s.pinned) continue;
    /* A snapshot stays pinned while any configured rule keeps it. */
    int recent = p->opts.keep_last && newest.seq - seq < p->opts.keep_last;
    int young = p->opts.keep_seconds && now - s.time <= p->opts.keep_seconds;
    if (recent || young) continue;
    rc = p->target.unpin(p->target.ctx, s.root, err);
    if (rc == MDBEE_OK) rc = mdb_store_history_set_pinned(txn, p->opts.db, seq, 0, err);
  }
  if (rc != MDBEE_OK) {
    mdb_store_abort(txn);
    return rc;
  }
  return mdb_store_commit(txn, err);
}
