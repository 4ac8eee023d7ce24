/* The database's feed: its manifest (the permanent URL) and one signed
 * update per snapshot. */
#include "mdbee/feed.h"
#include "publish_internal.h"

static int feed_manifest(const mdb_publisher *p, mdb_chunk_sink sink,
                         void *ctx, uint8_t ref[32], mdb_error *err) {
  uint8_t owner[MDB_ADDRESS_SIZE];
  mdb_key_address(p->opts.key, owner);
  return mdb_mantaray_feed_manifest(owner, p->opts.topic, sink, ctx, ref, err);
}

int mdb_publisher_feed_manifest(const mdb_publisher *p, uint8_t ref[32],
                                mdb_error *err) {
  return feed_manifest(p, NULL, NULL, ref, err);
}

/* Sent with every snapshot: its chunks are known to the node after the
 * first time, so this costs one local hash. */
int publish_feed_manifest_upload(mdb_publisher *p, mdb_error *err) {
  uint8_t ref[32];
  return feed_manifest(p, publish_upload_sink, p, ref, err);
}

int publish_feed_update(mdb_publisher *p, uint64_t index, int64_t now,
                        const uint8_t root[32], mdb_error *err) {
  uint8_t soc[MDB_SOC_SIZE_MAX], address[MDB_REF_SIZE];
  size_t size = 0;
  int rc = mdb_feed_update_make(p->opts.key, p->opts.topic, index,
                                (uint64_t)now, root, 32, soc, &size, address,
                                err);
  mdb_soc parsed;
  if (rc == MDBEE_OK) rc = mdb_soc_parse(soc, size, &parsed, err);
  if (rc != MDBEE_OK) return mdb_error_wrap(err, "signing feed update %llu",
                                            (unsigned long long)index);
  uint8_t owner[MDB_ADDRESS_SIZE];
  mdb_key_address(p->opts.key, owner);
  return p->target.put_soc(p->target.ctx, owner, parsed.id, parsed.signature,
                           parsed.chunk, parsed.chunk_size, err);
}
