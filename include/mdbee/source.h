/* mdbee MongoDB source: change streams (with initial sync and resume) turned
 * into a sequence of normalised events.
 *
 * The source follows MongoDB's documented change-event format and is also
 * right on servers that depart from it (mongo-java-server, see
 * docs/architecture.md "MongoDB source"): the _id comes from
 * documentKey._id, else fullDocument._id; an update whose document is gone
 * becomes a delete; a replace is an upsert like an update; an event
 * without ns belongs to the stream's collection.
 *
 * Only allow-listed collections are ever read.  The watch level (one
 * stream per collection, per database, or for the deployment) is taken
 * from the options, never inferred from a server error.
 *
 * Events are delivered through a callback.  The bridge applies each one
 * with mdb_store in one write transaction together with the event's resume
 * point, so a crash never applies an event twice nor loses one.
 */
#ifndef MDBEE_SOURCE_H
#define MDBEE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "mdbee/error.h"

typedef struct mdb_source mdb_source;

typedef enum mdb_source_level {
  MDB_SOURCE_WATCH_COLLECTION = 0, /* one stream per collection (default) */
  MDB_SOURCE_WATCH_DATABASE,       /* one stream per database */
  MDB_SOURCE_WATCH_DEPLOYMENT      /* one stream for everything */
} mdb_source_level;

typedef enum mdb_source_op {
  MDB_SOURCE_UPSERT = 1,   /* doc is the document's full current content */
  MDB_SOURCE_DELETE,       /* the document is gone */
  MDB_SOURCE_DROP,         /* collection coll of db is gone (drop, rename
                              away, invalidate of its stream) */
  MDB_SOURCE_DROP_DATABASE,/* every collection of db is gone */
  MDB_SOURCE_SCAN_BEGIN,   /* a (re-)scan of db/coll starts */
  MDB_SOURCE_SCAN_END,     /* the scan of db/coll ended: every document it
                              did not deliver must be deleted */
  MDB_SOURCE_CHECKPOINT    /* no data change; only the resume point moved */
} mdb_source_op;

/* A normalised event.  All pointers are owned by the source and valid only
 * during the callback. */
typedef struct mdb_source_event {
  mdb_source_op op;
  int from_scan;            /* 1 for UPSERTs delivered by a scan */
  const char *db;
  const char *coll;         /* NULL for DROP_DATABASE and CHECKPOINT */
  const bson_value_t *id;   /* UPSERT/DELETE: the _id */
  const uint8_t *id_key;    /* the _id as BSON element value bytes (type
                               byte then value), as mdb_store keys use */
  size_t id_key_len;
  const bson_t *doc;        /* UPSERT: the full document, else NULL */
  /* The stream position after this event, to store with it; NULL for
   * events inside a scan (a scan's position is given at SCAN_END).  The
   * stream is named by stream_db/stream_coll (NULL for a wider level). */
  const bson_t *resume_token;
  const char *stream_db;
  const char *stream_coll;
  uint32_t cluster_t;       /* event cluster time; 0 when unknown */
  uint32_t cluster_i;
  const char *operation;    /* the server's operationType, or "scan" */
} mdb_source_event;

/* Called for every event, in order.  Returns MDBEE_OK to go on; any other
 * status stops the source, which returns it with err as filled here. */
typedef int (*mdb_source_event_fn)(void *ctx, const mdb_source_event *ev,
                                   mdb_error *err);

/* Called once per stream at start.  token is uninitialised storage: when
 * stream (db, coll) has a stored resume token, initialise it with a copy
 * (bson_copy_to) and return 1 (the source destroys it); return 0 when
 * there is none (the stream then does an initial sync), or a negative
 * value on failure. */
typedef int (*mdb_source_resume_fn)(void *ctx, const char *db,
                                    const char *coll, bson_t *token);

/* Test hook: called at named points ("resume" when a stream resumes from a
 * stored token, "next" before each read of a stream).  Returning nonzero
 * makes the source behave as if the server had answered with that error
 * code (286 ChangeStreamHistoryLost, 280 ChangeStreamFatalError...). */
typedef int (*mdb_source_fault_fn)(void *ctx, const char *point,
                                   const char *db, const char *coll);

typedef struct mdb_source_options {
  const char *uri;            /* mongodb:// URI; never logged or echoed */
  const char *const *namespaces; /* allow-list, "db.collection" each */
  size_t n_namespaces;
  mdb_source_level level;
  uint32_t batch_size;        /* scan and getMore batch size; 0 = 1000 */
  uint32_t await_ms;          /* how long one read of a stream waits on the
                                 server (maxAwaitTimeMS); 0 = 100 */
  mdb_source_resume_fn resume;
  void *resume_ctx;
  mdb_source_fault_fn fault;  /* NULL in production */
  void *fault_ctx;
} mdb_source_options;

/* Connects and checks that the server answers.  The options (and the
 * strings they point to) are copied.  On success *out owns the client. */
int mdb_source_open(const mdb_source_options *opts, mdb_source **out,
                    mdb_error *err);

/* Starts every stream: resumes from the stored token when the resume
 * callback gives one, otherwise opens the stream, keeps its resume point,
 * scans the collections it covers in _id order (SCAN_BEGIN, UPSERTs,
 * SCAN_END carrying the kept point), then lets mdb_source_poll deliver the
 * stream from that point.  A lost resume point (codes 286, 280, 136, 234)
 * triggers the same re-scan.  MDBEE_EREMOTE / MDBEE_ENET on server or
 * network failure; the callback's status when it stops the source.  After
 * a failure (of this or of mdb_source_poll) it may be called again: every
 * stream is reopened from its stored resume point. */
int mdb_source_start(mdb_source *src, mdb_source_event_fn fn, void *ctx,
                     mdb_error *err);

/* Delivers what the streams have, waiting at most wait_ms for the first
 * event.  Sets *delivered to the number of callbacks made.  Errors as for
 * mdb_source_start. */
int mdb_source_poll(mdb_source *src, int64_t wait_ms, mdb_source_event_fn fn,
                    void *ctx, size_t *delivered, mdb_error *err);

/* Closes the streams and the connection.  NULL is a no-op. */
void mdb_source_close(mdb_source *src);

/* Writes the _id value v as BSON element value bytes (type byte then
 * value) into a malloc'd buffer *out of *len bytes, the form mdb_store
 * keys use.  MDBEE_EFORMAT for the types MongoDB refuses as _id (array,
 * regex, undefined), MDBEE_ENOMEM on allocation failure. */
int mdb_source_id_key(const bson_value_t *v, uint8_t **out, size_t *len,
                      mdb_error *err);

/* The inverse of mdb_source_id_key, for keys read back from mdb_store (a
 * delete has no document to take the _id from): sets *holder to a new
 * document {"": value} (free it with bson_destroy) and *out to its value,
 * which points into *holder.  MDBEE_EFORMAT when the bytes are not exactly
 * one well-formed BSON value. */
int mdb_source_id_value(const uint8_t *key, size_t len, bson_t **holder,
                        bson_value_t *out, mdb_error *err);

#endif
