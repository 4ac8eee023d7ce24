/* Transport of the Bee client: the handle, one request with retries and
 * backoff, and turning Bee's error answers into mdb_error and
 * mdb_bee_failure. */
#include "bee_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdbee/hex.h"

enum {
  DEFAULT_CONNECT_MS = 5000,
  DEFAULT_REQUEST_MS = 60000,
  DEFAULT_RETRIES = 6,
  DEFAULT_RETRY_BASE_MS = 100,
  DEFAULT_RETRY_MAX_MS = 5000,
  DEFAULT_IN_FLIGHT = 16
};

int mdb_bee_open(const mdb_bee_options *opts, mdb_bee **out, mdb_error *err) {
  *out = NULL;
  if (!opts || !opts->url ||
      (strncmp(opts->url, "http://", 7) != 0 &&
       strncmp(opts->url, "https://", 8) != 0))
    return mdb_error_set(err, MDBEE_EINVAL,
                         "Bee URL must start with http:// or https://");
  /* curl_global_init is reference-counted by curl itself; calling it per
   * handle keeps the library free of its own global state. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return mdb_error_set(err, MDBEE_ENOMEM, "curl_global_init failed");
  mdb_bee *bee = calloc(1, sizeof *bee);
  if (!bee) goto nomem;
  bee->o = *opts;
  if (!bee->o.connect_timeout_ms) bee->o.connect_timeout_ms = DEFAULT_CONNECT_MS;
  if (!bee->o.request_timeout_ms) bee->o.request_timeout_ms = DEFAULT_REQUEST_MS;
  if (!bee->o.max_retries) bee->o.max_retries = DEFAULT_RETRIES;
  if (!bee->o.retry_base_ms) bee->o.retry_base_ms = DEFAULT_RETRY_BASE_MS;
  if (!bee->o.retry_max_ms) bee->o.retry_max_ms = DEFAULT_RETRY_MAX_MS;
  if (!bee->o.max_in_flight) bee->o.max_in_flight = DEFAULT_IN_FLIGHT;
  bee->url = strdup(opts->url);
  bee->easy = curl_easy_init();
  bee->multi = curl_multi_init();
  if (!bee->url || !bee->easy || !bee->multi) goto nomem;
  size_t n = strlen(bee->url);
  while (n > 0 && bee->url[n - 1] == '/') bee->url[--n] = '\0';
  bee->o.url = bee->url;
  curl_multi_setopt(bee->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    (long)bee->o.max_in_flight);
  *out = bee;
  return MDBEE_OK;
nomem:
  mdb_bee_close(bee);
  if (!bee) curl_global_cleanup();
  return mdb_error_set(err, MDBEE_ENOMEM, "out of memory opening Bee client");
}

void mdb_bee_close(mdb_bee *bee) {
  if (!bee) return;
  if (bee->easy) curl_easy_cleanup(bee->easy);
  if (bee->multi) curl_multi_cleanup(bee->multi);
  free(bee->url);
  free(bee);
  curl_global_cleanup();
}

const mdb_bee_failure *mdb_bee_last_failure(const mdb_bee *bee) {
  return &bee->last;
}

void bee_response_reset(bee_response *r) {
  r->status = 0;
  r->curl_code = CURLE_OK;
  r->curl_error[0] = '\0';
  r->len = 0;
  free(r->content_type);
  r->content_type = NULL;
}

void bee_response_free(bee_response *r) {
  free(r->body);
  free(r->content_type);
  memset(r, 0, sizeof *r);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg) {
  bee_response *r = arg;
  size_t n = size * nmemb;
  if (r->len + n + 1 > r->cap) {
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + n + 1) cap *= 2;
    uint8_t *p = realloc(r->body, cap);
    if (!p) return 0; /* curl then fails the transfer with a write error */
    r->body = p;
    r->cap = cap;
  }
  memcpy(r->body + r->len, data, n);
  r->len += n;
  r->body[r->len] = '\0'; /* JSON parsing and messages want a C string */
  return n;
}

int bee_easy_prepare(mdb_bee *bee, CURL *easy, const char *method,
                     const char *path, struct curl_slist *headers,
                     const void *body, size_t len, bee_response *r,
                     mdb_error *err) {
  char url[2048];
  if ((size_t)snprintf(url, sizeof url, "%s%s", bee->url, path) >= sizeof url)
    return mdb_error_set(err, MDBEE_EINVAL, "Bee request path too long");
  bee_response_reset(r);
  curl_easy_reset(easy);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, bee->o.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, bee->o.request_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->curl_error);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (body || strcmp(method, "POST") == 0) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body ? body : "");
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  }
  return MDBEE_OK;
}

void bee_easy_finish(CURL *easy, CURLcode code, bee_response *r) {
  r->curl_code = code;
  if (code != CURLE_OK) {
    r->status = 0;
    if (!r->curl_error[0])
      snprintf(r->curl_error, sizeof r->curl_error, "%s",
               curl_easy_strerror(code));
    return;
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
  char *ct = NULL;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct);
  if (ct) r->content_type = strdup(ct);
}

int bee_retryable(const bee_response *r) {
  if (r->status == 0) return 1;
  if (r->status == 429) return 1;
  /* 501 is how a dev node refuses SOCs: asking again cannot help. */
  return r->status >= 500 && r->status != 501;
}

long bee_backoff_ms(const mdb_bee *bee, unsigned attempt) {
  long ms = bee->o.retry_base_ms;
  for (unsigned i = 1; i < attempt && ms < bee->o.retry_max_ms; i++) ms *= 2;
  return ms < bee->o.retry_max_ms ? ms : bee->o.retry_max_ms;
}

