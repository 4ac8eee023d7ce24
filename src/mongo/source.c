/* Change streams, initial sync, resume and re-scan against MongoDB. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mongoc/mongoc.h>

#include "source_internal.h"

typedef struct ns {
  char *db;
  char *coll;
} ns;

typedef struct stream {
  char *db;                   /* watch target; NULL when wider */
  char *coll;
  mongoc_change_stream_t *cs;
  bson_t *token;              /* last resume point handed out, or NULL
                                 (heap: bson_t wants 128-byte alignment) */
  bson_t *held;               /* an event read while priming, not yet
                                 delivered */
} stream;

struct mdb_source {
  mongoc_client_t *client;
  ns *allow;
  size_t n_allow;
  stream *streams;
  size_t n_streams;
  mdb_source_level level;
  uint32_t batch_size;
  uint32_t await_ms;
  mdb_source_resume_fn resume;
  void *resume_ctx;
  mdb_source_fault_fn fault;
  void *fault_ctx;
  mdb_source_event_fn fn;     /* of the current start/poll call */
  void *ctx;
  size_t delivered;
};

/* Server codes meaning "the resume point is gone; start over". */
static int history_lost(uint32_t code) {
  return code == 286 /* ChangeStreamHistoryLost */ ||
         code == 280 /* ChangeStreamFatalError */ ||
         code == 136 /* CappedPositionLost */;
}

static int allowed(const mdb_source *s, const char *db, const char *coll) {
  for (size_t i = 0; i < s->n_allow; i++)
    if (strcmp(s->allow[i].db, db) == 0 &&
        (!coll || strcmp(s->allow[i].coll, coll) == 0))
      return 1;
  return 0;
}

static int covers(const stream *st, const ns *n) {
  return (!st->db || strcmp(st->db, n->db) == 0) &&
         (!st->coll || strcmp(st->coll, n->coll) == 0);
}

static int deliver(mdb_source *s, mdb_source_event *ev, mdb_error *err) {
  s->delivered++;
  return s->fn(s->ctx, ev, err);
}

/* ---- opening ------------------------------------------------------------ */

static int remote_error(mdb_error *err, const bson_error_t *e,
                        const char *what, const stream *st) {
  return mdb_error_set(err, e->domain == MONGOC_ERROR_SERVER ? MDBEE_EREMOTE
                                                             : MDBEE_ENET,
                       "MongoDB %s of %s.%s: %s (code %u)", what,
                       st->db ? st->db : "*", st->coll ? st->coll : "*",
                       e->message, e->code);
}

/* Opens st's change stream after token (NULL: from now).  *code receives
 * the server's error code when the open fails. */
static int open_stream(mdb_source *s, stream *st, const bson_t *token,
                       uint32_t *code, mdb_error *err) {
  *code = 0;
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_UTF8(&opts, "fullDocument", "updateLookup");
  BSON_APPEND_INT32(&opts, "batchSize", (int32_t)s->batch_size);
  BSON_APPEND_INT64(&opts, "maxAwaitTimeMS", s->await_ms);
  if (token) BSON_APPEND_DOCUMENT(&opts, "resumeAfter", token);
  bson_t pipeline = BSON_INITIALIZER;
  if (st->coll) {
    mongoc_collection_t *c =
        mongoc_client_get_collection(s->client, st->db, st->coll);
    st->cs = mongoc_collection_watch(c, &pipeline, &opts);
    mongoc_collection_destroy(c);
  } else if (st->db) {
    mongoc_database_t *d = mongoc_client_get_database(s->client, st->db);
    st->cs = mongoc_database_watch(d, &pipeline, &opts);
    mongoc_database_destroy(d);
  } else {
    st->cs = mongoc_client_watch(s->client, &pipeline, &opts);
  }
  bson_destroy(&pipeline);
  bson_destroy(&opts);
  bson_error_t e;
  if (mongoc_change_stream_error_document(st->cs, &e, NULL)) {
    *code = e.code;
    mongoc_change_stream_destroy(st->cs);
    st->cs = NULL;
    return remote_error(err, &e, "watch", st);
  }
  return MDBEE_OK;
}

