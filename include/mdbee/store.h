/* mdbee local state: an LMDB environment in the configured state directory.
 *
 * It holds what the bridge must remember between events and snapshots:
 *   - pending changes: (db, collection, _id) -> newest full document or a
 *     delete marker, so a snapshot serialises each dirty document once;
 *   - the document index: (db, collection, _id) -> published reference,
 *     size and the document's published index keys;
 *   - a cache of manifest chunks (address -> span || payload);
 *   - the set of chunk addresses the Bee node already has;
 *   - one resume token (and cluster time) per change stream;
 *   - snapshot history and per-collection statistics;
 *   - a scratch "seen" set used while a collection is re-scanned;
 *   - the document-index changes of the snapshot in progress ("stage").
 *
 * Every read or write goes through an explicit transaction, so the bridge
 * applies a change event together with its resume token, or a whole
 * snapshot (document index + cleared pendings + history entry), atomically:
 * a crash (even kill -9) between two transactions never applies an event
 * twice nor loses one.
 *
 * Keys: a document is named by (db, collection, _id).  Its byte layout is
 * u16 big-endian db length, db, u16 big-endian collection length,
 * collection, then the _id as a BSON element value: its type byte followed
 * by the value bytes exactly as BSON stores them.  Iteration is in that
 * byte order.  The whole key must fit LMDB's 511-byte key limit; larger
 * _ids are refused with MDBEE_EINVAL.
 *
 * Threads: one mdb_store may be used by one thread at a time; that thread
 * may hold several read transactions at once (the environment is opened
 * with MDB_NOTLS), e.g. a long-lived one for lazy manifest loading.  Pointers
 * returned by getters and iterators point into the database map and stay
 * valid until the transaction that produced them ends.
 */
#ifndef MDBEE_STORE_H
#define MDBEE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

typedef struct mdb_store mdb_store;
typedef struct mdb_store_txn mdb_store_txn;

/* Longest reference the store keeps: 32 bytes, or 64 when encrypted. */
#define MDB_STORE_REF_MAX 64
/* Longest key LMDB accepts (its compiled-in default). */
#define MDB_STORE_KEY_MAX 511

/* Opens (creating if needed) the state in directory dir, which is created
 * when missing.  The map starts at 1 GiB and doubles whenever a write
 * transaction begins with it more than three-quarters used; a single
 * transaction that overflows it fails with MDBEE_ESTATE, after which the
 * map is grown so that a retry can succeed.  On success *out owns the
 * environment; release it with mdb_store_close. */
int mdb_store_open(const char *dir, mdb_store **out, mdb_error *err);

/* Closes the environment.  All transactions must have ended.  NULL is a
 * no-op. */
void mdb_store_close(mdb_store *store);

/* Current map size in bytes (for status and tests). */
size_t mdb_store_map_size(const mdb_store *store);

/* Starts a transaction; read_only != 0 gives a read transaction.  Only one
 * write transaction may be open at a time.  End it with mdb_store_commit
 * or mdb_store_abort, which both free it. */
int mdb_store_begin(mdb_store *store, int read_only, mdb_store_txn **out,
                    mdb_error *err);

/* Makes the transaction's writes durable, or returns MDBEE_ESTATE (all of
 * them discarded).  Frees txn in every case. */
int mdb_store_commit(mdb_store_txn *txn, mdb_error *err);

/* Discards the transaction and frees it.  NULL is a no-op. */
void mdb_store_abort(mdb_store_txn *txn);

/* ---- Document keys ---------------------------------------------------- */

/* A document's name.  id is the _id as a BSON element value (type byte then
 * value bytes); db and coll are NUL-free UTF-8, not necessarily
 * NUL-terminated when returned by the store. */
typedef struct mdb_store_key {
  const char *db;
  size_t db_len;
  const char *coll;
  size_t coll_len;
  const uint8_t *id;
  size_t id_len;
} mdb_store_key;

/* Fills key from NUL-terminated db and coll names and an _id. */
void mdb_store_key_init(mdb_store_key *key, const char *db, const char *coll,
                        const uint8_t *id, size_t id_len);

/* ---- Pending changes -------------------------------------------------- */

/* A pending change as iteration returns it.  seq increases with every
 * write of a pending entry; mdb_store_pending_clear uses it to tell whether
 * the entry changed after a snapshot read it. */
