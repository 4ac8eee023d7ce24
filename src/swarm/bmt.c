#include "mdbee/bmt.h"

#include <string.h>

#include "mdbee/keccak.h"

void mdb_bmt_span_encode(uint64_t span, uint8_t out[MDB_SPAN_SIZE]) {
  for (int i = 0; i < MDB_SPAN_SIZE; i++) out[i] = (uint8_t)(span >> (8 * i));
}

uint64_t mdb_bmt_span_decode(const uint8_t in[MDB_SPAN_SIZE]) {
  uint64_t span = 0;
  for (int i = MDB_SPAN_SIZE - 1; i >= 0; i--) span = span << 8 | in[i];
  return span;
}

void mdb_bmt_root(const uint8_t *payload, size_t len,
                  uint8_t root[MDB_REF_SIZE]) {
  uint8_t level[MDB_CHUNK_PAYLOAD_MAX];
  if (len > MDB_CHUNK_PAYLOAD_MAX) len = MDB_CHUNK_PAYLOAD_MAX;
  memcpy(level, payload, len);
  memset(level + len, 0, sizeof level - len);
  /* Each pass halves the level in place: pair i is hashed into slot i. */
  for (size_t width = MDB_CHUNK_PAYLOAD_MAX; width > MDB_REF_SIZE; width /= 2)
    for (size_t i = 0; i < width / (2 * MDB_SEGMENT_SIZE); i++)
      mdb_keccak256(level + 2 * MDB_SEGMENT_SIZE * i, 2 * MDB_SEGMENT_SIZE,
                    level + MDB_SEGMENT_SIZE * i);
  memcpy(root, level, MDB_REF_SIZE);
}

void mdb_bmt_chunk_address(uint64_t span, const uint8_t *payload, size_t len,
                           uint8_t address[MDB_REF_SIZE]) {
  uint8_t buf[MDB_SPAN_SIZE + MDB_REF_SIZE];
  mdb_bmt_span_encode(span, buf);
  mdb_bmt_root(payload, len, buf + MDB_SPAN_SIZE);
  mdb_keccak256(buf, sizeof buf, address);
}

void mdb_bmt_hash_chunks(const mdb_bmt_job *jobs, size_t n) {
  for (size_t i = 0; i < n; i++)
    mdb_bmt_chunk_address(mdb_bmt_span_decode(jobs[i].data),
                          jobs[i].data + MDB_SPAN_SIZE,
                          jobs[i].size - MDB_SPAN_SIZE, jobs[i].address);
}
