/* Mantaray trees: lazy loading, canonical put/remove, lookup, walk and
 * incremental save.
 *
 * Canonical shape: a node exists at the root, at every entry, at every
 * point where two entries' paths diverge and at every multiple of 30 bytes
 * along a path that goes on past it.  bee-js 12.1.0 builds exactly this
 * trie when entries are added in byte order (it cuts paths into 30-byte
 * pieces from their start), so the roots agree; keeping the shape under
 * removal is what makes the root depend on the entries only. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mdbee/encrypt.h"
#include "mdbee/hex.h"
#include "mantaray_internal.h"

struct mdb_mantaray {
  mdb_mr_node *root;
  mdb_chunk_source source;
  void *ctx;
  mdb_mantaray_leaf_source leaf_source; /* NULL: none */
  void *leaf_ctx;
  size_t loads;
  bool encrypt; /* save seals every node but the root with secret */
  uint8_t secret[MDB_ENCRYPT_SECRET_SIZE];
};

int mdb_mantaray_new(mdb_mantaray **out, mdb_error *err) {
  mdb_mantaray *m = calloc(1, sizeof *m);
  if (!m || !(m->root = mdb_mr_node_new())) {
    free(m);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a manifest");
  }
  *out = m;
  return MDBEE_OK;
}

int mdb_mantaray_open(const uint8_t root[MDB_REF_SIZE],
                      mdb_chunk_source source, void *ctx, mdb_mantaray **out,
                      mdb_error *err) {
  if (!source)
    return mdb_error_set(err, MDBEE_EINVAL, "no chunk source");
  mdb_mantaray *m = calloc(1, sizeof *m);
  if (!m || !(m->root = calloc(1, sizeof *m->root))) {
    free(m);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a manifest");
  }
  memcpy(m->root->address, root, MDB_REF_SIZE);
  m->root->address_size = MDB_REF_SIZE;
  m->root->has_address = true;
  m->source = source;
  m->ctx = ctx;
  *out = m;
  return MDBEE_OK;
}

void mdb_mantaray_free(mdb_mantaray *m) {
  if (!m)
    return;
  mdb_mr_node_free(m->root);
  sodium_memzero(m->secret, sizeof m->secret);
  free(m);
}

void mdb_mantaray_encrypt(mdb_mantaray *m,
                          const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE]) {
  memcpy(m->secret, secret, MDB_ENCRYPT_SECRET_SIZE);
  m->encrypt = true;
}

void mdb_mantaray_leaves(mdb_mantaray *m, mdb_mantaray_leaf_source source,
                         void *ctx) {
  m->leaf_source = source;
  m->leaf_ctx = ctx;
}

size_t mdb_mantaray_loads(const mdb_mantaray *m) { return m->loads; }

int mdb_mantaray_unload(mdb_mantaray *m, mdb_chunk_source source, void *ctx,
                        mdb_error *err) {
  if (!source)
    return mdb_error_set(err, MDBEE_EINVAL, "no chunk source");
  /* A saved root means every loaded node beneath it is saved too. */
  if (!m->root->has_address)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "manifest has unsaved changes: save it first");
  mdb_mr_node_clear(m->root);
  m->source = source;
  m->ctx = ctx;
  return MDBEE_OK;
}

/* What the tree's chunk source sees while a node is read: the tree, and
 * the node's first chunk once fetched, so that joining a node stored as a
 * chunk tree does not ask the source (maybe a gateway) for it again. */
typedef struct node_read {
  mdb_mantaray *m;
  const uint8_t *address;
  const uint8_t *first; /* NULL until fetched */
  size_t first_size;
} node_read;

/* mdb_chunk_source over the tree's source that counts the chunks read. */
static int node_source(void *ctx, const uint8_t address[MDB_REF_SIZE],
                       uint8_t *buf, size_t *size, mdb_error *err) {
  node_read *r = ctx;
  if (r->first && memcmp(address, r->address, MDB_REF_SIZE) == 0) {
    memcpy(buf, r->first, r->first_size);
    *size = r->first_size;
    return MDBEE_OK;
  }
  r->m->loads++;
  return r->m->source(r->m->ctx, address, buf, size, err);
}