static void set_token(stream *st, const bson_t *token) {
  if (st->token) bson_destroy(st->token);
  st->token = token ? bson_copy(token) : NULL;
}

/* Forgets st's cursor, a held-back event and the last point handed out;
 * the stored resume point is where it starts again. */
static void close_stream(stream *st) {
  if (st->cs) mongoc_change_stream_destroy(st->cs);
  st->cs = NULL;
  if (st->held) bson_destroy(st->held);
  st->held = NULL;
  set_token(st, NULL);
}

/* The stream's current position if the server gave one and it differs
 * from the last one handed out. */
static const bson_t *new_token(stream *st) {
  const bson_t *t = mongoc_change_stream_get_resume_token(st->cs);
  if (!t || t->len <= 5) return NULL;
  if (st->token && bson_equal(t, st->token)) return NULL;
  return t;
}

/* ---- scanning ----------------------------------------------------------- */

static int scan_collection(mdb_source *s, stream *st, const ns *n,
                           const bson_t *kept, mdb_error *err) {
  mdb_source_event ev = {.op = MDB_SOURCE_SCAN_BEGIN, .db = n->db,
                         .coll = n->coll, .stream_db = st->db,
                         .stream_coll = st->coll, .operation = "scan"};
  int rc = deliver(s, &ev, err);
  if (rc != MDBEE_OK) return rc;

  mongoc_collection_t *c = mongoc_client_get_collection(s->client, n->db, n->coll);
  bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
  BSON_APPEND_INT32(&sort, "_id", 1);
  bson_append_document_end(&opts, &sort);
  BSON_APPEND_INT32(&opts, "batchSize", (int32_t)s->batch_size);
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, &opts, NULL);
  const bson_t *doc;
  while (rc == MDBEE_OK && mongoc_cursor_next(cur, &doc)) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id")) {
      rc = mdb_error_set(err, MDBEE_EFORMAT, "document of %s.%s without _id",
                         n->db, n->coll);
      break;
    }
    uint8_t *key;
    size_t key_len;
    rc = mdb_source_id_key(bson_iter_value(&it), &key, &key_len, err);
    if (rc != MDBEE_OK) break;
    mdb_source_event up = {.op = MDB_SOURCE_UPSERT, .from_scan = 1,
                           .db = n->db, .coll = n->coll,
                           .id = bson_iter_value(&it), .id_key = key,
                           .id_key_len = key_len, .doc = doc,
                           .stream_db = st->db, .stream_coll = st->coll,
                           .operation = "scan"};
    rc = deliver(s, &up, err);
    free(key);
  }
  bson_error_t e;
  if (rc == MDBEE_OK && mongoc_cursor_error(cur, &e))
    rc = remote_error(err, &e, "scan", st);
  mongoc_cursor_destroy(cur);
  bson_destroy(&opts);
  bson_destroy(&filter);
  mongoc_collection_destroy(c);
  if (rc != MDBEE_OK) return rc;

  ev.op = MDB_SOURCE_SCAN_END;
  ev.resume_token = kept;
  return deliver(s, &ev, err);
}

/* Opens st afresh, keeps its starting point, scans every allowed
 * collection it covers, and hands the kept point out with the last
 * SCAN_END so that a crash during the scan restarts it. */
static int rescan_stream(mdb_source *s, stream *st, mdb_error *err) {
  close_stream(st);
  uint32_t code;
  int rc = open_stream(s, st, NULL, &code, err);
  if (rc != MDBEE_OK) return rc;

  bson_t *kept = NULL;
  const bson_t *t = new_token(st);
  if (!t) {
    /* No postBatchResumeToken from the open: one read may give it.  An
     * event read now is held back and delivered after the scan; the kept
     * point is then unknown and the scan ends without one. */
    const bson_t *first;
    if (mongoc_change_stream_next(st->cs, &first)) st->held = bson_copy(first);
    else t = new_token(st);
  }
  if (t) kept = bson_copy(t);

  size_t last = 0;
  for (size_t i = 0; i < s->n_allow; i++)
    if (covers(st, &s->allow[i])) last = i + 1;
  for (size_t i = 0; rc == MDBEE_OK && i < last; i++)
    if (covers(st, &s->allow[i]))
      rc = scan_collection(s, st, &s->allow[i], i + 1 == last ? kept : NULL,
                           err);
  if (rc == MDBEE_OK && kept) set_token(st, kept);
  if (kept) bson_destroy(kept);
  return rc;
}

