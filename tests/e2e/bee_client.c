/* End-to-end checks of the Bee client (include/mdbee/bee.h) against a Bee
 * API peer: tests/node/bee-client/ starts the bee-js stand-in with the
 * faults each scenario needs and runs
 *   bee_client URL SCENARIO [ARGS...]
 * Exit 0 when every check holds, 1 with a message on the first that fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdbee/bee.h"
#include "mdbee/bmt.h"
#include "mdbee/hex.h"

static const char *scenario;

#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "%s: %s:%d: ", scenario, __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                           \
      fputc('\n', stderr);                                    \
      exit(1);                                                \
    }                                                         \
  } while (0)

#define OK(call)                                                 \
  do {                                                           \
    int rc_ = (call);                                            \
    CHECK(rc_ == MDBEE_OK, "%s failed: %s", #call, err.message); \
  } while (0)

static mdb_error err;

/* n distinct chunks of varying sizes with the addresses mdbee computes. */
typedef struct chunkset {
  size_t n;
  uint8_t (*data)[8 + 4096];
  uint8_t (*address)[32];
  mdb_bee_chunk *chunks;
} chunkset;

static chunkset make_chunks(size_t n, uint32_t seed) {
  chunkset s = {n, calloc(n, sizeof *s.data), calloc(n, sizeof *s.address),
                calloc(n, sizeof *s.chunks)};
  CHECK(s.data && s.address && s.chunks, "out of memory");
  uint32_t x = seed;
  for (size_t i = 0; i < n; i++) {
    size_t len = 1 + (i * 577) % 4096;
    for (size_t k = 0; k < len; k++) {
      x = x * 1103515245u + 12345u;
      s.data[i][8 + k] = (uint8_t)(x >> 24);
    }
    mdb_bmt_span_encode(len, s.data[i]);
    mdb_bmt_chunk_address(len, s.data[i] + 8, len, s.address[i]);
    s.chunks[i] = (mdb_bee_chunk){s.data[i], 8 + len, s.address[i]};
  }
  return s;
}

static void free_chunks(chunkset *s) {
  free(s->data);
  free(s->address);
  free(s->chunks);
}

/* Reads back every step-th chunk of s and compares it byte for byte. */
static void check_stored(mdb_bee *bee, const chunkset *s, size_t step) {
  for (size_t i = 0; i < s->n; i += step) {
    uint8_t *data;
    size_t len;
    OK(mdb_bee_get_chunk(bee, s->address[i], &data, &len, &err));
    CHECK(len == s->chunks[i].len && memcmp(data, s->data[i], len) == 0,
          "chunk %zu differs", i);
    free(data);
  }
}

static mdb_bee *open_bee(const char *url, unsigned retries, long base_ms) {
  mdb_bee_options o = {.url = url, .max_retries = retries,
                       .retry_base_ms = base_ms, .retry_max_ms = 200,
                       .connect_timeout_ms = 2000, .request_timeout_ms = 10000};
  mdb_bee *bee;
  OK(mdb_bee_open(&o, &bee, &err));
  return bee;
}

static void buy(mdb_bee *bee, uint8_t batch[32]) {
  OK(mdb_bee_buy_batch(bee, "1000000000", 22, "mdbee-test", 10000, batch,
                       &err));
}