/* Reads the serialised node at node->address into *data (malloc'd):
 * one verified chunk, or, when its span says the node was split, the
 * verified join of its chunk tree; an encrypted node (64-byte reference)
 * is joined and decrypted with the key its reference carries. */
static int read_node(mdb_mantaray *m, const mdb_mr_node *node,
                     const char *hex, uint8_t **data, size_t *len,
                     mdb_error *err) {
  if (node->address_size == MDB_ENCRYPT_REF_SIZE) {
    node_read r = {m, node->address, NULL, 0};
    int rc = mdb_encrypt_tree_join(node->address, node_source, &r,
                                   MDB_MR_NODE_MAX, data, len, err);
    return rc ? mdb_error_wrap(err, "manifest node %s", hex) : MDBEE_OK;
  }
  uint8_t *buf = malloc(MDB_CHUNK_SIZE_MAX);
  if (!buf)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a chunk");
  size_t size = 0;
  node_read r = {m, node->address, NULL, 0};
  int rc = node_source(&r, node->address, buf, &size, err);
  if (rc) {
    free(buf);
    return mdb_error_wrap(err, "manifest node %s", hex);
  }
  if (size < MDB_SPAN_SIZE || size > MDB_CHUNK_SIZE_MAX) {
    free(buf);
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "manifest node %s: chunk of %zu bytes", hex, size);
  }
  uint64_t span = mdb_bmt_span_decode(buf);
  if (span > MDB_CHUNK_PAYLOAD_MAX) {
    /* Checked before the joiner allocates span bytes: no valid node is
     * larger, so a bigger span is a hostile or corrupt reference. */
    if (span > MDB_MR_NODE_MAX) {
      free(buf);
      return mdb_error_set(err, MDBEE_EFORMAT,
                           "manifest node %s spans %llu bytes, more than "
                           "the largest valid node (%llu)",
                           hex, (unsigned long long)span,
                           (unsigned long long)MDB_MR_NODE_MAX);
    }
    r.first = buf;
    r.first_size = size;
    rc = mdb_chunk_tree_join(node->address, node_source, &r, MDB_MR_NODE_MAX,
                             data, len, err);
    free(buf);
    return rc ? mdb_error_wrap(err, "manifest node %s", hex) : MDBEE_OK;
  }
  if (span != size - MDB_SPAN_SIZE) {
    free(buf);
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "manifest node %s: span %llu but %zu payload bytes",
                         hex, (unsigned long long)span, size - MDB_SPAN_SIZE);
  }
  uint8_t address[MDB_REF_SIZE];
  mdb_bmt_chunk_address(span, buf + MDB_SPAN_SIZE, (size_t)span, address);
  if (memcmp(address, node->address, MDB_REF_SIZE) != 0) {
    free(buf);
    return mdb_error_set(err, MDBEE_EVERIFY,
                         "manifest node %s: chunk content has another address",
                         hex);
  }
  memmove(buf, buf + MDB_SPAN_SIZE, (size_t)span);
  *data = buf;
  *len = (size_t)span;
  return MDBEE_OK;
}

/* Whether the fork record that led to an unloaded node says it is a leaf:
 * an entry and no forks. */
static bool leaf_record(const mdb_mr_node *node) {
  return (node->read_type & (MDB_MR_TYPE_VALUE | MDB_MR_TYPE_EDGE)) ==
         MDB_MR_TYPE_VALUE;
}

static bool holds_entry(const mdb_mr_node *node) {
  return node->loaded ? node->has_entry
                      : (node->read_type & MDB_MR_TYPE_VALUE) != 0;
}

/* Rebuilds the plain leaf node at path, which the chunk source lacks, from
 * the entry reference the leaf source gives, and checks that it is the
 * very node the parent refers to. */
