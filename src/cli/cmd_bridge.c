/* mdbee run | sync | status: the bridge assembled from a configuration. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "mdbee/bee.h"
#include "mdbee/config.h"
#include "mdbee/daemon.h"
#include "mdbee/hex.h"
#include "mdbee/key.h"
#include "mdbee/metrics.h"
#include "mdbee/monitor.h"

/* Everything a running bridge holds; torn down in reverse order. */
struct bridge {
  mdb_config *cfg;
  mdb_key *key;
  mdb_store *store;
  mdb_bee *bee;
  mdb_publish_target bee_target;
  mdb_publish_target target; /* bee_target, measured */
  mdb_metrics *metrics;
  mdb_health *health;
  mdb_monitor *monitor;
  mdb_publisher **publishers;
  size_t n_publishers;
  char **namespaces;
  size_t n_namespaces;
  mdb_ingest *ingest;
  mdb_source *source;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
  char stamp[32];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  fprintf(stderr, "%s mdbee: ", stamp);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void bridge_close(struct bridge *b) {
  mdb_monitor_stop(b->monitor);
  mdb_source_close(b->source);
  mdb_ingest_free(b->ingest);
  for (size_t i = 0; i < b->n_publishers; i++) mdb_publisher_free(b->publishers[i]);
  free(b->publishers);
  for (size_t i = 0; i < b->n_namespaces; i++) free(b->namespaces[i]);
  free(b->namespaces);
  if (b->target.ctx) mdb_daemon_metered_target_free(&b->target);
  if (b->bee_target.ctx) mdb_publish_bee_target_free(&b->bee_target);
  mdb_bee_close(b->bee);
  mdb_health_free(b->health);
  mdb_metrics_free(b->metrics);
  mdb_store_close(b->store);
  mdb_key_free(b->key);
  mdb_config_free(b->cfg);
}

/* The batch bought for `postage: auto` is remembered in the state
 * directory, so a restart reuses it instead of buying another. */
static int postage_batch(struct bridge *b, uint8_t id[32], mdb_error *err) {
  const mdb_config *cfg = b->cfg;
  if (!cfg->batch_auto) {
    memcpy(id, cfg->batch_id, 32);
    return MDBEE_OK;
  }
  char path[4096], hex[65];
  snprintf(path, sizeof path, "%s/postage-batch", cfg->state_dir);
  FILE *f = fopen(path, "r");
  if (f) {
    int ok = fscanf(f, "%64s", hex) == 1 && mdb_hex_decode(hex, id, 32, NULL) == MDBEE_OK;
    fclose(f);
    if (ok) return MDBEE_OK;
  }
  char amount[24];
  snprintf(amount, sizeof amount, "%llu", (unsigned long long)cfg->batch_amount);
  log_line("buying a postage batch (amount %s, depth %u)", amount, cfg->batch_depth);
  int rc = mdb_bee_buy_batch(b->bee, amount, cfg->batch_depth, "mdbee", 120000, id, err);
  if (rc != MDBEE_OK) return mdb_error_wrap(err, "buying a postage batch");
  mdb_hex_encode(id, 32, hex);
  f = fopen(path, "w");
  if (!f || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0)
    return mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
  log_line("postage batch %s", hex);
  return MDBEE_OK;
}

static int add_publishers(struct bridge *b, mdb_error *err) {
  const mdb_config *cfg = b->cfg;
  b->publishers = calloc(cfg->n_databases + 1, sizeof *b->publishers);
  if (!b->publishers) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t d = 0; d < cfg->n_databases; d++) {
    const mdb_config_database *db = &cfg->databases[d];
    mdb_publish_collection *colls = calloc(db->n_collections + 1, sizeof *colls);
    mdb_publish_index **ixs = calloc(db->n_collections + 1, sizeof *ixs);
    int rc = colls && ixs ? MDBEE_OK : mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    for (size_t c = 0; rc == MDBEE_OK && c < db->n_collections; c++) {
      const mdb_config_collection *cc = &db->collections[c];
      ixs[c] = calloc(cc->n_indexes + 1, sizeof *ixs[c]);
      if (!ixs[c]) {
        rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
        break;
      }
      for (size_t i = 0; i < cc->n_indexes; i++)
        ixs[c][i] = (mdb_publish_index){cc->indexes[i].name,
                                        (const char *const *)cc->indexes[i].fields,
                                        cc->indexes[i].n_fields};
      colls[c] = (mdb_publish_collection){cc->name, (const char *const *)cc->redact,
                                          cc->n_redact, ixs[c], cc->n_indexes};
    }
    mdb_publish_options opts = {
        .db = db->name, .collections = colls, .n_collections = db->n_collections,
        .canonical_json = cfg->json_mode == MDB_EJSON_CANONICAL, .key = b->key,
        .keep_last = cfg->retention_keep_last,
        .keep_seconds = (int64_t)(cfg->retention_keep_for_ms / 1000),
        .encrypt = cfg->encrypt};
    memcpy(opts.topic, db->feed_topic, 32);
    if (rc == MDBEE_OK)
      rc = mdb_publisher_new(&opts, b->store, &b->target,
                             &b->publishers[b->n_publishers], err);
    if (rc == MDBEE_OK) b->n_publishers++;
    for (size_t c = 0; ixs && c < db->n_collections; c++) free(ixs[c]);
    free(ixs);
    free(colls);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

static int add_namespaces(struct bridge *b, mdb_error *err) {
  const mdb_config *cfg = b->cfg;
  size_t n = 0;
  for (size_t d = 0; d < cfg->n_databases; d++) n += cfg->databases[d].n_collections;
  b->namespaces = calloc(n + 1, sizeof *b->namespaces);
  if (!b->namespaces) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t d = 0; d < cfg->n_databases; d++)
    for (size_t c = 0; c < cfg->databases[d].n_collections; c++) {
      const char *db = cfg->databases[d].name, *coll = cfg->databases[d].collections[c].name;
      size_t len = strlen(db) + strlen(coll) + 2;
      char *ns = malloc(len);
      if (!ns) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
      snprintf(ns, len, "%s.%s", db, coll);
      b->namespaces[b->n_namespaces++] = ns;
    }
  return MDBEE_OK;
}

/* Opens everything the configuration names; with_source 0 skips MongoDB
 * (status needs only the local state). */
static int bridge_open(struct bridge *b, const char *config_path, int with_source,
                       mdb_error *err) {
  int rc = mdb_config_load(config_path, &b->cfg, err);
  if (rc == MDBEE_OK) rc = mdb_store_open(b->cfg->state_dir, &b->store, err);
  if (rc != MDBEE_OK || !with_source) return rc;
  rc = mdb_key_load_file(b->cfg->key_file, NULL, &b->key, err);
  if (rc != MDBEE_OK) return mdb_error_wrap(err, "signing key %s", b->cfg->key_file);
  mdb_bee_options bee_opts = {.url = b->cfg->bee_url};
  rc = mdb_bee_open(&bee_opts, &b->bee, err);
  uint8_t batch[32];
  if (rc == MDBEE_OK) rc = postage_batch(b, batch, err);
  if (rc == MDBEE_OK) rc = mdb_publish_bee_target(b->bee, batch, &b->bee_target, err);
  if (rc == MDBEE_OK) rc = mdb_metrics_new(&b->metrics, err);
  if (rc == MDBEE_OK) rc = mdb_health_new(&b->health, err);
  if (rc == MDBEE_OK)
    rc = mdb_daemon_metered_target(&b->bee_target, b->metrics, b->health,
                                   &b->target, err);
  if (rc == MDBEE_OK) rc = add_publishers(b, err);
  if (rc == MDBEE_OK) rc = add_namespaces(b, err);
  if (rc == MDBEE_OK)
    rc = mdb_ingest_new(b->store, (const char *const *)b->namespaces,
                        b->n_namespaces, &b->ingest, err);
  if (rc != MDBEE_OK) return rc;
  mdb_source_options src = {
      .uri = b->cfg->mongo_uri, .namespaces = (const char *const *)b->namespaces,
      .n_namespaces = b->n_namespaces, .level = b->cfg->watch,
      .resume = mdb_ingest_resume_token, .resume_ctx = b->ingest};
  rc = mdb_source_open(&src, &b->source, err);
  if (rc != MDBEE_OK)
    return mdb_error_wrap(err, "MongoDB at %s", b->cfg->mongo_uri_redacted);
  return MDBEE_OK;
}

/* Serves metrics.listen; the process-wide series are registered here, the
 * daemon's own by the daemon. */
static int start_monitor(struct bridge *b, const char *config_path, mdb_error *err) {
  const char *version[] = {"version", MDBEE_VERSION, NULL};
  mdb_metric *info, *started;
  int rc = mdb_metrics_add(b->metrics, MDB_METRIC_GAUGE, "mdbee_build_info", version,
                           "Always 1; the label names the mdbee version.", &info, err);
  if (rc == MDBEE_OK)
    rc = mdb_metrics_add(b->metrics, MDB_METRIC_GAUGE, "mdbee_start_time_seconds",
                         NULL, "When this mdbee process started (Unix seconds).",
                         &started, err);
  if (rc != MDBEE_OK) return rc;
  mdb_metric_set(info, 1);
  mdb_metric_set(started, (double)time(NULL));
  rc = mdb_monitor_start(b->cfg->listen, b->metrics, b->health, &b->monitor, err);
  if (rc != MDBEE_OK) return mdb_error_wrap(err, "%s: metrics.listen", config_path);
  log_line("metrics on http://%s/metrics, health on /healthz (port %u)",
           b->cfg->listen, (unsigned)mdb_monitor_port(b->monitor));
  return MDBEE_OK;
}

static void print_ref(const char *label, const char *db, const uint8_t ref[32]) {
  char hex[65];
  mdb_hex_encode(ref, 32, hex);
  printf("%s %s %s\n", label, db, hex);
}

static void on_snapshot(void *ctx, const mdb_publish_result *r) {
  struct bridge *b = ctx;
  (void)b;
  char root[65], feed[65];
  mdb_hex_encode(r->root, 32, root);
  mdb_hex_encode(r->feed_manifest, 32, feed);
  log_line("snapshot %llu: root %s, feed %s, %llu changes, %llu documents "
           "written, %llu chunks made, %llu uploaded, %llu manifest chunks",
           (unsigned long long)r->seq, root, feed, (unsigned long long)r->changes,
           (unsigned long long)r->documents_written,
           (unsigned long long)r->chunks_made, (unsigned long long)r->chunks_uploaded,
           (unsigned long long)r->manifest_chunks);
}

static void on_error(void *ctx, const mdb_error *err) {
  (void)ctx;
  log_line("snapshot failed, retrying at the next interval: %s", err->message);
}

static void on_source_error(void *ctx, const mdb_error *err) {
  (void)ctx;
  log_line("MongoDB unreachable: %s", err->message);
}

static int usage(const char *cmd, int status) {
  FILE *out = status == CLI_OK ? stdout : stderr;
  if (strcmp(cmd, "status") == 0)
    fprintf(out, "usage: mdbee status -c FILE\n"
                 "Prints each database's last snapshot, its feed, the backlog of\n"
                 "pending changes and the lag behind the source.\n");
  else if (strcmp(cmd, "sync") == 0)
    fprintf(out, "usage: mdbee sync -c FILE --once\n"
                 "Initial sync (or catch-up), one snapshot per database, exit.\n"
                 "Prints 'root DB REF' and 'feed DB REF' lines.\n");
  else
    fprintf(out, "usage: mdbee run -c FILE\n"
                 "Runs the bridge until SIGINT/SIGTERM, publishing a snapshot every\n"
                 "snapshot interval when something changed.\n");
  return status;
}

static int run_bridge(int argc, char **argv, int once_command) {
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'},
      {"once", no_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL;
  int once = 0, opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
    if (opt == 'c') config = optarg;
    else if (opt == 'o') once = 1;
    else return usage(argv[0], opt == 'h' ? CLI_OK : CLI_USAGE);
  }
  if (!config || optind != argc || (once_command && !once))
    return usage(argv[0], CLI_USAGE);
  struct bridge b = {0};
  mdb_error err = {0};
  int rc = bridge_open(&b, config, 1, &err);
  if (rc == MDBEE_OK) {
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    mdb_daemon_options d = {
        .source = b.source, .store = b.store, .ingest = b.ingest,
        .publishers = b.publishers, .n_publishers = b.n_publishers,
        .interval_ms = (int64_t)b.cfg->snapshot_interval_ms, .once = once,
        .stop = &stop_requested, .on_snapshot = on_snapshot,
        .on_error = once ? NULL : on_error,
        .on_source_error = once ? NULL : on_source_error, .callback_ctx = &b,
        .metrics = b.metrics, .health = b.health};
    log_line("publishing %zu collection(s) of %zu database(s) from %s to %s",
             b.n_namespaces, b.cfg->n_databases, b.cfg->mongo_uri_redacted,
             b.cfg->bee_url);
    if (b.cfg->listen && !once) rc = start_monitor(&b, config, &err);
    if (rc == MDBEE_OK) rc = mdb_daemon_run(&d, &err);
  }
  if (rc == MDBEE_OK && once) {
    for (size_t i = 0; i < b.n_publishers; i++) {
      uint8_t feed[32];
      mdb_store_txn *txn;
      mdb_store_snapshot s;
      const char *db = b.cfg->databases[i].name;
      if (mdb_store_begin(b.store, 1, &txn, &err) != MDBEE_OK) break;
      if (mdb_store_history_get(txn, db, 0, &s, &err) == MDBEE_OK) print_ref("root", db, s.root);
      mdb_store_abort(txn);
      if (mdb_publisher_feed_manifest(b.publishers[i], feed, &err) == MDBEE_OK)
        print_ref("feed", db, feed);
    }
  }
  bridge_close(&b);
  if (rc != MDBEE_OK) return cli_fail(argv[0], &err);
  log_line("stopped");
  return CLI_OK;
}

int cli_run(int argc, char **argv) { return run_bridge(argc, argv, 0); }

int cli_sync(int argc, char **argv) { return run_bridge(argc, argv, 1); }

int cli_status(int argc, char **argv) {
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
    if (opt == 'c') config = optarg;
    else return usage(argv[0], opt == 'h' ? CLI_OK : CLI_USAGE);
  }
  if (!config || optind != argc) return usage(argv[0], CLI_USAGE);
  struct bridge b = {0};
  mdb_error err = {0};
  mdb_store_txn *txn = NULL;
  int rc = bridge_open(&b, config, 0, &err);
  if (rc == MDBEE_OK) rc = mdb_store_begin(b.store, 1, &txn, &err);
  uint64_t pending = 0;
  if (rc == MDBEE_OK) rc = mdb_store_pending_count(txn, &pending, &err);
  int64_t now = time(NULL);
  for (size_t d = 0; rc == MDBEE_OK && d < b.cfg->n_databases; d++) {
    const mdb_config_database *db = &b.cfg->databases[d];
    mdb_store_snapshot s;
    int found = mdb_store_history_get(txn, db->name, 0, &s, &err);
    if (found == MDBEE_ENOTFOUND) {
      printf("%s: no snapshot yet\n", db->name);
      continue;
    }
    if (found != MDBEE_OK) {
      rc = found;
      break;
    }
    char root[65];
    mdb_hex_encode(s.root, 32, root);
    printf("%s: snapshot %llu at %lld (%llds ago), root %s, feed index %llu\n",
           db->name, (unsigned long long)s.seq, (long long)s.time,
           (long long)(now - s.time), root, (unsigned long long)s.feed_index);
    uint32_t newest = 0;
    for (size_t c = 0; c < db->n_collections; c++) {
      mdb_store_resume point;
      mdb_store_stats st;
      if (mdb_store_resume_get(txn, db->name, db->collections[c].name, &point, NULL) == MDBEE_OK &&
          point.cluster_t > newest)
        newest = point.cluster_t;
      if (mdb_store_stats_get(txn, db->name, db->collections[c].name, &st, NULL) == MDBEE_OK)
        printf("  %s: %llu documents published, %llu bytes of JSON\n",
               db->collections[c].name, (unsigned long long)st.count,
               (unsigned long long)st.bytes);
    }
    if (newest)
      printf("  source: last event at cluster time %u (%llds ago)\n", newest,
             (long long)(now - newest));
  }
  if (rc == MDBEE_OK) printf("backlog: %llu pending change(s)\n", (unsigned long long)pending);
  mdb_store_abort(txn);
  bridge_close(&b);
  return rc == MDBEE_OK ? CLI_OK : cli_fail("status", &err);
}
