/* Streaming chunk-tree splitter.
 *
 * Leaves are buffered a whole intermediate chunk's worth at a time so that
 * mdb_bmt_hash_chunks can hash them together; above the leaves each level
 * holds one pending intermediate chunk.  A full chunk is only closed when
 * more data arrives, because the end of the data decides its fate: Bee
 * does not wrap a level's lone last reference in a chunk of its own but
 * carries it up unchanged, and the root is whatever single reference the
 * top level ends with. */
#include <stdlib.h>
#include <string.h>

#include "mdbee/chunk.h"
#include "tree_internal.h"

/* 4096 * 128^9 bytes exceeds any 64-bit length, so nine levels of
 * intermediate chunks always suffice. */
#define LEVELS_MAX 9

struct level {
  uint8_t data[MDB_CHUNK_SIZE_MAX]; /* span || references */
  size_t n;                         /* references held */
  uint64_t span;
};

struct mdb_splitter {
  mdb_chunk_sink sink;
  void *ctx;
  mdb_tree_codec codec; /* ref_size and, for encrypted trees, seal */
  size_t branches;
  uint8_t *leaves;      /* branches slots of MDB_CHUNK_SIZE_MAX bytes */
  size_t nleaves;       /* leaves in the batch; the last may be partial */
  size_t leaf_fill;     /* payload bytes in the last leaf */
  int finished;
  mdb_bmt_job *jobs;
  uint8_t (*refs)[MDB_TREE_REF_MAX];
  struct level levels[LEVELS_MAX];
};

