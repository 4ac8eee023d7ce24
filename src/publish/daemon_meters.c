/* What the daemon reports to metrics and health (docs/configuration.md,
 * "metrics", lists every series). */
#include "daemon_meters.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const ops[METER_OPS] = {
    "insert", "update", "replace", "delete", "drop", "rename",
    "dropDatabase", "invalidate", "scan", "other"};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ctx is the last-event gauge, owned by the registry, so the server may
 * call this after the daemon has returned. */
static double source_lag(void *ctx) {
  double t = mdb_metric_value(ctx);
  return t > 0 ? now_s() - t : NAN;
}

int daemon_meters_init(daemon_meters *m, const mdb_daemon_options *o,
                       mdb_error *err) {
  memset(m, 0, sizeof *m);
  m->o = o;
  mdb_metrics *r = o->metrics;
  if (!r) return MDBEE_OK;
  int rc = MDBEE_OK;
  for (int i = 0; rc == MDBEE_OK && i < METER_OPS; i++) {
    const char *labels[] = {"operation", ops[i], NULL};
    rc = mdb_metrics_add(r, MDB_METRIC_COUNTER, "mdbee_events_applied_total",
                         labels, "Change events (and scanned documents) applied "
                         "to the local state, by operation type.",
                         &m->events[i], err);
  }
  const struct {
    mdb_metric_kind kind;
    const char *name, *help;
    mdb_metric **out;
  } plain[] = {
      {MDB_METRIC_COUNTER, "mdbee_source_failures_total",
       "Network failures reading MongoDB, each followed by a reconnect.",
       &m->source_failures},
      {MDB_METRIC_COUNTER, "mdbee_source_scans_total",
       "Collection scans: initial syncs, and re-scans after a lost resume "
       "point or an invalidated stream.", &m->scans},
      {MDB_METRIC_GAUGE, "mdbee_pending_documents",
       "Changed documents waiting for the next snapshot (backlog).", &m->pending},
      {MDB_METRIC_GAUGE, "mdbee_source_last_event_timestamp_seconds",
       "Cluster time of the newest applied change event (Unix seconds); 0 "
       "until one arrives.", &m->last_event},
      {MDB_METRIC_COUNTER, "mdbee_snapshots_published_total",
       "Snapshots published (one per database with changes).", &m->published},
      {MDB_METRIC_COUNTER, "mdbee_snapshot_failures_total",
       "Snapshot attempts that failed (retried at the next interval).", &m->failed},
      {MDB_METRIC_GAUGE, "mdbee_snapshot_last_success_timestamp_seconds",
       "When the newest snapshot of any database was published (Unix "
       "seconds); 0 until then.", &m->last_success},
      {MDB_METRIC_GAUGE, "mdbee_snapshot_duration_seconds",
       "How long the newest published snapshot took, from reading the "
       "pending changes to the feed update.", &m->duration},
      {MDB_METRIC_COUNTER, "mdbee_chunks_uploaded_total",
       "Chunks sent to the Bee node.", &m->uploaded},
      {MDB_METRIC_COUNTER, "mdbee_chunks_skipped_total",
       "Chunks made but not sent: the node already had them.", &m->skipped},
      {MDB_METRIC_COUNTER, "mdbee_documents_written_total",
       "Documents whose published JSON changed, over all snapshots.", &m->documents},
  };
  for (size_t i = 0; rc == MDBEE_OK && i < sizeof plain / sizeof plain[0]; i++)
    rc = mdb_metrics_add(r, plain[i].kind, plain[i].name, NULL, plain[i].help,
                         plain[i].out, err);
  if (rc == MDBEE_OK)
    rc = mdb_metrics_add_fn(r, "mdbee_source_lag_seconds", NULL,
                            "Now minus the cluster time of the newest applied "
                            "change event; grows while the source is idle; "
                            "NaN until an event arrives.",
                            source_lag, m->last_event, err);
  m->feed_index = calloc(o->n_publishers + 1, sizeof *m->feed_index);
  m->db_success = calloc(o->n_publishers + 1, sizeof *m->db_success);
  if (rc == MDBEE_OK && (!m->feed_index || !m->db_success))
    rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; rc == MDBEE_OK && i < o->n_publishers; i++) {
    const char *labels[] = {"database", mdb_publisher_database(o->publishers[i]),
                            NULL};
    rc = mdb_metrics_add(r, MDB_METRIC_GAUGE, "mdbee_feed_index", labels,
                         "Sequence index of the newest feed update, per "
                         "database; -1 until this process published one.",
                         &m->feed_index[i], err);
    mdb_metric_set(m->feed_index[i], -1);
    if (rc == MDBEE_OK)
      rc = mdb_metrics_add(r, MDB_METRIC_GAUGE,
                           "mdbee_database_snapshot_timestamp_seconds", labels,
                           "When the newest snapshot of the database was "
                           "published by this process (Unix seconds); 0 "
                           "until then.", &m->db_success[i], err);
  }
  return rc;
}

