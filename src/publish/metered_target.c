/* A publish target that measures what passes through to another. */
#include <stdio.h>
#include <stdlib.h>

#include "mdbee/daemon.h"

/* Requests as the Bee API names them, one per target function. */
enum { REQ_TAG, REQ_CHUNKS, REQ_SOC, REQ_PIN, REQ_UNPIN, REQUESTS };
enum { KIND_NETWORK, KIND_REMOTE, KIND_VERIFY, KIND_OTHER, KINDS };

static const char *const request_names[REQUESTS] = {"tag", "chunks", "soc",
                                                    "pin", "unpin"};
static const char *const kind_names[KINDS] = {"network", "remote", "verify",
                                              "other"};

struct metered {
  mdb_publish_target inner;
  mdb_health *health;
  mdb_metric *bytes;
  mdb_metric *errors[REQUESTS][KINDS];
};

static int kind_of(int code) {
  switch (code) {
  case MDBEE_ENET: return KIND_NETWORK;
  case MDBEE_EREMOTE: return KIND_REMOTE;
  case MDBEE_EVERIFY: return KIND_VERIFY;
  default: return KIND_OTHER;
  }
}

static int outcome(struct metered *t, int request, int rc, const mdb_error *err) {
  if (rc == MDBEE_OK) {
    mdb_health_set(t->health, MDB_HEALTH_BEE, NULL);
    return rc;
  }
  int kind = kind_of(rc);
  mdb_metric_add(t->errors[request][kind], 1);
  char reason[MDB_ERROR_MESSAGE_MAX + 32];
  snprintf(reason, sizeof reason, "%s: %s",
           kind == KIND_NETWORK ? "Bee unreachable" : "Bee request failed",
           err ? err->message : mdb_error_name(rc));
  mdb_health_set(t->health, MDB_HEALTH_BEE, reason);
  return rc;
}

static int begin(void *ctx, mdb_error *err) {
  struct metered *t = ctx;
  return outcome(t, REQ_TAG, t->inner.begin(t->inner.ctx, err), err);
}

static int put_chunk(void *ctx, const mdb_chunk *chunk, mdb_error *err) {
  struct metered *t = ctx;
  /* May send a queued batch, hence counted as a chunks request. */
  int rc = outcome(t, REQ_CHUNKS, t->inner.put_chunk(t->inner.ctx, chunk, err), err);
  if (rc == MDBEE_OK) mdb_metric_add(t->bytes, chunk->size);
  return rc;
}

static int flush(void *ctx, mdb_error *err) {
  struct metered *t = ctx;
  return outcome(t, REQ_CHUNKS, t->inner.flush(t->inner.ctx, err), err);
}

static int put_soc(void *ctx, const uint8_t owner[20], const uint8_t id[32],
                   const uint8_t signature[65], const uint8_t *data,
                   size_t size, mdb_error *err) {
  struct metered *t = ctx;
  int rc = t->inner.put_soc(t->inner.ctx, owner, id, signature, data, size, err);
  return outcome(t, REQ_SOC, rc, err);
}

static int pin(void *ctx, const uint8_t ref[32], mdb_error *err) {
  struct metered *t = ctx;
  return outcome(t, REQ_PIN, t->inner.pin(t->inner.ctx, ref, err), err);
}

static int unpin(void *ctx, const uint8_t ref[32], mdb_error *err) {
  struct metered *t = ctx;
  return outcome(t, REQ_UNPIN, t->inner.unpin(t->inner.ctx, ref, err), err);
}

int mdb_daemon_metered_target(const mdb_publish_target *inner,
                              mdb_metrics *metrics, mdb_health *health,
                              mdb_publish_target *out, mdb_error *err) {
  struct metered *t = calloc(1, sizeof *t);
  if (!t) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  t->inner = *inner;
  t->health = health;
  int rc = MDBEE_OK;
  if (metrics)
    rc = mdb_metrics_add(metrics, MDB_METRIC_COUNTER, "mdbee_bee_upload_bytes_total",
                         NULL, "Bytes of chunks (span and payload) handed to "
                         "the Bee node.", &t->bytes, err);
  for (int r = 0; metrics && rc == MDBEE_OK && r < REQUESTS; r++)
    for (int k = 0; rc == MDBEE_OK && k < KINDS; k++) {
      const char *labels[] = {"request", request_names[r], "kind", kind_names[k],
                              NULL};
      rc = mdb_metrics_add(metrics, MDB_METRIC_COUNTER,
                           "mdbee_bee_request_errors_total", labels,
                           "Failed Bee API requests, by request and kind: "
                           "network (unreachable), remote (error answer), "
                           "verify (wrong address), other.",
                           &t->errors[r][k], err);
    }
  if (rc != MDBEE_OK) {
    free(t);
    return rc;
  }
  *out = (mdb_publish_target){.ctx = t, .begin = begin, .put_chunk = put_chunk,
                              .flush = flush, .put_soc = put_soc, .pin = pin,
                              .unpin = unpin};
  return MDBEE_OK;
}

void mdb_daemon_metered_target_free(mdb_publish_target *target) {
  free(target->ctx);
  target->ctx = NULL;
}
