/* mdbee ingest: applies normalised source events to the local state.
 *
 * Events from a change stream are applied together with the stream's
 * resume point; the caller chooses how many go into one LMDB write
 * transaction (typically everything one mdb_source_poll delivered), and
 * the resume point stored is always that of the last event applied, so a
 * crash before the commit loses the whole batch and its resume point
 * together, and the stream replays it.
 *
 * Events outside the publication allow-list are refused with MDBEE_EINVAL
 * rather than stored: nothing outside the configured collections can reach
 * a snapshot even if a source misbehaves.
 */
#ifndef MDBEE_INGEST_H
#define MDBEE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"
#include "mdbee/source.h"
#include "mdbee/store.h"

typedef struct mdb_ingest mdb_ingest;

/* Counters for status and metrics. */
typedef struct mdb_ingest_stats {
  uint64_t events;    /* events applied since creation */
  uint64_t upserts;
  uint64_t deletes;
  uint64_t drops;
  uint64_t scanned;   /* documents delivered by scans */
  uint64_t commits;   /* write transactions committed */
  uint32_t cluster_t; /* cluster time of the newest event, 0 if unknown */
  uint32_t cluster_i;
} mdb_ingest_stats;

/* Creates an ingester writing to store (borrowed; it must outlive the
 * ingester) that accepts events of the n namespaces ("db.collection") in
 * allow, which are copied.  *out is the caller's: free it with
 * mdb_ingest_free. */
int mdb_ingest_new(mdb_store *store, const char *const *allow, size_t n,
                   mdb_ingest **out, mdb_error *err);

/* Discards any open batch and frees the ingester.  NULL is a no-op. */
void mdb_ingest_free(mdb_ingest *in);

/* An mdb_source_event_fn (ctx is the mdb_ingest): applies ev inside the
 * current batch, opening a write transaction when none is open.  On any
 * error the batch is discarded. */
int mdb_ingest_event(void *ctx, const mdb_source_event *ev, mdb_error *err);

/* Commits the open batch, if any.  Scans also commit on their own every
 * few thousand documents so that a large collection never makes one huge
 * transaction. */
int mdb_ingest_commit(mdb_ingest *in, mdb_error *err);

/* Discards the open batch, if any (after a source error: the stream
 * replays those events from the stored resume point). */
void mdb_ingest_abort(mdb_ingest *in);

/* An mdb_source_resume_fn (ctx is the mdb_ingest) that reads the stored
 * resume point of a stream. */
int mdb_ingest_resume_token(void *ctx, const char *db, const char *coll,
                            bson_t *token);

/* Copies the counters into out. */
void mdb_ingest_stats_get(const mdb_ingest *in, mdb_ingest_stats *out);

#endif