typedef struct mdb_store_change {
  mdb_store_key key;
  uint64_t seq;
  int deleted;            /* 1: the document is gone */
  const uint8_t *doc;     /* full BSON document, NULL when deleted */
  size_t doc_len;
} mdb_store_change;

/* Records that the document now has content doc (a complete BSON
 * document of doc_len bytes), replacing any earlier pending change. */
int mdb_store_pending_upsert(mdb_store_txn *txn, const mdb_store_key *key,
                             const uint8_t *doc, size_t doc_len,
                             mdb_error *err);

/* Records that the document was deleted, replacing any earlier pending
 * change. */
int mdb_store_pending_delete(mdb_store_txn *txn, const mdb_store_key *key,
                             mdb_error *err);

/* Records a delete for every document of collection coll of db that the
 * store knows (document index or pending upsert): what a drop, a rename
 * away or an invalidate implies.  coll NULL covers every collection of db
 * (dropDatabase). */
int mdb_store_pending_drop(mdb_store_txn *txn, const char *db,
                           const char *coll, mdb_error *err);

/* Reads the pending change of one document: MDBEE_ENOTFOUND when none. */
int mdb_store_pending_get(mdb_store_txn *txn, const mdb_store_key *key,
                          mdb_store_change *out, mdb_error *err);

/* Removes the pending change of key if its seq still equals seq, i.e. if
 * no event touched the document since the snapshot read it; otherwise
 * leaves it for the next snapshot.  A missing entry is not an error. */
int mdb_store_pending_clear(mdb_store_txn *txn, const mdb_store_key *key,
                            uint64_t seq, mdb_error *err);

/* Number of pending changes. */
int mdb_store_pending_count(mdb_store_txn *txn, uint64_t *out,
                            mdb_error *err);

/* Calls fn for every pending change in key order, with a cursor (memory
 * does not grow with the number of entries).  fn returns 0 to go on, or a
 * nonzero status that stops the walk and is returned as is.  fn must not
 * write through txn. */
typedef int (*mdb_store_change_fn)(void *ctx, const mdb_store_change *c);
int mdb_store_pending_each(mdb_store_txn *txn, mdb_store_change_fn fn,
                           void *ctx, mdb_error *err);

/* As mdb_store_pending_each, from the first change whose key follows
 * after (NULL: from the first change), so that a long walk can go on in a
 * new transaction where the last one stopped. */
int mdb_store_pending_each_after(mdb_store_txn *txn,
                                 const mdb_store_key *after,
                                 mdb_store_change_fn fn, void *ctx,
                                 mdb_error *err);

/* ---- Document index --------------------------------------------------- */

/* One published index entry of a document: the index name and the
 * order-preserving encoded key it was filed under. */
typedef struct mdb_store_index_key {
  const char *index;
  size_t index_len;
  const uint8_t *key;
  size_t key_len;
} mdb_store_index_key;

/* What the last snapshot published for a document. */
typedef struct mdb_store_doc {
  uint8_t ref[MDB_STORE_REF_MAX];  /* root of the document's chunk tree */
  size_t ref_len;                  /* 32, or 64 when encrypted */
  uint64_t size;                   /* bytes of the published JSON */
  /* Index keys.  For mdb_store_doc_put: an array of n_index_keys entries.
   * From mdb_store_doc_get / _each: an encoded list, read it with
   * mdb_store_doc_index_next. */
  const mdb_store_index_key *index_keys;
  size_t n_index_keys;
  const uint8_t *index_blob;
  size_t index_blob_len;
} mdb_store_doc;

/* Inserts or replaces the index entry of key and keeps the collection's
 * statistics (count, bytes) in step. */
int mdb_store_doc_put(mdb_store_txn *txn, const mdb_store_key *key,
                      const mdb_store_doc *doc, mdb_error *err);

/* Reads the entry of key: MDBEE_ENOTFOUND when absent, MDBEE_ESTATE when
 * the stored bytes are corrupt. */
int mdb_store_doc_get(mdb_store_txn *txn, const mdb_store_key *key,
                      mdb_store_doc *out, mdb_error *err);

/* Removes the entry of key and updates the statistics; a missing entry is
 * not an error. */
int mdb_store_doc_del(mdb_store_txn *txn, const mdb_store_key *key,
                      mdb_error *err);

/* Steps through the index keys of a doc read from the store: start with
 * *pos = 0; returns 1 and fills out while there is one, 0 at the end,
 * -1 when the stored list is corrupt. */
