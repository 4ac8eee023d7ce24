/* Feed manifests: the manifest Bee's POST /feeds/{owner}/{topic} stores.
 *
 * Bee adds one entry at "/" whose reference is 32 zero bytes and whose
 * metadata names the feed; its /bzz handler sees swarm-feed-owner on the
 * root path and serves the newest update of that sequence feed instead.
 * Bee writes the zero entry out in full (reference size 32); bee-js, which
 * asks Bee to create feed manifests rather than making them, would write a
 * 0-byte entry for a zero reference at "/", so this follows Bee. */
#include "mdbee/hex.h"
#include "mantaray_internal.h"

int mdb_mantaray_feed_manifest(const uint8_t owner[20],
                               const uint8_t topic[MDB_REF_SIZE],
                               mdb_chunk_sink sink, void *ctx,
                               uint8_t root[MDB_REF_SIZE], mdb_error *err) {
  static const uint8_t zero[MDB_REF_SIZE];
  char owner_hex[41], topic_hex[2 * MDB_REF_SIZE + 1];
  mdb_hex_encode(owner, 20, owner_hex);
  mdb_hex_encode(topic, MDB_REF_SIZE, topic_hex);
  const mdb_mantaray_kv meta[] = {
      {"swarm-feed-owner", owner_hex},
      {"swarm-feed-topic", topic_hex},
      {"swarm-feed-type", "Sequence"},
  };
  const mdb_mantaray_entry entry = {
      .path = (const uint8_t *)"/",
      .path_len = 1,
      .ref = zero,
      .ref_size = MDB_REF_SIZE,
      .meta = meta,
      .n_meta = 3,
  };
  return mdb_mantaray_build(&entry, 1, sink, ctx, root, err);
}