long long bee_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bee_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int bee_call(mdb_bee *bee, const char *method, const char *path,
             struct curl_slist *headers, const void *body, size_t len,
             bee_response *r, mdb_error *err) {
  for (unsigned attempt = 0;; attempt++) {
    int rc = bee_easy_prepare(bee, bee->easy, method, path, headers, body, len,
                              r, err);
    if (rc != MDBEE_OK) return rc;
    bee_easy_finish(bee->easy, curl_easy_perform(bee->easy), r);
    if (r->status >= 200 && r->status < 300) return MDBEE_OK;
    if (!bee_retryable(r) || attempt >= bee->o.max_retries)
      return bee_fail(bee, method, path, r, err);
    bee_sleep_ms(bee_backoff_ms(bee, attempt + 1));
  }
}

/* Bee's error body is {"code": N, "message": "..."}; anything else (a proxy
 * page, a cut body) is quoted as far as it is printable. */
static void bee_message(const bee_response *r, char *out, size_t cap) {
  out[0] = '\0';
  bson_t doc;
  if (r->len && bee_json(r, &doc, NULL) == MDBEE_OK) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, &doc, "message") && BSON_ITER_HOLDS_UTF8(&it))
      snprintf(out, cap, "%s", bson_iter_utf8(&it, NULL));
    bson_destroy(&doc);
    if (out[0]) return;
  }
  size_t n = 0;
  for (size_t i = 0; i < r->len && n + 1 < cap && n < 160; i++)
    out[n++] = (r->body[i] >= 0x20 && r->body[i] < 0x7f) ? (char)r->body[i] : '?';
  out[n] = '\0';
}

int bee_fail(mdb_bee *bee, const char *method, const char *path,
             const bee_response *r, mdb_error *err) {
  mdb_bee_failure *f = &bee->last;
  f->http_status = r->status;
  if (r->status == 0) {
    f->refusal = MDB_BEE_REFUSAL_NONE;
    snprintf(f->message, sizeof f->message, "%s", r->curl_error);
    return mdb_error_set(err, MDBEE_ENET, "Bee %s %s: %s", method, path,
                         f->message);
  }
  bee_message(r, f->message, sizeof f->message);
  const char *hint = "";
  int code = MDBEE_EREMOTE;
  f->refusal = MDB_BEE_REFUSAL_OTHER;
  if (strstr(f->message, "dev mode") && r->status == 501) {
    f->refusal = MDB_BEE_REFUSAL_DEV_SOC;
    hint = " (a Bee dev node cannot store single owner chunks, so it cannot "
           "carry the feed; use a node connected to a network)";
  } else if (strstr(f->message, "dev mode")) {
    f->refusal = MDB_BEE_REFUSAL_DEV_CHUNKS;
    hint = " (a Bee dev node takes chunks only under an upload tag)";
  } else if (r->status == 402) {
    f->refusal = MDB_BEE_REFUSAL_BATCH_FULL;
    hint = " (the postage batch is full: buy a deeper batch or dilute it)";
  } else if (r->status == 422 || ((r->status == 404 || r->status == 400) &&
                                  strstr(f->message, "batch"))) {
    f->refusal = MDB_BEE_REFUSAL_BATCH_UNKNOWN;
    hint = " (the node has no usable postage batch with this id)";
  } else if (r->status == 404) {
    f->refusal = MDB_BEE_REFUSAL_NOT_FOUND;
    code = MDBEE_ENOTFOUND;
  }
  return mdb_error_set(err, code, "Bee %s %s: HTTP %ld: %s%s", method, path,
                       r->status, f->message, hint);
}

int bee_json(const bee_response *r, bson_t *doc, mdb_error *err) {
  bson_error_t e;
  if (!r->body || !bson_init_from_json(doc, (const char *)r->body,
                                       (ssize_t)r->len, &e))
    return mdb_error_set(err, MDBEE_EFORMAT, "Bee answered invalid JSON: %s",
                         r->body ? e.message : "empty body");
  return MDBEE_OK;
}

int bee_json_ref(const bee_response *r, const char *field, uint8_t out[32],
                 mdb_error *err) {
  bson_t doc;
  int rc = bee_json(r, &doc, err);
  if (rc != MDBEE_OK) return rc;
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &doc, field) || !BSON_ITER_HOLDS_UTF8(&it))
    rc = mdb_error_set(err, MDBEE_EFORMAT, "Bee answer lacks \"%s\"", field);
  else
    rc = mdb_hex_decode(bson_iter_utf8(&it, NULL), out, 32, err);
  bson_destroy(&doc);
  return rc;
}

int bee_json_int(const bson_t *doc, const char *field, int64_t *out) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, field)) return 0;
  if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it) ||
      BSON_ITER_HOLDS_DOUBLE(&it)) {
    *out = bson_iter_as_int64(&it);
    return 1;
  }
  return 0;
}

static int append(struct curl_slist **list, const char *line) {
  struct curl_slist *grown = curl_slist_append(*list, line);
  if (!grown) return 0;
  *list = grown;
  return 1;
}

struct curl_slist *bee_upload_headers(const uint8_t batch_id[32],
                                      uint64_t tag) {
  char line[128], hex[65];
  struct curl_slist *h = NULL;
  mdb_hex_encode(batch_id, 32, hex);
  snprintf(line, sizeof line, "swarm-postage-batch-id: %s", hex);
  int ok = append(&h, line);
  if (ok && tag) {
    snprintf(line, sizeof line, "swarm-tag: %llu", (unsigned long long)tag);
    ok = append(&h, line);
  }
  /* curl would otherwise wait for "100 Continue" before large bodies. */
  ok = ok && append(&h, "content-type: application/octet-stream") &&
       append(&h, "Expect:");
  if (!ok) {
    curl_slist_free_all(h);
    return NULL;
  }
  return h;
}
