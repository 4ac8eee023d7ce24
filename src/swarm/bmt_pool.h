/* Internal: the small worker pool that spreads mdb_bmt_hash_chunks over the
 * CPUs.  Threads are created on first need and then reused for the life of
 * the process. */
#ifndef MDBEE_BMT_POOL_H
#define MDBEE_BMT_POOL_H

#include <stddef.h>

/* Processes items [begin, end) of the caller's work. */
typedef void mdb_pool_fn(void *arg, size_t begin, size_t end);

/* Calls fn over [0, n) in slices of grain items on up to threads threads
 * (the caller's included) and returns when all are done.  Runs everything
 * on the calling thread when threads <= 1, n < 2 * grain, another caller
 * is using the pool, or no thread can be created: the results never depend
 * on how the work was split. */
void mdb_pool_run(size_t n, size_t grain, mdb_pool_fn *fn, void *arg,
                  unsigned threads);

/* Online CPUs (at least 1, at most the pool's limit). */
unsigned mdb_pool_cpus(void);

#endif