void daemon_meters_free(daemon_meters *m) {
  free(m->feed_index);
  free(m->db_success);
}

static int op_index(const char *op) {
  for (int i = 0; op && i < METER_OPS - 1; i++)
    if (strcmp(op, ops[i]) == 0) return i;
  return METER_OPS - 1;
}

int daemon_meters_event(void *ctx, const mdb_source_event *ev, mdb_error *err) {
  daemon_meters *m = ctx;
  int rc = mdb_ingest_event(m->o->ingest, ev, err);
  if (rc != MDBEE_OK) return rc;
  switch (ev->op) {
  case MDB_SOURCE_UPSERT:
  case MDB_SOURCE_DELETE:
  case MDB_SOURCE_DROP:
  case MDB_SOURCE_DROP_DATABASE:
    m->batch[op_index(ev->operation)]++;
    break;
  case MDB_SOURCE_SCAN_BEGIN:
    m->batch_scans++;
    break;
  default:
    break;
  }
  return MDBEE_OK;
}

/* A gauge is best effort: a failed read leaves the previous value. */
static void count_pending(daemon_meters *m) {
  mdb_store_txn *txn;
  uint64_t pending;
  if (mdb_store_begin(m->o->store, 1, &txn, NULL) != MDBEE_OK) return;
  if (mdb_store_pending_count(txn, &pending, NULL) == MDBEE_OK)
    mdb_metric_set(m->pending, (double)pending);
  mdb_store_abort(txn);
}

void daemon_meters_batch_end(daemon_meters *m, int committed) {
  if (committed && m->o->metrics) {
    for (int i = 0; i < METER_OPS; i++) mdb_metric_add(m->events[i], m->batch[i]);
    mdb_metric_add(m->scans, m->batch_scans);
    mdb_ingest_stats st;
    mdb_ingest_stats_get(m->o->ingest, &st);
    if (st.cluster_t) mdb_metric_set(m->last_event, st.cluster_t);
    count_pending(m);
  }
  memset(m->batch, 0, sizeof m->batch);
  m->batch_scans = 0;
}

void daemon_meters_source(daemon_meters *m, const mdb_error *err) {
  char reason[MDB_ERROR_MESSAGE_MAX + 32];
  if (err) snprintf(reason, sizeof reason, "MongoDB: %s", err->message);
  if (err && err->code == MDBEE_ENET) mdb_metric_add(m->source_failures, 1);
  mdb_health_set(m->o->health, MDB_HEALTH_SOURCE, err ? reason : NULL);
}

void daemon_meters_snapshot(daemon_meters *m, size_t i,
                            const mdb_publish_result *result,
                            const mdb_error *err, double seconds) {
  if (err) {
    char reason[MDB_ERROR_MESSAGE_MAX + 32];
    snprintf(reason, sizeof reason, "snapshot of %s failed: %s",
             mdb_publisher_database(m->o->publishers[i]), err->message);
    mdb_health_set(m->o->health, MDB_HEALTH_SNAPSHOT, reason);
    mdb_metric_add(m->failed, 1);
    return;
  }
  mdb_health_set(m->o->health, MDB_HEALTH_SNAPSHOT, NULL);
  if (!result || !m->o->metrics) return;
  mdb_metric_add(m->published, 1);
  mdb_metric_add(m->uploaded, result->chunks_uploaded);
  mdb_metric_add(m->skipped, result->chunks_made - result->chunks_uploaded);
  mdb_metric_add(m->documents, result->documents_written);
  mdb_metric_set(m->duration, seconds);
  mdb_metric_set(m->feed_index[i], (double)result->feed_index);
  double t = now_s();
  mdb_metric_set(m->last_success, t);
  mdb_metric_set(m->db_success[i], t);
  count_pending(m);
}
