/* mdbee source dump: prints the normalised change events of the configured
 * collections as JSON lines, optionally applying them to a state directory
 * exactly as the bridge does (one transaction per event with its resume
 * point).  An operator's view of what mdbee sees; also what the MongoDB
 * source's end-to-end tests drive. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "mdbee/ingest.h"
#include "mdbee/source.h"
#include "mdbee/store.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

struct dump {
  mdb_store *store;
  mdb_ingest *ingest;   /* with --state */
  long exit_after;      /* crash on purpose after this many events */
  long events;
  int fault_code;       /* injected once at fault_point */
  const char *fault_point;
};

static const char *op_name(mdb_source_op op) {
  switch (op) {
  case MDB_SOURCE_UPSERT: return "upsert";
  case MDB_SOURCE_DELETE: return "delete";
  case MDB_SOURCE_DROP: return "drop";
  case MDB_SOURCE_DROP_DATABASE: return "dropDatabase";
  case MDB_SOURCE_SCAN_BEGIN: return "scanBegin";
  case MDB_SOURCE_SCAN_END: return "scanEnd";
  case MDB_SOURCE_CHECKPOINT: return "checkpoint";
  }
  return "?";
}

static void print_event(const mdb_source_event *ev) {
  bson_t line = BSON_INITIALIZER;
  BSON_APPEND_UTF8(&line, "op", op_name(ev->op));
  BSON_APPEND_UTF8(&line, "operation", ev->operation ? ev->operation : "");
  if (ev->db) BSON_APPEND_UTF8(&line, "db", ev->db);
  if (ev->coll) BSON_APPEND_UTF8(&line, "coll", ev->coll);
  if (ev->id) BSON_APPEND_VALUE(&line, "id", ev->id);
  if (ev->doc) BSON_APPEND_DOCUMENT(&line, "doc", ev->doc);
  BSON_APPEND_BOOL(&line, "scan", ev->from_scan);
  if (ev->resume_token) BSON_APPEND_DOCUMENT(&line, "token", ev->resume_token);
  if (ev->cluster_t)
    BSON_APPEND_TIMESTAMP(&line, "clusterTime", ev->cluster_t, ev->cluster_i);
  char *json = bson_as_relaxed_extended_json(&line, NULL);
  printf("%s\n", json);
  fflush(stdout);
  bson_free(json);
  bson_destroy(&line);
}

static int on_event(void *ctx, const mdb_source_event *ev, mdb_error *err) {
  struct dump *d = ctx;
  if (d->ingest) {
    /* One transaction per event, so that what is printed is exactly what
     * is durable: a crash test can then compare the two. */
    int rc = mdb_ingest_event(d->ingest, ev, err);
    if (rc == MDBEE_OK) rc = mdb_ingest_commit(d->ingest, err);
    if (rc != MDBEE_OK) return rc;
  }
  print_event(ev);
  if (++d->events == d->exit_after) _exit(3);
  return MDBEE_OK;
}

static int on_fault(void *ctx, const char *point, const char *db,
                    const char *coll) {
  (void)db;
  (void)coll;
  struct dump *d = ctx;
  if (!d->fault_code || strcmp(point, d->fault_point) != 0) return 0;
  int code = d->fault_code;
  d->fault_code = 0;
  return code;
}

/* Prints {"pending": {db, coll, id, deleted, doc}} per pending change. */
static int print_one_pending(void *ctx, const mdb_store_change *c) {
  (void)ctx;
  bson_t *holder = NULL, line = BSON_INITIALIZER, p;
  bson_value_t id;
  int ok = mdb_source_id_value(c->key.id, c->key.id_len, &holder, &id,
                               NULL) == MDBEE_OK;
  BSON_APPEND_DOCUMENT_BEGIN(&line, "pending", &p);
  bson_append_utf8(&p, "db", 2, c->key.db, (int)c->key.db_len);
  bson_append_utf8(&p, "coll", 4, c->key.coll, (int)c->key.coll_len);
  if (ok) BSON_APPEND_VALUE(&p, "id", &id);
  BSON_APPEND_BOOL(&p, "deleted", c->deleted);
  bson_t doc;
  if (!c->deleted && bson_init_static(&doc, c->doc, c->doc_len))
    BSON_APPEND_DOCUMENT(&p, "doc", &doc);
  bson_append_document_end(&line, &p);
  char *json = bson_as_relaxed_extended_json(&line, NULL);
  printf("%s\n", json);
  bson_free(json);
  bson_destroy(&line);
  if (holder) bson_destroy(holder);
  return MDBEE_OK;
}

