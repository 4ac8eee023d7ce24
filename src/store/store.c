/* The LMDB environment, transactions, key layout and range walks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "store_internal.h"

#define INITIAL_MAP ((size_t)1 << 30)
/* LMDB reserves the address space up front, so the ceiling only has to stay
 * below what a 64-bit process can map. */
#define MAX_MAP ((size_t)1 << 40)

int store_fail(mdb_store_txn *t, mdb_error *err, int rc, const char *what) {
  if (rc == MDB_MAP_FULL && t) {
    t->store->full = 1;
    return mdb_error_set(err, MDBEE_ESTATE,
                         "local state full while %s (map %zu MiB); it grows "
                         "when the transaction ends, retry",
                         what, t->store->map_size >> 20);
  }
  return mdb_error_set(err, MDBEE_ESTATE, "local state: %s: %s", what,
                       mdb_strerror(rc));
}

static int grow(mdb_store *s, mdb_error *err) {
  size_t next = s->map_size * 2;
  if (next > MAX_MAP)
    return mdb_error_set(err, MDBEE_ESTATE,
                         "local state reached its %zu GiB ceiling",
                         MAX_MAP >> 30);
  int rc = mdb_env_set_mapsize(s->env, next);
  if (rc != 0) return store_fail(NULL, err, rc, "growing the map");
  s->map_size = next;
  s->full = 0;
  return MDBEE_OK;
}

/* Grows before the map is tight, so ordinary transactions never see
 * MDB_MAP_FULL; only allowed while no transaction is open. */
static int grow_if_needed(mdb_store *s, mdb_error *err) {
  if (s->active != 0) return MDBEE_OK;
  if (s->full) return grow(s, err);
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
    return MDBEE_OK;
  size_t used = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
  if (used > s->map_size / 4 * 3) return grow(s, err);
  return MDBEE_OK;
}

int mdb_store_open(const char *dir, mdb_store **out, mdb_error *err) {
  if (!dir || !out) return mdb_error_set(err, MDBEE_EINVAL, "no state dir");
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return mdb_error_set(err, MDBEE_EIO, "cannot create state dir %s: %s", dir,
                         strerror(errno));
  mdb_store *s = calloc(1, sizeof *s);
  if (!s) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  int rc = mdb_env_create(&s->env);
  if (rc == 0) rc = mdb_env_set_maxdbs(s->env, 16);
  if (rc == 0) rc = mdb_env_set_mapsize(s->env, INITIAL_MAP);
  /* No readahead: besides reading ahead, the kernel maps a 64 KiB
   * neighbourhood of every page faulted in, which multiplies the resident
   * set of the random lookups (chunk cache, have set) by up to 16. */
  if (rc == 0) rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0600);
  if (rc != 0) {
    mdb_error_set(err, MDBEE_ESTATE, "cannot open state in %s: %s", dir,
                  mdb_strerror(rc));
    if (s->env) mdb_env_close(s->env);
    free(s);
    return MDBEE_ESTATE;
  }
  /* Another process may have grown the file beyond INITIAL_MAP. */
  MDB_envinfo info;
  mdb_env_info(s->env, &info);
  s->map_size = info.me_mapsize;

  MDB_txn *txn;
  rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  struct { const char *name; MDB_dbi *dbi; } dbs[] = {
      {"pending", &s->pending}, {"docs", &s->docs},     {"chunks", &s->chunks},
      {"have", &s->have},       {"resume", &s->resume}, {"history", &s->history},
      {"stats", &s->stats},     {"seen", &s->seen},     {"meta", &s->meta},
      {"stage", &s->stage}};
  for (size_t i = 0; rc == 0 && i < sizeof dbs / sizeof dbs[0]; i++)
    rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
  if (rc == 0) {
    rc = mdb_txn_commit(txn);
  } else if (txn) {
    mdb_txn_abort(txn);
  }
  if (rc != 0) {
    mdb_error_set(err, MDBEE_ESTATE, "cannot open state tables in %s: %s", dir,
                  mdb_strerror(rc));
    mdb_env_close(s->env);
    free(s);
    return MDBEE_ESTATE;
  }
  *out = s;
  return MDBEE_OK;
}