static int rebuild_leaf(mdb_mantaray *m, mdb_mr_node *node,
                        const uint8_t *path, size_t path_len,
                        const char *hex, mdb_error *err) {
  size_t ref_size = 0;
  int rc = m->leaf_source(m->leaf_ctx, path, path_len, node->entry,
                          &ref_size, err);
  if (rc)
    return mdb_error_wrap(err, "manifest leaf %s", hex);
  if (ref_size != 32 && ref_size != 64)
    return mdb_error_set(err, MDBEE_ESTATE,
                         "manifest leaf %s: a %zu-byte entry reference from "
                         "the leaf source",
                         hex, ref_size);
  node->entry_size = (uint8_t)ref_size;
  node->has_entry = true;
  uint8_t *payload;
  size_t len;
  uint8_t address[MDB_REF_SIZE];
  if ((rc = mdb_mr_marshal(node, 0, &payload, &len, err)) == MDBEE_OK) {
    mdb_bmt_chunk_address(len, payload, len, address);
    free(payload);
    if (memcmp(address, node->address, MDB_REF_SIZE) != 0)
      rc = mdb_error_set(err, MDBEE_ESTATE,
                         "manifest leaf %s at %.*s: the entry reference the "
                         "leaf source gives makes another node; the local "
                         "state disagrees with the manifest",
                         hex, (int)(path_len > 200 ? 200 : path_len),
                         (const char *)path);
  }
  if (rc) {
    node->has_entry = false;
    node->entry_size = 0;
    return rc;
  }
  node->loaded = true;
  return MDBEE_OK;
}

/* Fetches, verifies and parses node, whose path is path[0..path_len). */
static int load(mdb_mantaray *m, mdb_mr_node *node, const uint8_t *path,
                size_t path_len, mdb_error *err) {
  if (node->loaded)
    return MDBEE_OK;
  char hex[2 * MDB_REF_SIZE + 1];
  mdb_hex_encode(node->address, MDB_REF_SIZE, hex);
  uint8_t *data;
  size_t len;
  int rc = read_node(m, node, hex, &data, &len, err);
  if (rc == MDBEE_ENOTFOUND && m->leaf_source && node != m->root &&
      node->address_size == MDB_REF_SIZE && leaf_record(node))
    return rebuild_leaf(m, node, path, path_len, hex, err);
  if (rc)
    return rc;
  rc = mdb_mr_unmarshal(data, len,
                        node != m->root &&
                            (node->read_type & MDB_MR_TYPE_VALUE),
                        node, err);
  free(data);
  if (rc)
    return mdb_error_wrap(err, "manifest node %s", hex);
  return MDBEE_OK;
}

static size_t common_prefix(const uint8_t *a, size_t alen, const uint8_t *b,
                            size_t blen) {
  size_t n = 0;
  while (n < alen && n < blen && a[n] == b[n])
    n++;
  return n;
}

/* One step of a descent: the node reached and where it sits. */
typedef struct step {
  mdb_mr_node *node;
  size_t depth;      /* bytes of path above node */
  size_t fork_index; /* index of the fork leading here in the previous node */
} step;

/* Walks from the root as far as path leads through whole fork prefixes,
 * loading every node it reaches, except, when at_leaf_opaque, a node at
 * the end of path whose record says it is a leaf: a put or remove there
 * replaces or drops its entry and needs nothing of its chunk.  Fills steps
 * (up to path_len + 1 of them) and *n; the last step is the deepest node
 * reached. */
static int descend(mdb_mantaray *m, const uint8_t *path, size_t path_len,
                   bool at_leaf_opaque, step *steps, size_t *n,
                   mdb_error *err) {
  size_t k = 0, depth = 0;
  mdb_mr_node *node = m->root;
  int rc = load(m, node, path, 0, err);
  if (rc)
    return rc;
  steps[k++] = (step){node, 0, 0};
  while (depth < path_len) {
    long i = mdb_mr_fork_find(node, path[depth]);
    if (i < 0)
      break;
    mdb_mr_fork *f = &node->forks[i];
    if (common_prefix(f->prefix, f->prefix_len, path + depth,
                      path_len - depth) < f->prefix_len)
      break;
    node = f->node;
    depth += f->prefix_len;
    if (!(at_leaf_opaque && depth == path_len && !node->loaded &&
          leaf_record(node)) &&
        (rc = load(m, node, path, depth, err)))
      return rc;
    steps[k++] = (step){node, depth, (size_t)i};
  }
  *n = k;
  return MDBEE_OK;
}

static int check_path(size_t len, mdb_error *err) {
  if (len == 0)
    return mdb_error_set(err, MDBEE_EINVAL, "empty manifest path");
  if (len > MDB_MR_PATH_MAX)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "manifest path of %zu bytes exceeds %d", len,
                         MDB_MR_PATH_MAX);
  return MDBEE_OK;
}

