#include "mdbee/daemon.h"

#include <time.h>

#include "daemon_meters.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static int snapshot_all(const mdb_daemon_options *o, daemon_meters *m,
                        mdb_error *err) {
  mdb_ingest_stats stats;
  mdb_ingest_stats_get(o->ingest, &stats);
  mdb_publish_stamp stamp = {.time = now_ms() / 1000,
                             .cluster_t = stats.cluster_t,
                             .cluster_i = stats.cluster_i};
  for (size_t i = 0; i < o->n_publishers; i++) {
    mdb_publish_result result;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = mdb_publisher_snapshot(o->publishers[i], &stamp, &result, err);
    daemon_meters_snapshot(m, i, rc == MDBEE_OK && result.published ? &result : NULL,
                           rc == MDBEE_OK ? NULL : err, seconds_since(&start));
    if (rc != MDBEE_OK) return rc;
    if (result.published && o->on_snapshot)
      o->on_snapshot(o->callback_ctx, &result);
  }
  return MDBEE_OK;
}

/* Applies what the streams have, waiting at most wait_ms; commits it. */
static int poll_once(const mdb_daemon_options *o, daemon_meters *m,
                     int64_t wait_ms, size_t *delivered, mdb_error *err) {
  int rc = mdb_source_poll(o->source, wait_ms, daemon_meters_event, m,
                           delivered, err);
  if (rc != MDBEE_OK) {
    mdb_ingest_abort(o->ingest);
    daemon_meters_batch_end(m, 0);
    daemon_meters_source(m, err);
    return rc;
  }
  rc = mdb_ingest_commit(o->ingest, err);
  daemon_meters_batch_end(m, rc == MDBEE_OK);
  return rc;
}

/* Pause before reconnecting to an unreachable source: doubles from the
 * first to the last. */
enum { RETRY_FIRST_MS = 1000, RETRY_LAST_MS = 30000 };

static void pause_ms(int64_t ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Starts (or restarts) the streams and commits what they delivered. */
static int start_source(const mdb_daemon_options *o, daemon_meters *m,
                        mdb_error *err) {
  int rc = mdb_source_start(o->source, daemon_meters_event, m, err);
  if (rc == MDBEE_OK) rc = mdb_ingest_commit(o->ingest, err);
  else mdb_ingest_abort(o->ingest);
  daemon_meters_batch_end(m, rc == MDBEE_OK);
  daemon_meters_source(m, rc == MDBEE_OK ? NULL : err);
  return rc;
}

static int run(const mdb_daemon_options *o, daemon_meters *m, mdb_error *err) {
  int rc = start_source(o, m, err);
  if (rc != MDBEE_OK) return rc;
  if (o->once) {
    /* Catch up with what the streams hold now, then publish once. */
    size_t delivered;
    do {
      rc = poll_once(o, m, 200, &delivered, err);
    } while (rc == MDBEE_OK && delivered > 0 && !*o->stop);
    return rc == MDBEE_OK ? snapshot_all(o, m, err) : rc;
  }
  int64_t next = now_ms() + o->interval_ms;
  int64_t retry_at = -1, retry_pause = RETRY_FIRST_MS; /* -1: source up */
  while (!*o->stop) {
    int64_t wait = next - now_ms();
    if (wait > 1000) wait = 1000; /* stay responsive to the stop flag */
    if (wait < 0) wait = 0;
    size_t delivered;
    if (retry_at < 0) {
      rc = poll_once(o, m, wait, &delivered, err);
    } else if (now_ms() >= retry_at) {
      rc = start_source(o, m, err);
      if (rc == MDBEE_OK) retry_at = -1, retry_pause = RETRY_FIRST_MS;
    } else {
      pause_ms(retry_at - now_ms() < wait ? retry_at - now_ms() : wait);
    }
    /* MongoDB out of reach: keep publishing what was applied and come back
     * from the stored resume points (a server error is final). */
    if (rc == MDBEE_ENET && o->on_source_error) {
      mdb_error_wrap(err, "reconnecting in %lld s", (long long)retry_pause / 1000);
      o->on_source_error(o->callback_ctx, err);
      retry_at = now_ms() + retry_pause;
      retry_pause = retry_pause * 2 > RETRY_LAST_MS ? RETRY_LAST_MS : retry_pause * 2;
      rc = MDBEE_OK;
    }
    if (rc != MDBEE_OK) return rc;
    if (now_ms() >= next) {
      rc = snapshot_all(o, m, err);
      if (rc != MDBEE_OK && o->on_error) o->on_error(o->callback_ctx, err);
      else if (rc != MDBEE_OK) return rc;
      /* Snapshots start one interval apart, so a write waits at most one
       * interval plus one snapshot; one that overran starts the next at
       * once.  A failure waits a whole interval so that a node that is
       * down is not hammered. */
      int64_t ended = now_ms();
      if (rc != MDBEE_OK) next = ended + o->interval_ms;
      else if ((next += o->interval_ms) < ended) next = ended;
    }
  }
  /* A stop publishes what was applied, so nothing waits for a restart. */
  return snapshot_all(o, m, err);
}

int mdb_daemon_run(const mdb_daemon_options *o, mdb_error *err) {
  daemon_meters m;
  int rc = daemon_meters_init(&m, o, err);
  if (rc == MDBEE_OK) rc = run(o, &m, err);
  daemon_meters_free(&m);
  return rc;
}
