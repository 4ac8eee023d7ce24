/* Parallel chunk upload: POST /chunks for many chunks through curl multi,
 * at most max_in_flight at once over keep-alive connections.  Each chunk is
 * retried on its own schedule, so one slow or failing request does not hold
 * back the others; the first final failure stops the batch. */
#include "bee_internal.h"

#include <stdlib.h>
#include <string.h>

#include "mdbee/hex.h"

typedef struct slot {
  CURL *easy;
  bee_response r;
  size_t chunk;      /* index into the caller's array */
  unsigned attempt;  /* 0 for the first try */
  int busy;
} slot;

/* A chunk waiting for its next attempt. */
typedef struct retry {
  size_t chunk;
  unsigned attempt;
  long long due_ms;
} retry;

typedef struct upload {
  mdb_bee *bee;
  const mdb_bee_chunk *chunks;
  size_t n, next, done;
  struct curl_slist *headers;
  slot *slots;
  size_t nslots;
  /* Fresh chunks start only while fewer than nslots wait, so at most
   * 2*nslots - 1 ever wait. */
  retry *retries;
  size_t nretries;
} upload;

static int start(upload *u, slot *s, size_t chunk, unsigned attempt,
                 mdb_error *err) {
  const mdb_bee_chunk *c = &u->chunks[chunk];
  if (c->len < 8 || c->len > 4104)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "chunk %zu has %zu bytes (8..4104 allowed)", chunk,
                         c->len);
  int rc = bee_easy_prepare(u->bee, s->easy, "POST", "/chunks", u->headers,
                            c->data, c->len, &s->r, err);
  if (rc != MDBEE_OK) return rc;
  if (curl_multi_add_handle(u->bee->multi, s->easy) != CURLM_OK)
    return mdb_error_set(err, MDBEE_ENOMEM, "curl_multi_add_handle failed");
  s->chunk = chunk;
  s->attempt = attempt;
  s->busy = 1;
  return MDBEE_OK;
}

/* Starts due retries first, then fresh chunks, in every idle slot. */
static int fill(upload *u, mdb_error *err) {
  long long now = bee_now_ms();
  for (size_t i = 0; i < u->nslots; i++) {
    slot *s = &u->slots[i];
    if (s->busy) continue;
    size_t pick = u->nretries;
    for (size_t k = 0; k < u->nretries; k++)
      if (u->retries[k].due_ms <= now) {
        pick = k;
        break;
      }
    int rc;
    if (pick < u->nretries) {
      retry r = u->retries[pick];
      u->retries[pick] = u->retries[--u->nretries];
      rc = start(u, s, r.chunk, r.attempt, err);
    } else if (u->next < u->n && u->nretries < u->nslots) {
      rc = start(u, s, u->next++, 0, err);
    } else {
      break;
    }
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

/* Handles a finished transfer: success, a scheduled retry, or failure. */
static int finish(upload *u, slot *s, CURLcode code, mdb_error *err) {
  curl_multi_remove_handle(u->bee->multi, s->easy);
  s->busy = 0;
  bee_easy_finish(s->easy, code, &s->r);
  const mdb_bee_chunk *c = &u->chunks[s->chunk];
  if (s->r.status == 201 || s->r.status == 200) {
    uint8_t ref[32];
    int rc = bee_json_ref(&s->r, "reference", ref, err);
    if (rc != MDBEE_OK) return rc;
    if (memcmp(ref, c->address, 32) != 0) {
      char got[65], want[65];
      mdb_hex_encode(ref, 32, got);
      mdb_hex_encode(c->address, 32, want);
      return mdb_error_set(err, MDBEE_EVERIFY,
                           "Bee answered reference %s for chunk %s", got, want);
    }
    u->done++;
    return MDBEE_OK;
  }
  if (!bee_retryable(&s->r) || s->attempt >= u->bee->o.max_retries)
    return bee_fail(u->bee, "POST", "/chunks", &s->r, err);
  u->retries[u->nretries++] = (retry){
      s->chunk, s->attempt + 1,
      bee_now_ms() + bee_backoff_ms(u->bee, s->attempt + 1)};
  return MDBEE_OK;
}

static long poll_timeout(const upload *u) {
  long timeout = 1000;
  long long now = bee_now_ms();
  for (size_t k = 0; k < u->nretries; k++) {
    long long wait = u->retries[k].due_ms - now;
    if (wait < timeout) timeout = wait < 0 ? 0 : (long)wait;
  }
  return timeout;
}

static int run(upload *u, mdb_error *err) {
  int rc = MDBEE_OK;
  while (rc == MDBEE_OK && u->done < u->n) {
    if ((rc = fill(u, err)) != MDBEE_OK) break;
    int running = 0;
    if (curl_multi_perform(u->bee->multi, &running) != CURLM_OK) {
      rc = mdb_error_set(err, MDBEE_ENET, "curl_multi_perform failed");
      break;
    }
    CURLMsg *msg;
    int left, finished = 0;
    while (rc == MDBEE_OK &&
           (msg = curl_multi_info_read(u->bee->multi, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      finished = 1;
      for (size_t i = 0; i < u->nslots; i++)
        if (u->slots[i].busy && u->slots[i].easy == msg->easy_handle) {
          rc = finish(u, &u->slots[i], msg->data.result, err);
          break;
        }
    }
    /* A finished transfer frees a slot: refill it before waiting, or the
     * wait would find no socket to watch and sleep its whole timeout. */
    if (rc == MDBEE_OK && u->done < u->n && !finished)
      curl_multi_poll(u->bee->multi, NULL, 0, (int)poll_timeout(u), NULL);
  }
  return rc;
}

int mdb_bee_upload_chunks(mdb_bee *bee, const uint8_t batch_id[32],
                          uint64_t tag, const mdb_bee_chunk *chunks, size_t n,
                          mdb_error *err) {
  if (n == 0) return MDBEE_OK;
  upload u = {.bee = bee, .chunks = chunks, .n = n};
  u.nslots = bee->o.max_in_flight < n ? bee->o.max_in_flight : n;
  u.slots = calloc(u.nslots, sizeof *u.slots);
  u.retries = calloc(2 * u.nslots, sizeof *u.retries);
  u.headers = bee_upload_headers(batch_id, tag);
  int rc = MDBEE_OK;
  if (!u.slots || !u.retries || !u.headers)
    rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; rc == MDBEE_OK && i < u.nslots; i++)
    if (!(u.slots[i].easy = curl_easy_init()))
      rc = mdb_error_set(err, MDBEE_ENOMEM, "curl_easy_init failed");
  if (rc == MDBEE_OK) rc = run(&u, err);
  for (size_t i = 0; u.slots && i < u.nslots; i++) {
    if (u.slots[i].busy) curl_multi_remove_handle(bee->multi, u.slots[i].easy);
    if (u.slots[i].easy) curl_easy_cleanup(u.slots[i].easy);
    bee_response_free(&u.slots[i].r);
  }
  free(u.slots);
  free(u.retries);
  curl_slist_free_all(u.headers);
  return rc;
}
