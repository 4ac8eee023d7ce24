/* Mantaray 0.2 manifests: path -> (reference, metadata) tries on Swarm.
 *
 * A manifest is a compressed trie whose nodes are stored as chunks (or, when
 * a serialised node exceeds 4096 bytes, as chunk trees).  Bee's /bzz reads
 * them; bee-js 12.1.0's MantarayNode writes the same bytes for the same
 * entries.  mdbee always uses a zero obfuscation key and a canonical trie
 * shape (edges break where paths diverge, where an entry ends and at every
 * 30th byte of a path), so the same set of entries gives the same root
 * reference whatever order they were put or removed in.
 *
 * A tree opened from a root reference loads nodes lazily through an
 * mdb_chunk_source: a lookup, put or remove reads only the nodes on its
 * path, and a save writes only the nodes changed since the last save.  This
 * is what makes a snapshot's manifest update cost O(changes x depth).
 *
 * Chunks read through the source are verified against the reference that
 * led to them (MDBEE_EVERIFY) and parsed with every length bounds-checked
 * (MDBEE_EFORMAT), so manifests from an untrusted gateway are safe to read.
 * A node stored as a chunk tree is joined only when its span is within the
 * largest node the format allows (about 16 MiB); a larger span is
 * MDBEE_EFORMAT before anything else is fetched or allocated.
 *
 * A tree is not thread-safe; use one per thread. */
#ifndef MDBEE_MANTARAY_H
#define MDBEE_MANTARAY_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/bmt.h"
#include "mdbee/chunk.h"
#include "mdbee/encrypt.h"
#include "mdbee/error.h"

#define MDB_MANTARAY_PREFIX_MAX 30  /* bytes of path per fork */
#define MDB_MANTARAY_REF_MAX 64     /* an entry is 32 bytes, or 64 encrypted */
#define MDB_MANTARAY_META_MAX 65535 /* serialised metadata of one entry */

/* One metadata pair: NUL-terminated UTF-8 strings.  Keys are unique within
 * an entry; they are serialised in byte order, as JSON string values. */
typedef struct mdb_mantaray_kv {
  const char *key;
  const char *value;
} mdb_mantaray_kv;

/* One manifest entry.  The function receiving it copies what it keeps. */
typedef struct mdb_mantaray_entry {
  const uint8_t *path; /* 1 or more bytes, any values */
  size_t path_len;
  const uint8_t *ref;  /* ref_size bytes: 32, or 64 for encrypted refs */
  size_t ref_size;
  const mdb_mantaray_kv *meta; /* n_meta pairs, NULL when n_meta is 0 */
  size_t n_meta;
} mdb_mantaray_entry;

/* A manifest being read or edited.  Owns every node it has loaded. */
typedef struct mdb_mantaray mdb_mantaray;

/* Creates an empty manifest.  Free it with mdb_mantaray_free. */
int mdb_mantaray_new(mdb_mantaray **out, mdb_error *err);

/* Opens the manifest whose root node is at root.  Nothing is read yet:
 * nodes are fetched from source(ctx, ...) when first needed, so source and
 * ctx must stay valid for the life of the tree.  Free it with
 * mdb_mantaray_free. */
int mdb_mantaray_open(const uint8_t root[MDB_REF_SIZE],
                      mdb_chunk_source source, void *ctx,
                      mdb_mantaray **out, mdb_error *err);

/* Makes every later save encrypt each node except the root (call it right
 * after mdb_mantaray_new or _open, before any save), with the
 * convergent keys of mdb_encrypt_chunk_convergent under secret (copied,
 * wiped on free), and reference it by its 64-byte address || key, as Bee
 * does for manifests uploaded with swarm-encrypt.  The root stays a plain
 * chunk so that its reference is 32 bytes (what a feed update can point
 * at); all references inside are 64 bytes, so the entries must be too.
 * Reading needs no secret: nodes under 64-byte references are decrypted
 * with the key they carry. */
void mdb_mantaray_encrypt(mdb_mantaray *m,
                          const uint8_t secret[MDB_ENCRYPT_SECRET_SIZE]);

/* Frees the tree and every node it holds (NULL is allowed). */
void mdb_mantaray_free(mdb_mantaray *m);

/* Adds or replaces the entry at e->path.  Marks only the nodes on that path
 * as changed.  MDBEE_EINVAL for an empty path, a reference that is not 32
 * or 64 bytes, duplicate or non-UTF-8 metadata, or metadata that serialises
 * to more than MDB_MANTARAY_META_MAX bytes.  Errors from loading nodes are
 * passed on; on any error the tree is unchanged. */
int mdb_mantaray_put(mdb_mantaray *m, const mdb_mantaray_entry *e,
                     mdb_error *err);

/* Removes the entry at path, merging nodes that no longer branch so the
 * tree keeps its canonical shape.  MDBEE_ENOTFOUND when no entry is there
 * (the tree is unchanged). */
