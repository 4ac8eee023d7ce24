/* mdbee's client for a Bee node's HTTP API (Bee 2.8, API 7.4).
 *
 * One mdb_bee handle talks to one node.  It keeps its own curl handles and
 * connection pool (keep-alive), so a handle must be used by one thread at a
 * time; use several handles for several threads.  The only global state is
 * curl_global_init, done by mdb_bee_open.
 *
 * Requests are retried with exponential backoff on network errors (refused
 * or reset connections, timeouts, cut bodies), on 5xx and on 429; never on
 * other 4xx answers, which are final.  When a call fails with MDBEE_EREMOTE
 * the message carries Bee's {"code","message"} text and the HTTP status, and
 * mdb_bee_last_failure() says what kind of refusal it was, so the caller can
 * tell the operator what to do (e.g. a dev node cannot take feed updates).
 *
 * References, batch ids and addresses are raw 32-byte arrays; owners are 20
 * bytes; SOC signatures are 65 bytes (r || s || v, v = 27 or 28).
 */
#ifndef MDBEE_BEE_H
#define MDBEE_BEE_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

typedef struct mdb_bee mdb_bee;

/* Zero-initialise, then set url; every zero field takes its default. */
typedef struct mdb_bee_options {
  const char *url;           /* base URL, e.g. "http://127.0.0.1:1633" */
  long connect_timeout_ms;   /* per attempt; default 5000 */
  long request_timeout_ms;   /* whole attempt, body included; default 60000 */
  unsigned max_retries;      /* attempts after the first; default 6 */
  long retry_base_ms;        /* first backoff, doubled each time; default 100 */
  long retry_max_ms;         /* backoff cap; default 5000 */
  unsigned max_in_flight;    /* parallel chunk uploads; default 16 */
} mdb_bee_options;

/* What the node's last refusal meant, beyond its HTTP status. */
typedef enum mdb_bee_refusal {
  MDB_BEE_REFUSAL_NONE = 0,
  MDB_BEE_REFUSAL_OTHER,          /* any other 4xx/5xx answer */
  MDB_BEE_REFUSAL_DEV_CHUNKS,     /* dev node: POST /chunks needs swarm-tag */
  MDB_BEE_REFUSAL_DEV_SOC,        /* dev node (Bee >= 2.3): no SOC, so no feeds */
  MDB_BEE_REFUSAL_BATCH_FULL,     /* 402: the postage batch is full */
  MDB_BEE_REFUSAL_BATCH_UNKNOWN,  /* 404/422: no such or no usable batch */
  MDB_BEE_REFUSAL_NOT_FOUND       /* 404 on a download or lookup */
} mdb_bee_refusal;

/* The last failed request of a handle (valid until the next call). */
typedef struct mdb_bee_failure {
  long http_status;          /* 0 when no HTTP answer was received */
  mdb_bee_refusal refusal;
  char message[256];         /* Bee's "message" field, or curl's error text */
} mdb_bee_failure;

/* Postage batch as GET /stamps/{id} describes it. */
typedef struct mdb_bee_batch {
  uint8_t id[32];
  unsigned depth;
  unsigned bucket_depth;
  uint32_t utilization;      /* chunks in the fullest bucket */
  int usable;
  int immutable;
  int64_t ttl_seconds;
} mdb_bee_batch;

/* Upload tag counters (GET /tags/{uid}). */
typedef struct mdb_bee_tag {
  uint64_t uid;
  uint64_t split, seen, stored, sent, synced;
} mdb_bee_tag;

/* One chunk to upload: span || payload (8..4104 bytes) and the address the
 * caller computed for it, which the node's answer must equal. */
typedef struct mdb_bee_chunk {
  const uint8_t *data;
  size_t len;
  const uint8_t *address;    /* 32 bytes */
} mdb_bee_chunk;

/* Creates a handle for opts->url.  The options are copied.  Fails with
 * MDBEE_EINVAL for a missing or non-http(s) URL, MDBEE_ENOMEM otherwise. */
int mdb_bee_open(const mdb_bee_options *opts, mdb_bee **out, mdb_error *err);

/* Frees the handle and closes its connections; NULL is allowed. */
void mdb_bee_close(mdb_bee *bee);

