/* Serialises a mantaray 0.2 node.
 *
 *   obfuscation key (32, zero) | version hash (31) | reference size (1)
 *   | entry (reference size) | fork bitmap (32, bit b = byte b, LSB first)
 *   | forks in byte order:
 *       type (1) | prefix length (1) | prefix (30, zero padded)
 *       | child reference (reference size: 32, or 64 when encrypted)
 *       [| metadata size (2, big-endian) | JSON, '\n'-padded so that
 *          size field + JSON is a multiple of 32]
 *
 * With a zero key the XOR obfuscation is the identity, so it is skipped. */
#include <stdlib.h>
#include <string.h>

#include "mantaray_internal.h"

/* Keccak256("mantaray:0.2"), first 31 bytes, as Bee and bee-js define it. */
const uint8_t mdb_mr_version_02[MDB_MR_VERSION_HASH_SIZE] = {
    0x57, 0x68, 0xb3, 0xb6, 0xa7, 0xdb, 0x56, 0xd2, 0x1d, 0x1a, 0xbf,
    0xf4, 0x0d, 0x41, 0xce, 0xbf, 0xc8, 0x34, 0x48, 0xfe, 0xd8, 0xd7,
    0xe9, 0xb0, 0x6e, 0xc0, 0xd3, 0xb0, 0x73, 0xf2, 0x8f};

/* Metadata bytes after the size field: JSON plus padding. */
static size_t meta_padded(size_t json) {
  size_t with_size = json + 2;
  return json + (32 - with_size % 32) % 32;
}

/* Reference size written in the header.  Bee reads the entry and every
 * fork reference with this one size (and skips all forks when it is 0), so
 * the children's reference size wins: a node without an entry still writes
 * zero bytes of that size, as Bee and bee-js do for inner nodes.  An empty
 * entry read from bee-js (its "/" nodes) stays empty only where no forks
 * depend on it. */
static size_t header_ref_size(const mdb_mr_node *node) {
  if (node->n_forks) return node->forks[0].node->address_size;
  return node->has_entry ? node->entry_size : MDB_REF_SIZE;
}

int mdb_mr_marshal(const mdb_mr_node *node, size_t headroom, uint8_t **out,
                   size_t *len, mdb_error *err) {
  size_t ref_size = header_ref_size(node);
  if (node->has_entry && node->entry_size && node->entry_size != ref_size)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "a %u-byte entry beside %zu-byte child references "
                         "(Bee reads them all with one size)",
                         node->entry_size, ref_size);
  size_t size = MDB_MR_HEADER_SIZE + ref_size + MDB_MR_BITMAP_SIZE;
  for (size_t i = 0; i < node->n_forks; i++) {
    const mdb_mr_node *child = node->forks[i].node;
    if (child->has_address && child->address_size != ref_size)
      return mdb_error_set(err, MDBEE_EINVAL,
                           "child references of %u and %zu bytes in one node "
                           "(an encrypted manifest is saved after "
                           "mdb_mantaray_encrypt)",
                           child->address_size, ref_size);
    size += MDB_MR_FORK_PRE_REF_SIZE + ref_size;
    if (child->meta.n) {
      size_t m = meta_padded(mdb_mr_meta_json_size(&child->meta));
      if (m > MDB_MANTARAY_META_MAX)
        return mdb_error_set(err, MDBEE_EINVAL,
                             "metadata of %zu bytes exceeds %d", m,
                             MDB_MANTARAY_META_MAX);
      size += 2 + m;
    }
  }
  uint8_t *buf = calloc(1, headroom + size);
  if (!buf)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a node");
  uint8_t *o = buf + headroom + MDB_MR_OBFUSCATION_KEY_SIZE;
  memcpy(o, mdb_mr_version_02, MDB_MR_VERSION_HASH_SIZE);
  o += MDB_MR_VERSION_HASH_SIZE;
  *o++ = (uint8_t)ref_size;
  if (node->has_entry)
    memcpy(o, node->entry, node->entry_size);
  o += ref_size;
  for (size_t i = 0; i < node->n_forks; i++) {
    uint8_t b = node->forks[i].prefix[0];
    o[b / 8] |= (uint8_t)(1u << (b % 8));
  }
  o += MDB_MR_BITMAP_SIZE;
  for (size_t i = 0; i < node->n_forks; i++) {
    const mdb_mr_fork *f = &node->forks[i];
    const mdb_mr_node *child = f->node;
    if (!child->has_address) {
      free(buf);
      return mdb_error_set(err, MDBEE_EINVAL, "child node not saved yet");
    }
    o[0] = mdb_mr_node_type(child, f->prefix, f->prefix_len);
    o[1] = f->prefix_len;
    memcpy(o + 2, f->prefix, f->prefix_len);
    o += MDB_MR_FORK_PRE_REF_SIZE;
    memcpy(o, child->address, ref_size);
    o += ref_size;
    if (child->meta.n) {
      size_t json = mdb_mr_meta_json_size(&child->meta);
      size_t padded = meta_padded(json);
      o[0] = (uint8_t)(padded >> 8);
      o[1] = (uint8_t)padded;
      mdb_mr_meta_json_write(&child->meta, o + 2);
      memset(o + 2 + json, '\n', padded - json);
      o += 2 + padded;
    }
  }
  *out = buf;
  *len = size;
  return MDBEE_OK;
}
