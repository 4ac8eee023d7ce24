/* mdbee daemon: the bridge's main loop.  Keeps the local state in step
 * with the source (initial sync, then the change streams) and publishes a
 * snapshot every interval when something changed.
 *
 * The loop checks a stop flag between steps, so a signal handler that sets
 * it makes the daemon finish the snapshot in progress, commit, and return.
 */
#ifndef MDBEE_DAEMON_H
#define MDBEE_DAEMON_H

#include <signal.h>
#include <stdint.h>

#include "mdbee/error.h"
#include "mdbee/ingest.h"
#include "mdbee/metrics.h"
#include "mdbee/monitor.h"
#include "mdbee/publish.h"
#include "mdbee/source.h"
#include "mdbee/store.h"

/* Called after every published snapshot (for logs and metrics). */
typedef void (*mdb_daemon_snapshot_fn)(void *ctx,
                                       const mdb_publish_result *result);

/* Called when a snapshot failed; the daemon goes on ingesting and tries
 * again at the next interval (everything it uploads is content-addressed,
 * so the retry repeats the same work). */
typedef void (*mdb_daemon_error_fn)(void *ctx, const mdb_error *err);

typedef struct mdb_daemon_options {
  mdb_source *source;          /* opened, not started (borrowed) */
  mdb_store *store;            /* borrowed */
  mdb_ingest *ingest;          /* over store, borrowed */
  mdb_publisher *const *publishers; /* one per database, borrowed */
  size_t n_publishers;
  int64_t interval_ms;         /* between snapshots */
  int once;                    /* initial sync, catch up, one snapshot, return */
  volatile sig_atomic_t *stop; /* set nonzero to stop */
  mdb_daemon_snapshot_fn on_snapshot;
  mdb_daemon_error_fn on_error;
  /* Called when MongoDB could not be reached (MDBEE_ENET) while running;
   * the daemon keeps publishing what was applied and reconnects after a
   * pause (1 s, doubling up to 30 s), resuming from the stored resume
   * points.  NULL: such a failure ends the run, as any other does. */
  mdb_daemon_error_fn on_source_error;
  void *callback_ctx;
  /* Optional (NULL: off), borrowed: the daemon registers its series in
   * metrics (docs/configuration.md lists them) and keeps the source and
   * snapshot checks of health up to date. */
  mdb_metrics *metrics;
  mdb_health *health;
} mdb_daemon_options;

/* Runs until *stop is set (or, with once, after one snapshot).  Returns
 * MDBEE_OK on a requested stop; otherwise the first error of the source or
 * the store (and, with once, of a publisher), with everything committed
 * before it kept. */
int mdb_daemon_run(const mdb_daemon_options *opts, mdb_error *err);

/* Wraps the publish target inner (borrowed; it must outlive the wrapper)
 * so that what goes to the Bee node is measured: bytes of chunks handed
 * over, failed requests by request and kind of error (in metrics), and
 * health's Bee check, failing from a failed request until the next one
 * that succeeds.  Either of metrics and health may be NULL.  Free *out
 * with mdb_daemon_metered_target_free. */
int mdb_daemon_metered_target(const mdb_publish_target *inner,
                              mdb_metrics *metrics, mdb_health *health,
                              mdb_publish_target *out, mdb_error *err);

void mdb_daemon_metered_target_free(mdb_publish_target *target);

#endif
