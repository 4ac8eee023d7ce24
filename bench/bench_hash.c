/* bench_hash [MiB]: Keccak-f[1600] and BMT throughput of every Keccak
 * implementation this CPU runs, on 1 and 2 threads, and for single chunks
 * hashed one at a time; on x86-64, the throughput floors of the AVX2
 * permutation's instruction mix.  Prints markdown tables for
 * docs/performance.md; bench/hash adds the whole-file comparison with
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

#if defined(__x86_64__) && defined(__GNUC__)
/* CPU seconds of n iterations of a chain of 4 dependent additions: 4n
 * cycles on any out-of-order x86 core. */
static double chain_seconds(long n) {
  long x = 0;
  double c0 = cpu_now();
  __asm__ volatile("1: add $1, %0\n add $1, %0\n add $1, %0\n"
                   " add $1, %0\n sub $1, %1\n jnz 1b"
                   : "+r"(x), "+r"(n));
  return cpu_now() - c0;
}
#endif

/* The core's clock in GHz, best of 5 chains by CPU time; 0 elsewhere.
 * Turns permutation rates into cycles per permutation. */
static double clock_ghz(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  double best = 0;
  for (int run = 0; run < 5; run++) {
    double ghz = 4 * 50000000 / chain_seconds(50000000) / 1e9;
    if (ghz > best) best = ghz;
  }
  return best;
#else
  return 0;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Throughput floors for docs/performance.md: the instruction mix of one
 * round of the 4-way AVX2 permutation (keccak_avx2.c: 76 vpxor, 27 vpor,
 * 25 vpandn, 22 vpsllq, 27 vpsrlq, 5 vpaddq, 2 vpshufb = 184), alone and
 * beside the 130 integer instructions of one scalar round (76 xor, 29
 * rorx, 25 andn; no loads or stores, which a real 25-lane state in 15
 * registers needs), all with enough independent chains that only the
 * execution units and the front end limit them. */
/* The ops: X xor, O or, N andn, L/R shift left/right, A add, Q rotate.
 * A slice is one op on each of several registers, the ops rotated from
 * slice to slice, so that consecutive instructions are independent and
 * of mixed kinds, as in the permutation. */
#define VX(r) "vpxor %%ymm15, %%ymm" #r ", %%ymm" #r "\n\t"
#define VO(r) "vpor %%ymm15, %%ymm" #r ", %%ymm" #r "\n\t"
#define VN(r) "vpandn %%ymm15, %%ymm" #r ", %%ymm" #r "\n\t"
#define VA(r) "vpaddq %%ymm15, %%ymm" #r ", %%ymm" #r "\n\t"
#define VL(r) "vpsllq $7, %%ymm" #r ", %%ymm" #r "\n\t"
#define VR(r) "vpsrlq $7, %%ymm" #r ", %%ymm" #r "\n\t"
#define VP(r) "vpshufb %%ymm15, %%ymm" #r ", %%ymm" #r "\n\t"
#define VSL(a, b, c, d, e, f, g, h, i, j, k)                                \
  V##a(0) V##b(1) V##c(2) V##d(3) V##e(4) V##f(5) V##g(6) V##h(7) V##i(8)   \
  V##j(9) V##k(10)
#define VSL5(a, b, c, d, e) V##a(11) V##b(12) V##c(13) V##d(0) V##e(1)
#define SX(r) "xor %%r15, %%" #r "\n\t"
#define SN(r) "andn %%r15, %%" #r ", %%" #r "\n\t"
#define SQ(r) "rorx $7, %%" #r ", %%" #r "\n\t"
#define SSL(a, b, c, d, e, f)                                               \
  S##a(rax) S##b(rbx) S##c(rcx) S##d(rdx) S##e(rsi) S##f(rdi)
#define SSL8(a, b, c, d, e, f)                                              \
  S##a(r8) S##b(r9) S##c(r10) S##d(r11) S##e(r12) S##f(r13)
/* 11 registers x (xor 6, sll 2, or 2, andn 2, srl 2), 5 x (xor 2, srl,
 * or, add), 3 andn, 2 vpshufb: the 184 of a round */
#define FV0 VSL(X, L, X, O, N, X, R, X, O, N, X)
#define FV1 VSL(L, X, O, N, X, R, X, O, N, X, L)
#define FV2 VSL(X, O, N, X, R, X, O, N, X, L, R)
#define FV3 VSL(O, N, X, R, X, O, N, X, L, R, X)
#define FV4 VSL(N, X, R, X, O, N, X, L, R, X, X)
#define FV5 VSL(X, R, X, O, N, X, L, R, X, X, L)
#define FV6 VSL(R, X, O, N, X, L, R, X, X, L, X)
#define FV7 VSL(X, O, N, X, L, R, X, X, L, X, O)
#define FV8 VSL(O, N, X, L, R, X, X, L, X, O, N)
#define FV9 VSL(N, X, L, R, X, X, L, X, O, N, X)
#define FV10 VSL(X, L, R, X, X, L, X, O, N, X, R)
#define FV11 VSL(L, R, X, X, L, X, O, N, X, R, X)
#define FV12 VSL(R, X, X, L, X, O, N, X, R, X, O)
#define FV13 VSL(X, X, L, X, O, N, X, R, X, O, N)
#define FV14 VSL5(X, R, O, A, X)
#define FV15 VSL5(R, O, A, X, X)
#define FV16 VSL5(O, A, X, X, R)
#define FV17 VSL5(A, X, X, R, O)
#define FV18 VSL5(X, X, R, O, A)
#define FV19 VN(2) VN(3) VN(4) VP(5) VP(6)
/* 12 registers x (xor 6, rorx 2, andn 2), then xor 4, rorx 5, andn 1:
 * 76 xor, 29 rorx, 25 andn */
#define FS0 SSL(X, Q, X, N, X, X)
#define FS1 SSL8(Q, N, X, X, X, Q)
#define FS2 SSL(Q, X, N, X, X, Q)
#define FS3 SSL8(N, X, X, X, Q, X)
#define FS4 SSL(X, N, X, X, Q, N)
#define FS5 SSL8(X, X, X, Q, X, N)
#define FS6 SSL(N, X, X, Q, N, X)
#define FS7 SSL8(X, X, Q, X, N, X)
#define FS8 SSL(X, X, Q, N, X, X)
#define FS9 SSL8(X, Q, X, N, X, X)
#define FS10 SSL(X, Q, N, X, X, X)
#define FS11 SSL8(Q, X, N, X, X, Q)
#define FS12 SSL(Q, N, X, X, X, Q)
#define FS13 SSL8(X, N, X, X, Q, N)
#define FS14 SSL(N, X, X, X, Q, X)
#define FS15 SSL8(N, X, X, Q, N, X)
#define FS16 SSL(X, X, X, Q, X, N)
#define FS17 SSL8(X, X, Q, N, X, X)
#define FS18 SSL(X, X, Q, X, N, X)
#define FS19 SSL8(X, Q, N, X, X, X)
#define FS20 SX(rax) SX(rbx) SX(rcx) SX(rdx) SQ(rsi)
#define FS21 SQ(rdi) SQ(r8) SQ(r9) SQ(r10) SN(r11)
#define VROUND                                                              \
  FV0 FV1 FV2 FV3 FV4 FV5 FV6 FV7 FV8 FV9 FV10 FV11 FV12 FV13 FV14 FV15     \
  FV16 FV17 FV18 FV19
#define HROUND                                                              \
  FV0 FS0 FV1 FS1 FV2 FS2 FV3 FS3 FV4 FS4 FV5 FS5 FV6 FS6 FV7 FS7 FV8 FS8   \
  FV9 FS9 FV10 FS10 FV11 FS11 FV12 FS12 FV13 FS13 FV14 FS14 FV15 FS15 FV16  \
  FS16 FV17 FS17 FV18 FS18 FV19 FS19 FS20 FS21

/* Cycles per iteration of body (one round's worth): the shortest of 40
 * runs against the shortest of 40 addition chains run alternately with
 * them, so that both see the same clock, which changes with the load on
 * the other cores. */
#define FLOOR_LOOP(body)                                                    \
  do {                                                                      \
    long n = 100000;                                                        \
    double chain = chain_seconds(250000) / 1e6, c0 = cpu_now();             \
    __asm__ volatile("1:\n\t" body "sub $1, %0\n\tjnz 1b"                   \
                     : "+r"(n)                                              \
                     :                                                      \
                     : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", \
                       "r10", "r11", "r12", "r13", "r15", "xmm0", "xmm1",   \
                       "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",      \
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",  \
                       "xmm15", "cc");                                      \
    double t = cpu_now() - c0;                                              \
    if (chain < best_chain) best_chain = chain;                             \
    if (t < best) best = t;                                                 \
  } while (0)

static double floor_vector(void) {
  double best = 1e9, best_chain = 1e9;
  for (int run = 0; run < 40; run++) FLOOR_LOOP(VROUND);
  return best / best_chain / 100000;
}

static double floor_hybrid(void) {
  double best = 1e9, best_chain = 1e9;
  for (int run = 0; run < 40; run++) FLOOR_LOOP(HROUND);
  return best / best_chain / 100000;
}
#endif

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

/* One chunk at a time, as manifest nodes are hashed: a short chunk's upper
 * tree levels are single Keccak messages. */
static const size_t single_sizes[] = {100, 1000, 4096};
static size_t single_size;

static void single_step(void *arg) {
  uint8_t address[MDB_REF_SIZE];
  for (int i = 0; i < 100; i++)
    mdb_bmt_chunk_address(single_size, arg, single_size, address);
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
  /* single chunks per CPU-second, by implementation and size */
  double singles[sizeof impls / sizeof impls[0]]
                [sizeof single_sizes / sizeof single_sizes[0]] = {{0}};
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
    /* multi-buffer implementations permute single states with the BMI
     * build of the portable C (or the portable C itself) */
    rate perm = best_rate(permute_step, st, PERM_REPS);
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
    printf("| %s | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f |\n", name,
           perm.cpu / 1e6, many.cpu / 1e6, mbs[0].cpu, mbs[0].wall,
           mbs[1].cpu, mbs[1].wall);
    for (size_t z = 0; z < sizeof single_sizes / sizeof single_sizes[0]; z++) {
      single_size = single_sizes[z];
      singles[k][z] = best_rate(single_step, data, 100).cpu;
    }
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
  printf("\nOne chunk per mdb_bmt_chunk_address call (as manifest nodes are "
         "hashed), thousands per CPU-second\n\n"
         "| implementation | 100-byte payload | 1000 bytes | 4096 bytes |\n"
         "|---|---|---|---|\n");
  for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++)
    if (singles[k][0] > 0)
      printf("| %s | %.0f | %.0f | %.0f |\n", mdb_keccak_impl_name(impls[k]),
             singles[k][0] / 1e3, singles[k][1] / 1e3, singles[k][2] / 1e3);
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
      __builtin_cpu_supports("bmi2")) {
    /* 24 rounds per permutation; a 4 KiB chunk is 128 permutations */
    double v = floor_vector() * 24 / 4, h = floor_hybrid() * 24 / 5;
    printf("\nThroughput floors (instruction mixes without dependencies; "
           "MB/s of BMT at %.2f GHz):\n"
           "- one AVX2 round (184 vector ops, 4 states): %.0f cycles per "
           "permutation, %.0f MB/s\n"
           "- the same beside one scalar round (130 integer ops, no loads or "
           "stores; 5 states): %.0f cycles per permutation, %.0f MB/s\n",
           ghz, v, ghz * 1e9 / v * 32 / 1e6, h, ghz * 1e9 / h * 32 / 1e6);
  }
#endif
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
