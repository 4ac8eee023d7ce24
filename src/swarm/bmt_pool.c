#include "bmt_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

enum { MAX_WORKERS = 31 };

static struct {
  pthread_mutex_t busy; /* held by the one caller running work */
  pthread_mutex_t lock; /* guards the fields below */
  pthread_cond_t wake, done;
  unsigned workers;    /* created so far */
  unsigned wanted;     /* workers taking part in the current run */
  unsigned running;    /* of those, still working */
  unsigned long generation;
  unsigned long born[MAX_WORKERS]; /* generation when worker i started */
  mdb_pool_fn *fn;
  void *arg;
  size_t n, grain;
  atomic_size_t next;
} pool = {.busy = PTHREAD_MUTEX_INITIALIZER,
          .lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* Claims slices until none is left; run by the caller and every worker. */
static void drain(void) {
  size_t begin;
  while ((begin = atomic_fetch_add(&pool.next, pool.grain)) < pool.n)
    pool.fn(pool.arg, begin,
            pool.n - begin < pool.grain ? pool.n : begin + pool.grain);
}

static void *worker(void *p) {
  unsigned id = (unsigned)(uintptr_t)p;
  pthread_mutex_lock(&pool.lock);
  unsigned long seen = pool.born[id];
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    seen = pool.generation;
    if (id >= pool.wanted) continue;
    pthread_mutex_unlock(&pool.lock);
    drain();
    pthread_mutex_lock(&pool.lock);
    if (--pool.running == 0) pthread_cond_signal(&pool.done);
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
  pool.running = pool.wanted;
  pool.fn = fn;
  pool.arg = arg;
  pool.n = n;
  pool.grain = grain;
  atomic_store(&pool.next, 0);
  pool.generation++;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  drain();
  pthread_mutex_lock(&pool.lock);
  while (pool.running > 0) pthread_cond_wait(&pool.done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
  pthread_mutex_unlock(&pool.busy);
}

unsigned mdb_pool_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > MAX_WORKERS + 1 ? MAX_WORKERS + 1 : (unsigned)n;
}
