/* Bee endpoints other than the parallel chunk upload: health, batches, tags,
 * single owner chunks, chunk and bzz downloads, pins. */
#include "bee_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdbee/hex.h"

#define REF_HEX(name, bytes, n) \
  char name[2 * (n) + 1];       \
  mdb_hex_encode(bytes, n, name)

/* Writes prefix followed by the hex of a 32-byte reference to path. */
static void ref_path(char path[128], const char *prefix, const uint8_t ref[32]) {
  char hex[65];
  mdb_hex_encode(ref, 32, hex);
  snprintf(path, 128, "%s%s", prefix, hex);
}

/* Sets *match to whether the JSON body's "status" field equals want. */
static int status_is(const bee_response *r, const char *want, int *match,
                     mdb_error *err) {
  bson_t doc;
  int rc = bee_json(r, &doc, err);
  if (rc != MDBEE_OK) return rc;
  bson_iter_t it;
  *match = bson_iter_init_find(&it, &doc, "status") &&
           BSON_ITER_HOLDS_UTF8(&it) &&
           strcmp(bson_iter_utf8(&it, NULL), want) == 0;
  bson_destroy(&doc);
  return MDBEE_OK;
}

int mdb_bee_health(mdb_bee *bee, mdb_error *err) {
  bee_response r = {0};
  int rc = bee_call(bee, "GET", "/health", NULL, NULL, 0, &r, err);
  int ok = 0;
  if (rc == MDBEE_OK) rc = status_is(&r, "ok", &ok, err);
  if (rc == MDBEE_OK && !ok)
    rc = mdb_error_set(err, MDBEE_EREMOTE, "Bee /health: status is not ok");
  bee_response_free(&r);
  return rc;
}

int mdb_bee_readiness(mdb_bee *bee, int *ready, mdb_error *err) {
  bee_response r = {0};
  *ready = 0;
  int rc = bee_call(bee, "GET", "/readiness", NULL, NULL, 0, &r, err);
  /* A node that is not ready answers 400 with status "notReady". */
  if (rc == MDBEE_OK || (rc == MDBEE_EREMOTE && r.status == 400))
    rc = status_is(&r, "ready", ready, err);
  bee_response_free(&r);
  return rc;
}

int mdb_bee_buy_batch(mdb_bee *bee, const char *amount, unsigned depth,
                      const char *label, long wait_ms, uint8_t batch_id[32],
                      mdb_error *err) {
  if (!amount || !*amount || strspn(amount, "0123456789") != strlen(amount))
    return mdb_error_set(err, MDBEE_EINVAL,
                         "batch amount must be a decimal number");
  char path[512];
  char *esc = label ? curl_easy_escape(bee->easy, label, 0) : NULL;
  int n = snprintf(path, sizeof path, "/stamps/%s/%u%s%s", amount, depth,
                   esc ? "?label=" : "", esc ? esc : "");
  curl_free(esc);
  if (n < 0 || (size_t)n >= sizeof path)
    return mdb_error_set(err, MDBEE_EINVAL, "batch amount or label too long");
  bee_response r = {0};
  int rc = bee_call(bee, "POST", path, NULL, NULL, 0, &r, err);
  if (rc == MDBEE_OK) rc = bee_json_ref(&r, "batchID", batch_id, err);
  bee_response_free(&r);
  if (rc != MDBEE_OK) return rc;
  /* On a real chain the batch becomes usable some blocks later. */
  long long deadline = bee_now_ms() + wait_ms;
  for (;;) {
    mdb_bee_batch b;
    rc = mdb_bee_get_batch(bee, batch_id, &b, err);
    if (rc != MDBEE_OK && rc != MDBEE_ENOTFOUND) return rc;
    if (rc == MDBEE_OK && b.usable) return MDBEE_OK;
    if (bee_now_ms() >= deadline)
      return mdb_error_set(err, MDBEE_ENET,
                           "postage batch not usable after %ld ms", wait_ms);
    bee_sleep_ms(500);
  }
}

