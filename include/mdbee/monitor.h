/* mdbee monitor: the bridge's health state and the HTTP endpoint that
 * serves it with the metrics (`metrics.listen` in the configuration).
 *
 *   GET /metrics  200, the registry in the Prometheus text format
 *   GET /healthz  200 "ok", or 503 with a one-line JSON reason
 *   anything else 404 (405 for other methods on those two paths)
 *
 * The server runs on its own thread (libmicrohttpd's internal polling
 * thread); the bridge thread only updates atomics and the health state,
 * which has its own lock.
 */
#ifndef MDBEE_MONITOR_H
#define MDBEE_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"
#include "mdbee/metrics.h"

/* The checks /healthz reports, in the order it reports them. */
typedef enum mdb_health_check {
  MDB_HEALTH_SOURCE,   /* the MongoDB change streams are being read */
  MDB_HEALTH_BEE,      /* the last request to the Bee node succeeded */
  MDB_HEALTH_SNAPSHOT, /* the last snapshot attempt succeeded */
  MDB_HEALTH_CHECKS
} mdb_health_check;

typedef struct mdb_health mdb_health;

/* Creates a health state with every check passing; *out is the caller's
 * (mdb_health_free). */
int mdb_health_new(mdb_health **out, mdb_error *err);

void mdb_health_free(mdb_health *h);

/* Marks check as passing (reason NULL) or failing with reason (copied,
 * truncated to a few hundred bytes).  Thread-safe; NULL h is ignored. */
void mdb_health_set(mdb_health *h, mdb_health_check check, const char *reason);

/* Returns 1 when every check passes.  Otherwise returns 0 and writes the
 * first failing check as one line of JSON, NUL-terminated, into json:
 *   {"status":"unavailable","check":"bee","reason":"..."}
 * truncated to size (at least 128 bytes are needed for a useful line). */
int mdb_health_report(mdb_health *h, char *json, size_t size);

typedef struct mdb_monitor mdb_monitor;

/* Serves metrics (and health, which may be NULL: always "ok") on listen,
 * "HOST:PORT" or "[IPV6]:PORT"; both are borrowed and must outlive the
 * monitor.  SIGINT and SIGTERM stay with the calling process's other
 * threads.  MDBEE_EINVAL for an address that does not parse, MDBEE_EIO
 * when the socket cannot be bound (message names the address). */
int mdb_monitor_start(const char *listen, mdb_metrics *metrics,
                      mdb_health *health, mdb_monitor **out, mdb_error *err);

/* The port actually bound. */
uint16_t mdb_monitor_port(const mdb_monitor *mon);

/* Closes the socket, waits for the server thread and frees the monitor.
 * NULL is a no-op. */
void mdb_monitor_stop(mdb_monitor *mon);

#endif
