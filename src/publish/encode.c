/* A snapshot's documents are encoded (Extended JSON), split into chunk trees
 * and hashed in batches: a large share of a snapshot's CPU time, and
 * documents are independent of each other.  One encoder thread works
 * through the batches up to PUBLISH_AHEAD ahead of the publisher thread,
 * which applies them (the manifest edits, sequential) and saves
 * checkpoints meanwhile, and helps with the oldest batch when it has to
 * wait for it, so both cores stay busy.  The chunks are kept in the job so
 * that the publisher thread uploads them, and files the documents in the
 * manifest, in key order. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdbee/bmt.h"
#include "mdbee/buf.h"
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

/* job->chunks as an mdb_buf, for the writers that append to it, and
 * back. */
static mdb_buf job_buf(const publish_doc_job *job) {
  return (mdb_buf){(char *)job->chunks, job->chunks_len, job->chunks_cap, 0};
}

static void job_set_buf(publish_doc_job *job, const mdb_buf *b) {
  job->chunks = (uint8_t *)b->data;
  job->chunks_len = b->len;
  job->chunks_cap = b->cap;
}

/* mdb_chunk_sink appending the chunk (address, size, bytes) to the job. */
static int keep_chunk(void *ctx, const mdb_chunk *c, mdb_error *err) {
  publish_doc_job *job = ctx;
  mdb_buf b = job_buf(job);
  publish_chunk_head head;
  if (mdb_buf_reserve(&b, sizeof head + c->size) != 0)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  memcpy(head.address, c->address, 32);
  head.size = c->size;
  memcpy(b.data + b.len, &head, sizeof head);
  memcpy(b.data + b.len + sizeof head, c->data, c->size);
  b.len += sizeof head + c->size;
  job_set_buf(job, &b);
  return MDBEE_OK;
}

/* Documents encoded by a lane and not hashed yet.  Most documents' JSON
 * fits one chunk, whose BMT hash alone would leave most lanes of the
 * multi-buffer Keccak kernels empty: a lane hashes GROUP such chunks in
 * one mdb_bmt_hash_chunks call (below its worker-pool threshold, so on the
 * lane's own thread).  Timing a group rather than each document keeps the
 * clock reads (system calls) off the per-document path. */
enum { GROUP = 8 };

/* Where a one-chunk document's JSON is encoded in job->chunks: after the
 * chunk's head and span, so that it is never copied. */
#define JSON_AT (sizeof(publish_chunk_head) + MDB_SPAN_SIZE)

struct lane {
  double t_encode, t_hash, mark; /* mark: CPU time the group began */
  publish_doc_job *held[GROUP];
  /* JSON of a held multi-chunk or encrypted document (NULL for one-chunk
   * ones), split at flush.  It lies in scratch[i], kept from document to
   * document, so encoding allocates nothing once the buffers are big
   * enough. */
  const char *json[GROUP];
  mdb_buf scratch[GROUP];
  size_t n_held;
};

/* Splits and hashes the held documents: the one-chunk ones were laid out
 * by encode_one (head, span, JSON) and get their address here. */
static void flush(const mdb_publisher *p, struct lane *l) {
  double t = cpu_seconds();
  l->t_encode += t - l->mark;
  mdb_bmt_job bj[GROUP];
  publish_doc_job *of[GROUP];
  size_t n = 0;
  for (size_t i = 0; i < l->n_held; i++) {
    publish_doc_job *job = l->held[i];
    if (l->json[i]) {
      job->rc = publish_split(p, l->json[i], job->size, keep_chunk, job,
                              job->ref, &job->err);
      continue;
    }
    uint8_t *head = job->chunks;
    bj[n].data = head + sizeof(publish_chunk_head);
    bj[n].size = job->chunks_len - sizeof(publish_chunk_head);
    bj[n].address = head + offsetof(publish_chunk_head, address);
    of[n++] = job;
  }
  mdb_bmt_hash_chunks(bj, n);
  for (size_t i = 0; i < n; i++) memcpy(of[i]->ref, bj[i].address, 32);
  l->n_held = 0;
  l->mark = cpu_seconds();
  l->t_hash += l->mark - t;
}

