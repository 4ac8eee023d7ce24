/* Shared between the publisher's files; not a public interface. */
#ifndef MDBEE_PUBLISH_INTERNAL_H
#define MDBEE_PUBLISH_INTERNAL_H

#include "mdbee/ejson.h"
#include "mdbee/mantaray.h"
#include "mdbee/publish.h"

/* Chunks whose upload is confirmed are recorded in the store's "have" set
 * in batches of this many, so a crash forgets little. */
enum { PUBLISH_HAVE_BATCH = 4096 };

/* Manifest chunks saved to the node cache per write transaction.  They
 * sit at random addresses, each copying a 4 KiB page of the cache, so
 * fewer commits write fewer pages (pages touched twice in a transaction
 * are written once) and wait for fewer disk flushes; a transaction's
 * dirty pages stay in memory until it commits (about 4 KiB per chunk). */
enum { PUBLISH_SAVE_BATCH = 16384 };

/* Random store lookups between two mdb_store_trim calls. */
enum { PUBLISH_TRIM_EVERY = 128 };

/* Documents encoded together by the publish_encoder. */
enum { PUBLISH_ENCODE_BATCH = 256 };

/* The encoder thread runs up to PUBLISH_AHEAD batches ahead of the
 * publisher thread: while the publisher thread saves a checkpoint (a few
 * tenths of a second, partly waiting for the disk) it can encode the
 * whole next checkpoint interval (PUBLISH_CHECKPOINT / 256 batches), so
 * that the publisher thread then only applies.  Each batch holds a copy
 * of its documents and their chunks (about 3.5 KiB per 1 KiB document),
 * so a batch ends early once its documents reach PUBLISH_BATCH_BYTES, the
 * walk collects no further ahead once PUBLISH_AHEAD_BYTES are waiting,
 * and a job's buffers larger than PUBLISH_JOB_KEEP are freed once it is
 * applied: a few large documents leave no large buffers behind. */
enum { PUBLISH_AHEAD = 64 };
enum { PUBLISH_BATCH_BYTES = 4 << 20, PUBLISH_AHEAD_BYTES = 16 << 20,
       PUBLISH_JOB_KEEP = 64 << 10 };

/* Default of mdb_publish_options.checkpoint_every. */
enum { PUBLISH_CHECKPOINT = 16384 };

/* Staged index changes applied between two trims of the map, and trims
 * per transaction. */
enum { PUBLISH_APPLY_BATCH = 4096, PUBLISH_APPLY_TRIMS = 4 };

struct mdb_publisher {
  mdb_publish_options opts; /* deep copy; strings owned by `strings` */
  char **strings;
  size_t n_strings;
  mdb_store *store;
  mdb_publish_target target;
  mdb_ejson_mode ejson_mode;
  size_t ref_size;            /* of published files: 32, or 64 encrypted */
  uint8_t secret[MDB_ENCRYPT_SECRET_SIZE]; /* convergent key secret */
  mdb_publish_result *result; /* of the snapshot in progress */
  uint8_t (*uploaded)[32];    /* confirmed, not yet in the have set */
  size_t n_uploaded;
  unsigned threads;           /* of the snapshot's walk: 1 or 2 */
  uint64_t random_reads;      /* for publish_random_read */
  mdb_store_txn *have_txn;    /* read transaction of the have-set checks,
                                 renewed whenever the set is written */
  mdb_store_txn *tree_txn;    /* read transaction of the manifest loader */
  mdb_store_txn *save_txn;    /* open write transaction shared by the node
                                 cache, the have set and the staged index
                                 changes (LMDB has one writer at a time);
                                 tree saves commit it */
  size_t cached_since_commit; /* nodes cached in save_txn */
  uint8_t (*file_refs)[32];   /* entries of the snapshot's own files (meta,
                                 explorer), whose leaves are cached */
  size_t n_file_refs, cap_file_refs;
};

const mdb_publish_collection *publish_find_collection(const mdb_publisher *p,
                                                      const char *name);

/* Manifest paths; malloc'd, NULL when out of memory. */
char *publish_doc_path(const char *coll, const char *docid);
char *publish_index_path(const char *coll, const char *index, size_t index_len,
                         const uint8_t *key, size_t key_len, const char *docid);

/* Files ref (p->ref_size bytes) under path with its Content-Type. */
int publish_put_ref(const mdb_publisher *p, mdb_mantaray *tree,
                    const char *path, const uint8_t *ref,
                    const char *content_type, mdb_error *err);

/* Splits data into chunks for sink (plain, or encrypted with convergent
 * keys) and writes its p->ref_size-byte reference. */
int publish_split(const mdb_publisher *p, const void *data, size_t len,
                  mdb_chunk_sink sink, void *ctx, uint8_t *ref,
                  mdb_error *err);

/* Removes the entry at path; a missing entry is not an error. */
int publish_remove(mdb_mantaray *tree, const char *path, mdb_error *err);

/* Makes name the page served for the manifest's root. */
int publish_set_index_document(mdb_publisher *p, mdb_mantaray *tree,
                               const char *name, mdb_error *err);

