/* The snapshot's manifest: opened lazily from the node cache, saved into
 * it, and the files the publisher adds beside the documents. */
#include <stdlib.h>
#include <string.h>

#include "mdbee/docid.h"
#include "publish_internal.h"

/* Bee answers Content-Type and, from Filename, Content-Disposition for an
 * entry, as for the files of its own /bzz uploads; clients such as bee-js
 * expect both. */
int publish_put_ref(const mdb_publisher *p, mdb_mantaray *tree,
                    const char *path, const uint8_t *ref,
                    const char *content_type, mdb_error *err) {
  const char *slash = strrchr(path, '/');
  mdb_mantaray_kv meta[] = {{"Content-Type", content_type},
                            {"Filename", slash ? slash + 1 : path}};
  mdb_mantaray_entry e = {.path = (const uint8_t *)path,
                          .path_len = strlen(path), .ref = ref,
                          .ref_size = p->ref_size, .meta = meta, .n_meta = 2};
  return mdb_mantaray_put(tree, &e, err);
}

int publish_remove(mdb_mantaray *tree, const char *path, mdb_error *err) {
  int rc = mdb_mantaray_remove(tree, (const uint8_t *)path, strlen(path), err);
  return rc == MDBEE_ENOTFOUND ? MDBEE_OK : rc;
}

/* Notes ref as the entry of a file the publisher adds itself: save_sink
 * keeps such leaves in the node cache, since resolve_leaf rebuilds only
 * documents' leaves. */
static int keep_file_leaf(mdb_publisher *p, const uint8_t *ref,
                          mdb_error *err) {
  if (p->ref_size != 32) return MDBEE_OK;
  if (p->n_file_refs == p->cap_file_refs) {
    size_t cap = p->cap_file_refs ? 2 * p->cap_file_refs : 8;
    uint8_t(*grown)[32] = realloc(p->file_refs, cap * sizeof *grown);
    if (!grown) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    p->file_refs = grown;
    p->cap_file_refs = cap;
  }
  memcpy(p->file_refs[p->n_file_refs++], ref, 32);
  return MDBEE_OK;
}

static int is_file_ref(const mdb_publisher *p, const uint8_t *ref) {
  for (size_t i = 0; i < p->n_file_refs; i++)
    if (memcmp(p->file_refs[i], ref, 32) == 0) return 1;
  return 0;
}

/* Bee serves the entry named by the "/" entry's website-index-document
 * when a manifest is requested without a path, as bee-js and Bee write
 * it: a "/" entry with a zero reference. */
int publish_set_index_document(mdb_publisher *p, mdb_mantaray *tree,
                               const char *name, mdb_error *err) {
  static const uint8_t zero[MDB_ENCRYPT_REF_SIZE];
  int rc = keep_file_leaf(p, zero, err);
  if (rc != MDBEE_OK) return rc;
  mdb_mantaray_kv index = {"website-index-document", name};
  mdb_mantaray_entry e = {.path = (const uint8_t *)"/", .path_len = 1,
                          .ref = zero, .ref_size = p->ref_size, .meta = &index,
                          .n_meta = 1};
  return mdb_mantaray_put(tree, &e, err);
}

/* mdb_chunk_source reading manifest nodes from the local node cache, in
 * the publisher's tree_txn. */
static int load_cached(void *ctx, const uint8_t address[32], uint8_t *buf,
                       size_t *size, mdb_error *err) {
  mdb_publisher *p = ctx;
  const uint8_t *data;
  size_t len;
  publish_random_read(p);
  int rc = mdb_store_chunk_get(p->tree_txn, address, &data, &len, err);
  if (rc != MDBEE_OK) return rc;
  if (len > MDB_CHUNK_SIZE_MAX)
    return mdb_error_set(err, MDBEE_ESTATE, "cached chunk of %zu bytes", len);
  memcpy(buf, data, len);
  *size = len;
  return MDBEE_OK;
}

/* mdb_mantaray_leaf_source for the leaves save_sink keeps out of the node
 * cache.  A document's path (<coll>/<docid>) and its index paths
 * (<coll>/$indexes/<index>/<key>/<docid>) all hold the document's current
 * reference: staged by this snapshot (in p->save_txn, which sees its own
 * uncommitted writes), else published before (the document index).  The
 * tree checks that the rebuilt leaf has the expected address. */
