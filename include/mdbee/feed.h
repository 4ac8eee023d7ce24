/* Sequence feeds: a series of single owner chunks under one (owner, topic),
 * update i at identifier Keccak256(topic || i as 8-byte big-endian).
 *
 * mdbee writes legacy (v1) updates, whose wrapped chunk's payload is
 * timestamp (8-byte big-endian Unix seconds) || reference (32, or 64 for an
 * encrypted reference): Bee's /bzz follows such an update to the reference.
 * Newer writers (bee-js uploadPayload, "v2") wrap the content itself; a
 * reader tells the two apart as Bee does, by the payload length alone
 * (40 or 72 bytes is v1).
 *
 * The feed manifest that makes a feed browsable is a mantaray node built by
 * the manifest code: its root fork carries the metadata swarm-feed-owner
 * (owner, 40 hex digits), swarm-feed-topic (topic, 64 hex digits) and
 * swarm-feed-type "Sequence". */
#ifndef MDBEE_FEED_H
#define MDBEE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"
#include "mdbee/key.h"
#include "mdbee/soc.h"

#define MDB_FEED_TOPIC_SIZE 32
#define MDB_FEED_V1_TIMESTAMP_SIZE 8
#define MDB_FEED_V1_PAYLOAD_MAX (MDB_FEED_V1_TIMESTAMP_SIZE + 2 * MDB_REF_SIZE)

/* topic = Keccak256 of the UTF-8 bytes of name, as bee-js
 * Topic.fromString; mdbee names a database's feed this way. */
void mdb_feed_topic_from_string(const char *name, size_t len,
                                uint8_t topic[MDB_FEED_TOPIC_SIZE]);

/* Writes the SOC identifier of update index. */
void mdb_feed_identifier(const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                         uint64_t index, uint8_t id[MDB_SOC_ID_SIZE]);

/* Writes the chunk address of update index of owner's feed. */
void mdb_feed_update_address(const uint8_t owner[MDB_ADDRESS_SIZE],
                             const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                             uint64_t index, uint8_t address[MDB_REF_SIZE]);

/* Signs update index of key's feed pointing at reference (ref_len 32 or 64)
 * with a v1 payload stamped timestamp.  Writes the SOC bytes to out
 * (MDB_SOC_SIZE_MAX bytes), their length to *out_size and the update's
 * address.  MDBEE_EINVAL for another ref_len. */
int mdb_feed_update_make(const mdb_key *key,
                         const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                         uint64_t index, uint64_t timestamp,
                         const uint8_t *reference, size_t ref_len,
                         uint8_t *out, size_t *out_size,
                         uint8_t address[MDB_REF_SIZE], mdb_error *err);

/* A verified feed update. */
typedef struct mdb_feed_update {
  int legacy;         /* 1: v1 payload; 0: the wrapped chunk is the content */
  uint64_t timestamp; /* v1 only */
  /* v1: the reference in the payload (32 or 64 bytes); v2: the address of
   * the wrapped chunk, i.e. the root of the content (32 bytes). */
  uint8_t reference[2 * MDB_REF_SIZE];
  size_t reference_len;
  mdb_soc soc; /* points into the bytes given to mdb_feed_update_parse */
} mdb_feed_update;

/* Checks untrusted bytes fetched for update index of owner's feed (a SOC at
 * that address signed by owner: MDBEE_EVERIFY otherwise, MDBEE_EFORMAT for a
 * wrong size) and decodes its payload into *update. */
int mdb_feed_update_parse(const uint8_t *data, size_t size,
                          const uint8_t owner[MDB_ADDRESS_SIZE],
                          const uint8_t topic[MDB_FEED_TOPIC_SIZE],
                          uint64_t index, mdb_feed_update *update,
                          mdb_error *err);

#endif