enum { STEPS_ON_STACK = 256 };

static step *alloc_steps(size_t path_len, mdb_error *err) {
  step *s = malloc((path_len + 1) * sizeof *s);
  if (!s)
    mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a path");
  return s;
}

/* Builds the chain of new nodes for path[depth..len) under a fresh head,
 * cut at every multiple of 30 bytes from the start of the path.  *leaf is
 * the last node, which gets the entry. */
static int make_chain(const uint8_t *path, size_t depth, size_t len,
                      mdb_mr_node **head, mdb_mr_node **leaf,
                      mdb_error *err) {
  mdb_mr_node *first = mdb_mr_node_new();
  if (!first)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a node");
  mdb_mr_node *cur = first;
  while (depth < len) {
    size_t end = (depth / MDB_MANTARAY_PREFIX_MAX + 1) * MDB_MANTARAY_PREFIX_MAX;
    if (end > len)
      end = len;
    mdb_mr_node *next = mdb_mr_node_new();
    if (!next || mdb_mr_fork_insert(cur, path + depth, end - depth, next,
                                    err)) {
      free(next);
      mdb_mr_node_free(first);
      return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a node");
    }
    cur = next;
    depth = end;
  }
  *head = first;
  *leaf = cur;
  return MDBEE_OK;
}

static void mark_changed(step *steps, size_t n) {
  for (size_t i = 0; i < n; i++)
    steps[i].node->has_address = false;
}

/* node may be an unloaded leaf (see descend): it becomes a loaded one. */
static void set_entry(mdb_mr_node *node, const mdb_mantaray_entry *e,
                      mdb_mr_meta *meta) {
  node->loaded = true;
  node->has_entry = true;
  node->entry_size = (uint8_t)e->ref_size;
  memcpy(node->entry, e->ref, e->ref_size);
  mdb_mr_meta_move(&node->meta, meta);
  node->has_address = false;
}

int mdb_mantaray_put(mdb_mantaray *m, const mdb_mantaray_entry *e,
                     mdb_error *err) {
  int rc = check_path(e->path_len, err);
  if (rc)
    return rc;
  if (e->ref_size != 32 && e->ref_size != 64)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "entry reference of %zu bytes (32 or 64 expected)",
                         e->ref_size);
  mdb_mr_meta meta;
  if ((rc = mdb_mr_meta_copy(e->meta, e->n_meta, &meta, err)))
    return rc;
  if (meta.n) {
    size_t json = mdb_mr_meta_json_size(&meta);
    if (json + 2 + 31 > MDB_MANTARAY_META_MAX) {
      mdb_mr_meta_free(&meta);
      return mdb_error_set(err, MDBEE_EINVAL,
                           "metadata of %zu JSON bytes is too large", json);
    }
  }
  /* Most paths (a document's, an index entry's) fit the stack: a put
   * per document path makes a malloc here count. */
  step local[STEPS_ON_STACK];
  step *steps = e->path_len < STEPS_ON_STACK ? local
                                             : alloc_steps(e->path_len, err);
  if (!steps) {
    mdb_mr_meta_free(&meta);
    return MDBEE_ENOMEM;
  }
  size_t n;
  if ((rc = descend(m, e->path, e->path_len, true, steps, &n, err)))
    goto out;
  mdb_mr_node *node = steps[n - 1].node;
  size_t depth = steps[n - 1].depth;
  if (depth == e->path_len) {
    set_entry(node, e, &meta);
    mark_changed(steps, n);
    goto out;
  }
  long i = mdb_mr_fork_find(node, e->path[depth]);
  mdb_mr_node *head, *leaf;
  if (i < 0) {
    if ((rc = make_chain(e->path, depth, e->path_len, &head, &leaf, err)))
      goto out;
    /* The chain's head stands for node itself: graft its single fork. */
    mdb_mr_fork *hf = &head->forks[0];
    if ((rc = mdb_mr_fork_insert(node, hf->prefix, hf->prefix_len, hf->node,
                                 err))) {
      mdb_mr_node_free(head);
      goto out;
    }
    head->n_forks = 0;
    mdb_mr_node_free(head);
  } else {
    /* The path leaves fork f inside its prefix: split f there. */
    mdb_mr_fork *f = &node->forks[i];
    size_t c = common_prefix(f->prefix, f->prefix_len, e->path + depth,
                             e->path_len - depth);
    if ((rc = make_chain(e->path, depth + c, e->path_len, &head, &leaf, err)))
      goto out;
    if ((rc = mdb_mr_fork_insert(head, f->prefix + c, f->prefix_len - c,
                                 f->node, err))) {
      mdb_mr_node_free(head);
      goto out;
    }
    f->prefix_len = (uint8_t)c;
    f->node = head;
  }
  set_entry(leaf, e, &meta);
  mark_changed(steps, n);