int mdb_bee_get_batch(mdb_bee *bee, const uint8_t batch_id[32],
                      mdb_bee_batch *out, mdb_error *err) {
  char path[128];
  ref_path(path, "/stamps/", batch_id);
  bee_response r = {0};
  int rc = bee_call(bee, "GET", path, NULL, NULL, 0, &r, err);
  /* Bee calls an unknown batch "issuer does not exist" (404). */
  if (rc == MDBEE_OK) {
    bson_t doc;
    rc = bee_json(&r, &doc, err);
    if (rc == MDBEE_OK) {
      memset(out, 0, sizeof *out);
      memcpy(out->id, batch_id, 32);
      int64_t v = 0;
      bson_iter_t it;
      if (bee_json_int(&doc, "depth", &v)) out->depth = (unsigned)v;
      if (bee_json_int(&doc, "bucketDepth", &v)) out->bucket_depth = (unsigned)v;
      if (bee_json_int(&doc, "utilization", &v)) out->utilization = (uint32_t)v;
      if (bee_json_int(&doc, "batchTTL", &v)) out->ttl_seconds = v;
      if (bson_iter_init_find(&it, &doc, "usable") && BSON_ITER_HOLDS_BOOL(&it))
        out->usable = bson_iter_bool(&it);
      if (bson_iter_init_find(&it, &doc, "immutableFlag") &&
          BSON_ITER_HOLDS_BOOL(&it))
        out->immutable = bson_iter_bool(&it);
      if (!out->depth)
        rc = mdb_error_set(err, MDBEE_EFORMAT, "Bee batch answer lacks depth");
      bson_destroy(&doc);
    }
  }
  bee_response_free(&r);
  return rc;
}

static int read_tag(const bee_response *r, mdb_bee_tag *out, mdb_error *err) {
  bson_t doc;
  int rc = bee_json(r, &doc, err);
  if (rc != MDBEE_OK) return rc;
  memset(out, 0, sizeof *out);
  int64_t v = 0;
  if (!bee_json_int(&doc, "uid", &v) || v <= 0)
    rc = mdb_error_set(err, MDBEE_EFORMAT, "Bee tag answer lacks uid");
  out->uid = (uint64_t)v;
  struct { const char *name; uint64_t *field; } counters[] = {
      {"split", &out->split},   {"seen", &out->seen}, {"stored", &out->stored},
      {"sent", &out->sent},     {"synced", &out->synced}};
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
    if (bee_json_int(&doc, counters[i].name, &v)) *counters[i].field = (uint64_t)v;
  bson_destroy(&doc);
  return rc;
}

int mdb_bee_tag_create(mdb_bee *bee, uint64_t *uid, mdb_error *err) {
  bee_response r = {0};
  mdb_bee_tag tag;
  int rc = bee_call(bee, "POST", "/tags", NULL, NULL, 0, &r, err);
  if (rc == MDBEE_OK) rc = read_tag(&r, &tag, err);
  if (rc == MDBEE_OK) *uid = tag.uid;
  bee_response_free(&r);
  return rc;
}

int mdb_bee_tag_get(mdb_bee *bee, uint64_t uid, mdb_bee_tag *out,
                    mdb_error *err) {
  char path[64];
  snprintf(path, sizeof path, "/tags/%llu", (unsigned long long)uid);
  bee_response r = {0};
  int rc = bee_call(bee, "GET", path, NULL, NULL, 0, &r, err);
  if (rc == MDBEE_OK) rc = read_tag(&r, out, err);
  bee_response_free(&r);
  return rc;
}

int mdb_bee_upload_soc(mdb_bee *bee, const uint8_t batch_id[32], uint64_t tag,
                       const uint8_t owner[20], const uint8_t id[32],
                       const uint8_t sig[65], const uint8_t *data, size_t len,
                       const uint8_t *address, mdb_error *err) {
  if (len < 8 || len > 4104)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "SOC wrapped chunk of %zu bytes (8..4104 allowed)", len);
  REF_HEX(owner_hex, owner, 20);
  REF_HEX(id_hex, id, 32);
  REF_HEX(sig_hex, sig, 65);
  char path[320];
  snprintf(path, sizeof path, "/soc/%s/%s?sig=%s", owner_hex, id_hex, sig_hex);
  struct curl_slist *h = bee_upload_headers(batch_id, tag);
  if (!h) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  bee_response r = {0};
  int rc = bee_call(bee, "POST", path, h, data, len, &r, err);
  uint8_t ref[32];
  if (rc == MDBEE_OK) rc = bee_json_ref(&r, "reference", ref, err);
  if (rc == MDBEE_OK && address && memcmp(ref, address, 32) != 0) {
    REF_HEX(got, ref, 32);
    REF_HEX(want, address, 32);
    rc = mdb_error_set(err, MDBEE_EVERIFY,
                       "Bee stored SOC %s under reference %s", want, got);
  }
  bee_response_free(&r);
  curl_slist_free_all(h);
  return rc;
}