/* Health, batches, tags, verified parallel uploads, downloads, pins. */
static void basic(mdb_bee *bee) {
  OK(mdb_bee_health(bee, &err));
  int ready = 0;
  OK(mdb_bee_readiness(bee, &ready, &err));
  CHECK(ready == 1, "node not ready");
  uint8_t batch[32];
  buy(bee, batch);
  mdb_bee_batch b;
  OK(mdb_bee_get_batch(bee, batch, &b, &err));
  CHECK(b.depth == 22 && b.bucket_depth == 16 && b.usable && b.ttl_seconds > 0,
        "batch depth %u bucket %u usable %d", b.depth, b.bucket_depth, b.usable);
  uint64_t tag;
  OK(mdb_bee_tag_create(bee, &tag, &err));
  chunkset s = make_chunks(300, 1);
  OK(mdb_bee_upload_chunks(bee, batch, tag, s.chunks, s.n, &err));
  mdb_bee_tag t;
  OK(mdb_bee_tag_get(bee, tag, &t, &err));
  CHECK(t.uid == tag && t.split == 300 && t.synced == 300, "tag split %llu",
        (unsigned long long)t.split);
  OK(mdb_bee_get_batch(bee, batch, &b, &err));
  CHECK(b.utilization >= 1, "utilization %u", b.utilization);
  check_stored(bee, &s, 37);
  uint8_t missing[32];
  memset(missing, 0xee, sizeof missing);
  uint8_t *data = NULL;
  size_t len;
  CHECK(mdb_bee_get_chunk(bee, missing, &data, &len, &err) == MDBEE_ENOTFOUND,
        "missing chunk: %s", err.message);
  CHECK(mdb_bee_last_failure(bee)->http_status == 404, "status");
  CHECK(strstr(err.message, "chunk not found"), "message: %s", err.message);

  OK(mdb_bee_pin(bee, s.address[0], &err));
  OK(mdb_bee_pin(bee, s.address[0], &err));
  OK(mdb_bee_pin(bee, s.address[1], &err));
  uint8_t (*refs)[32];
  size_t n;
  OK(mdb_bee_pins(bee, &refs, &n, &err));
  CHECK(n == 2 && memcmp(refs[0], s.address[0], 32) == 0 &&
            memcmp(refs[1], s.address[1], 32) == 0,
        "pins %zu", n);
  free(refs);
  OK(mdb_bee_unpin(bee, s.address[0], &err));
  CHECK(mdb_bee_unpin(bee, s.address[0], &err) == MDBEE_ENOTFOUND,
        "unpin twice: %s", err.message);
  CHECK(mdb_bee_pin(bee, missing, &err) == MDBEE_ENOTFOUND, "pin missing: %s",
        err.message);
  OK(mdb_bee_pins(bee, &refs, &n, &err));
  CHECK(n == 1, "pins after unpin %zu", n);
  free(refs);

  uint64_t unknown_tag = 999999;
  CHECK(mdb_bee_tag_get(bee, unknown_tag, &t, &err) == MDBEE_ENOTFOUND,
        "unknown tag: %s", err.message);
  free_chunks(&s);
}

/* upload BATCH TAG: 200 chunks must arrive whole, through whatever faults
 * the peer injects (500s, resets, latency). */
static void upload(mdb_bee *bee, const char *batch_hex, uint64_t tag) {
  uint8_t batch[32];
  OK(mdb_hex_decode(batch_hex, batch, 32, &err));
  chunkset s = make_chunks(200, 2);
  OK(mdb_bee_upload_chunks(bee, batch, tag, s.chunks, s.n, &err));
  check_stored(bee, &s, 13);
  free_chunks(&s);
}

/* expect CODE REFUSAL STATUS TEXT: an upload of a few chunks fails so. */
static void expect_upload_failure(mdb_bee *bee, const char *batch_hex,
                                  uint64_t tag, int code, int refusal,
                                  long status, const char *text) {
  uint8_t batch[32];
  OK(mdb_hex_decode(batch_hex, batch, 32, &err));
  chunkset s = make_chunks(5, 3);
  int rc = mdb_bee_upload_chunks(bee, batch, tag, s.chunks, s.n, &err);
  const mdb_bee_failure *f = mdb_bee_last_failure(bee);
  CHECK(rc == code, "rc %d (%s), want %d", rc, err.message, code);
  if (refusal >= 0)
    CHECK((int)f->refusal == refusal && f->http_status == status,
          "refusal %d status %ld: %s", f->refusal, f->http_status, err.message);
  CHECK(strstr(err.message, text), "message '%s' lacks '%s'", err.message,
        text);
  free_chunks(&s);
}

/* soc BATCH OWNER ID SIG WRAPPED ADDRESS EXPECT: EXPECT is ok, verify,
 * forged or dev. */