/* Encodes the job's document into job->chunks (after room for the head
 * and span of its chunk), or into the lane's scratch buffer when it is
 * encrypted, and holds it for flush. */
static void encode_one(const mdb_publisher *p, struct lane *l,
                       publish_doc_job *job) {
  const mdb_publish_collection *coll = job->coll;
  mdb_ejson_options opts = {.mode = p->ejson_mode,
                            .redact = coll->redact,
                            .n_redact = coll->n_redact};
  mdb_buf *scratch = &l->scratch[l->n_held];
  mdb_buf b = job_buf(job);
  b.len = 0;
  scratch->len = 0;
  scratch->failed = 0;
  size_t at = p->opts.encrypt ? 0 : JSON_AT;
  mdb_buf *into = p->opts.encrypt ? scratch : &b;
  if (mdb_buf_reserve(into, at) == 0) {
    into->len = at;
    job->rc = mdb_ejson_encode_append(job->change.doc, job->change.doc_len,
                                      &opts, into, &job->err);
  } else {
    job->rc = mdb_error_set(&job->err, MDBEE_ENOMEM, "out of memory");
  }
  if (job->rc != MDBEE_OK) b.len = 0;
  job_set_buf(job, &b);
  if (job->rc != MDBEE_OK) return;
  job->size = into->len - at;
  l->json[l->n_held] = NULL;
  if (p->opts.encrypt) {
    l->json[l->n_held] = scratch->data;
  } else if (job->size > MDB_CHUNK_PAYLOAD_MAX) {
    /* The splitter writes the chunks to job->chunks: the JSON moves to
     * scratch (the buffers swap), and job->chunks starts empty. */
    mdb_buf json = b;
    b = *scratch;
    b.len = 0;
    *scratch = json;
    job_set_buf(job, &b);
    l->json[l->n_held] = scratch->data + at;
  } else {
    publish_chunk_head head = {.size = MDB_SPAN_SIZE + job->size};
    memcpy(job->chunks, &head, sizeof head);
    mdb_bmt_span_encode(job->size, job->chunks + sizeof head);
  }
  l->held[l->n_held++] = job;
  if (l->n_held == GROUP) flush(p, l);
}

/* A submitted batch.  The encoder thread and the publisher thread take
 * its jobs in turn through next; the publisher thread only once it waits
 * for this batch, the oldest. */
struct slot {
  publish_doc_job *jobs;
  size_t n;
  atomic_size_t next; /* next job to take; reset only by submit */
  size_t done;        /* jobs finished */
  int active;         /* 1 while the thread is in the batch: the slot
                         cannot be reused meanwhile */
};

struct publish_encoder {
  mdb_publisher *p;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* a batch submitted or finished, or stop */
  struct slot ring[PUBLISH_AHEAD];
  size_t head, count; /* submitted batches not yet waited for */
  int stop;
  double t_encode, t_hash; /* the thread's, not yet in p->result */
  int threaded;
  pthread_t thread;
  /* Each thread's lane, kept from batch to batch with its buffers. */
  struct lane thread_lane, caller_lane;
};

/* Encodes jobs of the batch on lane l until none is left to take; returns
 * how many it took, all finished. */
static size_t take_jobs(const mdb_publisher *p, struct lane *l,
                        struct slot *s) {
  size_t i, taken = 0;
  l->mark = cpu_seconds();
  while ((i = atomic_fetch_add(&s->next, 1)) < s->n) {
    if (s->jobs[i].encode) encode_one(p, l, &s->jobs[i]);
    taken++;
  }
  flush(p, l);
  /* As for jobs' buffers: large documents leave no large buffers. */
  for (size_t k = 0; k < GROUP; k++)
    if (l->scratch[k].cap > PUBLISH_JOB_KEEP) mdb_buf_free(&l->scratch[k]);
  return taken;
}