int mdb_mantaray_remove(mdb_mantaray *m, const uint8_t *path, size_t len,
                        mdb_error *err);

/* Finds the entry at path.  On MDBEE_OK *found points into the tree (its
 * path is the looked-up path) and stays valid until the tree is next
 * changed or freed.  MDBEE_ENOTFOUND when there is no entry at path. */
int mdb_mantaray_lookup(mdb_mantaray *m, const uint8_t *path, size_t len,
                        mdb_mantaray_entry *found, mdb_error *err);

/* Receives each entry of a walk; e and everything it points to are valid
 * only during the call.  Return MDBEE_OK to go on; any other code stops the
 * walk and is returned by it. */
typedef int (*mdb_mantaray_visit)(void *ctx, const mdb_mantaray_entry *e,
                                  mdb_error *err);

/* Calls visit for every entry in byte order of paths, loading the whole
 * tree on the way. */
int mdb_mantaray_walk(mdb_mantaray *m, mdb_mantaray_visit visit, void *ctx,
                      mdb_error *err);

/* Serialises the nodes changed since the tree was opened or last saved,
 * children before parents, hands every chunk to sink(ctx, ...) and writes
 * the root reference.  An unchanged tree emits nothing and gives its root.
 * An empty manifest is a single node with no forks.  MDBEE_EINVAL when a
 * node's entry and child references differ in size (Bee reads them all
 * with one size): 64-byte entries need an encrypted tree unless their
 * node has no children.  After an error the tree may be saved again. */
int mdb_mantaray_save(mdb_mantaray *m, mdb_chunk_sink sink, void *ctx,
                      uint8_t root[MDB_REF_SIZE], mdb_error *err);

/* Drops every node of a saved tree from memory; later operations read the
 * nodes they need through source(ctx, ...), which must supply the saved
 * chunks, as for a tree from mdb_mantaray_open (the tree's source, if any,
 * is replaced).  Saving and unloading now and then builds a manifest of
 * any size in bounded memory.  MDBEE_EINVAL when the tree has changes not
 * saved yet (nothing is dropped). */
int mdb_mantaray_unload(mdb_mantaray *m, mdb_chunk_source source, void *ctx,
                        mdb_error *err);

/* A put or remove that ends exactly at a node whose parent's fork record
 * says it is a leaf (an entry and no forks) does not read that node: the
 * entry is replaced or dropped, and its metadata lives in the record.  So
 * a caller that keeps its own path -> reference map (the publisher's
 * document index) need not keep leaves where its chunk source finds them.
 * When such a leaf is needed after all (a lookup or walk, or a path that
 * goes on past it), and the chunk source answers MDBEE_ENOTFOUND for it,
 * the tree calls the leaf source with the leaf's path (path_len bytes,
 * valid only during the call), which writes the entry reference into ref
 * and its size (32 or 64) into *ref_size and returns MDBEE_OK, or an error
 * that the operation passes on.  The tree rebuilds the node from that
 * reference and checks that it hashes to the address the parent holds:
 * MDBEE_ESTATE when it does not (the caller's map disagrees with the
 * manifest; the tree is unchanged).  Only plain nodes (32-byte addresses)
 * are rebuilt; an encrypted node's address depends on its encryption key,
 * so the source must keep those.  Set it right after mdb_mantaray_open;
 * source NULL removes it.  ctx must stay valid for the life of the tree. */
typedef int (*mdb_mantaray_leaf_source)(void *ctx, const uint8_t *path,
                                        size_t path_len,
                                        uint8_t ref[MDB_MANTARAY_REF_MAX],
                                        size_t *ref_size, mdb_error *err);
void mdb_mantaray_leaves(mdb_mantaray *m, mdb_mantaray_leaf_source source,
                         void *ctx);

/* Number of chunks fetched from the source so far (to check laziness). */
size_t mdb_mantaray_loads(const mdb_mantaray *m);

/* Builds a manifest from n entries (any order; a later duplicate path
 * replaces an earlier one), emits all its chunks to sink and writes the
 * root reference. */
int mdb_mantaray_build(const mdb_mantaray_entry *entries, size_t n,
                       mdb_chunk_sink sink, void *ctx,
                       uint8_t root[MDB_REF_SIZE], mdb_error *err);

/* Builds the feed manifest Bee's POST /feeds/{owner}/{topic} creates: one
 * entry at "/" with a zero reference and the metadata swarm-feed-owner,
 * swarm-feed-topic (lowercase hex) and swarm-feed-type "Sequence".  Bee's
 * /bzz/<root>/... then serves the newest update of that sequence feed.
 * Emits its two chunks to sink and writes the root reference. */
int mdb_mantaray_feed_manifest(const uint8_t owner[20],
                               const uint8_t topic[MDB_REF_SIZE],
                               mdb_chunk_sink sink, void *ctx,
                               uint8_t root[MDB_REF_SIZE], mdb_error *err);

#endif
