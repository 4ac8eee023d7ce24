/* Shared between the publisher's files; not a public interface. */
#ifndef MDBEE_PUBLISH_INTERNAL_H
#define MDBEE_PUBLISH_INTERNAL_H

#include "mdbee/ejson.h"
#include "mdbee/mantaray.h"
#include "mdbee/publish.h"

/* Chunks whose upload is confirmed are recorded in the store's "have" set
 * in batches of this many, so a crash forgets little. */
enum { PUBLISH_HAVE_BATCH = 1024 };

struct mdb_publisher {
  mdb_publish_options opts; /* deep copy; strings owned by `strings` */
  char **strings;
  size_t n_strings;
  mdb_store *store;
  mdb_publish_target target;
  mdb_ejson_mode ejson_mode;
  mdb_publish_result *result; /* of the snapshot in progress */
  uint8_t (*uploaded)[32];    /* confirmed, not yet in the have set */
  size_t n_uploaded;
  mdb_store_txn *tree_txn;    /* read transaction of the manifest loader */
  mdb_store_txn *save_txn;    /* open write transaction of a tree save, which
                                 the have set is recorded in (LMDB has one
                                 writer at a time) */
};

const mdb_publish_collection *publish_find_collection(const mdb_publisher *p,
                                                      const char *name);

/* Manifest paths; malloc'd, NULL when out of memory. */
char *publish_doc_path(const char *coll, const char *docid);
char *publish_index_path(const char *coll, const char *index, size_t index_len,
                         const uint8_t *key, size_t key_len, const char *docid);

/* Files ref under path with its Content-Type. */
int publish_put_ref(mdb_mantaray *tree, const char *path,
                    const uint8_t ref[32], const char *content_type,
                    mdb_error *err);

/* Removes the entry at path; a missing entry is not an error. */
int publish_remove(mdb_mantaray *tree, const char *path, mdb_error *err);

/* Makes name the page served for the manifest's root. */
int publish_set_index_document(mdb_mantaray *tree, const char *name,
                               mdb_error *err);

/* mdb_chunk_sink (ctx: the publisher) sending chunks the node lacks. */
int publish_upload_sink(void *ctx, const mdb_chunk *chunk, mdb_error *err);

/* Records the confirmed uploads in the store's have set. */
int publish_flush_have(mdb_publisher *p, mdb_error *err);

/* Opens the previous snapshot's manifest (prev NULL: an empty one) with
 * nodes loaded lazily from the local node cache, minus its $meta.  The
 * loader's read transaction lives until publish_close_tree. */
int publish_open_tree(mdb_publisher *p, const uint8_t *prev,
                      mdb_mantaray **out, mdb_error *err);
void publish_close_tree(mdb_publisher *p, mdb_mantaray *tree);

/* Saves the tree's dirty nodes into the node cache and uploads them. */
int publish_save_tree(mdb_publisher *p, mdb_mantaray *tree, uint8_t root[32],
                      mdb_error *err);

/* Splits data, uploads it and files it under path with content_type. */
int publish_put_file(mdb_publisher *p, mdb_mantaray *tree, const char *path,
                     const uint8_t *data, size_t len, const char *content_type,
                     mdb_error *err);

int publish_collection_meta(mdb_publisher *p, mdb_mantaray *tree,
                            const uint64_t *counts, mdb_error *err);
int publish_db_meta(mdb_publisher *p, mdb_mantaray *tree,
                    const uint8_t state_root[32], const uint8_t *prev_root,
                    const mdb_publish_stamp *stamp, mdb_error *err);
int publish_explorer(mdb_publisher *p, mdb_mantaray *tree, mdb_error *err);

int publish_feed_manifest_upload(mdb_publisher *p, mdb_error *err);
int publish_feed_update(mdb_publisher *p, uint64_t index, int64_t now,
                        const uint8_t root[32], mdb_error *err);

/* Unpins snapshots that the retention policy no longer keeps. */
int publish_apply_retention(mdb_publisher *p, int64_t now, mdb_error *err);

#endif
