/* mdbee configuration file: YAML through libyaml's document loader, so
 * every node carries its line for error messages.  The schema is in
 * docs/configuration.md. */
#include "mdbee/config.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "mdbee/hex.h"
#include "mdbee/keccak.h"

#define PATH_MAX_TEXT 256

typedef struct ctx {
  const char *name;     /* file name for messages */
  char *dir;            /* its directory, for relative paths */
  yaml_document_t doc;
  mdb_error *err;
} ctx;

__attribute__((format(printf, 4, 5)))
static int fail(ctx *c, const yaml_node_t *n, const char *path,
                const char *fmt, ...) {
  char msg[MDB_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return mdb_error_set(c->err, MDBEE_ECONFIG, "%s:%zu: %s%s%s", c->name,
                       n ? n->start_mark.line + 1 : 1, path,
                       path[0] ? ": " : "", msg);
}

/* ---- node access ----------------------------------------------------- */

/* Key paths longer than PATH_MAX_TEXT are cut: they only label messages. */
__attribute__((format(printf, 2, 3)))
static void subpath(char out[PATH_MAX_TEXT], const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, PATH_MAX_TEXT, fmt, ap);
  va_end(ap);
}

static const char *scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                          : NULL;
}

static int is_plain(const yaml_node_t *n) {
  return n->type == YAML_SCALAR_NODE &&
         n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Checks that n is a mapping whose keys are all in allowed (NULL-ended)
 * and appear once. */
static int check_mapping(ctx *c, yaml_node_t *n, const char *path,
                         const char *const *allowed) {
  if (n->type != YAML_MAPPING_NODE) return fail(c, n, path, "expected a mapping");
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
       p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
    const char *key = scalar(k);
    if (!key) return fail(c, k, path, "keys must be plain names");
    size_t i = 0;
    while (allowed[i] && strcmp(allowed[i], key) != 0) i++;
    if (!allowed[i]) {
      char list[256] = "";
      for (size_t j = 0; allowed[j]; j++) {
        if (j) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, allowed[j], sizeof list - strlen(list) - 1);
      }
      char sub[PATH_MAX_TEXT];
      subpath(sub, "%s%s%s", path, path[0] ? "." : "", key);
      return fail(c, k, sub, "unknown key (expected one of: %s)", list);
    }
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
      const char *other = scalar(yaml_document_get_node(&c->doc, q->key));
      if (other && strcmp(other, key) == 0) {
        char sub[PATH_MAX_TEXT];
        subpath(sub, "%s%s%s", path, path[0] ? "." : "", key);
        return fail(c, k, sub, "duplicate key");
      }
    }
  }
  return MDBEE_OK;
}

/* The value of key in mapping n, or NULL; *sub receives its path. */
static yaml_node_t *field(ctx *c, yaml_node_t *n, const char *path,
                          const char *key, char sub[PATH_MAX_TEXT]) {
  subpath(sub, "%s%s%s", path, path[0] ? "." : "", key);
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
       p < n->data.mapping.pairs.top; p++) {
    const char *k = scalar(yaml_document_get_node(&c->doc, p->key));
    if (k && strcmp(k, key) == 0) return yaml_document_get_node(&c->doc, p->value);
  }
  return NULL;
}

static int get_string(ctx *c, yaml_node_t *n, const char *path, char **out) {
  const char *s = scalar(n);
  if (!s) return fail(c, n, path, "expected a string");
  if (!s[0]) return fail(c, n, path, "must not be empty");
  if (strlen(s) != n->data.scalar.length)
    return fail(c, n, path, "contains a NUL character");
  *out = strdup(s);
  return *out ? MDBEE_OK
              : mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
}

/* The string under required key name of mapping n; *node is its node. */
static int get_name(ctx *c, yaml_node_t *n, const char *path, char **out,
                    yaml_node_t **node, char sub[PATH_MAX_TEXT]) {
  *node = field(c, n, path, "name", sub);
  if (!*node) return fail(c, n, sub, "missing");
  return get_string(c, *node, sub, out);
}

