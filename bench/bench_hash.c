/* bench_hash [MiB]: Keccak-f[1600] and BMT throughput of every Keccak
 * implementation this CPU runs, on 1 and 2 threads.  Prints markdown tables
 * for docs/performance.md; bench/hash adds the whole-file comparison with
 * bee-js and Bee.  Wall-clock times, best of 3 runs of at least 0.5 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mdbee/bmt.h"
#include "mdbee/keccak.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct rate {
  double wall; /* units per second of wall-clock time */
  double cpu;  /* units per second of CPU time, all threads together */
} rate;

/* Runs step (which does `units` of work per call) until 0.5 s have passed,
 * three times; returns the best rates.  The wall-clock rate is that of a
 * whole run: what a user waits for.  The CPU-time rate is the best of the
 * windows of at least 10 ms (whole calls) inside the runs: on a shared
 * machine a window now and then runs undisturbed by other processes' cache
 * traffic and preemption, so this is the steadier measure of per-core
 * speed. */
static rate best_rate(void (*step)(void *), void *arg, double units) {
  rate best = {0, 0};
  for (int run = 0; run < 3; run++) {
    double t0 = now(), t;
    long calls = 0;
    do {
      double w0 = now(), wc0 = cpu_now();
      long wcalls = 0;
      do {
        step(arg);
        wcalls++;
      } while (now() - w0 < 0.01);
      double r = wcalls * units / (cpu_now() - wc0);
      if (r > best.cpu) best.cpu = r;
      calls += wcalls;
    } while ((t = now() - t0) < 0.5);
    if (calls * units / t > best.wall) best.wall = calls * units / t;
  }
  return best;
}

/* The core's clock in GHz, from a chain of dependent additions (one per
 * cycle on any out-of-order x86 core), best of 5 by CPU time; 0 elsewhere.
 * Turns permutation rates into cycles per permutation. */
static double clock_ghz(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  double best = 0;
  for (int run = 0; run < 5; run++) {
    long n = 50000000, x = 0;
    double c0 = cpu_now();
    __asm__ volatile("1: add $1, %0\n add $1, %0\n add $1, %0\n"
                     " add $1, %0\n sub $1, %1\n jnz 1b"
                     : "+r"(x), "+r"(n));
    double ghz = 4 * 50000000 / (cpu_now() - c0) / 1e9;
    if (ghz > best) best = ghz;
  }
  return best;
#else
  return 0;
#endif
}

enum { PERM_REPS = 1000, MSGS = 64 };

static void permute_step(void *arg) {
  uint64_t *st = arg;
  for (int i = 0; i < PERM_REPS; i++) mdb_keccak_f1600(st);
}

static uint8_t msg[MSGS][64], dig[MSGS][MDB_KECCAK_SIZE];
static const uint8_t *msg_in[MSGS];
static uint8_t *dig_out[MSGS];

static void many_step(void *arg) {
  (void)arg;
  mdb_keccak256_many(msg_in, 64, dig_out, MSGS);
}

typedef struct bmt_work {
  mdb_bmt_job *jobs;
  size_t n;
} bmt_work;