/* ---- events ------------------------------------------------------------- */

static int rescan_collection_of(mdb_source *s, const char *db,
                                const char *coll, mdb_error *err) {
  for (size_t i = 0; i < s->n_allow; i++) {
    ns *n = &s->allow[i];
    if (strcmp(n->db, db) != 0 || strcmp(n->coll, coll) != 0) continue;
    for (size_t j = 0; j < s->n_streams; j++)
      if (covers(&s->streams[j], n))
        return scan_collection(s, &s->streams[j], n, NULL, err);
  }
  return MDBEE_OK;
}

static int handle_event(mdb_source *s, stream *st, const bson_t *change,
                        const bson_t *token, mdb_error *err) {
  source_change c;
  int rc = source_normalise(change, st->db, st->coll, &c, err);
  if (rc != MDBEE_OK) return rc;
  if (c.invalidate) return rescan_stream(s, st, err);
  /* The token is handed out (CHECKPOINT below) only after the re-scan, so
   * a crash during it replays the event and scans again. */
  for (size_t i = 0; c.rescan && rc == MDBEE_OK && i < s->n_allow; i++)
    if (covers(st, &s->allow[i]))
      rc = scan_collection(s, st, &s->allow[i], NULL, err);
  if (rc != MDBEE_OK) return rc;

  mdb_source_event ev = {.op = c.op, .db = c.db, .coll = c.coll,
                         .resume_token = token, .stream_db = st->db,
                         .stream_coll = st->coll, .cluster_t = c.cluster_t,
                         .cluster_i = c.cluster_i, .operation = c.operation};
  /* Nothing outside the allow-list is delivered; its events only move
   * the resume point. */
  if (ev.op != MDB_SOURCE_CHECKPOINT && !allowed(s, c.db, c.coll)) {
    ev.op = MDB_SOURCE_CHECKPOINT;
  }
  uint8_t *key = NULL;
  if (ev.op == MDB_SOURCE_UPSERT || ev.op == MDB_SOURCE_DELETE) {
    rc = mdb_source_id_key(&c.id, &key, &ev.id_key_len, err);
    if (rc != MDBEE_OK) return rc;
    ev.id = &c.id;
    ev.id_key = key;
    if (ev.op == MDB_SOURCE_UPSERT) ev.doc = &c.doc;
  }
  if (ev.op == MDB_SOURCE_CHECKPOINT) ev.db = ev.coll = NULL;
  rc = deliver(s, &ev, err);
  free(key);
  if (rc == MDBEE_OK) set_token(st, token);
  /* A rename into an allowed collection brings documents no event
   * announced: read them. */
  if (rc == MDBEE_OK && c.to_db && c.to_coll && allowed(s, c.to_db, c.to_coll))
    rc = rescan_collection_of(s, c.to_db, c.to_coll, err);
  return rc;
}

