/* Signing cost: how many single owner chunks per second mdbee makes and
 * verifies (one secp256k1 signature or recovery plus a BMT hash each), for
 * a feed update's 40-byte payload and a full 4096-byte one.  A snapshot
 * signs one feed update, so this bounds nothing in the bridge; it tells a
 * reader what verifying every SOC it fetches costs.
 *
 *   build/release/bench/bench_soc [ITERATIONS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdbee/soc.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000;
  if (n <= 0) {
    fprintf(stderr, "usage: bench_soc [ITERATIONS]\n");
    return 2;
  }
  mdb_error err = {0};
  mdb_key *key = NULL;
  if (mdb_key_generate(&key, &err) != MDBEE_OK) {
    fprintf(stderr, "bench_soc: %s\n", err.message);
    return 1;
  }
  static uint8_t chunk[MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX],
      soc[MDB_SOC_SIZE_MAX];
  const size_t sizes[] = {40, MDB_CHUNK_PAYLOAD_MAX};
  for (size_t s = 0; s < 2; s++) {
    size_t len = sizes[s], soc_size = 0;
    mdb_bmt_span_encode(len, chunk);
    memset(chunk + MDB_SPAN_SIZE, 0x5a, len);
    uint8_t id[MDB_SOC_ID_SIZE] = {0}, address[MDB_REF_SIZE];
    double t0 = now();
    for (long i = 0; i < n; i++) {
      memcpy(id, &i, sizeof i); /* a new signature every time */
      if (mdb_soc_make(key, id, chunk, MDB_SPAN_SIZE + len, soc, &soc_size,
                       address, &err) != MDBEE_OK)
        return fprintf(stderr, "bench_soc: %s\n", err.message), 1;
    }
    double t1 = now();
    for (long i = 0; i < n; i++)
      if (mdb_soc_verify(soc, soc_size, address, NULL, NULL, &err) != MDBEE_OK)
        return fprintf(stderr, "bench_soc: %s\n", err.message), 1;
    double t2 = now();
    printf("payload %4zu bytes: make %8.0f SOC/s, verify %8.0f SOC/s\n", len,
           n / (t1 - t0), n / (t2 - t1));
  }
  mdb_key_free(key);
  return 0;
}
