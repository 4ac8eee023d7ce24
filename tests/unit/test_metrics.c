/* The metrics registry, its exposition text, the health state and the
 * HTTP endpoint serving both. */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/metrics.h"
#include "mdbee/monitor.h"

static char *render(mdb_metrics *m) {
  mdb_buf b = MDB_BUF_INIT;
  char *text;
  assert_int_equal(mdb_metrics_render(m, &b, NULL), MDBEE_OK);
  assert_int_equal(mdb_buf_take(&b, &text, NULL, NULL), MDBEE_OK);
  return text;
}

static double fixed(void *ctx) { return *(double *)ctx; }

static void test_exposition_text(void **state) {
  (void)state;
  mdb_metrics *m;
  assert_int_equal(mdb_metrics_new(&m, NULL), MDBEE_OK);
  mdb_metric *ins, *del, *pending, *again;
  const char *insert[] = {"operation", "insert", NULL};
  const char *odd[] = {"operation", "a\"b\\c\nd", "db", "x", NULL};
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_COUNTER, "ev_total", insert,
                                   "Events\\applied\nby type.", &ins, NULL), MDBEE_OK);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_GAUGE, "pending", NULL,
                                   "Backlog.", &pending, NULL), MDBEE_OK);
  /* A later series of the first family is rendered with it. */
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_COUNTER, "ev_total", odd,
                                   "ignored", &del, NULL), MDBEE_OK);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_COUNTER, "ev_total", insert,
                                   NULL, &again, NULL), MDBEE_OK);
  assert_ptr_equal(again, ins);
  double lag = 1.5, nan = NAN, inf = -INFINITY;
  assert_int_equal(mdb_metrics_add_fn(m, "lag_seconds", NULL, "Lag.", fixed,
                                      &lag, NULL), MDBEE_OK);
  const char *a[] = {"v", "nan", NULL}, *b[] = {"v", "inf", NULL};
  assert_int_equal(mdb_metrics_add_fn(m, "odd", a, "Odd.", fixed, &nan, NULL), MDBEE_OK);
  assert_int_equal(mdb_metrics_add_fn(m, "odd", b, "Odd.", fixed, &inf, NULL), MDBEE_OK);
  mdb_metric_add(ins, 3);
  mdb_metric_add(ins, 4);
  mdb_metric_add(del, 18446744073709551615u);
  mdb_metric_set(pending, 1795000000.25);
  mdb_metric_add(NULL, 1); /* ignored */
  assert_true(mdb_metric_value(ins) == 7);
  char *text = render(m);
  assert_string_equal(text,
      "# HELP ev_total Events\\\\applied\\nby type.\n"
      "# TYPE ev_total counter\n"
      "ev_total{operation=\"insert\"} 7\n"
      "ev_total{operation=\"a\\\"b\\\\c\\nd\",db=\"x\"} 18446744073709551615\n"
      "# HELP pending Backlog.\n"
      "# TYPE pending gauge\n"
      "pending 1795000000.25\n"
      "# HELP lag_seconds Lag.\n"
      "# TYPE lag_seconds gauge\n"
      "lag_seconds 1.5\n"
      "# HELP odd Odd.\n"
      "# TYPE odd gauge\n"
      "odd{v=\"nan\"} NaN\n"
      "odd{v=\"inf\"} -Inf\n");
  free(text);
  mdb_metrics_free(m);
}

static void test_rejects_bad_names(void **state) {
  (void)state;
  mdb_metrics *m;
  mdb_metric *s;
  mdb_error err = {0};
  assert_int_equal(mdb_metrics_new(&m, NULL), MDBEE_OK);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_GAUGE, "9lives", NULL, "", &s, &err),
                   MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "9lives"));
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_GAUGE, "a-b", NULL, "", &s, &err),
                   MDBEE_EINVAL);
  const char *colon[] = {"a:b", "x", NULL}, *missing[] = {"a", NULL};
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_GAUGE, "ok:name", colon, "", &s, &err),
                   MDBEE_EINVAL);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_GAUGE, "ok:name", missing, "", &s, &err),
                   MDBEE_EINVAL);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_GAUGE, "ok:name", NULL, "", &s, &err),
                   MDBEE_OK);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_COUNTER, "ok:name", NULL, "", &s, &err),
                   MDBEE_EINVAL);
  assert_non_null(strstr(err.message, "another type"));
  char *text = render(m); /* the failures left nothing half-registered */
  assert_string_equal(text, "# HELP ok:name \n# TYPE ok:name gauge\nok:name 0\n");
  free(text);
  mdb_metrics_free(m);
}

enum { THREADS = 4, ADDS = 100000 };

static void *adder(void *arg) {
  for (int i = 0; i < ADDS; i++) mdb_metric_add(arg, 1);
  return NULL;
}

static void *renderer(void *arg) {
  for (int i = 0; i < 200; i++) free(render(arg));
  return NULL;
}

/* Updates from several threads are never lost, and rendering meanwhile is
 * safe. */