static int get_uint(ctx *c, yaml_node_t *n, const char *path, uint64_t max,
                    uint64_t *out) {
  const char *s = scalar(n);
  if (!s || !is_plain(n) || !s[0] || strspn(s, "0123456789") != strlen(s))
    return fail(c, n, path, "expected a whole number");
  errno = 0;
  unsigned long long v = strtoull(s, NULL, 10);
  if (errno || v > max)
    return fail(c, n, path, "must be at most %llu", (unsigned long long)max);
  *out = v;
  return MDBEE_OK;
}

static int get_bool(ctx *c, yaml_node_t *n, const char *path, int *out) {
  const char *s = scalar(n);
  if (s && is_plain(n) && strcmp(s, "true") == 0) *out = 1;
  else if (s && is_plain(n) && strcmp(s, "false") == 0) *out = 0;
  else return fail(c, n, path, "expected true or false");
  return MDBEE_OK;
}

static int get_duration(ctx *c, yaml_node_t *n, const char *path,
                        uint64_t *ms) {
  const char *s = scalar(n);
  if (!s) return fail(c, n, path, "expected a duration such as 30s or 1h30m");
  mdb_error e = {0};
  if (mdb_config_parse_duration(s, ms, &e) != MDBEE_OK)
    return fail(c, n, path, "%s", e.message);
  return MDBEE_OK;
}

/* A path relative to the configuration file's directory. */
static int get_path(ctx *c, yaml_node_t *n, const char *path, char **out) {
  char *s;
  int rc = get_string(c, n, path, &s);
  if (rc != MDBEE_OK || s[0] == '/' || !c->dir) {
    *out = rc == MDBEE_OK ? s : NULL;
    return rc;
  }
  size_t len = strlen(c->dir) + 1 + strlen(s) + 1;
  *out = malloc(len);
  if (*out) snprintf(*out, len, "%s/%s", c->dir, s);
  free(s);
  return *out ? MDBEE_OK : mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
}

/* Items of a sequence node, or an error naming path. */
static int get_list(ctx *c, yaml_node_t *n, const char *path,
                    yaml_node_item_t **items, size_t *count) {
  if (!n || n->type != YAML_SEQUENCE_NODE) return fail(c, n, path, "expected a list");
  *items = n->data.sequence.items.start;
  *count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  return MDBEE_OK;
}

static int get_string_list(ctx *c, yaml_node_t *n, const char *path,
                           char ***out, size_t *count) {
  yaml_node_item_t *items = NULL;
  size_t k = 0;
  int rc = get_list(c, n, path, &items, &k);
  if (rc != MDBEE_OK) return rc;
  *out = calloc(k ? k : 1, sizeof **out);
  if (!*out) return mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
  *count = 0;
  for (size_t i = 0; i < k; i++) {
    char sub[PATH_MAX_TEXT];
    subpath(sub, "%s[%zu]", path, i);
    rc = get_string(c, yaml_document_get_node(&c->doc, items[i]), sub,
                    &(*out)[i]);
    if (rc != MDBEE_OK) return rc;
    (*count)++;
  }
  return MDBEE_OK;
}

/* ---- validation of names and paths ------------------------------------ */

/* A dotted field path: non-empty parts, not starting with '$'. */
static int check_field_path(ctx *c, yaml_node_t *n, const char *path,
                            const char *f) {
  if (f[0] == '$') return fail(c, n, path, "'%s': a field path cannot start with '$'", f);
  for (const char *p = f;; p++) {
    size_t part = strcspn(p, ".");
    if (part == 0) return fail(c, n, path, "'%s' has an empty part", f);
    p += part;
    if (!*p) return MDBEE_OK;
  }
}

/* Whether one dotted path is the other or lies under it. */
static int path_overlaps(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;
  return strncmp(a, b, l) == 0 && (la == lb || (la < lb ? b[l] : a[l]) == '.');
}