static int print_pending(mdb_store *store, mdb_error *err) {
  mdb_store_txn *txn;
  int rc = mdb_store_begin(store, 1, &txn, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_store_pending_each(txn, print_one_pending, NULL, err);
  mdb_store_abort(txn);
  fflush(stdout);
  return rc;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: mdbee source dump --ns DB.COLL [--ns ...] [options]\n"
          "  prints normalised change events as JSON lines\n"
          "  --uri URI         MongoDB URI (default: $MDBEE_MONGO_URI; prefer\n"
          "                    the variable, it keeps a password out of ps)\n"
          "  --level L         collection (default), database or deployment\n"
          "  --state DIR       apply events to the local state in DIR and\n"
          "                    resume from its stored tokens\n"
          "  --idle MS         exit 0 after MS ms without events\n"
          "  --batch N         scan and stream batch size\n"
          "  --fail CODE@POINT test hook: act once as if the server answered\n"
          "                    error CODE at POINT (resume, next)\n"
          "  --exit-after N    test hook: exit 3 right after event N\n"
          "  --show-pending    with --state: at exit, print the pending\n"
          "                    changes of the state as JSON lines\n");
}

static int dump(int argc, char **argv) {
  static const struct option long_opts[] = {
      {"uri", required_argument, NULL, 'u'},
      {"ns", required_argument, NULL, 'n'},
      {"level", required_argument, NULL, 'l'},
      {"state", required_argument, NULL, 's'},
      {"idle", required_argument, NULL, 'i'},
      {"batch", required_argument, NULL, 'b'},
      {"fail", required_argument, NULL, 'f'},
      {"exit-after", required_argument, NULL, 'x'},
      {"show-pending", no_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  mdb_source_options opts = {0};
  const char **nss = calloc((size_t)argc, sizeof *nss);
  if (!nss) return CLI_FAIL;
  struct dump d = {0};
  const char *state = NULL;
  long idle = -1;
  int show_pending = 0;
  char *point = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
    switch (c) {
    case 'u': opts.uri = optarg; break;
    case 'n': nss[opts.n_namespaces++] = optarg; break;
    case 'l':
      if (strcmp(optarg, "collection") == 0)
        opts.level = MDB_SOURCE_WATCH_COLLECTION;
      else if (strcmp(optarg, "database") == 0)
        opts.level = MDB_SOURCE_WATCH_DATABASE;
      else if (strcmp(optarg, "deployment") == 0)
        opts.level = MDB_SOURCE_WATCH_DEPLOYMENT;
      else goto bad;
      break;
    case 's': state = optarg; break;
    case 'i': idle = strtol(optarg, NULL, 10); break;
    case 'b': opts.batch_size = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'f':
      d.fault_code = (int)strtol(optarg, &point, 10);
      if (!point || *point != '@' || !d.fault_code) goto bad;
      d.fault_point = point + 1;
      break;
    case 'x': d.exit_after = strtol(optarg, NULL, 10); break;
    case 'p': show_pending = 1; break;
    case 'h':
      usage(stdout);
      free(nss);
      return CLI_OK;
    default: goto bad;
    }
  }
  if (!opts.uri) opts.uri = getenv("MDBEE_MONGO_URI");
  if (!opts.uri || opts.n_namespaces == 0 || optind != argc) goto bad;
  opts.namespaces = nss;
  opts.fault = on_fault;
  opts.fault_ctx = &d;

  mdb_error err = {0};
  int rc = MDBEE_OK;
  if (state) {
    rc = mdb_store_open(state, &d.store, &err);
    if (rc == MDBEE_OK)
      rc = mdb_ingest_new(d.store, nss, opts.n_namespaces, &d.ingest, &err);
    opts.resume = mdb_ingest_resume_token;
    opts.resume_ctx = d.ingest;
  }
  mdb_source *src = NULL;
  if (rc == MDBEE_OK) rc = mdb_source_open(&opts, &src, &err);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (rc == MDBEE_OK) rc = mdb_source_start(src, on_event, &d, &err);
  long quiet = 0;
  while (rc == MDBEE_OK && !stop_requested) {
    size_t n = 0;
    rc = mdb_source_poll(src, 200, on_event, &d, &n, &err);
    quiet = n ? 0 : quiet + 200;
    if (idle >= 0 && quiet >= idle) break;
  }
  mdb_source_close(src);
  if (rc == MDBEE_OK && show_pending && d.store)
    rc = print_pending(d.store, &err);
  mdb_ingest_free(d.ingest);
  mdb_store_close(d.store);
  free(nss);
  return rc == MDBEE_OK ? CLI_OK : cli_fail("source dump", &err);
bad:
  usage(stderr);
  free(nss);
  return CLI_USAGE;
}

int cli_source(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "dump") == 0) return dump(argc - 1, argv + 1);
  usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
  return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
}
