/* Parses a serialised mantaray 0.2 node from untrusted bytes.  Every length
 * is checked against what is left before it is used; anything Bee could
 * not read either is MDBEE_EFORMAT with the offset that broke. */
#include <stdlib.h>
#include <string.h>

#include "mantaray_internal.h"

static int bad(mdb_error *err, size_t offset, const char *what) {
  return mdb_error_set(err, MDBEE_EFORMAT, "mantaray node: %s at byte %zu",
                       what, offset);
}

/* Reads the fork records from p (decrypted bytes from the bitmap on). */
static int read_forks(const uint8_t *p, size_t len, size_t base,
                      size_t fork_ref_size, mdb_mr_node *node,
                      mdb_error *err) {
  const uint8_t *bitmap = p;
  size_t off = MDB_MR_BITMAP_SIZE;
  for (unsigned b = 0; b < 256; b++) {
    if (!(bitmap[b / 8] >> (b % 8) & 1))
      continue;
    if (len - off < MDB_MR_FORK_PRE_REF_SIZE + fork_ref_size)
      return bad(err, base + off, "fork record truncated");
    const uint8_t *f = p + off;
    uint8_t type = f[0], prefix_len = f[1];
    if (prefix_len == 0 || prefix_len > MDB_MANTARAY_PREFIX_MAX)
      return bad(err, base + off + 1, "fork prefix length not in 1..30");
    if (f[2] != b)
      return bad(err, base + off + 2,
                 "fork prefix does not start with its bitmap byte");
    off += MDB_MR_FORK_PRE_REF_SIZE + fork_ref_size;
    mdb_mr_meta meta = {0};
    if (type & MDB_MR_TYPE_WITH_METADATA) {
      if (len - off < 2)
        return bad(err, base + off, "metadata size truncated");
      size_t msize = (size_t)p[off] << 8 | p[off + 1];
      off += 2;
      if (len - off < msize)
        return bad(err, base + off, "metadata truncated");
      if (msize) {
        int rc = mdb_mr_meta_parse(p + off, msize, &meta, err);
        if (rc)
          return mdb_error_wrap(err, "fork %02x", b);
      }
      off += msize;
    }
    mdb_mr_node *child = calloc(1, sizeof *child);
    if (!child) {
      mdb_mr_meta_free(&meta);
      return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a node");
    }
    child->read_type = type;
    child->meta = meta;
    child->has_address = true;
    child->address_size = (uint8_t)fork_ref_size;
    memcpy(child->address, f + MDB_MR_FORK_PRE_REF_SIZE, fork_ref_size);
    int rc = mdb_mr_fork_insert(node, f + 2, prefix_len, child, err);
    if (rc) {
      mdb_mr_node_free(child);
      return rc;
    }
  }
  return MDBEE_OK;
}

int mdb_mr_unmarshal(const uint8_t *data, size_t len, bool type_value,
                     mdb_mr_node *node, mdb_error *err) {
  if (len < MDB_MR_HEADER_SIZE)
    return bad(err, len, "shorter than the 64-byte header");
  uint8_t *plain = malloc(len);
  if (!plain)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a node");
  /* The key XORs everything after itself, 32 bytes at a time. */
  for (size_t i = 0; i < len; i++)
    plain[i] = i < MDB_MR_OBFUSCATION_KEY_SIZE
                   ? data[i]
                   : data[i] ^ data[i % MDB_MR_OBFUSCATION_KEY_SIZE];
  int rc = MDBEE_OK;
  if (memcmp(plain + MDB_MR_OBFUSCATION_KEY_SIZE, mdb_mr_version_02,
             MDB_MR_VERSION_HASH_SIZE) != 0) {
    rc = bad(err, MDB_MR_OBFUSCATION_KEY_SIZE,
             "not a mantaray 0.2 version hash");
    goto out;
  }
  size_t ref_size = plain[MDB_MR_HEADER_SIZE - 1];
  if (ref_size != 0 && ref_size != 32 && ref_size != 64) {
    rc = bad(err, MDB_MR_HEADER_SIZE - 1, "reference size not 0, 32 or 64");
    goto out;
  }
  size_t off = MDB_MR_HEADER_SIZE;
  if (len - off < ref_size + MDB_MR_BITMAP_SIZE) {
    rc = bad(err, off, "entry or fork bitmap truncated");
    goto out;
  }
  node->has_entry = type_value;
  node->entry_size = (uint8_t)ref_size;
  memcpy(node->entry, plain + off, ref_size);
  off += ref_size;
  /* bee-js writes an empty entry on its "/" nodes yet 32-byte fork
   * references, and reads them so; Bee would skip such forks. */
  rc = read_forks(plain + off, len - off, off, ref_size ? ref_size : 32,
                  node, err);
  if (rc == MDBEE_OK)
    node->loaded = true;
  else
    mdb_mr_node_clear(node);
out:
  free(plain);
  return rc;
}