/* mdb_chunk_sink (ctx: the publisher) sending chunks the node lacks. */
int publish_upload_sink(void *ctx, const mdb_chunk *chunk, mdb_error *err);

/* Counts one random lookup in the store (have set, node cache, document
 * index), trimming its map every PUBLISH_TRIM_EVERY. */
void publish_random_read(mdb_publisher *p);

/* Ends the have-set read transaction (before the store is written or the
 * snapshot ends). */
void publish_end_have_txn(mdb_publisher *p);

/* Records the confirmed uploads in the store's have set. */
int publish_flush_have(mdb_publisher *p, mdb_error *err);

/* Opens the previous snapshot's manifest (prev NULL: an empty one) with
 * nodes loaded lazily from the local node cache, minus its $meta, and
 * encrypting its saves when p->encrypt.  MDBEE_ECONFIG when the state was
 * published with the other encryption setting.  The loader's read
 * transaction lives until publish_close_tree. */
int publish_open_tree(mdb_publisher *p, const uint8_t *prev,
                      mdb_mantaray **out, mdb_error *err);
void publish_close_tree(mdb_publisher *p, mdb_mantaray *tree);

/* The shared write transaction (p->save_txn), begun when needed. */
int publish_write_txn(mdb_publisher *p, mdb_store_txn **out, mdb_error *err);

/* Commits the shared write transaction, if open. */
int publish_commit_writes(mdb_publisher *p, mdb_error *err);

/* Discards the shared write transaction, if open. */
void publish_abort_writes(mdb_publisher *p);

/* Ends the manifest loader's read transaction; the tree must not load
 * nodes until publish_unload_tree gives it a new one. */
void publish_end_tree_txn(mdb_publisher *p);

/* Ends the publisher's read transactions (have set, manifest loader) and
 * begins the loader's again, so that no reader pins old pages for long. */
int publish_renew_readers(mdb_publisher *p, mdb_error *err);

/* Drops a saved tree's nodes from memory; they are read back from the
 * node cache when needed. */
int publish_unload_tree(mdb_publisher *p, mdb_mantaray *tree, mdb_error *err);

/* Saves the tree's dirty nodes into the node cache and uploads them. */
int publish_save_tree(mdb_publisher *p, mdb_mantaray *tree, uint8_t root[32],
                      mdb_error *err);

/* Splits data, uploads it and files it under path with content_type. */
int publish_put_file(mdb_publisher *p, mdb_mantaray *tree, const char *path,
                     const uint8_t *data, size_t len, const char *content_type,
                     mdb_error *err);

/* Chunk record in publish_doc_job.chunks, followed by size bytes. */
typedef struct publish_chunk_head {
  uint8_t address[32];
  size_t size;
} publish_chunk_head;

/* One pending change of a snapshot.  For an upsert of a published
 * collection (encode = 1), the publish_encoder fills rc/err, and on
 * success ref, size and the chunks of the document's JSON. */
typedef struct publish_doc_job {
  mdb_store_change change; /* points into bytes */
  uint8_t *bytes; /* copy of the change's key and document; reused */
  size_t bytes_cap;
  const mdb_publish_collection *coll; /* NULL: not published */
  int encode;
  int rc;
  mdb_error err;
  uint8_t ref[MDB_STORE_REF_MAX]; /* p->ref_size bytes */
  uint64_t size;
  uint8_t *chunks; /* publish_chunk_head + bytes, back to back; reused */
  size_t chunks_len, chunks_cap;
} publish_doc_job;

/* Monotonic clock, for the timings of mdb_publish_result. */
double publish_seconds(void);

/* The encoder of a snapshot's walk: encodes, splits and hashes the jobs
 * marked encode of one batch at a time, on a thread of its own while the
 * publisher thread applies the batch before (p->threads > 1), and on the
 * publisher thread as it waits.  Adds the time spent to p->result. */
typedef struct publish_encoder publish_encoder;

/* MDBEE_ENOMEM when out of memory; a thread that cannot be made only
 * leaves all the work to the publisher thread. */
int publish_encoder_start(mdb_publisher *p, publish_encoder **out,
                          mdb_error *err);

/* How many batches may be submitted and not yet waited for:
 * PUBLISH_AHEAD with a thread, 1 without. */
size_t publish_encoder_depth(const publish_encoder *e);

/* Starts encoding jobs[0..n) (n > 0) after the batches submitted before.
 * They must not be touched until publish_encoder_wait returns for them,
 * nor point into a read transaction that may end meanwhile. */
void publish_encoder_submit(publish_encoder *e, publish_doc_job *jobs,
                            size_t n);

/* Encodes what is left of the oldest submitted batch (there must be one)
 * on the calling thread and returns when all of it is done. */
void publish_encoder_wait(publish_encoder *e);

/* Waits for the encoder thread to leave the batch it is in and ends it. */
void publish_encoder_free(publish_encoder *e);

/* Counts the job's chunks and, when send is 1, hands them to the target
 * in the order the splitter made them.  Documents' chunks bypass the have
 * set: the document index records what was published, so the publisher
 * sends them exactly when a document's bytes changed. */
int publish_send_job(mdb_publisher *p, publish_doc_job *job, int send,
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