static int resolve_leaf(void *ctx, const uint8_t *path, size_t len,
                        uint8_t ref[MDB_MANTARAY_REF_MAX], size_t *ref_size,
                        mdb_error *err) {
  mdb_publisher *p = ctx;
  const char *s = (const char *)path;
  *ref_size = p->ref_size;
  const char *slash = memchr(s, '/', len);
  size_t docid = len;
  while (docid > 0 && s[docid - 1] != '/') docid--;
  uint8_t *id = NULL;
  size_t id_len = 0;
  if (!slash ||
      mdb_docid_decode(s + docid, len - docid, &id, &id_len, err) != MDBEE_OK)
    return mdb_error_set(err, MDBEE_ESTATE,
                         "manifest leaf at %.*s is missing from the node "
                         "cache and names no document",
                         (int)(len > 200 ? 200 : len), s);
  mdb_store_key key = {p->opts.db, strlen(p->opts.db), s, (size_t)(slash - s),
                       id, id_len};
  mdb_store_txn *txn;
  mdb_store_doc doc;
  publish_random_read(p);
  int rc = publish_write_txn(p, &txn, err);
  if (rc == MDBEE_OK) rc = mdb_store_stage_doc_get(txn, &key, &doc, err);
  free(id);
  if (rc == MDBEE_OK && doc.ref_len != p->ref_size)
    rc = mdb_error_set(err, MDBEE_ESTATE, "a %zu-byte document reference",
                       doc.ref_len);
  if (rc == MDBEE_ENOTFOUND)
    rc = mdb_error_set(err, MDBEE_ESTATE, "no document in the local state");
  if (rc != MDBEE_OK)
    return mdb_error_wrap(err, "rebuilding the manifest leaf at %.*s",
                          (int)(len > 200 ? 200 : len), s);
  memcpy(ref, doc.ref, doc.ref_len);
  return MDBEE_OK;
}

/* Stops a document walk at the first document, noting its reference
 * size. */
static int first_ref_size(void *ctx, const mdb_store_key *key,
                          const mdb_store_doc *doc) {
  (void)key;
  *(size_t *)ctx = doc->ref_len;
  return MDBEE_ECANCELED;
}

/* Every published document has the reference size of the setting it was
 * published with, so one document tells the state's setting. */
static int check_encrypt_setting(mdb_publisher *p, mdb_error *err) {
  size_t found = 0;
  int rc = mdb_store_doc_each(p->tree_txn, p->opts.db, NULL, first_ref_size,
                              &found, err);
  if (rc != MDBEE_OK && rc != MDBEE_ECANCELED) return rc;
  if (found == 0 || found == p->ref_size) return MDBEE_OK;
  return mdb_error_set(
      err, MDBEE_ECONFIG,
      "snapshot.encrypt: database %s was published with encrypt: %s from "
      "this state_dir; changing the setting needs a new (empty) state_dir",
      p->opts.db, found == MDB_ENCRYPT_REF_SIZE ? "true" : "false");
}

int publish_open_tree(mdb_publisher *p, const uint8_t *prev,
                      mdb_mantaray **out, mdb_error *err) {
  int rc;
  p->n_file_refs = 0;
  if (!prev) {
    rc = mdb_mantaray_new(out, err);
  } else {
    rc = mdb_store_begin(p->store, 1, &p->tree_txn, err);
    if (rc != MDBEE_OK) return rc;
    rc = check_encrypt_setting(p, err);
    if (rc == MDBEE_OK) rc = mdb_mantaray_open(prev, load_cached, p, out, err);
    if (rc != MDBEE_OK) return mdb_error_wrap(err, "opening the last snapshot");
  }
  if (rc == MDBEE_OK && p->opts.encrypt) mdb_mantaray_encrypt(*out, p->secret);
  else if (rc == MDBEE_OK) mdb_mantaray_leaves(*out, resolve_leaf, p);
  /* The state root is the snapshot root without $meta. */
  if (rc == MDBEE_OK && prev) rc = publish_remove(*out, "$meta", err);
  return rc;
}

void publish_close_tree(mdb_publisher *p, mdb_mantaray *tree) {
  mdb_mantaray_free(tree);
  publish_end_tree_txn(p);
}

void publish_end_tree_txn(mdb_publisher *p) {
  mdb_store_abort(p->tree_txn);
  p->tree_txn = NULL;
}

int publish_unload_tree(mdb_publisher *p, mdb_mantaray *tree,
                        mdb_error *err) {
  /* A new read transaction sees the nodes saved since the last one. */
  publish_end_tree_txn(p);
  int rc = mdb_store_begin(p->store, 1, &p->tree_txn, err);
  if (rc == MDBEE_OK) rc = mdb_mantaray_unload(tree, load_cached, p, err);
  return rc;
}

int publish_renew_readers(mdb_publisher *p, mdb_error *err) {
  publish_end_have_txn(p);
  int loading = p->tree_txn != NULL;
  publish_end_tree_txn(p);
  return loading ? mdb_store_begin(p->store, 1, &p->tree_txn, err) : MDBEE_OK;
}

