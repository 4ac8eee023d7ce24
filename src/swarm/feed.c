#include "mdbee/feed.h"

#include <string.h>

#include "mdbee/keccak.h"

void mdb_feed_topic_from_string(const char *name, size_t len,
                                uint8_t topic[MDB_FEED_TOPIC_SIZE]) {
  mdb_keccak256(name, len, topic);
}

void mdb_feed_identifier(const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                         uint64_t index, uint8_t id[MDB_SOC_ID_SIZE]) {
  uint8_t buf[MDB_FEED_TOPIC_SIZE + 8];
  memcpy(buf, topic, MDB_FEED_TOPIC_SIZE);
  for (int i = 0; i < 8; i++)
    buf[MDB_FEED_TOPIC_SIZE + i] = (uint8_t)(index >> (56 - 8 * i));
  mdb_keccak256(buf, sizeof buf, id);
}

void mdb_feed_update_address(const uint8_t owner[MDB_ADDRESS_SIZE],
                             const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                             uint64_t index, uint8_t address[MDB_REF_SIZE]) {
  uint8_t id[MDB_SOC_ID_SIZE];
  mdb_feed_identifier(topic, index, id);
  mdb_soc_address(id, owner, address);
}

int mdb_feed_update_make(const mdb_key *key,
                         const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                         uint64_t index, uint64_t timestamp,
                         const uint8_t *reference, size_t ref_len,
                         uint8_t *out, size_t *out_size,
                         uint8_t address[MDB_REF_SIZE], mdb_error *err) {
  if (ref_len != MDB_REF_SIZE && ref_len != 2 * MDB_REF_SIZE)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "a feed reference is 32 or 64 bytes, not %zu",
                         ref_len);
  uint8_t chunk[MDB_SPAN_SIZE + MDB_FEED_V1_PAYLOAD_MAX];
  size_t payload_len = MDB_FEED_V1_TIMESTAMP_SIZE + ref_len;
  mdb_bmt_span_encode(payload_len, chunk);
  for (int i = 0; i < 8; i++)
    chunk[MDB_SPAN_SIZE + i] = (uint8_t)(timestamp >> (56 - 8 * i));
  memcpy(chunk + MDB_SPAN_SIZE + MDB_FEED_V1_TIMESTAMP_SIZE, reference,
         ref_len);
  uint8_t id[MDB_SOC_ID_SIZE];
  mdb_feed_identifier(topic, index, id);
  return mdb_soc_make(key, id, chunk, MDB_SPAN_SIZE + payload_len, out,
                      out_size, address, err);
}

int mdb_feed_update_parse(const uint8_t *data, size_t size,
                          const uint8_t owner[MDB_ADDRESS_SIZE],
                          const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                          uint64_t index, mdb_feed_update *update,
                          mdb_error *err) {
  uint8_t address[MDB_REF_SIZE];
  mdb_feed_update_address(owner, topic, index, address);
  int rc = mdb_soc_verify(data, size, address, owner, &update->soc, err);
  if (rc != MDBEE_OK)
    return mdb_error_wrap(err, "feed update %llu", (unsigned long long)index);
  const uint8_t *payload = update->soc.chunk + MDB_SPAN_SIZE;
  size_t len = update->soc.chunk_size - MDB_SPAN_SIZE;
  /* Bee decides by length alone (pkg/feeds legacyPayload); doing the same
   * keeps mdbee's reading of a feed identical to the gateway's. */
  update->legacy = len == MDB_FEED_V1_TIMESTAMP_SIZE + MDB_REF_SIZE ||
                   len == MDB_FEED_V1_TIMESTAMP_SIZE + 2 * MDB_REF_SIZE;
  if (update->legacy) {
    update->timestamp = 0;
    for (int i = 0; i < 8; i++)
      update->timestamp = update->timestamp << 8 | payload[i];
    update->reference_len = len - MDB_FEED_V1_TIMESTAMP_SIZE;
    memcpy(update->reference, payload + MDB_FEED_V1_TIMESTAMP_SIZE,
           update->reference_len);
  } else {
    update->timestamp = 0;
    update->reference_len = MDB_REF_SIZE;
    memcpy(update->reference, update->soc.chunk_address, MDB_REF_SIZE);
  }
  return MDBEE_OK;
}
