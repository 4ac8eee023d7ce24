/* A snapshot's documents are encoded (Extended JSON), split into chunk trees
 * and hashed in batches on two threads: this is most of a large snapshot's
 * CPU time, and documents are independent of each other.  The chunks are
 * kept in the job so that the publisher thread uploads them, and files the
 * documents in the manifest, in key order afterwards. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdbee/keccak.h"
#include "publish_internal.h"

static double clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double publish_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* Encoding threads' time is CPU time: on a shared machine their wall time
 * would count the waits for a core too. */
static double cpu_seconds(void) {
  return clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

/* mdb_chunk_sink appending the chunk (address, size, bytes) to the job. */
static int keep_chunk(void *ctx, const mdb_chunk *c, mdb_error *err) {
  publish_doc_job *job = ctx;
  size_t need = job->chunks_len + sizeof(publish_chunk_head) + c->size;
  if (need > job->chunks_cap) {
    size_t cap = job->chunks_cap ? 2 * job->chunks_cap : 2048;
    while (cap < need) cap *= 2;
    uint8_t *grown = realloc(job->chunks, cap);
    if (!grown) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    job->chunks = grown;
    job->chunks_cap = cap;
  }
  publish_chunk_head head;
  memcpy(head.address, c->address, 32);
  head.size = c->size;
  memcpy(job->chunks + job->chunks_len, &head, sizeof head);
  memcpy(job->chunks + job->chunks_len + sizeof head, c->data, c->size);
  job->chunks_len = need;
  return MDBEE_OK;
}

static void encode_one(const mdb_publisher *p, publish_doc_job *job,
                       double *t_encode, double *t_hash) {
  const mdb_publish_collection *coll = job->coll;
  mdb_ejson_options opts = {.mode = p->ejson_mode,
                            .redact = coll->redact,
                            .n_redact = coll->n_redact};
  double t0 = cpu_seconds();
  char *json = NULL;
  size_t len = 0;
  job->chunks_len = 0;
  job->rc = mdb_ejson_encode(job->change.doc, job->change.doc_len, &opts,
                             &json, &len, &job->err);
  double t1 = cpu_seconds();
  *t_encode += t1 - t0;
  if (job->rc != MDBEE_OK) return;
  job->rc = publish_split(p, json, len, keep_chunk, job, job->ref, &job->err);
  if (job->rc == MDBEE_OK) {
    mdb_keccak256(json, len, job->hash);
    job->size = len;
  }
  free(json);
  *t_hash += cpu_seconds() - t1;
}

struct batch {
  const mdb_publisher *p;
  publish_doc_job *jobs;
  size_t n;
  atomic_size_t next;
};

struct lane {
  struct batch *b;
  double t_encode, t_hash;
};

static void *work(void *arg) {
  struct lane *l = arg;
  size_t i;
  while ((i = atomic_fetch_add(&l->b->next, 1)) < l->b->n)
    if (l->b->jobs[i].encode)
      encode_one(l->b->p, &l->b->jobs[i], &l->t_encode, &l->t_hash);
  return NULL;
}

void publish_encode_batch(mdb_publisher *p, publish_doc_job *jobs, size_t n) {
  struct batch b = {.p = p, .jobs = jobs, .n = n};
  atomic_init(&b.next, 0);
  struct lane mine = {&b, 0, 0}, theirs = {&b, 0, 0};
  pthread_t helper;
  /* Without a second thread (one CPU, or none could be made) the caller
   * does all of it. */
  int two = p->threads > 1 && n > 1 &&
            pthread_create(&helper, NULL, work, &theirs) == 0;
  work(&mine);
  if (two) pthread_join(helper, NULL);
  p->result->seconds_encode += mine.t_encode + theirs.t_encode;
  p->result->seconds_hash += mine.t_hash + theirs.t_hash;
}

int publish_send_job(mdb_publisher *p, publish_doc_job *job, int send,
                     mdb_error *err) {
  for (size_t at = 0; at < job->chunks_len;) {
    publish_chunk_head head;
    memcpy(&head, job->chunks + at, sizeof head);
    mdb_chunk c = {.data = job->chunks + at + sizeof head, .size = head.size};
    memcpy(c.address, head.address, 32);
    p->result->chunks_made++;
    if (send) {
      int rc = p->target.put_chunk(p->target.ctx, &c, err);
      if (rc != MDBEE_OK) return rc;
      p->result->chunks_uploaded++;
    }
    at += sizeof head + head.size;
  }
  return MDBEE_OK;
}
