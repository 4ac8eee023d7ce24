/* mdbee publisher: turns the pending changes in the local state into one
 * signed Swarm snapshot of a database (docs/architecture.md, "Snapshots";
 * docs/protocol.md for the published layout).
 *
 * The publisher reaches Bee only through an mdb_publish_target, so the
 * daemon plugs in the HTTP client (mdb_publish_bee_target) and unit tests
 * an in-process fake.
 */
#ifndef MDBEE_PUBLISH_H
#define MDBEE_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/chunk.h"
#include "mdbee/error.h"
#include "mdbee/key.h"
#include "mdbee/store.h"

/* A secondary index to publish: documents filed under the
 * order-preserving encoding of their values of fields. */
typedef struct mdb_publish_index {
  const char *name;
  const char *const *fields; /* dotted paths */
  size_t n_fields;
} mdb_publish_index;

typedef struct mdb_publish_collection {
  const char *name;
  const char *const *redact; /* dotted paths removed before publication */
  size_t n_redact;
  const mdb_publish_index *indexes;
  size_t n_indexes;
} mdb_publish_collection;

typedef struct mdb_publish_options {
  const char *db;
  const mdb_publish_collection *collections;
  size_t n_collections;
  int canonical_json;          /* 0: relaxed Extended JSON */
  uint8_t topic[32];           /* feed topic */
  const mdb_key *key;          /* signing key (borrowed) */
  uint32_t keep_last;          /* pinned snapshots kept; 0: all */
  int64_t keep_seconds;        /* and/or those younger than this; 0: off */
  int encrypt;                 /* 1: encrypted publication (docs/protocol.md,
                                  "Encrypted publication"), keys derived
                                  from key */
  uint32_t checkpoint_every;   /* a snapshot saves and unloads its manifest
                                  every this many changes, bounding its
                                  memory; 0: 16384 */
  unsigned threads;            /* a snapshot encodes documents on a thread
                                  of its own while the calling thread
                                  edits the manifest (2), or all on the
                                  calling thread (1); 0: 2 when the
                                  machine has more than one CPU.  The
                                  output is the same either way. */
} mdb_publish_options;

/* Where snapshots go.  Every function returns MDBEE_OK or an error code
 * with err filled; the publisher stops at the first error, and the next
 * snapshot repeats the work (everything is content-addressed). */
typedef struct mdb_publish_target {
  void *ctx;
  /* Starts a snapshot upload (Bee: creates the tag it is followed by). */
  int (*begin)(void *ctx, mdb_error *err);
  /* Uploads one chunk; may queue it.  The target checks that the node's
   * answer equals chunk->address. */
  int (*put_chunk)(void *ctx, const mdb_chunk *chunk, mdb_error *err);
  /* Waits until every queued chunk is stored. */
  int (*flush)(void *ctx, mdb_error *err);
  /* Stores a single owner chunk (feed update). */
  int (*put_soc)(void *ctx, const uint8_t owner[20], const uint8_t id[32],
                 const uint8_t signature[65], const uint8_t *data,
                 size_t size, mdb_error *err);
  int (*pin)(void *ctx, const uint8_t ref[32], mdb_error *err);
  int (*unpin)(void *ctx, const uint8_t ref[32], mdb_error *err);
} mdb_publish_target;

/* What one snapshot did, for logs, status and benchmarks. */
typedef struct mdb_publish_result {
  int published;               /* 0: nothing was pending, nothing done */
  uint64_t seq;                /* snapshot number (1, 2, ...) */
  uint8_t root[32];            /* snapshot root */
  uint8_t state_root[32];      /* root without $meta */
  uint8_t feed_manifest[32];   /* the permanent feed manifest */
  uint64_t feed_index;
  int64_t time;
  uint64_t changes;            /* pending changes consumed */
  uint64_t documents_written;  /* documents whose reference changed */
  uint64_t chunks_made;        /* chunks produced (documents + manifest) */
  uint64_t chunks_uploaded;    /* of those, sent to the node */
  uint64_t manifest_chunks;    /* manifest chunks written */
  /* Where the time went, in seconds (benchmarks): encode and hash are
   * CPU time summed over the encoding threads; the others wall time. */
  double seconds_read;         /* walking the pending changes */
  double seconds_encode;       /* Extended JSON */
  double seconds_hash;         /* documents' chunk trees */
  double seconds_manifest;     /* manifest edits and saves */
  double seconds_commit;       /* local state commit */
} mdb_publish_result;

/* A publish target over a Bee node's HTTP API: chunks are queued and sent
 * in parallel batches stamped with batch_id, all of one snapshot under one
 * tag.  bee is borrowed and must outlive the target.  Free the target with
 * mdb_publish_bee_target_free. */
typedef struct mdb_bee mdb_bee;
int mdb_publish_bee_target(mdb_bee *bee, const uint8_t batch_id[32],
                           mdb_publish_target *out, mdb_error *err);
void mdb_publish_bee_target_free(mdb_publish_target *target);

typedef struct mdb_publisher mdb_publisher;

/* Creates a publisher for opts->db over store and target (all borrowed;
 * opts is deep-copied except key, which must outlive the publisher).  A
 * state whose documents were published with the other opts->encrypt
 * setting is refused by the first snapshot (MDBEE_ECONFIG): a manifest
 * cannot mix plain and encrypted references. */
int mdb_publisher_new(const mdb_publish_options *opts, mdb_store *store,
                      const mdb_publish_target *target, mdb_publisher **out,
                      mdb_error *err);

void mdb_publisher_free(mdb_publisher *p);

/* When a snapshot is taken and what of the source it covers. */
typedef struct mdb_publish_stamp {
  int64_t time;        /* Unix seconds */
  uint32_t cluster_t;  /* cluster time of the newest applied event; 0 when */
  uint32_t cluster_i;  /* unknown */
} mdb_publish_stamp;

/* Publishes one snapshot of the pending changes of the database.  When
 * nothing is pending and a snapshot exists, does nothing and sets
 * result->published = 0.  On error nothing is committed to the local
 * state: the pending changes stay, and the next call repeats the
 * snapshot. */
int mdb_publisher_snapshot(mdb_publisher *p, const mdb_publish_stamp *stamp,
                           mdb_publish_result *result, mdb_error *err);

/* The reference of the database's feed manifest: the permanent root that
 * gateways resolve to the newest snapshot.  Computed, not fetched. */
int mdb_publisher_feed_manifest(const mdb_publisher *p, uint8_t ref[32],
                                mdb_error *err);

/* The name of the database p publishes (owned by p). */
const char *mdb_publisher_database(const mdb_publisher *p);

#endif