int mdb_store_doc_index_next(const mdb_store_doc *doc, size_t *pos,
                             mdb_store_index_key *out);

/* Calls fn for every indexed document of db/coll (coll NULL: every
 * collection of db; db NULL: everything) in key order.  Same contract as
 * mdb_store_pending_each. */
typedef int (*mdb_store_doc_fn)(void *ctx, const mdb_store_key *key,
                                const mdb_store_doc *doc);
int mdb_store_doc_each(mdb_store_txn *txn, const char *db, const char *coll,
                       mdb_store_doc_fn fn, void *ctx, mdb_error *err);

/* Per-collection statistics kept by mdb_store_doc_put/_del. */
typedef struct mdb_store_stats {
  uint64_t count;  /* documents in the index */
  uint64_t bytes;  /* sum of their published JSON sizes */
} mdb_store_stats;

/* Reads the statistics of db/coll (all zero when never written). */
int mdb_store_stats_get(mdb_store_txn *txn, const char *db, const char *coll,
                        mdb_store_stats *out, mdb_error *err);

/* ---- Re-scan bookkeeping ---------------------------------------------- */

/* A re-scan (initial sync, or after the resume point was lost) must delete
 * what the database no longer has.  scan_begin forgets earlier marks of
 * db/coll; scan_mark records a document the scan saw; scan_end records a
 * pending delete for every known document (index or pending upsert) of
 * db/coll that was not marked, then forgets the marks.  Marks live in the
 * database, so a scan may span many transactions. */
int mdb_store_scan_begin(mdb_store_txn *txn, const char *db,
                         const char *coll, mdb_error *err);
int mdb_store_scan_mark(mdb_store_txn *txn, const mdb_store_key *key,
                        mdb_error *err);
int mdb_store_scan_end(mdb_store_txn *txn, const char *db, const char *coll,
                       mdb_error *err);

/* ---- Staged index changes of a snapshot ------------------------------- */

/* A snapshot stages the document-index change of every pending change it
 * consumes while it uploads, so that a snapshot of any size needs no RAM
 * per document, then applies them once it is recorded.  Staged entries are
 * named by document key, so each database has its own. */

/* Stages the change of key for the pending change numbered seq: doc is
 * the new index entry (deleted = 0), or the document was deleted
 * (deleted = 1), or doc is NULL and deleted 0 when the published document
 * stays as it is and only the pending change is to be cleared. */
int mdb_store_stage_put(mdb_store_txn *txn, const mdb_store_key *key,
                        uint64_t seq, const mdb_store_doc *doc, int deleted,
                        mdb_error *err);

/* Reads the document-index entry key will have once the staged changes
 * are applied: the staged entry, else the published one (as
 * mdb_store_doc_get).  MDBEE_ENOTFOUND when there is neither or a staged
 * change deletes it, MDBEE_ESTATE when the stored bytes are corrupt. */
int mdb_store_stage_doc_get(mdb_store_txn *txn, const mdb_store_key *key,
                            mdb_store_doc *out, mdb_error *err);

/* Applies up to max staged changes of db in key order: writes or deletes
 * their index entries (statistics in step), clears their pending change
 * when its seq is unchanged (mdb_store_pending_clear), and unstages them.
 * Sets *more to 1 when staged changes of db remain, else removes the
 * seal.  Applying a change twice, or one whose snapshot was superseded,
 * is harmless. */
int mdb_store_stage_apply(mdb_store_txn *txn, const char *db, size_t max,
                          int *more, mdb_error *err);

/* Seals db's staged changes, in the transaction that records their
 * snapshot: from then on they are that snapshot's document index, to be
 * applied (until mdb_store_stage_apply has applied the last) rather than
 * cleared, even after a crash.  mdb_store_stage_sealed tells. */
int mdb_store_stage_seal(mdb_store_txn *txn, const char *db, mdb_error *err);
int mdb_store_stage_sealed(mdb_store_txn *txn, const char *db, int *sealed,
                           mdb_error *err);

/* Forgets every staged change of db (of a snapshot that did not finish)
 * and its seal. */
int mdb_store_stage_clear(mdb_store_txn *txn, const char *db, mdb_error *err);

/* ---- Memory ------------------------------------------------------------ */

/* Lets go of the database pages this process has read through the memory
 * map: they stay in the kernel's page cache and are mapped again when next
 * read, so pointers from open transactions stay valid.  Long walks call it
 * now and then to keep the resident set bounded whatever the state's
 * size. */