/* Describes the last failed request of this handle. */
const mdb_bee_failure *mdb_bee_last_failure(const mdb_bee *bee);

/* GET /health: MDBEE_OK when the node answers status "ok". */
int mdb_bee_health(mdb_bee *bee, mdb_error *err);

/* GET /readiness: sets *ready to 1 when the node is ready, 0 when it answers
 * that it is not; fails only when it cannot be asked. */
int mdb_bee_readiness(mdb_bee *bee, int *ready, mdb_error *err);

/* Buys a batch (POST /stamps/{amount}/{depth}, amount a decimal string in
 * PLUR per chunk) and polls GET /stamps/{id} until it is usable or
 * wait_ms elapse (MDBEE_ENET then).  label may be NULL. */
int mdb_bee_buy_batch(mdb_bee *bee, const char *amount, unsigned depth,
                      const char *label, long wait_ms, uint8_t batch_id[32],
                      mdb_error *err);

/* GET /stamps/{id}.  An unknown batch is MDBEE_ENOTFOUND. */
int mdb_bee_get_batch(mdb_bee *bee, const uint8_t batch_id[32],
                      mdb_bee_batch *out, mdb_error *err);

/* POST /tags: creates an upload tag and returns its uid. */
int mdb_bee_tag_create(mdb_bee *bee, uint64_t *uid, mdb_error *err);

/* GET /tags/{uid}.  An unknown tag is MDBEE_ENOTFOUND. */
int mdb_bee_tag_get(mdb_bee *bee, uint64_t uid, mdb_bee_tag *out,
                    mdb_error *err);

/* Uploads n chunks with POST /chunks, up to max_in_flight at once over
 * keep-alive connections, stamped by batch_id and counted under tag (0 = no
 * tag; a dev node needs one).  Each answer's reference must equal the
 * chunk's address: a mismatch is MDBEE_EVERIFY.  Stops at the first final
 * failure; chunks already accepted stay uploaded (uploads are idempotent,
 * so the caller may simply retry the whole set). */
int mdb_bee_upload_chunks(mdb_bee *bee, const uint8_t batch_id[32],
                          uint64_t tag, const mdb_bee_chunk *chunks, size_t n,
                          mdb_error *err);

/* POST /soc/{owner}/{id}?sig=: uploads a single owner chunk whose wrapped
 * chunk is span || payload (data, len).  When address is not NULL the
 * node's reference must equal it (else MDBEE_EVERIFY).  A node that rejects
 * the signature answers 401 (MDBEE_EREMOTE). */
int mdb_bee_upload_soc(mdb_bee *bee, const uint8_t batch_id[32], uint64_t tag,
                       const uint8_t owner[20], const uint8_t id[32],
                       const uint8_t sig[65], const uint8_t *data, size_t len,
                       const uint8_t *address, mdb_error *err);

/* GET /chunks/{address}: the chunk's raw bytes, unverified (callers that
 * trust nothing check them).  *data is malloc'd; free it.  A missing chunk
 * is MDBEE_ENOTFOUND. */
int mdb_bee_get_chunk(mdb_bee *bee, const uint8_t address[32], uint8_t **data,
                      size_t *len, mdb_error *err);

/* GET /bzz/{ref}/{path} (path may be "" or NULL for the index document):
 * the file's bytes in *data and its Content-Type in *content_type (both
 * malloc'd, free them; content_type may be NULL if not wanted).  Not found
 * is MDBEE_ENOTFOUND. */
int mdb_bee_bzz_get(mdb_bee *bee, const uint8_t ref[32], const char *path,
                    uint8_t **data, size_t *len, char **content_type,
                    mdb_error *err);

/* POST /pins/{ref}: pins a root the node holds (pinning twice is fine). */
int mdb_bee_pin(mdb_bee *bee, const uint8_t ref[32], mdb_error *err);

/* DELETE /pins/{ref}: unpins; a root that was not pinned is MDBEE_ENOTFOUND. */
int mdb_bee_unpin(mdb_bee *bee, const uint8_t ref[32], mdb_error *err);

/* GET /pins: *refs is a malloc'd array of *n references (NULL when n = 0);
 * free it. */
int mdb_bee_pins(mdb_bee *bee, uint8_t (**refs)[32], size_t *n,
                 mdb_error *err);

#endif
