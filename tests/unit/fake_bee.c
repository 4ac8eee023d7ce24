#include "fake_bee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_of(const fake_bee *b, const uint8_t address[32]) {
  uint64_t h;
  memcpy(&h, address, sizeof h); /* addresses are hashes already */
  size_t i = (size_t)h & (b->cap - 1);
  while (b->slots[i].data && memcmp(b->slots[i].address, address, 32) != 0)
    i = (i + 1) & (b->cap - 1);
  return i;
}

static fake_chunk *find(const fake_bee *b, const uint8_t address[32]) {
  if (!b->cap) return NULL;
  fake_chunk *c = &b->slots[slot_of(b, address)];
  return c->data ? c : NULL;
}

int fake_bee_has(const fake_bee *b, const uint8_t address[32]) {
  return find(b, address) != NULL;
}

static int grow(fake_bee *b) {
  size_t cap = b->cap ? 2 * b->cap : 1024;
  fake_chunk *old = b->slots;
  size_t old_cap = b->cap;
  if (!(b->slots = calloc(cap, sizeof *b->slots))) {
    b->slots = old;
    return 0;
  }
  b->cap = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].data) b->slots[slot_of(b, old[i].address)] = old[i];
  free(old);
  return 1;
}

static int fake_begin(void *ctx, mdb_error *err) {
  (void)ctx, (void)err;
  return MDBEE_OK;
}

static int fake_put(void *ctx, const mdb_chunk *c, mdb_error *err) {
  fake_bee *b = ctx;
  if (c->size < MDB_SPAN_SIZE || c->size > MDB_CHUNK_SIZE_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "fake bee: chunk of %zu bytes", c->size);
  b->puts++;
  b->bytes += c->size;
  if (b->count_only) return MDBEE_OK;
  uint8_t got[32];
  mdb_bmt_chunk_address(mdb_bmt_span_decode(c->data), c->data + MDB_SPAN_SIZE,
                        c->size - MDB_SPAN_SIZE, got);
  if (memcmp(got, c->address, 32) != 0)
    return mdb_error_set(err, MDBEE_EVERIFY, "fake bee: wrong address");
  if (find(b, c->address)) return MDBEE_OK;
  if (2 * (b->n + 1) > b->cap && !grow(b))
    return mdb_error_set(err, MDBEE_ENOMEM, "fake bee: out of memory");
  fake_chunk *s = &b->slots[slot_of(b, c->address)];
  if (!(s->data = malloc(c->size)))
    return mdb_error_set(err, MDBEE_ENOMEM, "fake bee: out of memory");
  memcpy(s->address, c->address, 32);
  memcpy(s->data, c->data, c->size);
  s->size = c->size;
  b->n++;
  return MDBEE_OK;
}

static int fake_flush(void *ctx, mdb_error *err) {
  (void)ctx, (void)err;
  return MDBEE_OK;
}

static int fake_soc(void *ctx, const uint8_t owner[20], const uint8_t id[32],
                    const uint8_t sig[65], const uint8_t *data, size_t size,
                    mdb_error *err) {
  (void)owner, (void)id, (void)sig, (void)data, (void)size;
  fake_bee *b = ctx;
  if (b->fail_soc) {
    b->fail_soc = 0;
    return mdb_error_set(err, MDBEE_ENET, "fake bee: connection reset");
  }
  b->socs++;
  return MDBEE_OK;
}

static int fake_pin(void *ctx, const uint8_t ref[32], mdb_error *err) {
  fake_bee *b = ctx;
  if (!b->count_only && !find(b, ref))
    return mdb_error_set(err, MDBEE_ENOTFOUND, "pin: no root");
  b->pins++;
  return MDBEE_OK;
}

static int fake_unpin(void *ctx, const uint8_t ref[32], mdb_error *err) {
  (void)err;
  fake_bee *b = ctx;
  if (b->unpins < 16) memcpy(b->unpinned[b->unpins], ref, 32);
  b->unpins++;
  return MDBEE_OK;
}

mdb_publish_target fake_bee_target(fake_bee *b) {
  return (mdb_publish_target){b, fake_begin, fake_put, fake_flush,
                              fake_soc, fake_pin, fake_unpin};
}

int fake_bee_source(void *ctx, const uint8_t address[32], uint8_t *buf,
                    size_t *size, mdb_error *err) {
  fake_chunk *s = find(ctx, address);
  if (!s) return mdb_error_set(err, MDBEE_ENOTFOUND, "fake bee: no chunk");
  memcpy(buf, s->data, s->size);
  *size = s->size;
  return MDBEE_OK;
}

void fake_bee_free(fake_bee *b) {
  for (size_t i = 0; i < b->cap; i++) free(b->slots[i].data);
  free(b->slots);
  b->slots = NULL;
  b->n = b->cap = 0;
}

int fake_setup_open(fake_setup *s, const char *dir, const char *const *allow,
                    size_t n_allow, mdb_publish_options opts,
                    const uint8_t secret[32], mdb_error *err) {
  int rc = mdb_store_open(dir, &s->store, err);
  if (rc == MDBEE_OK) rc = mdb_ingest_new(s->store, allow, n_allow, &s->ingest, err);
  if (rc == MDBEE_OK) rc = mdb_key_from_secret(secret, &s->key, err);
  s->target = fake_bee_target(&s->bee);
  opts.key = s->key;
  if (rc == MDBEE_OK)
    rc = mdb_publisher_new(&opts, s->store, &s->target, &s->pub, err);
  return rc;
}

void fake_setup_close(fake_setup *s) {
  mdb_publisher_free(s->pub);
  mdb_key_free(s->key);
  mdb_ingest_free(s->ingest);
  mdb_store_close(s->store);
  s->pub = NULL, s->key = NULL, s->ingest = NULL, s->store = NULL;
}

int fake_setup_remove(fake_setup *s, const char *dir) {
  fake_setup_close(s);
  fake_bee_free(&s->bee);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}
