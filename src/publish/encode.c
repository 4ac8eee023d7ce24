/* A snapshot's documents are encoded (Extended JSON), split into chunk trees
 * and hashed in batches on two threads: this is most of a large snapshot's
 * CPU time, and documents are independent of each other.  The chunks are
 * kept in the job so that the publisher thread uploads them, and files the
 * documents in the manifest, in key order afterwards. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdbee/bmt.h"
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

/* Room for len more bytes in job->chunks; NULL when memory runs out. */
static uint8_t *chunk_room(publish_doc_job *job, size_t len, mdb_error *err) {
  size_t need = job->chunks_len + len;
  if (need > job->chunks_cap) {
    size_t cap = job->chunks_cap ? 2 * job->chunks_cap : 2048;
    while (cap < need) cap *= 2;
    uint8_t *grown = realloc(job->chunks, cap);
    if (!grown) {
      mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
      return NULL;
    }
    job->chunks = grown;
    job->chunks_cap = cap;
  }
  uint8_t *at = job->chunks + job->chunks_len;
  job->chunks_len = need;
  return at;
}

/* mdb_chunk_sink appending the chunk (address, size, bytes) to the job. */
static int keep_chunk(void *ctx, const mdb_chunk *c, mdb_error *err) {
  publish_doc_job *job = ctx;
  uint8_t *at = chunk_room(job, sizeof(publish_chunk_head) + c->size, err);
  if (!at) return MDBEE_ENOMEM;
  publish_chunk_head head;
  memcpy(head.address, c->address, 32);
  head.size = c->size;
  memcpy(at, &head, sizeof head);
  memcpy(at + sizeof head, c->data, c->size);
  return MDBEE_OK;
}

/* Documents encoded by a lane and not hashed yet.  Most documents' JSON
 * fits one chunk, whose BMT hash alone would leave most lanes of the
 * multi-buffer Keccak kernels empty: a lane hashes GROUP such chunks in
 * one mdb_bmt_hash_chunks call (below its worker-pool threshold, so on the
 * lane's own thread).  Timing a group rather than each document keeps the
 * clock reads (system calls) off the per-document path. */
enum { GROUP = 8 };

struct lane {
  struct batch *b;
  double t_encode, t_hash, mark; /* mark: CPU time the group began */
  publish_doc_job *held[GROUP];
  char *json[GROUP]; /* multi-chunk or encrypted JSON, split at flush */
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
      free(l->json[i]);
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

static void encode_one(const mdb_publisher *p, struct lane *l,
                       publish_doc_job *job) {
  const mdb_publish_collection *coll = job->coll;
  mdb_ejson_options opts = {.mode = p->ejson_mode,
                            .redact = coll->redact,
                            .n_redact = coll->n_redact};
  char *json = NULL;
  size_t len = 0;
  job->chunks_len = 0;
  job->rc = mdb_ejson_encode(job->change.doc, job->change.doc_len, &opts,
                             &json, &len, &job->err);
  if (job->rc != MDBEE_OK) return;
  job->size = len;
  l->json[l->n_held] = json;
  if (!p->opts.encrypt && len <= MDB_CHUNK_PAYLOAD_MAX) {
    publish_chunk_head head = {.size = MDB_SPAN_SIZE + len};
    uint8_t *at = chunk_room(job, sizeof head + head.size, &job->err);
    if (!at) {
      job->rc = MDBEE_ENOMEM;
      free(json);
      return;
    }
    memcpy(at, &head, sizeof head);
    mdb_bmt_span_encode(len, at + sizeof head);
    memcpy(at + sizeof head + MDB_SPAN_SIZE, json, len);
    free(json);
    l->json[l->n_held] = NULL;
  }
  l->held[l->n_held++] = job;
  if (l->n_held == GROUP) flush(p, l);
}

struct batch {
  const mdb_publisher *p;
  publish_doc_job *jobs;
  size_t n;
  atomic_size_t next;
};

static void *work(void *arg) {
  struct lane *l = arg;
  size_t i;
  l->mark = cpu_seconds();
  while ((i = atomic_fetch_add(&l->b->next, 1)) < l->b->n)
    if (l->b->jobs[i].encode) encode_one(l->b->p, l, &l->b->jobs[i]);
  flush(l->b->p, l);
  return NULL;
}

void publish_encode_batch(mdb_publisher *p, publish_doc_job *jobs, size_t n) {
  struct batch b = {.p = p, .jobs = jobs, .n = n};
  atomic_init(&b.next, 0);
  struct lane mine = {.b = &b}, theirs = {.b = &b};
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
