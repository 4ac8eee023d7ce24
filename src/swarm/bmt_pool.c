#include "bmt_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

enum { MAX_WORKERS = 31 };

/* Slices are claimed under the lock, and a run ends when all its items are
 * done, not when every worker has checked in: on a busy machine a worker
 * may be woken long after the others finished its share, and the caller
 * must not wait for it.  A late worker finds the generation moved on (or
 * nothing left to claim) and never touches a finished run's arguments. */
static struct {
  pthread_mutex_t busy; /* held by the one caller running work */
  pthread_mutex_t lock; /* guards the fields below */
  pthread_cond_t wake, done;
  unsigned workers; /* created so far */
  unsigned wanted;  /* workers taking part in the current run */
  unsigned long generation;
  unsigned long born[MAX_WORKERS]; /* generation when worker i started */
  mdb_pool_fn *fn;
  void *arg;
  size_t n, grain, next, finished;
} pool = {.busy = PTHREAD_MUTEX_INITIALIZER,
          .lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* Called with pool.lock held; claims and runs slices of run gen until none
 * is left, and returns with the lock held. */
static void drain(unsigned long gen) {
  while (pool.generation == gen && pool.next < pool.n) {
    size_t begin = pool.next;
    size_t end = pool.n - begin < pool.grain ? pool.n : begin + pool.grain;
    mdb_pool_fn *fn = pool.fn;
    void *arg = pool.arg;
    pool.next = end;
    pthread_mutex_unlock(&pool.lock);
    fn(arg, begin, end);
    pthread_mutex_lock(&pool.lock);
    pool.finished += end - begin;
    if (pool.finished == pool.n) pthread_cond_signal(&pool.done);
  }
}

static void *worker(void *p) {
  unsigned id = (unsigned)(uintptr_t)p;
  pthread_mutex_lock(&pool.lock);
  unsigned long seen = pool.born[id];
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    seen = pool.generation;
    if (id < pool.wanted) drain(seen);
  }
  return NULL;
}

/* Called with pool.lock held.  Workers block every signal so that signal
 * handlers keep running on the application's own threads. */
static void grow(unsigned want) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  while (pool.workers < want && pool.workers < MAX_WORKERS) {
    pthread_t t;
    pool.born[pool.workers] = pool.generation;
    if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)pool.workers))
      break;
    pthread_detach(t);
    pool.workers++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void mdb_pool_run(size_t n, size_t grain, mdb_pool_fn *fn, void *arg,
                  unsigned threads) {
  if (threads <= 1 || grain == 0 || n < 2 * grain ||
      pthread_mutex_trylock(&pool.busy) != 0) {
    fn(arg, 0, n);
    return;
  }
  pthread_mutex_lock(&pool.lock);
  grow(threads - 1);
  pool.wanted = threads - 1 < pool.workers ? threads - 1 : pool.workers;
  pool.fn = fn;
  pool.arg = arg;
  pool.n = n;
  pool.grain = grain;
  pool.next = pool.finished = 0;
  unsigned long gen = ++pool.generation;
  pthread_cond_broadcast(&pool.wake);
  drain(gen);
  while (pool.finished < pool.n) pthread_cond_wait(&pool.done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
  pthread_mutex_unlock(&pool.busy);
}

static unsigned cpus;
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;

/* glibc reads /sys for every sysconf(_SC_NPROCESSORS_ONLN): once per
 * process, not once per hashed document. */
static void count_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  cpus = n < 1 ? 1 : n > MAX_WORKERS + 1 ? MAX_WORKERS + 1 : (unsigned)n;
}

unsigned mdb_pool_cpus(void) {
  pthread_once(&cpus_once, count_cpus);
  return cpus;
}
