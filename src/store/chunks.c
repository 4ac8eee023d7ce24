/* Cached manifest chunks and the set of chunks the Bee node has. */
#include <string.h>

#include "store_internal.h"

/* Span (8 bytes) plus at most 4096 bytes of payload. */
#define CHUNK_MIN 8
#define CHUNK_MAX 4104

int mdb_store_chunk_put(mdb_store_txn *txn, const uint8_t address[32],
                        const uint8_t *data, size_t len, mdb_error *err) {
  if (len < CHUNK_MIN || len > CHUNK_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "chunk of %zu bytes", len);
  MDB_val k = {32, (void *)address}, v = {len, (void *)data};
  int rc = mdb_put(txn->txn, txn->store->chunks, &k, &v, 0);
  if (rc != 0) return store_fail(txn, err, rc, "caching a chunk");
  return MDBEE_OK;
}

int mdb_store_chunk_get(mdb_store_txn *txn, const uint8_t address[32],
                        const uint8_t **data, size_t *len, mdb_error *err) {
  MDB_val k = {32, (void *)address}, v;
  int rc = mdb_get(txn->txn, txn->store->chunks, &k, &v);
  if (rc == MDB_NOTFOUND)
    return mdb_error_set(err, MDBEE_ENOTFOUND, "chunk not cached");
  if (rc != 0) return store_fail(txn, err, rc, "reading a cached chunk");
  if (v.mv_size < CHUNK_MIN || v.mv_size > CHUNK_MAX)
    return mdb_error_set(err, MDBEE_ESTATE, "corrupt cached chunk");
  *data = v.mv_data;
  *len = v.mv_size;
  return MDBEE_OK;
}

int mdb_store_chunk_del(mdb_store_txn *txn, const uint8_t address[32],
                        mdb_error *err) {
  MDB_val k = {32, (void *)address};
  int rc = mdb_del(txn->txn, txn->store->chunks, &k, NULL);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(txn, err, rc, "dropping a cached chunk");
  return MDBEE_OK;
}

int mdb_store_have_set(mdb_store_txn *txn, const uint8_t address[32],
                       int has, mdb_error *err) {
  MDB_val k = {32, (void *)address}, v = {0, NULL};
  int rc = has ? mdb_put(txn->txn, txn->store->have, &k, &v, 0)
               : mdb_del(txn->txn, txn->store->have, &k, NULL);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(txn, err, rc, "recording an uploaded chunk");
  return MDBEE_OK;
}

int mdb_store_have_get(mdb_store_txn *txn, const uint8_t address[32],
                       int *has, mdb_error *err) {
  MDB_val k = {32, (void *)address}, v;
  int rc = mdb_get(txn->txn, txn->store->have, &k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return store_fail(txn, err, rc, "reading uploaded chunks");
  *has = rc == 0;
  return MDBEE_OK;
}

int mdb_store_have_clear(mdb_store_txn *txn, mdb_error *err) {
  int rc = mdb_drop(txn->txn, txn->store->have, 0);
  if (rc != 0) return store_fail(txn, err, rc, "forgetting uploaded chunks");
  return MDBEE_OK;
}
