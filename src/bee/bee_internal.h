/* Internals shared by the Bee client's files: the handle, one HTTP answer,
 * and the request/retry machinery. */
#ifndef MDBEE_BEE_INTERNAL_H
#define MDBEE_BEE_INTERNAL_H

#include <curl/curl.h>
#include <bson/bson.h>

#include "mdbee/bee.h"

struct mdb_bee {
  mdb_bee_options o;
  char *url;               /* base URL without trailing '/' */
  CURL *easy;              /* reused for single requests (keep-alive) */
  CURLM *multi;            /* parallel uploads */
  mdb_bee_failure last;
};

/* One answer: status 0 and curl_code set when no HTTP answer arrived. */
typedef struct bee_response {
  long status;
  CURLcode curl_code;
  char curl_error[CURL_ERROR_SIZE];
  uint8_t *body;
  size_t len, cap;
  char *content_type;
} bee_response;

void bee_response_reset(bee_response *r);
void bee_response_free(bee_response *r);

/* Prepares `easy` for one attempt of METHOD base+path with headers and an
 * optional body; the answer goes to r (reset first). */
int bee_easy_prepare(mdb_bee *bee, CURL *easy, const char *method,
                     const char *path, struct curl_slist *headers,
                     const void *body, size_t len, bee_response *r,
                     mdb_error *err);

/* Copies what curl recorded after a finished attempt into r. */
void bee_easy_finish(CURL *easy, CURLcode code, bee_response *r);

/* 1 when the attempt may succeed if repeated: no answer, 5xx except 501,
 * or 429. */
int bee_retryable(const bee_response *r);

/* Backoff before retry number attempt (1-based), in milliseconds. */
long bee_backoff_ms(const mdb_bee *bee, unsigned attempt);

/* Sleeps ms milliseconds, resuming after signals. */
void bee_sleep_ms(long ms);

/* Monotonic clock in milliseconds. */
long long bee_now_ms(void);

/* Sends a request, retrying as bee.h describes.  MDBEE_OK for a 2xx answer
 * (r holds it); otherwise records the failure in bee->last and returns
 * bee_fail's code. */
int bee_call(mdb_bee *bee, const char *method, const char *path,
             struct curl_slist *headers, const void *body, size_t len,
             bee_response *r, mdb_error *err);

/* Records a final failed answer (or lack of one) for METHOD path in
 * bee->last and err: MDBEE_ENET without an answer, MDBEE_ENOTFOUND for a
 * plain 404, MDBEE_EREMOTE otherwise. */
int bee_fail(mdb_bee *bee, const char *method, const char *path,
             const bee_response *r, mdb_error *err);

/* Parses the JSON body as a BSON document (caller destroys it). */
int bee_json(const bee_response *r, bson_t *doc, mdb_error *err);

/* Reads a 32-byte hex field (e.g. "reference", "batchID") of a JSON body. */
int bee_json_ref(const bee_response *r, const char *field, uint8_t out[32],
                 mdb_error *err);

/* Reads an integer field, whichever JSON number form Bee used. */
int bee_json_int(const bson_t *doc, const char *field, int64_t *out);

/* Appends "swarm-postage-batch-id" and, when tag != 0, "swarm-tag" headers
 * (and disables Expect: 100-continue) to list. */
struct curl_slist *bee_upload_headers(const uint8_t batch_id[32],
                                      uint64_t tag);

#endif
