#include "mdbee/daemon.h"

#include <time.h>

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int snapshot_all(const mdb_daemon_options *o, mdb_error *err) {
  mdb_ingest_stats stats;
  mdb_ingest_stats_get(o->ingest, &stats);
  mdb_publish_stamp stamp = {.time = now_ms() / 1000,
                             .cluster_t = stats.cluster_t,
                             .cluster_i = stats.cluster_i};
  for (size_t i = 0; i < o->n_publishers; i++) {
    mdb_publish_result result;
    int rc = mdb_publisher_snapshot(o->publishers[i], &stamp, &result, err);
    if (rc != MDBEE_OK) return rc;
    if (result.published && o->on_snapshot)
      o->on_snapshot(o->callback_ctx, &result);
  }
  return MDBEE_OK;
}

/* Applies what the streams have, waiting at most wait_ms; commits it. */
static int poll_once(const mdb_daemon_options *o, int64_t wait_ms,
                     size_t *delivered, mdb_error *err) {
  int rc = mdb_source_poll(o->source, wait_ms, mdb_ingest_event, o->ingest,
                           delivered, err);
  if (rc != MDBEE_OK) {
    mdb_ingest_abort(o->ingest);
    return rc;
  }
  return mdb_ingest_commit(o->ingest, err);
}

int mdb_daemon_run(const mdb_daemon_options *o, mdb_error *err) {
  int rc = mdb_source_start(o->source, mdb_ingest_event, o->ingest, err);
  if (rc == MDBEE_OK) rc = mdb_ingest_commit(o->ingest, err);
  else mdb_ingest_abort(o->ingest);
  if (rc != MDBEE_OK) return rc;
  if (o->once) {
    /* Catch up with what the streams hold now, then publish once. */
    size_t delivered;
    do {
      rc = poll_once(o, 200, &delivered, err);
    } while (rc == MDBEE_OK && delivered > 0 && !*o->stop);
    return rc == MDBEE_OK ? snapshot_all(o, err) : rc;
  }
  int64_t next = now_ms() + o->interval_ms;
  while (!*o->stop) {
    int64_t wait = next - now_ms();
    if (wait > 1000) wait = 1000; /* stay responsive to the stop flag */
    if (wait < 0) wait = 0;
    size_t delivered;
    rc = poll_once(o, wait, &delivered, err);
    if (rc != MDBEE_OK) return rc;
    if (now_ms() >= next) {
      rc = snapshot_all(o, err);
      if (rc != MDBEE_OK && o->on_error) o->on_error(o->callback_ctx, err);
      else if (rc != MDBEE_OK) return rc;
      next = now_ms() + o->interval_ms;
    }
  }
  /* A stop publishes what was applied, so nothing waits for a restart. */
  return snapshot_all(o, err);
}
