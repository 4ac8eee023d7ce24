/* Mantaray internals shared by the node, metadata, marshal, unmarshal and
 * tree files.  Not installed; the fuzz target includes it to parse nodes
 * without going through a tree. */
#ifndef MDBEE_MANTARAY_INTERNAL_H
#define MDBEE_MANTARAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mdbee/mantaray.h"

/* Node type bits of a fork record, as Bee and bee-js define them. */
enum {
  MDB_MR_TYPE_VALUE = 2,
  MDB_MR_TYPE_EDGE = 4,
  MDB_MR_TYPE_WITH_PATH_SEPARATOR = 8,
  MDB_MR_TYPE_WITH_METADATA = 16
};

#define MDB_MR_OBFUSCATION_KEY_SIZE 32
#define MDB_MR_VERSION_HASH_SIZE 31
#define MDB_MR_HEADER_SIZE 64 /* key, version hash, reference size */
#define MDB_MR_BITMAP_SIZE 32
#define MDB_MR_FORK_PRE_REF_SIZE 32 /* type, prefix length, prefix */

/* Longest path a tree accepts: it bounds the trie depth, hence the
 * recursion of walk and save, also for untrusted manifests. */
#define MDB_MR_PATH_MAX 8192

/* Largest serialised node a reader accepts, hence the cap on the span of
 * a node stored as a chunk tree: 256 forks, each with its 32-byte type and
 * prefix record, a 32-byte child address and the largest metadata the
 * 16-bit size field can give, plus header, a 32-byte entry and the bitmap.
 * Fork addresses are never 64 bytes (unmarshal refuses them, and a node
 * with a 64-byte entry has no forks).  About 16 MiB. */
#define MDB_MR_NODE_MAX \
  (MDB_MR_HEADER_SIZE + MDB_REF_SIZE + MDB_MR_BITMAP_SIZE + \
   256 * (MDB_MR_FORK_PRE_REF_SIZE + MDB_REF_SIZE + 2 + MDB_MANTARAY_META_MAX))

/* First 31 bytes of Keccak256("mantaray:0.2"): the version every node
 * carries after its obfuscation key. */
extern const uint8_t mdb_mr_version_02[MDB_MR_VERSION_HASH_SIZE];

typedef struct mdb_mr_node mdb_mr_node;

typedef struct mdb_mr_fork {
  uint8_t prefix_len; /* 1..30 */
  uint8_t prefix[MDB_MANTARAY_PREFIX_MAX];
  mdb_mr_node *node;
} mdb_mr_fork;

/* Owned metadata, sorted by key; kv and its strings are one malloc'd block
 * (the const in mdb_mantaray_kv is for readers), so lookups hand kv out as
 * is.  Every document path carries a copy: one allocation, not 2n + 1, and
 * the JSON size kept, not recounted by every save of the parent. */
typedef struct mdb_mr_meta {
  mdb_mantaray_kv *kv;
  size_t n;
  size_t json_size; /* mdb_mr_meta_json_size's answer when n > 0 */
} mdb_mr_meta;

struct mdb_mr_node {
  /* Known from the parent's fork record, even before the node is loaded. */
  uint8_t read_type; /* type byte as read; only used while !loaded */
  mdb_mr_meta meta;
  bool has_address; /* false = changed since last saved (or never saved) */
  uint8_t address_size; /* 32, or 64 (address || key) for an encrypted node */
  uint8_t address[MDB_MANTARAY_REF_MAX];

  /* Known once loaded (always for nodes created in memory). */
  bool loaded;
  bool has_entry;
  uint8_t entry_size; /* 0, 32 or 64 */
  uint8_t entry[MDB_MANTARAY_REF_MAX];
  mdb_mr_fork *forks; /* sorted by prefix[0]; at most 256 */
  size_t n_forks, cap_forks;
};

/* --- nodes (mantaray_node.c) --- */

/* Allocates a loaded, unsaved node with no entry and no forks. */
mdb_mr_node *mdb_mr_node_new(void);

/* Frees node and every node beneath it. */
void mdb_mr_node_free(mdb_mr_node *node);

/* Frees node's loaded contents (entry, forks and their subtrees), leaving
 * the record known from its parent. */
void mdb_mr_node_clear(mdb_mr_node *node);

/* Index of the fork starting with byte b, or -1. */
long mdb_mr_fork_find(const mdb_mr_node *node, uint8_t b);

/* Inserts a fork (prefix_len 1..30, no fork with the same first byte yet)
 * keeping byte order.  MDBEE_ENOMEM only. */
int mdb_mr_fork_insert(mdb_mr_node *node, const uint8_t *prefix,
                       size_t prefix_len, mdb_mr_node *child, mdb_error *err);

/* Removes fork i without freeing its node. */
void mdb_mr_fork_delete(mdb_mr_node *node, size_t i);

/* The type byte a fork record carries for node under prefix. */
uint8_t mdb_mr_node_type(const mdb_mr_node *node, const uint8_t *prefix,
                         size_t prefix_len);

/* --- metadata (mantaray_meta.c) --- */

/* Copies kv into out, sorted by key; MDBEE_EINVAL for a NULL or duplicate
 * key, a NULL value or text that is not UTF-8. */
int mdb_mr_meta_copy(const mdb_mantaray_kv *kv, size_t n, mdb_mr_meta *out,
                     mdb_error *err);

void mdb_mr_meta_free(mdb_mr_meta *meta);

/* Moves the metadata out of src into dst (dst's is freed first). */
void mdb_mr_meta_move(mdb_mr_meta *dst, mdb_mr_meta *src);

/* Size of the JSON object meta serialises to, before padding. */
size_t mdb_mr_meta_json_size(const mdb_mr_meta *meta);

/* Writes the JSON object (exactly mdb_mr_meta_json_size bytes), escaped as
 * JavaScript's JSON.stringify escapes. */
void mdb_mr_meta_json_write(const mdb_mr_meta *meta, uint8_t *out);

/* Parses a JSON object of string values (trailing whitespace allowed, as
 * the newline padding); MDBEE_EFORMAT for anything else, duplicate keys,
 * NUL characters or invalid UTF-8. */
int mdb_mr_meta_parse(const uint8_t *json, size_t len, mdb_mr_meta *out,
                      mdb_error *err);

/* --- serialisation (mantaray_marshal.c, mantaray_unmarshal.c) --- */

/* Serialises a loaded node whose children all have addresses into a
 * malloc'd buffer owned by the caller, headroom zero bytes into it (room
 * for a chunk's span, so that a save need not copy the bytes again); *len
 * counts the node's bytes only. */
int mdb_mr_marshal(const mdb_mr_node *node, size_t headroom, uint8_t **out,
                   size_t *len, mdb_error *err);

/* Parses serialised bytes (untrusted) into node: fills entry and forks,
 * whose children are records (not loaded) carrying type, metadata and
 * address.  has_entry is set from type_value (the VALUE bit of the record
 * that led here; false for a root).  On error node is left unloaded. */
int mdb_mr_unmarshal(const uint8_t *data, size_t len, bool type_value,
                     mdb_mr_node *node, mdb_error *err);

#endif
