/* mdb_publish_target over the Bee HTTP client. */
#include <stdlib.h>
#include <string.h>

#include "mdbee/bee.h"
#include "mdbee/publish.h"

/* Chunks queued before a parallel upload: enough to keep the client's
 * in-flight window full, small enough to bound memory (about 1 MiB). */
enum { QUEUE = 256 };

struct bee_target {
  mdb_bee *bee;
  uint8_t batch[32];
  uint64_t tag;
  size_t n;
  uint8_t data[QUEUE][MDB_CHUNK_SIZE_MAX];
  uint8_t address[QUEUE][32];
  mdb_bee_chunk chunks[QUEUE];
};

static int begin(void *ctx, mdb_error *err) {
  struct bee_target *t = ctx;
  t->n = 0;
  return mdb_bee_tag_create(t->bee, &t->tag, err);
}

static int flush(void *ctx, mdb_error *err) {
  struct bee_target *t = ctx;
  if (t->n == 0) return MDBEE_OK;
  int rc = mdb_bee_upload_chunks(t->bee, t->batch, t->tag, t->chunks, t->n, err);
  if (rc == MDBEE_OK) t->n = 0;
  return rc;
}

static int put_chunk(void *ctx, const mdb_chunk *chunk, mdb_error *err) {
  struct bee_target *t = ctx;
  if (t->n == QUEUE) {
    int rc = flush(t, err);
    if (rc != MDBEE_OK) return rc;
  }
  memcpy(t->data[t->n], chunk->data, chunk->size);
  memcpy(t->address[t->n], chunk->address, 32);
  t->chunks[t->n] = (mdb_bee_chunk){t->data[t->n], chunk->size, t->address[t->n]};
  t->n++;
  return MDBEE_OK;
}

static int put_soc(void *ctx, const uint8_t owner[20], const uint8_t id[32],
                   const uint8_t signature[65], const uint8_t *data,
                   size_t size, mdb_error *err) {
  struct bee_target *t = ctx;
  return mdb_bee_upload_soc(t->bee, t->batch, t->tag, owner, id, signature,
                            data, size, NULL, err);
}

static int pin(void *ctx, const uint8_t ref[32], mdb_error *err) {
  return mdb_bee_pin(((struct bee_target *)ctx)->bee, ref, err);
}

static int unpin(void *ctx, const uint8_t ref[32], mdb_error *err) {
  int rc = mdb_bee_unpin(((struct bee_target *)ctx)->bee, ref, err);
  return rc == MDBEE_ENOTFOUND ? MDBEE_OK : rc; /* already unpinned */
}

int mdb_publish_bee_target(mdb_bee *bee, const uint8_t batch_id[32],
                           mdb_publish_target *out, mdb_error *err) {
  struct bee_target *t = calloc(1, sizeof *t);
  if (!t) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  t->bee = bee;
  memcpy(t->batch, batch_id, 32);
  *out = (mdb_publish_target){.ctx = t, .begin = begin, .put_chunk = put_chunk,
                              .flush = flush, .put_soc = put_soc, .pin = pin,
                              .unpin = unpin};
  return MDBEE_OK;
}

void mdb_publish_bee_target_free(mdb_publish_target *target) {
  free(target->ctx);
  target->ctx = NULL;
}