/* Reads what st has (at most one batch).  A lost resume point re-scans. */
static int read_stream(mdb_source *s, stream *st, mdb_error *err) {
  int rc;
  if (st->held) {
    bson_t *held = st->held;
    st->held = NULL;
    rc = handle_event(s, st, held, mongoc_change_stream_get_resume_token(st->cs),
                      err);
    bson_destroy(held);
    if (rc != MDBEE_OK) return rc;
  }
  int fault = s->fault ? s->fault(s->fault_ctx, "next", st->db, st->coll) : 0;
  if (fault) {
    if (history_lost((uint32_t)fault)) return rescan_stream(s, st, err);
    return mdb_error_set(err, MDBEE_EREMOTE, "injected error %d", fault);
  }
  const bson_t *change;
  for (uint32_t n = 0; n < s->batch_size && st->cs &&
                       mongoc_change_stream_next(st->cs, &change);
       n++) {
    rc = handle_event(s, st, change, mongoc_change_stream_get_resume_token(st->cs),
                      err);
    if (rc != MDBEE_OK) return rc;
  }
  bson_error_t e;
  const bson_t *reply;
  if (st->cs && mongoc_change_stream_error_document(st->cs, &e, &reply)) {
    if (history_lost(e.code)) return rescan_stream(s, st, err);
    return remote_error(err, &e, "change stream", st);
  }
  /* An idle stream may still advance (postBatchResumeToken): keep that
   * point so a restart does not start from further back than needed. */
  const bson_t *t = st->cs ? new_token(st) : NULL;
  if (t) {
    mdb_source_event ev = {.op = MDB_SOURCE_CHECKPOINT, .resume_token = t,
                           .stream_db = st->db, .stream_coll = st->coll,
                           .operation = "checkpoint"};
    bson_t copy;
    bson_copy_to(t, &copy);
    ev.resume_token = &copy;
    rc = deliver(s, &ev, err);
    if (rc == MDBEE_OK) set_token(st, &copy);
    bson_destroy(&copy);
    return rc;
  }
  return MDBEE_OK;
}

/* ---- public ------------------------------------------------------------- */

static int add_stream(mdb_source *s, const char *db, const char *coll) {
  for (size_t i = 0; i < s->n_streams; i++) {
    stream *st = &s->streams[i];
    if ((st->db == NULL) == (db == NULL) && (!db || strcmp(st->db, db) == 0) &&
        (st->coll == NULL) == (coll == NULL) &&
        (!coll || strcmp(st->coll, coll) == 0))
      return 0;
  }
  stream *st = &s->streams[s->n_streams];
  memset(st, 0, sizeof *st);
  st->db = db ? strdup(db) : NULL;
  st->coll = coll ? strdup(coll) : NULL;
  if ((db && !st->db) || (coll && !st->coll)) return -1;
  s->n_streams++;
  return 0;
}

int mdb_source_open(const mdb_source_options *opts, mdb_source **out,
                    mdb_error *err) {
  if (!opts || !opts->uri || !opts->n_namespaces)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "source needs a URI and at least one collection");
  mongoc_init();
  mdb_source *s = calloc(1, sizeof *s);
  if (!s) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  s->level = opts->level;
  s->batch_size = opts->batch_size ? opts->batch_size : 1000;
  s->await_ms = opts->await_ms ? opts->await_ms : 100;
  s->resume = opts->resume;
  s->resume_ctx = opts->resume_ctx;
  s->fault = opts->fault;
  s->fault_ctx = opts->fault_ctx;
  s->allow = calloc(opts->n_namespaces, sizeof *s->allow);
  s->streams = calloc(opts->n_namespaces, sizeof *s->streams);
  int rc = s->allow && s->streams ? MDBEE_OK
                                  : mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; rc == MDBEE_OK && i < opts->n_namespaces; i++) {
    const char *name = opts->namespaces[i];
    const char *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1]) {
      rc = mdb_error_set(err, MDBEE_EINVAL,
                         "collection \"%s\" is not of the form db.collection",
                         name);
      break;
    }
    ns *n = &s->allow[s->n_allow++];
    n->db = strndup(name, (size_t)(dot - name));
    n->coll = strdup(dot + 1);
    int bad = !n->db || !n->coll;
    if (!bad && s->level == MDB_SOURCE_WATCH_COLLECTION)
      bad = add_stream(s, n->db, n->coll);
    else if (!bad && s->level == MDB_SOURCE_WATCH_DATABASE)
      bad = add_stream(s, n->db, NULL);
    else if (!bad)
      bad = add_stream(s, NULL, NULL);
    if (bad) rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  if (rc == MDBEE_OK) {
    bson_error_t e;
    /* Parse errors from libmongoc may quote the URI: report none of it,
     * since it can hold the password. */
    mongoc_uri_t *uri = mongoc_uri_new_with_error(opts->uri, &e);
    if (!uri) {
      rc = mdb_error_set(err, MDBEE_ECONFIG, "invalid MongoDB URI");
    } else {
      mongoc_uri_set_appname(uri, "mdbee");
      s->client = mongoc_client_new_from_uri_with_error(uri, &e);
      mongoc_uri_destroy(uri);
      if (!s->client) rc = mdb_error_set(err, MDBEE_ECONFIG, "invalid MongoDB URI");
    }
  }
  if (rc == MDBEE_OK) {
    mongoc_client_set_error_api(s->client, MONGOC_ERROR_API_VERSION_2);
    bson_t ping = BSON_INITIALIZER;
    BSON_APPEND_INT32(&ping, "ping", 1);
    bson_error_t e;
    if (!mongoc_client_command_simple(s->client, "admin", &ping, NULL, NULL, &e))
      rc = mdb_error_set(err, MDBEE_ENET, "MongoDB does not answer: %s",
                         e.message);
    bson_destroy(&ping);
  }
  if (rc != MDBEE_OK) {
    mdb_source_close(s);
    return rc;
  }
  *out = s;
  return MDBEE_OK;
}