out:
  mdb_mr_meta_free(&meta);
  if (steps != local)
    free(steps);
  return rc;
}

/* Restores the canonical shape after node steps[k] lost its entry or a
 * fork, going up as nodes become redundant. */
static void normalise(step *steps, size_t k) {
  while (k > 0) {
    mdb_mr_node *node = steps[k].node, *parent = steps[k - 1].node;
    mdb_mr_fork *up = &parent->forks[steps[k].fork_index];
    if (node->has_entry)
      return;
    if (node->n_forks == 0) {
      mdb_mr_fork_delete(parent, steps[k].fork_index);
      mdb_mr_node_free(node);
      k--;
      continue;
    }
    mdb_mr_fork *down = node->n_forks == 1 ? &node->forks[0] : NULL;
    /* In mdbee's (and bee-js's) tries edges never cross a multiple of 30,
     * so the joined prefix fits; a manifest cut elsewhere (Bee cuts 30
     * bytes from each node) keeps the node rather than overflow. */
    if (down && steps[k].depth % MDB_MANTARAY_PREFIX_MAX &&
        up->prefix_len + down->prefix_len <= MDB_MANTARAY_PREFIX_MAX) {
      memcpy(up->prefix + up->prefix_len, down->prefix, down->prefix_len);
      up->prefix_len = (uint8_t)(up->prefix_len + down->prefix_len);
      up->node = down->node;
      node->n_forks = 0;
      mdb_mr_node_free(node);
    }
    return;
  }
}

/* Descends to the entry at path.  On MDBEE_OK *out (freed by the caller)
 * holds the *n steps that lead to it, the entry's node last (unloaded when
 * at_leaf_opaque and it is a leaf). */
static int find_entry(mdb_mantaray *m, const uint8_t *path, size_t len,
                      bool at_leaf_opaque, step **out, size_t *n,
                      mdb_error *err) {
  int rc = check_path(len, err);
  if (rc)
    return rc;
  step *steps = alloc_steps(len, err);
  if (!steps)
    return MDBEE_ENOMEM;
  if ((rc = descend(m, path, len, at_leaf_opaque, steps, n, err)) ==
          MDBEE_OK &&
      (steps[*n - 1].depth != len || *n == 1 ||
       !holds_entry(steps[*n - 1].node)))
    rc = mdb_error_set(err, MDBEE_ENOTFOUND, "no manifest entry at %.*s",
                       (int)(len > 200 ? 200 : len), (const char *)path);
  if (rc) {
    free(steps);
    return rc;
  }
  *out = steps;
  return MDBEE_OK;
}

int mdb_mantaray_remove(mdb_mantaray *m, const uint8_t *path, size_t len,
                        mdb_error *err) {
  step *steps;
  size_t n;
  int rc = find_entry(m, path, len, true, &steps, &n, err);
  if (rc)
    return rc;
  mdb_mr_node *node = steps[n - 1].node;
  node->loaded = true; /* with no forks, if it was an unloaded leaf */
  mark_changed(steps, n);
  node->has_entry = false;
  node->entry_size = 0;
  mdb_mr_meta_free(&node->meta);
  normalise(steps, n - 1);
  free(steps);
  return MDBEE_OK;
}

static void fill_entry(const mdb_mr_node *node, const uint8_t *path,
                       size_t len, mdb_mantaray_entry *out) {
  out->path = path;
  out->path_len = len;
  out->ref = node->entry;
  out->ref_size = node->entry_size;
  out->meta = node->meta.n ? node->meta.kv : NULL;
  out->n_meta = node->meta.n;
}