static void test_concurrent_updates(void **state) {
  (void)state;
  mdb_metrics *m;
  mdb_metric *c;
  assert_int_equal(mdb_metrics_new(&m, NULL), MDBEE_OK);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_COUNTER, "n_total", NULL, "N.", &c, NULL),
                   MDBEE_OK);
  pthread_t t[THREADS + 1];
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, adder, c), 0);
  assert_int_equal(pthread_create(&t[THREADS], NULL, renderer, m), 0);
  for (int i = 0; i <= THREADS; i++) pthread_join(t[i], NULL);
  assert_true(mdb_metric_value(c) == (double)THREADS * ADDS);
  mdb_metrics_free(m);
}

static void test_health_report(void **state) {
  (void)state;
  mdb_health *h;
  char json[256];
  assert_int_equal(mdb_health_new(&h, NULL), MDBEE_OK);
  assert_int_equal(mdb_health_report(h, json, sizeof json), 1);
  mdb_health_set(h, MDB_HEALTH_SNAPSHOT, "snapshot failed");
  mdb_health_set(h, MDB_HEALTH_BEE, "Bee unreachable: \"POST /tags\"\tdown\\");
  assert_int_equal(mdb_health_report(h, json, sizeof json), 0);
  /* The first failing check in order source, bee, snapshot is reported. */
  assert_string_equal(json, "{\"status\":\"unavailable\",\"check\":\"bee\","
                            "\"reason\":\"Bee unreachable: \\\"POST /tags\\\" down\\\\\"}");
  mdb_health_set(h, MDB_HEALTH_BEE, NULL);
  assert_int_equal(mdb_health_report(h, json, sizeof json), 0);
  assert_non_null(strstr(json, "\"check\":\"snapshot\""));
  char tiny[40];
  assert_int_equal(mdb_health_report(h, tiny, sizeof tiny), 0);
  assert_true(strlen(tiny) < sizeof tiny); /* cut, never overrun */
  mdb_health_set(h, MDB_HEALTH_SNAPSHOT, NULL);
  assert_int_equal(mdb_health_report(h, json, sizeof json), 1);
  mdb_health_free(h);
}

static size_t collect(char *p, size_t size, size_t n, void *ctx) {
  mdb_buf *b = ctx;
  mdb_buf_append(b, p, size * n);
  return size * n;
}

static long get(uint16_t port, const char *path, const char *method, char **body) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  mdb_buf b = MDB_BUF_INIT;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  long status;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  assert_int_equal(mdb_buf_take(&b, body, NULL, NULL), MDBEE_OK);
  return status;
}

static void test_endpoint(void **state) {
  (void)state;
  mdb_metrics *m;
  mdb_health *h;
  mdb_metric *c;
  mdb_monitor *mon, *second;
  mdb_error err = {0};
  assert_int_equal(mdb_metrics_new(&m, NULL), MDBEE_OK);
  assert_int_equal(mdb_health_new(&h, NULL), MDBEE_OK);
  assert_int_equal(mdb_metrics_add(m, MDB_METRIC_COUNTER, "hits_total", NULL, "Hits.", &c, NULL),
                   MDBEE_OK);
  mdb_metric_add(c, 42);
  assert_int_equal(mdb_monitor_start("127.0.0.1:0", m, h, &mon, &err), MDBEE_OK);
  uint16_t port = mdb_monitor_port(mon);
  assert_true(port > 0);
  char *body;
  assert_int_equal(get(port, "/metrics", "GET", &body), 200);
  assert_non_null(strstr(body, "# TYPE hits_total counter\nhits_total 42\n"));
  free(body);
  assert_int_equal(get(port, "/healthz", "GET", &body), 200);
  assert_string_equal(body, "ok\n");
  free(body);
  mdb_health_set(h, MDB_HEALTH_SOURCE, "MongoDB: gone");
  assert_int_equal(get(port, "/healthz", "GET", &body), 503);
  assert_string_equal(body, "{\"status\":\"unavailable\",\"check\":\"source\","
                            "\"reason\":\"MongoDB: gone\"}\n");
  free(body);
  assert_int_equal(get(port, "/", "GET", &body), 404);
  free(body);
  assert_int_equal(get(port, "/metrics/x", "GET", &body), 404);
  free(body);
  assert_int_equal(get(port, "/metrics", "DELETE", &body), 405);
  free(body);

  /* A taken port is a clear error naming the address. */
  char taken[32];
  snprintf(taken, sizeof taken, "127.0.0.1:%u", (unsigned)port);
  assert_int_equal(mdb_monitor_start(taken, m, h, &second, &err), MDBEE_EIO);
  assert_non_null(strstr(err.message, taken));
  assert_int_equal(mdb_monitor_start("no-port", m, h, &second, &err), MDBEE_EINVAL);
  assert_int_equal(mdb_monitor_start("[::1:80", m, h, &second, &err), MDBEE_EINVAL);
  mdb_monitor_stop(mon);
  mdb_health_free(h);
  mdb_metrics_free(m);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exposition_text),
      cmocka_unit_test(test_rejects_bad_names),
      cmocka_unit_test(test_concurrent_updates),
      cmocka_unit_test(test_health_report),
      cmocka_unit_test(test_endpoint),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return failed;
}