static int start_stream(mdb_source *s, stream *st, mdb_error *err) {
  close_stream(st); /* a restart after a failure */
  bson_t token;
  int found = s->resume ? s->resume(s->resume_ctx, st->db, st->coll, &token) : 0;
  if (found < 0)
    return mdb_error_set(err, MDBEE_ESTATE, "cannot read the resume point of "
                         "%s.%s", st->db ? st->db : "*", st->coll ? st->coll : "*");
  if (found == 0) return rescan_stream(s, st, err);
  uint32_t code = 0;
  int fault = s->fault ? s->fault(s->fault_ctx, "resume", st->db, st->coll) : 0;
  int rc;
  if (fault) {
    code = (uint32_t)fault;
    rc = mdb_error_set(err, MDBEE_EREMOTE, "injected error %d", fault);
  } else {
    rc = open_stream(s, st, &token, &code, err);
  }
  if (rc == MDBEE_OK) set_token(st, &token);
  bson_destroy(&token);
  if (rc != MDBEE_OK && history_lost(code)) return rescan_stream(s, st, err);
  return rc;
}

int mdb_source_start(mdb_source *src, mdb_source_event_fn fn, void *ctx,
                     mdb_error *err) {
  src->fn = fn;
  src->ctx = ctx;
  for (size_t i = 0; i < src->n_streams; i++) {
    int rc = start_stream(src, &src->streams[i], err);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

int mdb_source_poll(mdb_source *src, int64_t wait_ms, mdb_source_event_fn fn,
                    void *ctx, size_t *delivered, mdb_error *err) {
  src->fn = fn;
  src->ctx = ctx;
  src->delivered = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int rc = MDBEE_OK;
  for (;;) {
    for (size_t i = 0; rc == MDBEE_OK && i < src->n_streams; i++) {
      stream *st = &src->streams[i];
      if (!st->cs) {
        rc = mdb_error_set(err, MDBEE_EINVAL, "source not started");
        break;
      }
      rc = read_stream(src, st, err);
    }
    if (rc != MDBEE_OK || src->delivered) break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (now.tv_sec - start.tv_sec) * 1000 +
                 (now.tv_nsec - start.tv_nsec) / 1000000;
    if (ms >= wait_ms) break;
    /* Servers that ignore maxAwaitTimeMS answer at once: do not spin. */
    struct timespec pause = {0, 20 * 1000000};
    nanosleep(&pause, NULL);
  }
  if (delivered) *delivered = src->delivered;
  return rc;
}

void mdb_source_close(mdb_source *src) {
  if (!src) return;
  for (size_t i = 0; i < src->n_streams; i++) {
    stream *st = &src->streams[i];
    close_stream(st);
    free(st->db);
    free(st->coll);
  }
  for (size_t i = 0; i < src->n_allow; i++) {
    free(src->allow[i].db);
    free(src->allow[i].coll);
  }
  if (src->client) mongoc_client_destroy(src->client);
  free(src->streams);
  free(src->allow);
  free(src);
}
