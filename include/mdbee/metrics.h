/* mdbee metrics: counters and gauges that one thread updates while another
 * renders them in the Prometheus text exposition format (version 0.0.4).
 *
 * Series are registered once (typically at start) and return a handle; an
 * update through the handle is one atomic operation, so the hot path never
 * takes a lock.  Registration and rendering share a mutex, so a series may
 * also be registered while another thread renders.
 *
 * A family is a metric name with its HELP text and TYPE; a series is one
 * label set of a family.  Series of one family are rendered together, in
 * registration order, whatever order they were registered in.
 */
#ifndef MDBEE_METRICS_H
#define MDBEE_METRICS_H

#include <stdint.h>

#include "mdbee/buf.h"
#include "mdbee/error.h"

typedef struct mdb_metrics mdb_metrics;
typedef struct mdb_metric mdb_metric;

typedef enum mdb_metric_kind {
  MDB_METRIC_COUNTER, /* only grows (until the process restarts) */
  MDB_METRIC_GAUGE    /* any value, set by the owner */
} mdb_metric_kind;

/* Computes a gauge's value at render time, on the rendering thread: it
 * must only read what is safe to read from there (atomics). */
typedef double (*mdb_metric_fn)(void *ctx);

/* Creates an empty registry; *out is the caller's (mdb_metrics_free). */
int mdb_metrics_new(mdb_metrics **out, mdb_error *err);

/* Frees the registry and every handle it gave out.  NULL is a no-op. */
void mdb_metrics_free(mdb_metrics *m);

/* Registers the series name{labels} and sets *out to its handle, valid
 * until mdb_metrics_free.  labels is NULL or a NULL-terminated list of
 * name, value pairs (values are escaped when rendered).  Registering an
 * existing series again returns the same handle.  MDBEE_EINVAL when a
 * metric or label name is not [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':'),
 * or when name exists with the other kind. */
int mdb_metrics_add(mdb_metrics *m, mdb_metric_kind kind, const char *name,
                    const char *const *labels, const char *help,
                    mdb_metric **out, mdb_error *err);

/* Registers a gauge whose value fn(ctx) computes at each render.  Errors as
 * for mdb_metrics_add. */
int mdb_metrics_add_fn(mdb_metrics *m, const char *name,
                       const char *const *labels, const char *help,
                       mdb_metric_fn fn, void *ctx, mdb_error *err);

/* Adds n to a counter.  A NULL handle is ignored, so optional metrics cost
 * the caller no branches. */
void mdb_metric_add(mdb_metric *s, uint64_t n);

/* Sets a gauge.  NULL is ignored. */
void mdb_metric_set(mdb_metric *s, double v);

/* The current value (a counter's as a double).  0 for NULL. */
double mdb_metric_value(const mdb_metric *s);

/* Appends the exposition text of every series to out: per family a
 * "# HELP" and a "# TYPE" line, then one line per series.  MDBEE_ENOMEM
 * when out could not grow. */
int mdb_metrics_render(mdb_metrics *m, mdb_buf *out, mdb_error *err);

/* The Content-Type of the rendered text. */
#define MDB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