int mdb_mantaray_lookup(mdb_mantaray *m, const uint8_t *path, size_t len,
                        mdb_mantaray_entry *found, mdb_error *err) {
  step *steps;
  size_t n;
  int rc = find_entry(m, path, len, false, &steps, &n, err);
  if (rc)
    return rc;
  fill_entry(steps[n - 1].node, path, len, found);
  free(steps);
  return MDBEE_OK;
}

typedef struct walker {
  mdb_mantaray *m;
  mdb_mantaray_visit visit;
  void *ctx;
  uint8_t path[MDB_MR_PATH_MAX];
} walker;

static int walk_node(walker *w, mdb_mr_node *node, size_t depth,
                     mdb_error *err) {
  int rc = load(w->m, node, w->path, depth, err);
  if (rc)
    return rc;
  if (depth && node->has_entry) {
    mdb_mantaray_entry e;
    fill_entry(node, w->path, depth, &e);
    if ((rc = w->visit(w->ctx, &e, err)))
      return rc;
  }
  for (size_t i = 0; i < node->n_forks; i++) {
    mdb_mr_fork *f = &node->forks[i];
    if (depth + f->prefix_len > MDB_MR_PATH_MAX)
      return mdb_error_set(err, MDBEE_EFORMAT,
                           "manifest path longer than %d bytes",
                           MDB_MR_PATH_MAX);
    memcpy(w->path + depth, f->prefix, f->prefix_len);
    if ((rc = walk_node(w, f->node, depth + f->prefix_len, err)))
      return rc;
  }
  return MDBEE_OK;
}

int mdb_mantaray_walk(mdb_mantaray *m, mdb_mantaray_visit visit, void *ctx,
                      mdb_error *err) {
  walker *w = calloc(1, sizeof *w);
  if (!w)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a walk");
  w->m = m;
  w->visit = visit;
  w->ctx = ctx;
  int rc = walk_node(w, m->root, 0, err);
  free(w);
  return rc;
}

/* Writes node's serialised payload (taken over) to sink as a chunk tree
 * and records its reference: sealed, in an encrypted tree, for every node
 * but the root (as Bee stores every node of a swarm-encrypt manifest; the
 * root stays a plain chunk because a gateway resolving a feed follows
 * only 32-byte roots: docs/protocol.md, "Encrypted publication"), or
 * split when it is larger than a chunk (Bee and bee-js store a node as
 * bytes, POST /bytes, so a node past one chunk becomes a chunk tree whose
 * root is the node's reference; rare enough that a splitter per such node
 * costs nothing next to the batched single chunks of emit_group). */
static int emit_tree(mdb_mantaray *m, mdb_mr_node *node, const uint8_t *payload,
                     size_t len, mdb_chunk_sink sink, void *ctx,
                     mdb_error *err) {
  int rc;
  if (m->encrypt && node != m->root) {
    rc = mdb_encrypt_convergent_split(m->secret, payload, len, sink, ctx,
                                      node->address, err);
    node->address_size = MDB_ENCRYPT_REF_SIZE;
  } else {
    rc = mdb_chunk_tree_split(payload, len, sink, ctx, node->address, err);
    node->address_size = MDB_REF_SIZE;
  }
  node->has_address = rc == MDBEE_OK;
  return rc;
}

/* A node to save and the height of its unsaved subtree (0: every child is
 * saved already). */
typedef struct to_save {
  mdb_mr_node *node;
  size_t height, order;
} to_save;

typedef struct save_list {
  to_save *v;
  size_t n, cap;
} save_list;

/* Lists the unsaved nodes under and including node, children first. */
static int collect(mdb_mr_node *node, save_list *l, size_t *height,
                   mdb_error *err) {
  size_t h = 0;
  for (size_t i = 0; i < node->n_forks; i++) {
    mdb_mr_node *child = node->forks[i].node;
    if (child->has_address)
      continue;
    size_t ch;
    int rc = collect(child, l, &ch, err);
    if (rc)
      return rc;
    if (ch + 1 > h)
      h = ch + 1;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    to_save *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a save");
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n] = (to_save){node, h, l->n};
  l->n++;
  *height = h;
  return MDBEE_OK;
}