int publish_write_txn(mdb_publisher *p, mdb_store_txn **out, mdb_error *err) {
  int rc = MDBEE_OK;
  if (!p->save_txn) rc = mdb_store_begin(p->store, 0, &p->save_txn, err);
  *out = p->save_txn;
  return rc;
}

int publish_commit_writes(mdb_publisher *p, mdb_error *err) {
  if (!p->save_txn) return MDBEE_OK;
  int rc = mdb_store_commit(p->save_txn, err);
  p->save_txn = NULL;
  p->cached_since_commit = 0;
  mdb_store_trim(p->store);
  return rc;
}

void publish_abort_writes(mdb_publisher *p) {
  mdb_store_abort(p->save_txn);
  p->save_txn = NULL;
  p->cached_since_commit = 0;
}

/* Whether chunk is a plain (unencrypted) mantaray node holding one 32-byte
 * entry and no forks: a header (zero key, version, reference size 32),
 * the entry, an all-zero fork bitmap. */
static int is_leaf(const mdb_chunk *chunk) {
  enum { HEADER = 64, LEAF = HEADER + 32 + 32 };
  const uint8_t *payload = chunk->data + MDB_SPAN_SIZE;
  if (chunk->size != MDB_SPAN_SIZE + LEAF || payload[HEADER - 1] != 32)
    return 0;
  for (size_t i = HEADER + 32; i < LEAF; i++)
    if (payload[i]) return 0;
  return 1;
}

/* Manifest chunks go to the node and, all but documents' leaves, to the
 * local cache, in batches of write transactions (p->save_txn).  A leaf
 * node, one per document entry, is saved only when its entry changed, so
 * it is new to the node like a changed document's chunks: it skips the
 * have set.  Nor is it cached: a put or remove ending at it never reads
 * it, and when a path goes on past it (i-1, then i-10) resolve_leaf
 * rebuilds it.  Caching leaves (nine tenths of the nodes) cost a random
 * page copy in the cache's B-tree each, most of a large snapshot's
 * manifest time.  An encrypted leaf's address depends on its key, so
 * encrypted trees cache every node. */
static int save_sink(void *ctx, const mdb_chunk *chunk, mdb_error *err) {
  mdb_publisher *p = ctx;
  p->result->manifest_chunks++;
  int rc = MDBEE_OK;
  if (!p->opts.encrypt && is_leaf(chunk) &&
      !is_file_ref(p, chunk->data + MDB_SPAN_SIZE + 64)) {
    p->result->chunks_made++;
    rc = p->target.put_chunk(p->target.ctx, chunk, err);
    if (rc == MDBEE_OK) p->result->chunks_uploaded++;
    return rc;
  }
  publish_random_read(p); /* the cache insert reads a random page */
  mdb_store_txn *txn;
  rc = publish_write_txn(p, &txn, err);
  if (rc == MDBEE_OK)
    rc = mdb_store_chunk_put(txn, chunk->address, chunk->data,
                             chunk->size, err);
  if (rc == MDBEE_OK) rc = publish_upload_sink(p, chunk, err);
  if (rc == MDBEE_OK && ++p->cached_since_commit == PUBLISH_SAVE_BATCH)
    rc = publish_commit_writes(p, err);
  return rc;
}

int publish_save_tree(mdb_publisher *p, mdb_mantaray *tree, uint8_t root[32],
                      mdb_error *err) {
  int rc = mdb_mantaray_save(tree, save_sink, p, root, err);
  if (rc == MDBEE_OK) return publish_commit_writes(p, err);
  publish_abort_writes(p);
  return rc;
}

int publish_split(const mdb_publisher *p, const void *data, size_t len,
                  mdb_chunk_sink sink, void *ctx, uint8_t *ref,
                  mdb_error *err) {
  if (p->opts.encrypt)
    return mdb_encrypt_convergent_split(p->secret, data, len, sink, ctx, ref,
                                        err);
  return mdb_chunk_tree_split(data, len, sink, ctx, ref, err);
}

int publish_put_file(mdb_publisher *p, mdb_mantaray *tree, const char *path,
                     const uint8_t *data, size_t len, const char *content_type,
                     mdb_error *err) {
  uint8_t ref[MDB_ENCRYPT_REF_SIZE];
  int rc = publish_split(p, data, len, publish_upload_sink, p, ref, err);
  if (rc == MDBEE_OK) rc = keep_file_leaf(p, ref, err);
  if (rc != MDBEE_OK) return rc;
  return publish_put_ref(p, tree, path, ref, content_type, err);
}