void mdb_store_close(mdb_store *store) {
  if (!store) return;
  mdb_env_close(store->env);
  free(store);
}

size_t mdb_store_map_size(const mdb_store *store) { return store->map_size; }

/* Finds where the data file is mapped: LMDB does not tell, so the mapping
 * is looked up by the file's device and inode. */
static void find_map(mdb_store *store) {
  store->map_from = store->map_to = 0;
  store->map_found_size = store->map_size;
  int fd;
  struct stat st;
  if (mdb_env_get_fd(store->env, &fd) != 0 || fstat(fd, &st) != 0) return;
  FILE *maps = fopen("/proc/self/maps", "r");
  if (!maps) return;
  char line[512];
  while (fgets(line, sizeof line, maps)) {
    unsigned long from, to, inode;
    unsigned major, minor;
    if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &from, &to, &major, &minor,
               &inode) == 5 &&
        inode == st.st_ino && major == major(st.st_dev) &&
        minor == minor(st.st_dev) && to - from > store->map_to - store->map_from) {
      store->map_from = from;
      store->map_to = to;
    }
  }
  fclose(maps);
}

void mdb_store_trim(mdb_store *store) {
  if (store->map_found_size != store->map_size) find_map(store);
  /* The map is read-only and shared (no MDB_WRITEMAP): dropping its pages
   * discards nothing. */
  if (store->map_to > store->map_from)
    madvise((void *)store->map_from, store->map_to - store->map_from,
            MADV_DONTNEED);
}

int mdb_store_begin(mdb_store *store, int read_only, mdb_store_txn **out,
                    mdb_error *err) {
  if (!read_only) {
    int rc = grow_if_needed(store, err);
    if (rc != MDBEE_OK) return rc;
  }
  mdb_store_txn *t = calloc(1, sizeof *t);
  if (!t) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  t->store = store;
  int rc = mdb_txn_begin(store->env, NULL, read_only ? MDB_RDONLY : 0, &t->txn);
  if (rc == MDB_MAP_RESIZED && store->active == 0) {
    /* Another process grew the map: adopt its size and try again. */
    mdb_env_set_mapsize(store->env, 0);
    MDB_envinfo info;
    mdb_env_info(store->env, &info);
    store->map_size = info.me_mapsize;
    rc = mdb_txn_begin(store->env, NULL, read_only ? MDB_RDONLY : 0, &t->txn);
  }
  if (rc != 0) {
    free(t);
    return store_fail(NULL, err, rc, "beginning a transaction");
  }
  store->active++;
  *out = t;
  return MDBEE_OK;
}

static void finish(mdb_store_txn *t) {
  mdb_store *s = t->store;
  s->active--;
  free(t);
  if (s->full && s->active == 0) grow(s, NULL);
}

int mdb_store_commit(mdb_store_txn *txn, mdb_error *err) {
  int rc = mdb_txn_commit(txn->txn);
  int status = rc == 0 ? MDBEE_OK : store_fail(txn, err, rc, "committing");
  finish(txn);
  return status;
}

void mdb_store_abort(mdb_store_txn *txn) {
  if (!txn) return;
  mdb_txn_abort(txn->txn);
  finish(txn);
}

int store_put_ordered(mdb_store_txn *t, MDB_dbi dbi, MDB_val *k, MDB_val *v,
                      unsigned flags) {
  unsigned bit = dbi < 32 ? 1u << dbi : 0;
  if (bit && !(t->unordered & bit)) {
    int rc = mdb_put(t->txn, dbi, k, v, flags | MDB_APPEND);
    if (rc != MDB_KEYEXIST) return rc;
    t->unordered |= bit;
  }
  return mdb_put(t->txn, dbi, k, v, flags);
}

void mdb_store_key_init(mdb_store_key *key, const char *db, const char *coll,
                        const uint8_t *id, size_t id_len) {
  key->db = db;
  key->db_len = strlen(db);
  key->coll = coll;
  key->coll_len = strlen(coll);
  key->id = id;
  key->id_len = id_len;
}

