/* Chunk upload throughput of the Bee client (mdb_bee_upload_chunks) for
 * several in-flight windows:
 *   bench_bee_upload URL CHUNKS [WINDOW...]
 * Buys a batch on the node at URL (or uses the one MDBEE_BENCH_BATCH
 * names), then uploads CHUNKS fresh random 4 KiB chunks per window, under
 * one tag as the bridge does, and prints chunks/s.  Every chunk is sent
 * (this is the client alone: no have-set).  Against the bee-js stand-in the
 * figure includes the stand-in's own hashing; start it with
 * BEE_STANDIN_LATENCY_MS to see what the window buys on a distant node.
 * bench/upload runs it beside bee-js. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mdbee/bee.h"
#include "mdbee/bmt.h"
#include "mdbee/hex.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_bee_upload URL CHUNKS [WINDOW...]\n");
    return 2;
  }
  size_t n = strtoul(argv[2], NULL, 10);
  unsigned default_windows[] = {1, 4, 16, 32};
  int nw = argc > 3 ? argc - 3 : 4;
  mdb_error err = {0};
  mdb_bee_options o = {.url = argv[1]};
  mdb_bee *bee;
  uint8_t batch[32];
  const char *given = getenv("MDBEE_BENCH_BATCH");
  if (mdb_bee_open(&o, &bee, &err) ||
      (given ? mdb_hex_decode(given, batch, 32, &err)
             : mdb_bee_buy_batch(bee, "10000000000", 24, "bench", 60000, batch, &err))) {
    fprintf(stderr, "bench_bee_upload: %s\n", err.message);
    return 1;
  }
  mdb_bee_close(bee);
  uint8_t (*data)[8 + 4096] = malloc(n * sizeof *data);
  uint8_t (*addr)[32] = malloc(n * sizeof *addr);
  mdb_bee_chunk *chunks = malloc(n * sizeof *chunks);
  if (!data || !addr || !chunks) return 1;
  /* Seeded per run: a node that keeps its store never sees a chunk twice. */
  uint32_t x = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
  for (int w = 0; w < nw; w++) {
    unsigned window = argc > 3 ? (unsigned)atoi(argv[3 + w]) : default_windows[w];
    /* Fresh chunks each round, so no upload is a re-upload. */
    for (size_t i = 0; i < n; i++) {
      for (size_t k = 0; k < 4096; k++) {
        x = x * 1103515245u + 12345u;
        data[i][8 + k] = (uint8_t)(x >> 24);
      }
      mdb_bmt_span_encode(4096, data[i]);
      chunks[i] = (mdb_bee_chunk){data[i], sizeof data[i], addr[i]};
    }
    mdb_bmt_job *jobs = malloc(n * sizeof *jobs);
    if (!jobs) return 1;
    for (size_t i = 0; i < n; i++)
      jobs[i] = (mdb_bmt_job){data[i], sizeof data[i], addr[i]};
    mdb_bmt_hash_chunks(jobs, n);
    free(jobs);
    o.max_in_flight = window;
    uint64_t tag;
    if (mdb_bee_open(&o, &bee, &err) || mdb_bee_tag_create(bee, &tag, &err)) {
      fprintf(stderr, "bench_bee_upload: %s\n", err.message);
      return 1;
    }
    double t0 = now_s();
    int rc = mdb_bee_upload_chunks(bee, batch, tag, chunks, n, &err);
    double dt = now_s() - t0;
    mdb_bee_close(bee);
    if (rc) {
      fprintf(stderr, "bench_bee_upload: %s\n", err.message);
      return 1;
    }
    printf("window %2u: %zu chunks in %.2f s = %.0f chunks/s\n", window, n, dt,
           (double)n / dt);
  }
  free(data);
  free(addr);
  free(chunks);
  return 0;
}