void mdb_store_trim(mdb_store *store);

/* ---- Chunk cache (manifest nodes) ------------------------------------- */

/* Stores chunk data (8-byte span then payload, 8..4104 bytes) under its
 * 32-byte address.  The store does not re-hash: callers pass addresses
 * they computed. */
int mdb_store_chunk_put(mdb_store_txn *txn, const uint8_t address[32],
                        const uint8_t *data, size_t len, mdb_error *err);

/* Points *data at the cached chunk of address: MDBEE_ENOTFOUND when not
 * cached. */
int mdb_store_chunk_get(mdb_store_txn *txn, const uint8_t address[32],
                        const uint8_t **data, size_t *len, mdb_error *err);

/* Removes a cached chunk; missing is not an error. */
int mdb_store_chunk_del(mdb_store_txn *txn, const uint8_t address[32],
                        mdb_error *err);

/* ---- Chunks the Bee node has ------------------------------------------ */

/* Records that the node has (has = 1) or lacks (has = 0) the chunk. */
int mdb_store_have_set(mdb_store_txn *txn, const uint8_t address[32],
                       int has, mdb_error *err);

/* Sets *has to 1 when the chunk was recorded as uploaded, else 0. */
int mdb_store_have_get(mdb_store_txn *txn, const uint8_t address[32],
                       int *has, mdb_error *err);

/* Forgets the whole set (for example when the node lost its store). */
int mdb_store_have_clear(mdb_store_txn *txn, mdb_error *err);

/* ---- Resume points ---------------------------------------------------- */

/* A change stream is named by its watch target: db and coll for a
 * collection stream, coll NULL for a database stream, both NULL for the
 * deployment.  The token is the stream's resume token as a BSON document;
 * the cluster time is the event's (t = seconds, i = increment), zero when
 * unknown. */
typedef struct mdb_store_resume {
  const uint8_t *token;
  size_t token_len;
  uint32_t cluster_t;
  uint32_t cluster_i;
} mdb_store_resume;

/* Replaces the stream's resume point. */
int mdb_store_resume_put(mdb_store_txn *txn, const char *db,
                         const char *coll, const mdb_store_resume *point,
                         mdb_error *err);

/* Reads the stream's resume point: MDBEE_ENOTFOUND when none (the stream
 * needs an initial sync). */
int mdb_store_resume_get(mdb_store_txn *txn, const char *db,
                         const char *coll, mdb_store_resume *out,
                         mdb_error *err);

/* Forgets the stream's resume point (forces a re-scan at next start). */
int mdb_store_resume_del(mdb_store_txn *txn, const char *db,
                         const char *coll, mdb_error *err);

/* ---- Snapshot history ------------------------------------------------- */

typedef struct mdb_store_snapshot {
  uint64_t seq;                    /* 1, 2, ... assigned by _append */
  uint8_t root[MDB_STORE_REF_MAX]; /* snapshot root reference */
  size_t root_len;
  int64_t time;                    /* Unix seconds of the snapshot */
  uint64_t feed_index;             /* feed update that announced it */
  int pinned;                      /* root still pinned on the node */
} mdb_store_snapshot;

/* Each published database has its own history, numbered from 1. */

/* Appends snap as db's newest snapshot; its seq is ignored on input and set
 * to one more than the newest on output. */
int mdb_store_history_append(mdb_store_txn *txn, const char *db,
                             mdb_store_snapshot *snap, mdb_error *err);

/* Reads snapshot seq of db (seq 0: the newest): MDBEE_ENOTFOUND when
 * absent. */
int mdb_store_history_get(mdb_store_txn *txn, const char *db, uint64_t seq,
                          mdb_store_snapshot *out, mdb_error *err);

/* Changes the pinned flag of snapshot seq of db (MDBEE_ENOTFOUND when
 * absent). */
int mdb_store_history_set_pinned(mdb_store_txn *txn, const char *db,
                                 uint64_t seq, int pinned, mdb_error *err);

/* Calls fn for every snapshot of db, oldest first.  fn returns 0 to go on
 * or a nonzero status that stops the walk and is returned. */
typedef int (*mdb_store_snapshot_fn)(void *ctx, const mdb_store_snapshot *s);
int mdb_store_history_each(mdb_store_txn *txn, const char *db,
                           mdb_store_snapshot_fn fn, void *ctx,
                           mdb_error *err);

#endif
