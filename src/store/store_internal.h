/* Shared by the src/store files: the environment, its named databases and
 * the byte layouts of keys and values. */
#ifndef MDBEE_STORE_INTERNAL_H
#define MDBEE_STORE_INTERNAL_H

#include <lmdb.h>

#include "mdbee/store.h"

struct mdb_store {
  MDB_env *env;
  MDB_dbi pending;  /* doc key -> u64 seq, u8 op, BSON */
  MDB_dbi docs;     /* doc key -> document index entry */
  MDB_dbi chunks;   /* address -> span || payload */
  MDB_dbi have;     /* address -> "" */
  MDB_dbi resume;   /* stream name -> u32 t, u32 i, token */
  MDB_dbi history;  /* u64 BE seq -> snapshot */
  MDB_dbi stats;    /* namespace prefix -> u64 count, u64 bytes */
  MDB_dbi seen;     /* doc key -> "" during a re-scan */
  MDB_dbi meta;     /* counters */
  MDB_dbi stage;    /* doc key -> u64 seq, u8 op, document index entry */
  size_t map_size;
  size_t map_found_size; /* map_size when map_from/map_to were found */
  unsigned long map_from, map_to; /* where the data file is mapped */
  int active;       /* open transactions (the map may only grow at 0) */
  int full;         /* a transaction hit MDB_MAP_FULL: grow when idle */
};

struct mdb_store_txn {
  mdb_store *store;
  MDB_txn *txn;
  unsigned unordered; /* bit dbi: a put came out of key order */
};

/* Maps an LMDB status to MDBEE_ESTATE with a message naming what failed;
 * remembers MDB_MAP_FULL so the map grows once the transaction ends. */
int store_fail(mdb_store_txn *t, mdb_error *err, int rc, const char *what);

/* Writes the layout described in store.h into buf (MDB_STORE_KEY_MAX
 * bytes) and points out at it; MDBEE_EINVAL when it does not fit. */
int store_key_encode(const mdb_store_key *key, uint8_t *buf, MDB_val *out,
                     mdb_error *err);

/* Splits an encoded key; returns 0, or -1 when malformed. */
int store_key_decode(const uint8_t *buf, size_t len, mdb_store_key *out);

/* Prefix shared by the keys of db/coll (coll NULL: of db; db NULL: empty).
 * Returns MDBEE_EINVAL when the names are too long. */
int store_prefix(const char *db, const char *coll, uint8_t *buf, size_t *len,
                 mdb_error *err);

/* Calls fn for every entry of dbi whose key starts with prefix, in key
 * order.  fn may overwrite the current value through the cursor; it
 * returns 0 to go on or a status that stops the walk. */
typedef int (*store_entry_fn)(void *ctx, MDB_cursor *cur, MDB_val *k,
                              MDB_val *v);
int store_each(mdb_store_txn *t, MDB_dbi dbi, const uint8_t *prefix,
               size_t plen, store_entry_fn fn, void *ctx, mdb_error *err);

/* mdb_put for tables that are mostly written in key order (a scan by _id
 * of ObjectIds or counters): tries MDB_APPEND first, which fills a page
 * before starting the next where an ordinary insert at the end splits
 * pages in half (the pending changes of 1 KiB documents took a third more
 * space).  After the first key out of order the transaction stops trying
 * for that table, so random keys cost one failed attempt per
 * transaction. */
int store_put_ordered(mdb_store_txn *t, MDB_dbi dbi, MDB_val *k, MDB_val *v,
                      unsigned flags);

/* Deletes every entry of dbi whose key starts with prefix. */
int store_del_prefix(mdb_store_txn *t, MDB_dbi dbi, const uint8_t *prefix,
                     size_t plen, mdb_error *err);

/* Document index entries (layout in docs.c): the encoded size of doc (0
 * with err set when it cannot be stored), its encoding into that many
 * bytes, and its decoding (-1 when corrupt; out points into v). */
size_t store_doc_size(const mdb_store_doc *doc, mdb_error *err);
void store_doc_write(const mdb_store_doc *doc, uint8_t *p);
int store_doc_decode(const MDB_val *v, mdb_store_doc *out);

/* Writes and deletions of document index entries with the statistics in
 * step, for many keys in key order: through one cursor, which LMDB
 * positions within its current leaf page when the next key lies there
 * (not by a search from the root), and with the statistics summed per
 * namespace, written when the namespace changes and by
 * store_doc_batch_end (which closes the cursor and returns status, or the
 * failure of that write).  Keys k are encoded document keys. */
typedef struct {
  mdb_store_txn *txn;
  MDB_cursor *cur;
  uint8_t ns[MDB_STORE_KEY_MAX]; /* statistics key of the sums */
  size_t ns_len;                 /* 0: nothing summed */
  int64_t count, bytes;
} store_doc_batch;
int store_doc_batch_begin(mdb_store_txn *txn, store_doc_batch *b,
                          mdb_error *err);
/* Writes the entry of len bytes (from doc, or copied from entry when doc
 * is NULL) of a document of size bytes. */
int store_doc_batch_put(store_doc_batch *b, MDB_val *k,
                        const mdb_store_doc *doc, const uint8_t *entry,
                        size_t len, uint64_t size, mdb_error *err);
/* Deletes k's entry; a missing one is not an error. */
int store_doc_batch_del(store_doc_batch *b, MDB_val *k, mdb_error *err);
int store_doc_batch_end(store_doc_batch *b, int status, mdb_error *err);

/* Removes the pending change at k (encoded) through cur, a cursor on the
 * pending table, if its seq still equals seq (mdb_store_pending_clear). */
int store_pending_clear_at(mdb_store_txn *txn, MDB_cursor *cur, MDB_val *k,
                           uint64_t seq, mdb_error *err);

/* Little-endian integers of the value layouts (bytes: 2, 4 or 8). */
void store_put_le(uint8_t *p, uint64_t v, int bytes);
uint64_t store_get_le(const uint8_t *p, int bytes);

#endif