/* Hands the body of r to the caller (NUL-terminated beyond *len). */
static void take_body(bee_response *r, uint8_t **data, size_t *len) {
  *data = r->body ? r->body : calloc(1, 1);
  *len = r->len;
  r->body = NULL;
  r->len = r->cap = 0;
}

int mdb_bee_get_chunk(mdb_bee *bee, const uint8_t address[32], uint8_t **data,
                      size_t *len, mdb_error *err) {
  char path[128];
  ref_path(path, "/chunks/", address);
  bee_response r = {0};
  *data = NULL;
  *len = 0;
  int rc = bee_call(bee, "GET", path, NULL, NULL, 0, &r, err);
  if (rc == MDBEE_OK) {
    take_body(&r, data, len);
    if (!*data) rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  bee_response_free(&r);
  return rc;
}

int mdb_bee_bzz_get(mdb_bee *bee, const uint8_t ref[32], const char *path,
                    uint8_t **data, size_t *len, char **content_type,
                    mdb_error *err) {
  *data = NULL;
  *len = 0;
  if (content_type) *content_type = NULL;
  REF_HEX(a, ref, 32);
  /* Escape each path segment but keep the separators Bee splits on. */
  size_t plen = path ? strlen(path) : 0;
  char *url = malloc(80 + 3 * plen);
  if (!url) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  size_t n = (size_t)sprintf(url, "/bzz/%s/", a);
  static const char keep[] = "-._~/";
  for (size_t i = 0; i < plen; i++) {
    unsigned char c = (unsigned char)path[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || strchr(keep, c))
      url[n++] = (char)c;
    else
      n += (size_t)sprintf(url + n, "%%%02X", c);
  }
  url[n] = '\0';
  bee_response r = {0};
  int rc = bee_call(bee, "GET", url, NULL, NULL, 0, &r, err);
  if (rc == MDBEE_OK) {
    take_body(&r, data, len);
    if (content_type && r.content_type) {
      *content_type = r.content_type;
      r.content_type = NULL;
    }
    if (!*data) rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  bee_response_free(&r);
  free(url);
  return rc;
}

static int pin_call(mdb_bee *bee, const char *method, const uint8_t ref[32],
                    mdb_error *err) {
  char path[128];
  ref_path(path, "/pins/", ref);
  bee_response r = {0};
  int rc = bee_call(bee, method, path, NULL, NULL, 0, &r, err);
  bee_response_free(&r);
  return rc;
}

int mdb_bee_pin(mdb_bee *bee, const uint8_t ref[32], mdb_error *err) {
  return pin_call(bee, "POST", ref, err);
}

int mdb_bee_unpin(mdb_bee *bee, const uint8_t ref[32], mdb_error *err) {
  return pin_call(bee, "DELETE", ref, err);
}

int mdb_bee_pins(mdb_bee *bee, uint8_t (**refs)[32], size_t *n,
                 mdb_error *err) {
  *refs = NULL;
  *n = 0;
  bee_response r = {0};
  int rc = bee_call(bee, "GET", "/pins", NULL, NULL, 0, &r, err);
  bson_t doc;
  if (rc == MDBEE_OK) rc = bee_json(&r, &doc, err);
  bee_response_free(&r);
  if (rc != MDBEE_OK) return rc;
  bson_iter_t it, arr;
  /* Bee answers "references": null when nothing is pinned. */
  if (bson_iter_init_find(&it, &doc, "references") &&
      BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)) {
    size_t cap = 0;
    while (rc == MDBEE_OK && bson_iter_next(&arr)) {
      if (!BSON_ITER_HOLDS_UTF8(&arr)) {
        rc = mdb_error_set(err, MDBEE_EFORMAT, "Bee pin list holds a non-string");
        break;
      }
      if (*n == cap) {
        cap = cap ? 2 * cap : 16;
        uint8_t (*grown)[32] = realloc(*refs, cap * sizeof **refs);
        if (!grown) {
          rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
          break;
        }
        *refs = grown;
      }
      rc = mdb_hex_decode(bson_iter_utf8(&arr, NULL), (*refs)[*n], 32, err);
      if (rc == MDBEE_OK) (*n)++;
    }
  }
  bson_destroy(&doc);
  if (rc != MDBEE_OK) {
    free(*refs);
    *refs = NULL;
    *n = 0;
  }
  return rc;
}