int mdb_tree_splitter_new(const mdb_tree_codec *codec, mdb_chunk_sink sink,
                          void *ctx, mdb_splitter **out, mdb_error *err) {
  mdb_splitter *sp = calloc(1, sizeof *sp);
  if (!sp) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  sp->sink = sink;
  sp->ctx = ctx;
  if (codec)
    sp->codec = *codec;
  else
    sp->codec.ref_size = MDB_REF_SIZE;
  sp->branches = MDB_CHUNK_PAYLOAD_MAX / sp->codec.ref_size;
  sp->leaves = malloc(sp->branches * MDB_CHUNK_SIZE_MAX);
  sp->jobs = malloc(sp->branches * sizeof *sp->jobs);
  sp->refs = malloc(sp->branches * sizeof *sp->refs);
  if (!sp->leaves || !sp->jobs || !sp->refs) {
    sp->codec.free_ctx = NULL; /* still the caller's on failure */
    mdb_splitter_free(sp);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  *out = sp;
  return MDBEE_OK;
}

int mdb_splitter_new(mdb_chunk_sink sink, void *ctx, mdb_splitter **out,
                     mdb_error *err) {
  return mdb_tree_splitter_new(NULL, sink, ctx, out, err);
}

void mdb_splitter_free(mdb_splitter *sp) {
  if (!sp) return;
  if (sp->codec.free_ctx) sp->codec.free_ctx(sp->codec.ctx);
  free(sp->leaves);
  free(sp->jobs);
  free(sp->refs);
  free(sp);
}

/* Seals (when encrypting) and hashes chunks[0..n), hands each to the sink
 * and writes its reference to refs[i]. */
static int emit_chunks(mdb_splitter *sp, uint8_t *const *chunks,
                       size_t *sizes, size_t n,
                       uint8_t (*refs)[MDB_TREE_REF_MAX], mdb_error *err) {
  for (size_t i = 0; i < n; i++) {
    if (sp->codec.seal) {
      int rc = sp->codec.seal(sp->codec.ctx, chunks[i], &sizes[i],
                              refs[i] + MDB_REF_SIZE, err);
      if (rc != MDBEE_OK) return rc;
    }
    sp->jobs[i] = (mdb_bmt_job){chunks[i], sizes[i], refs[i]};
  }
  mdb_bmt_hash_chunks(sp->jobs, n);
  if (!sp->sink) return MDBEE_OK;
  for (size_t i = 0; i < n; i++) {
    mdb_chunk c = {.data = chunks[i], .size = sizes[i]};
    memcpy(c.address, refs[i], MDB_REF_SIZE);
    int rc = sp->sink(sp->ctx, &c, err);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

static int push_ref(mdb_splitter *sp, size_t lv, const uint8_t *ref,
                    uint64_t span, mdb_error *err);

/* Turns level lv's pending chunk into a chunk and writes its reference. */
static int close_level(mdb_splitter *sp, size_t lv, uint8_t *ref,
                       mdb_error *err) {
  struct level *l = &sp->levels[lv];
  uint8_t *chunk = l->data;
  size_t size = MDB_SPAN_SIZE + l->n * sp->codec.ref_size;
  uint8_t refs[1][MDB_TREE_REF_MAX];
  mdb_bmt_span_encode(l->span, l->data);
  int rc = emit_chunks(sp, &chunk, &size, 1, refs, err);
  if (rc == MDBEE_OK) memcpy(ref, refs[0], sp->codec.ref_size);
  return rc;
}

/* Closes the full pending chunk of level lv and passes it up. */
static int wrap_level(mdb_splitter *sp, size_t lv, mdb_error *err) {
  struct level *l = &sp->levels[lv];
  uint8_t ref[MDB_TREE_REF_MAX];
  int rc = close_level(sp, lv, ref, err);
  if (rc != MDBEE_OK) return rc;
  uint64_t span = l->span;
  l->n = 0;
  l->span = 0;
  return push_ref(sp, lv + 1, ref, span, err);
}

static int push_ref(mdb_splitter *sp, size_t lv, const uint8_t *ref,
                    uint64_t span, mdb_error *err) {
  if (lv >= LEVELS_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "data too large for a chunk tree");
  struct level *l = &sp->levels[lv];
  if (l->n == sp->branches) {
    int rc = wrap_level(sp, lv, err);
    if (rc != MDBEE_OK) return rc;
  }
  memcpy(l->data + MDB_SPAN_SIZE + l->n * sp->codec.ref_size, ref,
         sp->codec.ref_size);
  l->n++;
  l->span += span;
  return MDBEE_OK;
}

/* Hashes the buffered leaves and adds their references to the first
 * intermediate level. */
static int flush_leaves(mdb_splitter *sp, mdb_error *err) {
  uint8_t *chunks[MDB_BRANCHES];
  size_t sizes[MDB_BRANCHES];
  uint64_t spans[MDB_BRANCHES];
  size_t n = sp->nleaves;
  for (size_t i = 0; i < n; i++) {
    chunks[i] = sp->leaves + i * MDB_CHUNK_SIZE_MAX;
    spans[i] = i + 1 < n ? MDB_CHUNK_PAYLOAD_MAX : sp->leaf_fill;
    sizes[i] = MDB_SPAN_SIZE + spans[i];
    mdb_bmt_span_encode(spans[i], chunks[i]);
  }
  sp->nleaves = 0;
  sp->leaf_fill = 0;
  int rc = emit_chunks(sp, chunks, sizes, n, sp->refs, err);
  for (size_t i = 0; i < n && rc == MDBEE_OK; i++)
    rc = push_ref(sp, 0, sp->refs[i], spans[i], err);
  return rc;
}

int mdb_splitter_write(mdb_splitter *sp, const void *data, size_t len,
                       mdb_error *err) {
  if (sp->finished)
    return mdb_error_set(err, MDBEE_EINVAL, "splitter already finished");
  const uint8_t *p = data;
  while (len > 0) {
    if (sp->nleaves == 0 || sp->leaf_fill == MDB_CHUNK_PAYLOAD_MAX) {
      if (sp->nleaves == sp->branches) {
        int rc = flush_leaves(sp, err);
        if (rc != MDBEE_OK) {
          sp->finished = 1;
          return rc;
        }
      }
      sp->nleaves++;
      sp->leaf_fill = 0;
    }
    size_t room = MDB_CHUNK_PAYLOAD_MAX - sp->leaf_fill;
    size_t take = len < room ? len : room;
    memcpy(sp->leaves + (sp->nleaves - 1) * MDB_CHUNK_SIZE_MAX +
               MDB_SPAN_SIZE + sp->leaf_fill,
           p, take);
    sp->leaf_fill += take;
    p += take;
    len -= take;
  }
  return MDBEE_OK;
}

static int finish(mdb_splitter *sp, uint8_t *root, mdb_error *err) {
  if (sp->nleaves == 0) sp->nleaves = 1; /* the empty chunk */
  int rc = flush_leaves(sp, err);
  for (size_t lv = 0; rc == MDBEE_OK; lv++) {
    struct level *l = &sp->levels[lv];
    const uint8_t *first = l->data + MDB_SPAN_SIZE;
    int top = lv + 1 == LEVELS_MAX || sp->levels[lv + 1].n == 0;
    if (top) {
      if (l->n == 1) {
        memcpy(root, first, sp->codec.ref_size);
      } else {
        rc = close_level(sp, lv, root, err);
      }
      break;
    }
    if (l->n == 1) { /* carried up, not wrapped */
      uint8_t ref[MDB_TREE_REF_MAX];
      memcpy(ref, first, sp->codec.ref_size);
      rc = push_ref(sp, lv + 1, ref, l->span, err);
    } else {
      rc = wrap_level(sp, lv, err);
    }
  }
  return rc;
}

int mdb_tree_splitter_finish(mdb_splitter *sp, uint8_t *ref, mdb_error *err) {
  if (sp->finished)
    return mdb_error_set(err, MDBEE_EINVAL, "splitter already finished");
  sp->finished = 1;
  return finish(sp, ref, err);
}

size_t mdb_tree_splitter_ref_size(const mdb_splitter *sp) {
  return sp->codec.ref_size;
}

int mdb_splitter_finish(mdb_splitter *sp, uint8_t root[MDB_REF_SIZE],
                        mdb_error *err) {
  if (sp->codec.ref_size != MDB_REF_SIZE)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "encrypted splitter: use mdb_encrypt_splitter_finish");
  return mdb_tree_splitter_finish(sp, root, err);
}

int mdb_chunk_tree_split(const void *data, size_t len, mdb_chunk_sink sink,
                         void *ctx, uint8_t root[MDB_REF_SIZE],
                         mdb_error *err) {
  mdb_splitter *sp;
  int rc = mdb_splitter_new(sink, ctx, &sp, err);
  if (rc != MDBEE_OK) return rc;
  rc = mdb_splitter_write(sp, data, len, err);
  if (rc == MDBEE_OK) rc = mdb_splitter_finish(sp, root, err);
  mdb_splitter_free(sp);
  return rc;
}