static void soc(mdb_bee *bee, char **a) {
  uint8_t batch[32], owner[20], id[32], sig[65], address[32];
  OK(mdb_hex_decode(a[0], batch, 32, &err));
  OK(mdb_hex_decode(a[1], owner, 20, &err));
  OK(mdb_hex_decode(a[2], id, 32, &err));
  OK(mdb_hex_decode(a[3], sig, 65, &err));
  size_t len = strlen(a[4]) / 2;
  uint8_t *wrapped = malloc(len);
  OK(mdb_hex_decode(a[4], wrapped, len, &err));
  OK(mdb_hex_decode(a[5], address, 32, &err));
  const char *expect = a[6];
  if (strcmp(expect, "verify") == 0) address[0] ^= 1;
  int rc = mdb_bee_upload_soc(bee, batch, 0, owner, id, sig, wrapped, len,
                              address, &err);
  const mdb_bee_failure *f = mdb_bee_last_failure(bee);
  if (strcmp(expect, "ok") == 0) {
    CHECK(rc == MDBEE_OK, "soc upload: %s", err.message);
    uint8_t *data;
    size_t n;
    OK(mdb_bee_get_chunk(bee, address, &data, &n, &err));
    CHECK(n == 32 + 65 + len && memcmp(data + 97, wrapped, len) == 0,
          "stored SOC differs");
    free(data);
  } else if (strcmp(expect, "verify") == 0) {
    CHECK(rc == MDBEE_EVERIFY, "rc %d: %s", rc, err.message);
  } else if (strcmp(expect, "forged") == 0) {
    CHECK(rc == MDBEE_EREMOTE && f->http_status == 401, "rc %d: %s", rc,
          err.message);
    CHECK(strstr(err.message, "invalid chunk"), "%s", err.message);
  } else {
    CHECK(rc == MDBEE_EREMOTE && f->http_status == 501 &&
              f->refusal == MDB_BEE_REFUSAL_DEV_SOC,
          "rc %d: %s", rc, err.message);
    CHECK(strstr(err.message, "feed"), "no operator hint: %s", err.message);
  }
  free(wrapped);
}

/* bzz REF PATH CONTENT CONTENT-TYPE */
static void bzz(mdb_bee *bee, char **a) {
  uint8_t ref[32];
  OK(mdb_hex_decode(a[0], ref, 32, &err));
  uint8_t *data;
  size_t len;
  char *ct;
  OK(mdb_bee_bzz_get(bee, ref, a[1], &data, &len, &ct, &err));
  CHECK(len == strlen(a[2]) && memcmp(data, a[2], len) == 0, "content '%.*s'",
        (int)len, (char *)data);
  CHECK(ct && strcmp(ct, a[3]) == 0, "content type %s", ct ? ct : "(none)");
  free(data);
  free(ct);
  CHECK(mdb_bee_bzz_get(bee, ref, "no/such path", &data, &len, NULL, &err) ==
            MDBEE_ENOTFOUND,
        "missing path: %s", err.message);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bee_client URL SCENARIO [ARGS...]\n");
    return 2;
  }
  scenario = argv[2];
  const char *url = argv[1];
  char **a = argv + 3;
  int na = argc - 3;
  mdb_bee *bee = open_bee(url, 8, 20);
  if (strcmp(scenario, "basic") == 0) {
    basic(bee);
  } else if (strcmp(scenario, "upload") == 0 && na == 2) {
    upload(bee, a[0], strtoull(a[1], NULL, 10));
  } else if (strcmp(scenario, "buy") == 0) {
    uint8_t batch[32];
    char hex[65];
    buy(bee, batch);
    mdb_hex_encode(batch, 32, hex);
    printf("%s\n", hex);
  } else if (strcmp(scenario, "upload-fails") == 0 && na == 6) {
    expect_upload_failure(bee, a[0], strtoull(a[1], NULL, 10), atoi(a[2]),
                          atoi(a[3]), atol(a[4]), a[5]);
  } else if (strcmp(scenario, "soc") == 0 && na == 7) {
    soc(bee, a);
  } else if (strcmp(scenario, "bzz") == 0 && na == 4) {
    bzz(bee, a);
  } else if (strcmp(scenario, "unreachable") == 0) {
    mdb_bee_close(bee);
    bee = open_bee(url, 2, 10);
    CHECK(mdb_bee_health(bee, &err) == MDBEE_ENET, "health: %s", err.message);
    CHECK(mdb_bee_last_failure(bee)->http_status == 0, "status");
  } else if (strcmp(scenario, "tag") == 0) {
    uint64_t tag;
    OK(mdb_bee_tag_create(bee, &tag, &err));
    printf("%llu\n", (unsigned long long)tag);
  } else {
    fprintf(stderr, "unknown scenario or arguments: %s\n", scenario);
    return 2;
  }
  mdb_bee_close(bee);
  return 0;
}
