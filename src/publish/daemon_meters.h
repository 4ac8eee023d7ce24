/* The daemon's metrics and health updates; private to src/publish. */
#ifndef MDBEE_DAEMON_METERS_H
#define MDBEE_DAEMON_METERS_H

#include "mdbee/daemon.h"

/* Operation types counted separately; anything else counts as "other". */
enum { METER_OPS = 10 };

typedef struct daemon_meters {
  const mdb_daemon_options *o;
  mdb_metric *events[METER_OPS];
  uint64_t batch[METER_OPS]; /* of the open ingest batch */
  uint64_t batch_scans;
  mdb_metric *source_failures, *scans, *pending, *last_event, *published, *failed,
      *last_success, *duration, *uploaded, *skipped, *documents;
  mdb_metric **feed_index;   /* per publisher */
  mdb_metric **db_success;   /* per publisher */
} daemon_meters;

/* Registers the series (when o->metrics is set).  Free with
 * daemon_meters_free even on failure. */
int daemon_meters_init(daemon_meters *m, const mdb_daemon_options *o,
                       mdb_error *err);
void daemon_meters_free(daemon_meters *m);

/* An mdb_source_event_fn (ctx: the meters) that applies the event with
 * mdb_ingest_event and counts it once its batch commits. */
int daemon_meters_event(void *ctx, const mdb_source_event *ev, mdb_error *err);

/* After the ingest batch committed (ok) or was discarded. */
void daemon_meters_batch_end(daemon_meters *m, int committed);

/* The source failed (err) or is being read again (err NULL). */
void daemon_meters_source(daemon_meters *m, const mdb_error *err);

/* Publisher i finished a snapshot attempt that took seconds: result when it
 * published, err when it failed, both NULL when nothing was pending. */
void daemon_meters_snapshot(daemon_meters *m, size_t i,
                            const mdb_publish_result *result,
                            const mdb_error *err, double seconds);

#endif
