/* An in-process stand-in for a Bee node, for the publisher's unit tests and
 * bench/bench_publish: a publish target that checks every chunk's address
 * and keeps the chunks (or, with count_only, just counts them), and a
 * chunk source reading them back. */
#ifndef MDBEE_TEST_FAKE_BEE_H
#define MDBEE_TEST_FAKE_BEE_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/chunk.h"
#include "mdbee/ingest.h"
#include "mdbee/publish.h"

typedef struct fake_chunk {
  uint8_t address[32];
  uint8_t *data; /* NULL: an empty slot */
  size_t size;
} fake_chunk;

typedef struct fake_bee {
  int count_only;     /* 1: neither verify nor keep chunks (benchmarks) */
  fake_chunk *slots;  /* cap of them, open addressing by address */
  size_t n, cap;      /* chunks held, slots */
  size_t puts, socs, pins, unpins;
  uint64_t bytes;     /* of all chunks put */
  uint8_t unpinned[16][32];
  int fail_soc;       /* answer the next SOC with an error */
} fake_bee;

/* A publish target over b (zero-initialised, then count_only as wanted). */
mdb_publish_target fake_bee_target(fake_bee *b);

/* mdb_chunk_source (ctx: the fake_bee) over the kept chunks. */
int fake_bee_source(void *ctx, const uint8_t address[32], uint8_t *buf,
                    size_t *size, mdb_error *err);

/* Whether the node holds the chunk. */
int fake_bee_has(const fake_bee *b, const uint8_t address[32]);

void fake_bee_free(fake_bee *b);

/* A publisher over a real store, fed through an ingest, publishing to a
 * fake Bee: what the publisher's tests and benchmarks run on. */
typedef struct fake_setup {
  mdb_store *store;
  mdb_ingest *ingest;
  mdb_key *key;
  fake_bee bee; /* survives fake_setup_close, like a real node */
  mdb_publish_target target;
  mdb_publisher *pub;
} fake_setup;

/* Opens the state in dir, an ingest allowing allow[0..n_allow) and a
 * publisher with opts (its key set from secret). */
int fake_setup_open(fake_setup *s, const char *dir, const char *const *allow,
                    size_t n_allow, mdb_publish_options opts,
                    const uint8_t secret[32], mdb_error *err);

/* Closes all but the fake Bee (a restart of the publishing process). */
void fake_setup_close(fake_setup *s);

/* Closes all, frees the fake Bee's chunks and removes the state in dir
 * (end of a test); 0 when it was removed. */
int fake_setup_remove(fake_setup *s, const char *dir);

#endif