/* Moves the lane's times to *t_encode, *t_hash. */
static void harvest(struct lane *l, double *t_encode, double *t_hash) {
  *t_encode += l->t_encode;
  *t_hash += l->t_hash;
  l->t_encode = l->t_hash = 0;
}

/* The oldest submitted batch with jobs left to take, or NULL. */
static struct slot *open_slot(publish_encoder *e) {
  for (size_t k = 0; k < e->count; k++) {
    struct slot *s = &e->ring[(e->head + k) % PUBLISH_AHEAD];
    if (atomic_load(&s->next) < s->n) return s;
  }
  return NULL;
}

static void *encoder_main(void *arg) {
  publish_encoder *e = arg;
  pthread_mutex_lock(&e->mu);
  while (!e->stop) {
    struct slot *s = open_slot(e);
    if (!s) {
      pthread_cond_wait(&e->cv, &e->mu);
      continue;
    }
    s->active = 1;
    pthread_mutex_unlock(&e->mu);
    size_t taken = take_jobs(e->p, &e->thread_lane, s);
    pthread_mutex_lock(&e->mu);
    s->active = 0;
    s->done += taken;
    harvest(&e->thread_lane, &e->t_encode, &e->t_hash);
    pthread_cond_broadcast(&e->cv);
  }
  pthread_mutex_unlock(&e->mu);
  return NULL;
}

int publish_encoder_start(mdb_publisher *p, publish_encoder **out,
                          mdb_error *err) {
  publish_encoder *e = calloc(1, sizeof *e);
  if (!e) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  e->p = p;
  for (size_t k = 0; k < PUBLISH_AHEAD; k++) atomic_init(&e->ring[k].next, 0);
  if (pthread_mutex_init(&e->mu, NULL) != 0) {
    free(e);
    return mdb_error_set(err, MDBEE_ENOMEM, "cannot make a mutex");
  }
  if (pthread_cond_init(&e->cv, NULL) != 0) {
    pthread_mutex_destroy(&e->mu);
    free(e);
    return mdb_error_set(err, MDBEE_ENOMEM, "cannot make a condition");
  }
  /* Without a thread (one CPU, or none could be made) the publisher
   * thread encodes every batch itself when it waits for it. */
  e->threaded = p->threads > 1 &&
                pthread_create(&e->thread, NULL, encoder_main, e) == 0;
  *out = e;
  return MDBEE_OK;
}

size_t publish_encoder_depth(const publish_encoder *e) {
  return e->threaded ? PUBLISH_AHEAD : 1;
}

void publish_encoder_submit(publish_encoder *e, publish_doc_job *jobs,
                            size_t n) {
  pthread_mutex_lock(&e->mu);
  struct slot *s = &e->ring[(e->head + e->count++) % PUBLISH_AHEAD];
  s->jobs = jobs;
  s->n = n;
  s->done = 0;
  atomic_store(&s->next, 0);
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
}

void publish_encoder_wait(publish_encoder *e) {
  struct slot *s = &e->ring[e->head];
  size_t taken = take_jobs(e->p, &e->caller_lane, s);
  mdb_publish_result *r = e->p->result;
  harvest(&e->caller_lane, &r->seconds_encode, &r->seconds_hash);
  pthread_mutex_lock(&e->mu);
  s->done += taken;
  while (s->done < s->n || s->active) pthread_cond_wait(&e->cv, &e->mu);
  e->head = (e->head + 1) % PUBLISH_AHEAD;
  e->count--;
  r->seconds_encode += e->t_encode;
  r->seconds_hash += e->t_hash;
  e->t_encode = e->t_hash = 0;
  pthread_mutex_unlock(&e->mu);
}

void publish_encoder_free(publish_encoder *e) {
  if (!e) return;
  if (e->threaded) {
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
  }
  for (size_t k = 0; k < GROUP; k++) {
    mdb_buf_free(&e->thread_lane.scratch[k]);
    mdb_buf_free(&e->caller_lane.scratch[k]);
  }
  pthread_cond_destroy(&e->cv);
  pthread_mutex_destroy(&e->mu);
  free(e);
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