static size_t put_name(uint8_t *p, const char *name, size_t len) {
  p[0] = (uint8_t)(len >> 8);
  p[1] = (uint8_t)len;
  memcpy(p + 2, name, len);
  return 2 + len;
}

int store_key_encode(const mdb_store_key *key, uint8_t *buf, MDB_val *out,
                     mdb_error *err) {
  if (key->id_len == 0)
    return mdb_error_set(err, MDBEE_EINVAL, "document key without _id");
  size_t need = 4 + key->db_len + key->coll_len + key->id_len;
  if (need > MDB_STORE_KEY_MAX)
    return mdb_error_set(err, MDBEE_EINVAL,
                         "key of %.*s.%.*s is %zu bytes, over the %d-byte "
                         "limit of the local index (_id too large)",
                         (int)key->db_len, key->db, (int)key->coll_len,
                         key->coll, need, MDB_STORE_KEY_MAX);
  size_t n = put_name(buf, key->db, key->db_len);
  n += put_name(buf + n, key->coll, key->coll_len);
  memcpy(buf + n, key->id, key->id_len);
  out->mv_size = n + key->id_len;
  out->mv_data = buf;
  return MDBEE_OK;
}

int store_key_decode(const uint8_t *buf, size_t len, mdb_store_key *out) {
  if (len < 2) return -1;
  size_t dl = (size_t)buf[0] << 8 | buf[1];
  if (len < 4 + dl) return -1;
  size_t cl = (size_t)buf[2 + dl] << 8 | buf[3 + dl];
  if (len < 4 + dl + cl + 1) return -1;
  out->db = (const char *)buf + 2;
  out->db_len = dl;
  out->coll = (const char *)buf + 4 + dl;
  out->coll_len = cl;
  out->id = buf + 4 + dl + cl;
  out->id_len = len - (4 + dl + cl);
  return 0;
}

int store_prefix(const char *db, const char *coll, uint8_t *buf, size_t *len,
                 mdb_error *err) {
  size_t dl = db ? strlen(db) : 0, cl = coll ? strlen(coll) : 0;
  if (4 + dl + cl >= MDB_STORE_KEY_MAX)
    return mdb_error_set(err, MDBEE_EINVAL, "namespace name too long");
  size_t n = 0;
  if (db) {
    n = put_name(buf, db, dl);
    if (coll) n += put_name(buf + n, coll, cl);
  }
  *len = n;
  return MDBEE_OK;
}

int store_each(mdb_store_txn *t, MDB_dbi dbi, const uint8_t *prefix,
               size_t plen, store_entry_fn fn, void *ctx, mdb_error *err) {
  MDB_cursor *cur;
  int rc = mdb_cursor_open(t->txn, dbi, &cur);
  if (rc != 0) return store_fail(t, err, rc, "opening a cursor");
  MDB_val k = {plen, (void *)prefix}, v;
  rc = plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
            : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  int status = MDBEE_OK;
  while (rc == 0) {
    if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
      break;
    status = fn(ctx, cur, &k, &v);
    if (status != MDBEE_OK) break;
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cur);
  if (status != MDBEE_OK) return status;
  if (rc != 0 && rc != MDB_NOTFOUND) return store_fail(t, err, rc, "walking");
  return MDBEE_OK;
}

static int del_entry(void *ctx, MDB_cursor *cur, MDB_val *k, MDB_val *v) {
  (void)k;
  (void)v;
  /* LMDB's MDB_NEXT after a cursor delete lands on the following entry. */
  int rc = mdb_cursor_del(cur, 0);
  return rc == 0 ? MDBEE_OK : store_fail(NULL, ctx, rc, "deleting a range");
}

int store_del_prefix(mdb_store_txn *t, MDB_dbi dbi, const uint8_t *prefix,
                     size_t plen, mdb_error *err) {
  return store_each(t, dbi, prefix, plen, del_entry, err, err);
}

void store_put_le(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t store_get_le(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
