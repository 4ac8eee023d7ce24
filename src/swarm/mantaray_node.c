/* Mantaray trie nodes in memory: allocation, forks, type bytes. */
#include <stdlib.h>
#include <string.h>

#include "mantaray_internal.h"

mdb_mr_node *mdb_mr_node_new(void) {
  mdb_mr_node *node = calloc(1, sizeof *node);
  if (node)
    node->loaded = true;
  return node;
}

void mdb_mr_node_clear(mdb_mr_node *node) {
  for (size_t i = 0; i < node->n_forks; i++)
    mdb_mr_node_free(node->forks[i].node);
  free(node->forks);
  node->forks = NULL;
  node->n_forks = node->cap_forks = 0;
  node->has_entry = false;
  node->entry_size = 0;
  node->loaded = false;
}

void mdb_mr_node_free(mdb_mr_node *node) {
  if (!node)
    return;
  mdb_mr_node_clear(node);
  mdb_mr_meta_free(&node->meta);
  free(node);
}

long mdb_mr_fork_find(const mdb_mr_node *node, uint8_t b) {
  size_t lo = 0, hi = node->n_forks;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint8_t k = node->forks[mid].prefix[0];
    if (k == b)
      return (long)mid;
    if (k < b)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

int mdb_mr_fork_insert(mdb_mr_node *node, const uint8_t *prefix,
                       size_t prefix_len, mdb_mr_node *child,
                       mdb_error *err) {
  if (node->n_forks == node->cap_forks) {
    size_t cap = node->cap_forks ? node->cap_forks * 2 : 2;
    mdb_mr_fork *f = realloc(node->forks, cap * sizeof *f);
    if (!f)
      return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for a fork");
    node->forks = f;
    node->cap_forks = cap;
  }
  size_t at = 0;
  while (at < node->n_forks && node->forks[at].prefix[0] < prefix[0])
    at++;
  memmove(node->forks + at + 1, node->forks + at,
          (node->n_forks - at) * sizeof *node->forks);
  mdb_mr_fork *f = &node->forks[at];
  memset(f, 0, sizeof *f);
  f->prefix_len = (uint8_t)prefix_len;
  memcpy(f->prefix, prefix, prefix_len);
  f->node = child;
  node->n_forks++;
  return MDBEE_OK;
}

void mdb_mr_fork_delete(mdb_mr_node *node, size_t i) {
  memmove(node->forks + i, node->forks + i + 1,
          (node->n_forks - i - 1) * sizeof *node->forks);
  node->n_forks--;
}

uint8_t mdb_mr_node_type(const mdb_mr_node *node, const uint8_t *prefix,
                         size_t prefix_len) {
  uint8_t type;
  if (node->loaded)
    type = (uint8_t)((node->has_entry ? MDB_MR_TYPE_VALUE : 0) |
                     (node->n_forks ? MDB_MR_TYPE_EDGE : 0));
  else
    type = node->read_type & (MDB_MR_TYPE_VALUE | MDB_MR_TYPE_EDGE);
  /* bee-js flags a prefix holding a '/' unless the prefix is just "/";
   * Bee's reader ignores the bit, so bee-js decides for equal roots. */
  if (memchr(prefix, '/', prefix_len) && !(prefix_len == 1 && prefix[0] == '/'))
    type |= MDB_MR_TYPE_WITH_PATH_SEPARATOR;
  if (node->meta.n)
    type |= MDB_MR_TYPE_WITH_METADATA;
  return type;
}