static int by_height(const void *a, const void *b) {
  const to_save *x = a, *y = b;
  if (x->height != y->height)
    return x->height < y->height ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Nodes serialised and hashed together: most are leaves of one small
 * chunk, whose BMT is a few dependent Keccak permutations, so hashing
 * them one by one would leave the multi-buffer kernels mostly idle. */
enum { SAVE_GROUP = 64 };

/* Saves n nodes whose children all have addresses: serialises them,
 * hashes the single-chunk ones in one mdb_bmt_hash_chunks call, hands
 * every chunk to sink and records the nodes' references. */
static int emit_group(mdb_mantaray *m, const to_save *list, size_t n,
                      mdb_chunk_sink sink, void *ctx, mdb_error *err) {
  mdb_bmt_job jobs[SAVE_GROUP];
  mdb_mr_node *nodes[SAVE_GROUP];
  uint8_t address[SAVE_GROUP][MDB_REF_SIZE];
  size_t nj = 0;
  int rc = MDBEE_OK;
  for (size_t i = 0; rc == MDBEE_OK && i < n; i++) {
    mdb_mr_node *node = list[i].node;
    uint8_t *chunk;
    size_t len;
    if ((rc = mdb_mr_marshal(node, MDB_SPAN_SIZE, &chunk, &len, err)))
      break;
    if ((m->encrypt && node != m->root) || len > MDB_CHUNK_PAYLOAD_MAX) {
      rc = emit_tree(m, node, chunk + MDB_SPAN_SIZE, len, sink, ctx, err);
      free(chunk);
      continue;
    }
    mdb_bmt_span_encode(len, chunk);
    jobs[nj] = (mdb_bmt_job){chunk, MDB_SPAN_SIZE + len, address[nj]};
    nodes[nj++] = node;
  }
  if (rc == MDBEE_OK && nj)
    mdb_bmt_hash_chunks(jobs, nj);
  for (size_t k = 0; k < nj; k++) {
    mdb_chunk c = {.data = (uint8_t *)jobs[k].data, .size = jobs[k].size};
    memcpy(c.address, address[k], MDB_REF_SIZE);
    if (rc == MDBEE_OK && sink)
      rc = sink(ctx, &c, err);
    if (rc == MDBEE_OK) {
      memcpy(nodes[k]->address, address[k], MDB_REF_SIZE);
      nodes[k]->address_size = MDB_REF_SIZE;
      nodes[k]->has_address = true;
    }
    free((void *)jobs[k].data);
  }
  return rc;
}

int mdb_mantaray_save(mdb_mantaray *m, mdb_chunk_sink sink, void *ctx,
                      uint8_t root[MDB_REF_SIZE], mdb_error *err) {
  save_list l = {0};
  size_t height;
  int rc = m->root->has_address ? MDBEE_OK
                                : collect(m->root, &l, &height, err);
  /* In order of height, a node comes after all its unsaved children. */
  if (l.n)
    qsort(l.v, l.n, sizeof *l.v, by_height);
  for (size_t i = 0, end; rc == MDBEE_OK && i < l.n; i = end) {
    for (end = i; end < l.n && end - i < SAVE_GROUP &&
                  l.v[end].height == l.v[i].height;
         end++)
      ;
    rc = emit_group(m, l.v + i, end - i, sink, ctx, err);
  }
  free(l.v);
  if (rc == MDBEE_OK)
    memcpy(root, m->root->address, MDB_REF_SIZE);
  return rc;
}

int mdb_mantaray_build(const mdb_mantaray_entry *entries, size_t n,
                       mdb_chunk_sink sink, void *ctx,
                       uint8_t root[MDB_REF_SIZE], mdb_error *err) {
  mdb_mantaray *m;
  int rc = mdb_mantaray_new(&m, err);
  for (size_t i = 0; rc == MDBEE_OK && i < n; i++)
    if ((rc = mdb_mantaray_put(m, &entries[i], err)))
      mdb_error_wrap(err, "entry %zu", i);
  if (rc == MDBEE_OK)
    rc = mdb_mantaray_save(m, sink, ctx, root, err);
  mdb_mantaray_free(m);
  return rc;
}