/* Hands the chunks over 128 at a time, as the chunk-tree splitter does. */
static void bmt_step(void *arg) {
  bmt_work *w = arg;
  for (size_t i = 0; i < w->n; i += MDB_BRANCHES)
    mdb_bmt_hash_chunks(w->jobs + i,
                        w->n - i < MDB_BRANCHES ? w->n - i : MDB_BRANCHES);
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
  if (mib == 0 || mib > 4096) {
    fprintf(stderr, "usage: bench_hash [MiB of chunk data, 1..4096]\n");
    return 2;
  }
  const mdb_keccak_impl impls[] = {MDB_KECCAK_NETTLE, MDB_KECCAK_SCALAR,
                                   MDB_KECCAK_AVX2, MDB_KECCAK_AVX512};
  size_t nchunks = mib * 1024 * 1024 / MDB_CHUNK_PAYLOAD_MAX;
  size_t csize = MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX;
  uint8_t *data = malloc(nchunks * csize);
  uint8_t *addr = malloc(nchunks * MDB_REF_SIZE);
  mdb_bmt_job *jobs = malloc(nchunks * sizeof *jobs);
  if (!data || !addr || !jobs) {
    fprintf(stderr, "bench_hash: out of memory\n");
    return 1;
  }
  srand(1);
  for (size_t i = 0; i < nchunks * csize; i++) data[i] = (uint8_t)rand();
  for (size_t i = 0; i < nchunks; i++) {
    mdb_bmt_span_encode(MDB_CHUNK_PAYLOAD_MAX, data + i * csize);
    jobs[i] = (mdb_bmt_job){data + i * csize, csize, addr + i * MDB_REF_SIZE};
  }
  for (int i = 0; i < MSGS; i++) {
    memset(msg[i], i, sizeof msg[i]);
    msg_in[i] = msg[i];
    dig_out[i] = dig[i];
  }
  /* Nettle against the portable permutation, alternating in short runs so
   * both see the same machine load: this picks keccak.c's one-state path. */
  const mdb_keccak_impl one[2] = {MDB_KECCAK_NETTLE, MDB_KECCAK_SCALAR};
  double one_best[2] = {0, 0};
  uint64_t st[25] = {0};
  for (int rep = 0; rep < 30; rep++)
    for (int k = 0; k < 2; k++) {
      mdb_keccak_impl_select(one[k]);
      double c0 = cpu_now();
      for (int i = 0; i < 50 * PERM_REPS; i++) mdb_keccak_f1600(st);
      double r = 50 * PERM_REPS / (cpu_now() - c0);
      if (r > one_best[k]) one_best[k] = r;
    }
  printf("One-state Keccak-f[1600], best of 30 alternating runs of 50000 "
         "(CPU time): nettle %.2f M/s, scalar %.2f M/s\n\n",
         one_best[0] / 1e6, one_best[1] / 1e6);

  mdb_keccak_impl_select(MDB_KECCAK_AUTO);
  mdb_keccak_impl chosen = mdb_keccak_impl_current();
  double chosen_perms = 0;
  bmt_work w = {jobs, nchunks};
  uint8_t first[MDB_REF_SIZE] = {0};

  printf("Rates per second of CPU time (the steadier per-core figure on a "
         "shared machine) and of wall-clock time\n\n"
         "| implementation | Keccak-f[1600] one state (M/s) | Keccak-256 of "
         "64 B = permutations (M/s) | BMT 1 thread: MB/s per CPU-s | wall "
         "MB/s | BMT 2 threads: MB/s per CPU-s | wall MB/s |\n"
         "|---|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++) {
    const char *name = mdb_keccak_impl_name(impls[k]);
    if (mdb_keccak_impl_select(impls[k]) != 0) {
      printf("| %s | not supported by this CPU | | | | | |\n", name);
      continue;
    }
    /* multi-buffer implementations have no one-state permutation of their
     * own (single hashes fall back to the fastest one-state one) */
    int multi = impls[k] == MDB_KECCAK_AVX2 || impls[k] == MDB_KECCAK_AVX512;
    rate perm = {0, 0};
    if (!multi) perm = best_rate(permute_step, st, PERM_REPS);
    rate many = best_rate(many_step, NULL, MSGS);
    rate mbs[2];
    for (unsigned threads = 1; threads <= 2; threads++) {
      mdb_bmt_set_threads(threads);
      mbs[threads - 1] = best_rate(bmt_step, &w, (double)nchunks *
                                                     MDB_CHUNK_PAYLOAD_MAX /
                                                     1e6);
      /* every implementation and thread count must agree */
      if (k == 0 && threads == 1) memcpy(first, addr, MDB_REF_SIZE);
      if (memcmp(first, addr, MDB_REF_SIZE) != 0) {
        fprintf(stderr, "bench_hash: %s gave a different address\n", name);
        return 1;
      }
    }
    char permcol[32] = "-";
    if (!multi) snprintf(permcol, sizeof permcol, "%.2f", perm.cpu / 1e6);
    printf("| %s | %s | %.2f | %.0f | %.0f | %.0f | %.0f |\n", name,
           permcol, many.cpu / 1e6, mbs[0].cpu, mbs[0].wall, mbs[1].cpu,
           mbs[1].wall);
    if (impls[k] == chosen) chosen_perms = many.cpu;
  }
  /* A 64-byte message is one block: one permutation per digest. */
  double ghz = clock_ghz();
  printf("\nChosen implementation: %s, %.2f M Keccak-f[1600] permutations "
         "per CPU-second",
         mdb_keccak_impl_name(chosen), chosen_perms / 1e6);
  if (ghz > 0)
    printf(" = %.0f cycles each at the measured %.2f GHz",
           ghz * 1e9 / chosen_perms, ghz);
  printf("\n");
  mdb_bmt_set_threads(0);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("\n%zu chunks of 4096 bytes (%zu MiB), handed over 128 per call; "
         "peak RSS %ld MiB\n",
         nchunks, mib, ru.ru_maxrss / 1024);
  free(data);
  free(addr);
  free(jobs);
  return 0;
}