static int parse_index(ctx *c, yaml_node_t *n, const char *path,
                       const mdb_config_collection *coll,
                       mdb_config_index *ix) {
  static const char *const keys[] = {"name", "keys", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, path, keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v;
  if ((rc = get_name(c, n, path, &ix->name, &v, sub)) != MDBEE_OK) return rc;
  if (ix->name[0] == '.' ||
      strspn(ix->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789._-") != strlen(ix->name))
    return fail(c, v, sub, "'%s': use letters, digits, '.', '_' and '-' "
                "(not first '.'), as it is a URL path segment", ix->name);
  v = field(c, n, path, "keys", sub);
  if (!v) return fail(c, n, sub, "missing");
  if ((rc = get_string_list(c, v, sub, &ix->fields, &ix->n_fields)) != MDBEE_OK)
    return rc;
  if (ix->n_fields == 0) return fail(c, v, sub, "an index needs at least one key");
  for (size_t i = 0; i < ix->n_fields; i++) {
    if ((rc = check_field_path(c, v, sub, ix->fields[i])) != MDBEE_OK) return rc;
    for (size_t r = 0; r < coll->n_redact; r++)
      if (path_overlaps(ix->fields[i], coll->redact[r]))
        return fail(c, v, sub, "key '%s' would publish the redacted field '%s'",
                    ix->fields[i], coll->redact[r]);
  }
  return MDBEE_OK;
}

static int parse_collection(ctx *c, yaml_node_t *n, const char *path,
                            mdb_config_collection *coll) {
  static const char *const keys[] = {"name", "redact", "indexes", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, path, keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v;
  if ((rc = get_name(c, n, path, &coll->name, &v, sub)) != MDBEE_OK) return rc;
  if (strchr(coll->name, '$') || strchr(coll->name, '/') ||
      strncmp(coll->name, "system.", 7) == 0 || coll->name[0] == '.')
    return fail(c, v, sub, "'%s' cannot be published (no '$' or '/', "
                "not system.*, not starting with '.')", coll->name);
  if ((v = field(c, n, path, "redact", sub))) {
    if ((rc = get_string_list(c, v, sub, &coll->redact, &coll->n_redact)))
      return rc;
    for (size_t i = 0; i < coll->n_redact; i++) {
      if ((rc = check_field_path(c, v, sub, coll->redact[i]))) return rc;
      if (path_overlaps(coll->redact[i], "_id"))
        return fail(c, v, sub, "'_id' cannot be redacted: it names the document's path");
    }
  }
  if ((v = field(c, n, path, "indexes", sub))) {
    char ipath[PATH_MAX_TEXT];
    subpath(ipath, "%s", sub);
    yaml_node_item_t *items = NULL;
    size_t k = 0;
    if ((rc = get_list(c, v, ipath, &items, &k))) return rc;
    coll->indexes = calloc(k ? k : 1, sizeof *coll->indexes);
    if (!coll->indexes) return mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) {
      yaml_node_t *in = yaml_document_get_node(&c->doc, items[i]);
      subpath(sub, "%s[%zu]", ipath, i);
      coll->n_indexes++;
      if ((rc = parse_index(c, in, sub, coll, &coll->indexes[i]))) return rc;
      for (size_t j = 0; j < i; j++)
        if (strcmp(coll->indexes[j].name, coll->indexes[i].name) == 0)
          return fail(c, in, sub, "duplicate index name '%s'", coll->indexes[i].name);
    }
  }
  return MDBEE_OK;
}

static int set_topic(ctx *c, yaml_node_t *n, const char *path,
                     mdb_config_database *db, const char *text) {
  const char *hex = strncmp(text, "0x", 2) == 0 ? text + 2 : text;
  if (strlen(hex) == 64 && strspn(hex, "0123456789abcdefABCDEF") == 64) {
    mdb_error e = {0};
    if (mdb_hex_decode(hex, db->feed_topic, 32, &e) != MDBEE_OK)
      return fail(c, n, path, "%s", e.message);
    return MDBEE_OK;
  }
  db->feed_topic_text = strdup(text);
  if (!db->feed_topic_text) return mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
  mdb_keccak256(text, strlen(text), db->feed_topic);
  return MDBEE_OK;
}

static int parse_database(ctx *c, yaml_node_t *n, const char *path,
                          mdb_config_database *db) {
  static const char *const keys[] = {"name", "feed_topic", "collections", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, path, keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v;
  if ((rc = get_name(c, n, path, &db->name, &v, sub)) != MDBEE_OK) return rc;
  if (strlen(db->name) > 63 || strpbrk(db->name, "/\\. \"$*<>:|?"))
    return fail(c, v, sub, "'%s' is not a valid MongoDB database name", db->name);
  if ((v = field(c, n, path, "feed_topic", sub))) {
    const char *t = scalar(v);
    if (!t || !t[0]) return fail(c, v, sub, "expected a string");
    if ((rc = set_topic(c, v, sub, db, t))) return rc;
  } else {
    char def[80];
    snprintf(def, sizeof def, "mdbee:%s", db->name);
    if ((rc = set_topic(c, n, sub, db, def))) return rc;
  }
  v = field(c, n, path, "collections", sub);
  char cpath[PATH_MAX_TEXT];
  subpath(cpath, "%s", sub);
  if (!v) return fail(c, n, cpath, "missing");
  yaml_node_item_t *items = NULL;
  size_t k = 0;
  if ((rc = get_list(c, v, cpath, &items, &k))) return rc;
  if (k == 0) return fail(c, v, cpath, "list at least one collection");
  db->collections = calloc(k, sizeof *db->collections);
  if (!db->collections) return mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; i < k; i++) {
    yaml_node_t *cn = yaml_document_get_node(&c->doc, items[i]);
    subpath(sub, "%s[%zu]", cpath, i);
    db->n_collections++;
    if ((rc = parse_collection(c, cn, sub, &db->collections[i]))) return rc;
    for (size_t j = 0; j < i; j++)
      if (strcmp(db->collections[j].name, db->collections[i].name) == 0)
        return fail(c, cn, sub, "collection '%s' is listed twice",
                    db->collections[i].name);
  }
  return MDBEE_OK;
}

/* ---- MongoDB URI and password ----------------------------------------- */

/* Start of the authority (after "scheme://"), or NULL. */
static const char *authority(const char *uri) {
  const char *p = strstr(uri, "://");
  return p ? p + 3 : NULL;
}

/* The '@' ending the user part inside the authority, or NULL. */
static const char *userinfo_end(const char *auth) {
  size_t n = strcspn(auth, "/?");
  const char *at = NULL;
  for (const char *p = auth; p < auth + n; p++)
    if (*p == '@') at = p;
  return at;
}

char *mdb_config_redact_uri(const char *uri) {
  const char *auth = authority(uri);
  if (!auth) return strdup("***");
  const char *at = userinfo_end(auth);
  const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
  if (!colon) return strdup(uri);
  size_t head = (size_t)(colon - uri) + 1, len = head + 3 + strlen(at) + 1;
  char *out = malloc(len);
  if (out) snprintf(out, len, "%.*s***%s", (int)head, uri, at);
  return out;
}

static int read_secret_file(ctx *c, yaml_node_t *n, const char *path,
                            const char *file, char **out) {
  struct stat st;
  if (stat(file, &st) != 0)
    return fail(c, n, path, "%s: %s", file, strerror(errno));
  if (st.st_mode & 077)
    return fail(c, n, path, "%s is readable by others (mode %04o); "
                "chmod 600 it", file, (unsigned)(st.st_mode & 07777));
  FILE *f = fopen(file, "r");
  if (!f) return fail(c, n, path, "%s: %s", file, strerror(errno));
  char buf[1024];
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = '\0';
  while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
  if (!len) return fail(c, n, path, "%s is empty", file);
  *out = strdup(buf);
  sodium_memzero(buf, sizeof buf);
  return *out ? MDBEE_OK : mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
}

static int parse_mongodb(ctx *c, yaml_node_t *n, mdb_config *cfg) {
  static const char *const keys[] = {"uri", "password_env", "password_file",
                                     "watch", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, "mongodb", keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *uri_node = field(c, n, "mongodb", "uri", sub);
  char uri_path[PATH_MAX_TEXT];
  subpath(uri_path, "%s", sub);
  if (!uri_node) return fail(c, n, uri_path, "missing");
  char *uri;
  if ((rc = get_string(c, uri_node, uri_path, &uri))) return rc;
  const char *auth = authority(uri);
  if (strncmp(uri, "mongodb://", 10) != 0 && strncmp(uri, "mongodb+srv://", 14) != 0) {
    free(uri);
    return fail(c, uri_node, uri_path, "expected a mongodb:// or mongodb+srv:// URI");
  }
  const char *at = userinfo_end(auth);
  if (at && memchr(auth, ':', (size_t)(at - auth))) {
    sodium_memzero(uri, strlen(uri));
    free(uri);
    return fail(c, uri_node, uri_path, "the URI contains a password; give it "
                "with mongodb.password_env or mongodb.password_file instead");
  }
  yaml_node_t *env = field(c, n, "mongodb", "password_env", sub);
  char env_path[PATH_MAX_TEXT];
  subpath(env_path, "%s", sub);
  yaml_node_t *file = field(c, n, "mongodb", "password_file", sub);
  char *password = NULL;
  if (env && file) {
    rc = fail(c, file, sub, "give either password_env or password_file, not both");
  } else if (env) {
    const char *var = scalar(env);
    const char *val = var ? getenv(var) : NULL;
    if (!var || !var[0]) rc = fail(c, env, env_path, "expected a variable name");
    else if (!val || !val[0])
      rc = fail(c, env, env_path, "environment variable %s is not set", var);
    else if (!(password = strdup(val)))
      rc = mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
  } else if (file) {
    char *fname;
    if ((rc = get_path(c, file, sub, &fname)) == MDBEE_OK) {
      rc = read_secret_file(c, file, sub, fname, &password);
      free(fname);
    }
  }
  if (rc == MDBEE_OK && password && !at)
    rc = fail(c, uri_node, uri_path, "a password is configured but the URI "
              "names no user (mongodb://USER@host/...)");
  if (rc == MDBEE_OK && password) {
    /* user:password@, the password percent-encoded as the URI needs. */
    size_t head = (size_t)(at - uri), plen = strlen(password);
    size_t len = head + 1 + 3 * plen + strlen(at) + 1;
    char *full = malloc(len);
    if (!full) {
      rc = mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
    } else {
      size_t o = (size_t)snprintf(full, len, "%.*s:", (int)head, uri);
      for (size_t i = 0; i < plen; i++) {
        unsigned char ch = (unsigned char)password[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr("-._~", ch))
          full[o++] = (char)ch;
        else
          o += (size_t)snprintf(full + o, len - o, "%%%02X", ch);
      }
      snprintf(full + o, len - o, "%s", at);
      cfg->mongo_uri = full;
    }
  }
  if (password) {
    sodium_memzero(password, strlen(password));
    free(password);
  }
  if (rc == MDBEE_OK && !cfg->mongo_uri) {
    cfg->mongo_uri = uri;
    uri = NULL;
  }
  free(uri);
  if (rc != MDBEE_OK) return rc;
  cfg->mongo_uri_redacted = mdb_config_redact_uri(cfg->mongo_uri);
  if (!cfg->mongo_uri_redacted) return mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
  yaml_node_t *w = field(c, n, "mongodb", "watch", sub);
  if (w) {
    const char *s = scalar(w);
    if (s && strcmp(s, "collection") == 0) cfg->watch = MDB_SOURCE_WATCH_COLLECTION;
    else if (s && strcmp(s, "database") == 0) cfg->watch = MDB_SOURCE_WATCH_DATABASE;
    else if (s && strcmp(s, "deployment") == 0) cfg->watch = MDB_SOURCE_WATCH_DEPLOYMENT;
    else return fail(c, w, sub, "expected collection, database or deployment");
  }
  return MDBEE_OK;
}

static int parse_bee(ctx *c, yaml_node_t *n, mdb_config *cfg) {
  static const char *const keys[] = {"url", "postage", NULL};
  static const char *const pkeys[] = {"batch", "amount", "depth", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, "bee", keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v = field(c, n, "bee", "url", sub);
  if (!v) return fail(c, n, sub, "missing");
  if ((rc = get_string(c, v, sub, &cfg->bee_url))) return rc;
  if (strncmp(cfg->bee_url, "http://", 7) != 0 && strncmp(cfg->bee_url, "https://", 8) != 0)
    return fail(c, v, sub, "expected an http:// or https:// URL");
  size_t l = strlen(cfg->bee_url);
  while (l > 8 && cfg->bee_url[l - 1] == '/') cfg->bee_url[--l] = '\0';
  yaml_node_t *p = field(c, n, "bee", "postage", sub);
  if (!p) return fail(c, n, sub, "missing");
  if ((rc = check_mapping(c, p, "bee.postage", pkeys))) return rc;
  v = field(c, p, "bee.postage", "batch", sub);
  if (!v) return fail(c, p, sub, "missing");
  const char *batch = scalar(v);
  yaml_node_t *amount = field(c, p, "bee.postage", "amount", sub);
  yaml_node_t *depth = field(c, p, "bee.postage", "depth", sub);
  if (batch && strcmp(batch, "auto") == 0) {
    cfg->batch_auto = 1;
    uint64_t d;
    if (!amount) return fail(c, p, "bee.postage.amount", "missing (needed with batch: auto)");
    if (!depth) return fail(c, p, "bee.postage.depth", "missing (needed with batch: auto)");
    if ((rc = get_uint(c, amount, "bee.postage.amount", UINT64_MAX, &cfg->batch_amount)))
      return rc;
    if (cfg->batch_amount == 0)
      return fail(c, amount, "bee.postage.amount", "must be positive");
    if ((rc = get_uint(c, depth, "bee.postage.depth", 255, &d))) return rc;
    if (d < 17) return fail(c, depth, "bee.postage.depth", "must be at least 17 (Bee's minimum)");
    cfg->batch_depth = (uint32_t)d;
    return MDBEE_OK;
  }
  mdb_error e = {0};
  if (!batch || mdb_hex_decode(batch, cfg->batch_id, 32, &e) != MDBEE_OK)
    return fail(c, v, "bee.postage.batch", "expected auto or a batch id of 64 hex digits");
  if (amount || depth)
    return fail(c, amount ? amount : depth, amount ? "bee.postage.amount" : "bee.postage.depth",
                "only used with batch: auto");
  return MDBEE_OK;
}

static int parse_snapshot(ctx *c, yaml_node_t *n, mdb_config *cfg) {
  static const char *const keys[] = {"interval", "json", "encrypt", "retention", NULL};
  static const char *const rkeys[] = {"keep_last", "keep_for", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, "snapshot", keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v;
  if ((v = field(c, n, "snapshot", "interval", sub))) {
    if ((rc = get_duration(c, v, sub, &cfg->snapshot_interval_ms))) return rc;
    if (cfg->snapshot_interval_ms < 1000) return fail(c, v, sub, "must be at least 1s");
  }
  if ((v = field(c, n, "snapshot", "json", sub))) {
    const char *s = scalar(v);
    if (!s || mdb_ejson_mode_parse(s, &cfg->json_mode) != MDBEE_OK)
      return fail(c, v, sub, "expected relaxed or canonical");
  }
  if ((v = field(c, n, "snapshot", "encrypt", sub)) &&
      (rc = get_bool(c, v, sub, &cfg->encrypt)))
    return rc;
  yaml_node_t *r = field(c, n, "snapshot", "retention", sub);
  if (!r) return MDBEE_OK;
  if ((rc = check_mapping(c, r, sub, rkeys))) return rc;
  if ((v = field(c, r, "snapshot.retention", "keep_last", sub))) {
    uint64_t k;
    if ((rc = get_uint(c, v, sub, UINT32_MAX, &k))) return rc;
    if (k == 0) return fail(c, v, sub, "must be at least 1 (leave it out to keep all)");
    cfg->retention_keep_last = (uint32_t)k;
  }
  if ((v = field(c, r, "snapshot.retention", "keep_for", sub)))
    return get_duration(c, v, sub, &cfg->retention_keep_for_ms);
  return MDBEE_OK;
}

static int parse_metrics(ctx *c, yaml_node_t *n, mdb_config *cfg) {
  static const char *const keys[] = {"listen", NULL};
  char sub[PATH_MAX_TEXT];
  int rc = check_mapping(c, n, "metrics", keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v = field(c, n, "metrics", "listen", sub);
  if (!v) return fail(c, n, sub, "missing");
  if ((rc = get_string(c, v, sub, &cfg->listen))) return rc;
  const char *colon = strrchr(cfg->listen, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : 0;
  if (!colon || colon == cfg->listen || !colon[1] || *end || port < 1 || port > 65535)
    return fail(c, v, sub, "expected HOST:PORT, e.g. 127.0.0.1:9464");
  return MDBEE_OK;
}

static int parse_root(ctx *c, yaml_node_t *root, mdb_config *cfg) {
  static const char *const keys[] = {"mongodb", "bee", "key_file", "state_dir",
                                     "snapshot", "metrics", "databases", NULL};
  char sub[PATH_MAX_TEXT];
  if (!root) return fail(c, NULL, "", "the file is empty");
  int rc = check_mapping(c, root, "", keys);
  if (rc != MDBEE_OK) return rc;
  yaml_node_t *v;
  if (!(v = field(c, root, "", "mongodb", sub))) return fail(c, root, sub, "missing");
  if ((rc = parse_mongodb(c, v, cfg))) return rc;
  if (!(v = field(c, root, "", "bee", sub))) return fail(c, root, sub, "missing");
  if ((rc = parse_bee(c, v, cfg))) return rc;
  if (!(v = field(c, root, "", "key_file", sub))) return fail(c, root, sub, "missing");
  if ((rc = get_path(c, v, sub, &cfg->key_file))) return rc;
  if (!(v = field(c, root, "", "state_dir", sub))) return fail(c, root, sub, "missing");
  if ((rc = get_path(c, v, sub, &cfg->state_dir))) return rc;
  if ((v = field(c, root, "", "snapshot", sub)) && (rc = parse_snapshot(c, v, cfg)))
    return rc;
  if ((v = field(c, root, "", "metrics", sub)) && (rc = parse_metrics(c, v, cfg)))
    return rc;
  if (!(v = field(c, root, "", "databases", sub))) return fail(c, root, sub, "missing");
  yaml_node_item_t *items = NULL;
  size_t k = 0;
  if ((rc = get_list(c, v, "databases", &items, &k))) return rc;
  if (k == 0) return fail(c, v, "databases", "list at least one database");
  cfg->databases = calloc(k, sizeof *cfg->databases);
  if (!cfg->databases) return mdb_error_set(c->err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; i < k; i++) {
    yaml_node_t *dn = yaml_document_get_node(&c->doc, items[i]);
    subpath(sub, "databases[%zu]", i);
    cfg->n_databases++;
    if ((rc = parse_database(c, dn, sub, &cfg->databases[i]))) return rc;
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->databases[j].name, cfg->databases[i].name) == 0)
        return fail(c, dn, sub, "database '%s' is listed twice", cfg->databases[i].name);
  }
  return MDBEE_OK;
}

int mdb_config_parse(const char *name, const char *text, size_t len,
                     mdb_config **out, mdb_error *err) {
  ctx c = {.name = name, .err = err};
  const char *slash = strrchr(name, '/');
  c.dir = slash ? strndup(name, (size_t)(slash - name) + (slash == name))
                : NULL;
  mdb_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg || (slash && !c.dir)) {
    free(cfg);
    free(c.dir);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  cfg->snapshot_interval_ms = 60000;
  cfg->path = strdup(name);
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int rc;
  if (!yaml_parser_load(&parser, &c.doc)) {
    rc = mdb_error_set(err, MDBEE_ECONFIG, "%s:%zu: %s%s%s", name,
                       parser.problem_mark.line + 1,
                       parser.problem ? parser.problem : "invalid YAML",
                       parser.context ? " " : "",
                       parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
  } else {
    yaml_parser_delete(&parser);
    rc = cfg->path ? parse_root(&c, yaml_document_get_root_node(&c.doc), cfg)
                   : mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    yaml_document_delete(&c.doc);
  }
  free(c.dir);
  if (rc != MDBEE_OK) {
    mdb_config_free(cfg);
    return rc;
  }
  *out = cfg;
  return MDBEE_OK;
}

int mdb_config_load(const char *path, mdb_config **out, mdb_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 8192;
      char *grown = cap > (16u << 20) ? NULL : realloc(text, cap);
      if (!grown) {
        free(text);
        fclose(f);
        return mdb_error_set(err, MDBEE_ECONFIG, "%s: too large", path);
      }
      text = grown;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  int rc = bad ? mdb_error_set(err, MDBEE_EIO, "%s: read failed", path)
               : mdb_config_parse(path, text, len, out, err);
  free(text);
  return rc;
}

static void free_strings(char **s, size_t n) {
  for (size_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

void mdb_config_free(mdb_config *cfg) {
  if (!cfg) return;
  if (cfg->mongo_uri) sodium_memzero(cfg->mongo_uri, strlen(cfg->mongo_uri));
  free(cfg->mongo_uri);
  free(cfg->mongo_uri_redacted);
  free(cfg->path);
  free(cfg->bee_url);
  free(cfg->key_file);
  free(cfg->state_dir);
  free(cfg->listen);
  for (size_t d = 0; d < cfg->n_databases; d++) {
    mdb_config_database *db = &cfg->databases[d];
    for (size_t i = 0; i < db->n_collections; i++) {
      mdb_config_collection *coll = &db->collections[i];
      free(coll->name);
      free_strings(coll->redact, coll->n_redact);
      for (size_t j = 0; j < coll->n_indexes; j++) {
        free(coll->indexes[j].name);
        free_strings(coll->indexes[j].fields, coll->indexes[j].n_fields);
      }
      free(coll->indexes);
    }
    free(db->collections);
    free(db->name);
    free(db->feed_topic_text);
  }
  free(cfg->databases);
  free(cfg);
}

const mdb_config_collection *mdb_config_find(const mdb_config *cfg,
                                             const char *db,
                                             const char *coll) {
  for (size_t d = 0; d < cfg->n_databases; d++) {
    if (strcmp(cfg->databases[d].name, db) != 0) continue;
    for (size_t i = 0; i < cfg->databases[d].n_collections; i++)
      if (strcmp(cfg->databases[d].collections[i].name, coll) == 0)
        return &cfg->databases[d].collections[i];
  }
  return NULL;
}

int mdb_config_parse_duration(const char *text, uint64_t *ms, mdb_error *err) {
  static const struct { const char *unit; uint64_t ms; } units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  uint64_t total = 0;
  const char *p = text;
  if (!*p) return mdb_error_set(err, MDBEE_ECONFIG, "empty duration");
  while (*p) {
    if (*p < '0' || *p > '9')
      return mdb_error_set(err, MDBEE_ECONFIG, "bad duration '%s' (use e.g. "
                           "500ms, 30s, 5m, 1h30m, 7d)", text);
    uint64_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (n > (UINT64_MAX - 9) / 10)
        return mdb_error_set(err, MDBEE_ECONFIG, "duration '%s' is too long", text);
      n = n * 10 + (uint64_t)(*p - '0');
    }
    size_t u = 0, ulen = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t l = strlen(units[i].unit);
      /* "ms" must win over "m" */
      if (strncmp(p, units[i].unit, l) == 0 && l > ulen) {
        u = i;
        ulen = l;
      }
    }
    if (!ulen)
      return mdb_error_set(err, MDBEE_ECONFIG, "bad duration '%s': a number "
                           "needs a unit (ms, s, m, h, d)", text);
    if (n > (UINT64_MAX - total) / units[u].ms)
      return mdb_error_set(err, MDBEE_ECONFIG, "duration '%s' is too long", text);
    total += n * units[u].ms;
    p += ulen;
  }
  *ms = total;
  return MDBEE_OK;
}
