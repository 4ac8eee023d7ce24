/* The health state and the /metrics + /healthz HTTP server. */
#include "mdbee/monitor.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { REASON_MAX = 384 };

static const char *const check_names[MDB_HEALTH_CHECKS] = {"source", "bee",
                                                           "snapshot"};

struct mdb_health {
  pthread_mutex_t lock;
  char reason[MDB_HEALTH_CHECKS][REASON_MAX]; /* "" while passing */
};

int mdb_health_new(mdb_health **out, mdb_error *err) {
  mdb_health *h = calloc(1, sizeof *h);
  if (!h) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (pthread_mutex_init(&h->lock, NULL) != 0) {
    free(h);
    return mdb_error_set(err, MDBEE_ENOMEM, "cannot create a mutex");
  }
  *out = h;
  return MDBEE_OK;
}

void mdb_health_free(mdb_health *h) {
  if (!h) return;
  pthread_mutex_destroy(&h->lock);
  free(h);
}

void mdb_health_set(mdb_health *h, mdb_health_check check, const char *reason) {
  if (!h || check >= MDB_HEALTH_CHECKS) return;
  pthread_mutex_lock(&h->lock);
  /* A failing check keeps a non-empty reason even if given "". */
  snprintf(h->reason[check], REASON_MAX, "%s",
           reason ? (*reason ? reason : "failing") : "");
  pthread_mutex_unlock(&h->lock);
}

/* Appends s as the body of a JSON string: quotes and backslashes escaped,
 * control characters (never useful in a one-line reason) as spaces. */
static size_t put_json_text(char *out, size_t used, size_t size, const char *s) {
  for (; *s && used + 3 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') out[used++] = '\\';
    out[used++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
  }
  return used;
}

int mdb_health_report(mdb_health *h, char *json, size_t size) {
  if (!h) return 1;
  int healthy = 1;
  pthread_mutex_lock(&h->lock);
  for (int i = 0; healthy && i < MDB_HEALTH_CHECKS; i++) {
    if (!h->reason[i][0]) continue;
    healthy = 0;
    int n = snprintf(json, size, "{\"status\":\"unavailable\",\"check\":\"%s\","
                     "\"reason\":\"", check_names[i]);
    size_t used = n < 0 || (size_t)n >= size ? size : (size_t)n;
    used = put_json_text(json, used, size, h->reason[i]);
    if (used + 3 <= size) memcpy(json + used, "\"}", 3);
    else if (size) json[0] = '\0';
  }
  pthread_mutex_unlock(&h->lock);
  return healthy;
}

struct mdb_monitor {
  struct MHD_Daemon *daemon;
  mdb_metrics *metrics;
  mdb_health *health;
  uint16_t port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *type, char *body, size_t len) {
  /* body is malloc'd; MHD frees it once sent (or when the reply fails). */
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
                                  const char *type, const char *text) {
  char *body = strdup(text);
  return body ? reply(c, status, type, body, strlen(body)) : MHD_NO;
}

static enum MHD_Result serve_metrics(mdb_monitor *mon, struct MHD_Connection *c) {
  mdb_buf b = MDB_BUF_INIT;
  char *body;
  size_t len;
  if (mdb_metrics_render(mon->metrics, &b, NULL) != MDBEE_OK ||
      mdb_buf_take(&b, &body, &len, NULL) != MDBEE_OK) {
    mdb_buf_free(&b);
    return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                      "out of memory\n");
  }
  return reply(c, MHD_HTTP_OK, MDB_METRICS_CONTENT_TYPE, body, len);
}

static enum MHD_Result serve_health(mdb_monitor *mon, struct MHD_Connection *c) {
  char json[REASON_MAX * 2 + 96];
  if (mdb_health_report(mon->health, json, sizeof json - 1))
    return reply_text(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n");
  strcat(json, "\n");
  return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", json);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **state) {
  (void)version;
  (void)upload;
  mdb_monitor *mon = cls;
  /* MHD calls twice per request: first with only the headers. */
  static int headers_seen;
  if (!*state) {
    *state = &headers_seen;
    return MHD_YES;
  }
  if (*upload_size) {
    *upload_size = 0; /* ignore any body */
    return MHD_YES;
  }
  int metrics = strcmp(url, "/metrics") == 0, health = strcmp(url, "/healthz") == 0;
  if (!metrics && !health)
    return reply_text(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                      "method not allowed\n");
  return metrics ? serve_metrics(mon, c) : serve_health(mon, c);
}

/* Splits "host:port" or "[v6]:port" and resolves it to one address. */
static int resolve(const char *listen, struct addrinfo **out, mdb_error *err) {
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen || !colon[1])
    return mdb_error_set(err, MDBEE_EINVAL, "%s: expected HOST:PORT", listen);
  size_t hlen = (size_t)(colon - listen);
  const char *host = listen;
  if (listen[0] == '[' && colon[-1] == ']') {
    host++;
    hlen -= 2;
  }
  char name[256];
  if (hlen == 0 || hlen >= sizeof name)
    return mdb_error_set(err, MDBEE_EINVAL, "%s: expected HOST:PORT", listen);
  memcpy(name, host, hlen);
  name[hlen] = '\0';
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  int g = getaddrinfo(name, colon + 1, &hints, out);
  if (g != 0)
    return mdb_error_set(err, MDBEE_EINVAL, "%s: %s", listen, gai_strerror(g));
  return MDBEE_OK;
}

int mdb_monitor_start(const char *listen, mdb_metrics *metrics,
                      mdb_health *health, mdb_monitor **out, mdb_error *err) {
  struct addrinfo *ai;
  int rc = resolve(listen, &ai, err);
  if (rc != MDBEE_OK) return rc;
  mdb_monitor *mon = calloc(1, sizeof *mon);
  if (!mon) {
    freeaddrinfo(ai);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  mon->metrics = metrics;
  mon->health = health;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  /* The server thread inherits this mask, so the bridge's thread is the
   * one that sees SIGINT/SIGTERM and stops promptly. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  mon->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, mon, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  freeaddrinfo(ai);
  if (!mon->daemon) {
    free(mon);
    return mdb_error_set(err, MDBEE_EIO, "cannot listen on %s (address in use "
                         "or not local?)", listen);
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(mon->daemon, MHD_DAEMON_INFO_BIND_PORT);
  mon->port = info ? info->port : 0;
  *out = mon;
  return MDBEE_OK;
}

uint16_t mdb_monitor_port(const mdb_monitor *mon) { return mon->port; }

void mdb_monitor_stop(mdb_monitor *mon) {
  if (!mon) return;
  MHD_stop_daemon(mon->daemon);
  free(mon);
}
