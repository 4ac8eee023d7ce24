/* mdbee manifest: builds, reads and inspects mantaray manifests kept as a
 * directory of chunk files (one per chunk, named by its 64-hex address,
 * holding span || payload, i.e. the body of Bee's POST /chunks).  For
 * debugging published manifests and for the bee-js conformance tests. */
#include <bson/bson.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "mdbee/hex.h"
#include "mdbee/mantaray.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: mdbee manifest build --out DIR [--base ROOT] [--hex-paths] "
          "[ENTRIES]\n"
          "       mdbee manifest feed --owner HEX --topic HEX --out DIR\n"
          "       mdbee manifest ls [--hex-paths] DIR ROOT\n"
          "       mdbee manifest get [--hex-paths] DIR ROOT PATH\n"
          "\n"
          "build reads lines PATH<TAB>REFERENCE[<TAB>KEY=VALUE...] (file or\n"
          "standard input), writes every chunk of the manifest into DIR and\n"
          "prints the root reference.  With --base, the manifest ROOT in DIR\n"
          "is edited instead (read lazily; only changed nodes are written)\n"
          "and a REFERENCE of \"-\" removes PATH.  feed does the same for the feed\n"
          "manifest Bee's POST /feeds makes.  ls prints every entry in path\n"
          "order as PATH<TAB>REFERENCE<TAB>METADATA-JSON; get prints one.\n"
          "--hex-paths: paths are written and read as hex.\n");
}

/* Chunk files in a directory, as mdb_chunk_sink and mdb_chunk_source. */
static int dir_chunk_path(const char *dir, const uint8_t address[32],
                          char *out, size_t cap) {
  char hex[65];
  mdb_hex_encode(address, 32, hex);
  return snprintf(out, cap, "%s/%s", dir, hex) < (int)cap;
}

static int dir_sink(void *ctx, const mdb_chunk *c, mdb_error *err) {
  char path[4096];
  if (!dir_chunk_path(ctx, c->address, path, sizeof path))
    return mdb_error_set(err, MDBEE_EINVAL, "directory name too long");
  return cli_write_file(path, c->data, c->size, err);
}

static int dir_source(void *ctx, const uint8_t address[32], uint8_t *buf,
                      size_t *size, mdb_error *err) {
  char path[4096];
  if (!dir_chunk_path(ctx, address, path, sizeof path))
    return mdb_error_set(err, MDBEE_EINVAL, "directory name too long");
  FILE *f = fopen(path, "rb");
  if (!f)
    return mdb_error_set(err, errno == ENOENT ? MDBEE_ENOTFOUND : MDBEE_EIO,
                         "%s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, MDB_CHUNK_SIZE_MAX, f);
  int extra = fgetc(f);
  int failed = ferror(f);
  fclose(f);
  if (failed)
    return mdb_error_set(err, MDBEE_EIO, "%s: read error", path);
  if (extra != EOF)
    return mdb_error_set(err, MDBEE_EFORMAT, "%s: larger than a chunk", path);
  *size = n;
  return MDBEE_OK;
}

static int make_dir(const char *dir, mdb_error *err) {
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    return mdb_error_set(err, MDBEE_EIO, "%s: %s", dir, strerror(errno));
  return MDBEE_OK;
}

/* Decodes a path argument or column: literal bytes, or hex. */
static int decode_path(const char *text, size_t len, int hex, uint8_t **out,
                       size_t *out_len, mdb_error *err) {
  size_t n = hex ? len / 2 : len;
  uint8_t *p = malloc(n ? n : 1);
  if (!p)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (!hex) {
    memcpy(p, text, len);
  } else {
    char *t = strndup(text, len);
    int rc = t ? mdb_hex_decode(t, p, n, err)
               : mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    free(t);
    if (len % 2 && !rc)
      rc = mdb_error_set(err, MDBEE_EFORMAT, "odd number of hex digits");
    if (rc) {
      free(p);
      return rc;
    }
  }
  *out = p;
  *out_len = n;
  return MDBEE_OK;
}

/* One parsed line of the entries file; owns its strings. */
typedef struct line_entry {
  uint8_t *path;
  uint8_t ref[MDB_MANTARAY_REF_MAX];
  mdb_mantaray_kv *meta;
  char *text; /* the line, cut into the metadata strings */
} line_entry;

static int parse_line(char *line, size_t lineno, int hex_paths,
                      line_entry *le, mdb_mantaray_entry *e, mdb_error *err) {
  memset(le, 0, sizeof *le);
  memset(e, 0, sizeof *e);
  le->text = line;
  char *tab = strchr(line, '\t');
  if (!tab)
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "line %zu: expected PATH<TAB>REFERENCE", lineno);
  int rc = decode_path(line, (size_t)(tab - line), hex_paths, &le->path,
                       &e->path_len, err);
  if (rc)
    return mdb_error_wrap(err, "line %zu", lineno);
  e->path = le->path;
  char *ref = tab + 1, *rest = strchr(ref, '\t');
  if (rest)
    *rest++ = 0;
  if (strcmp(ref, "-") == 0 && !rest)
    return MDBEE_OK; /* a removal: ref_size stays 0 */
  size_t ref_hex = strlen(ref);
  if (ref_hex != 64 && ref_hex != 128)
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "line %zu: reference must be 64 or 128 hex digits",
                         lineno);
  if ((rc = mdb_hex_decode(ref, le->ref, ref_hex / 2, err)))
    return mdb_error_wrap(err, "line %zu", lineno);
  e->ref = le->ref;
  e->ref_size = ref_hex / 2;
  size_t n = 0;
  for (char *p = rest; p; p = strchr(p, '\t'))
    n++, p++;
  if (!n)
    return MDBEE_OK;
  le->meta = calloc(n, sizeof *le->meta);
  if (!le->meta)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    char *next = strchr(rest, '\t');
    if (next)
      *next++ = 0;
    char *eq = strchr(rest, '=');
    if (!eq)
      return mdb_error_set(err, MDBEE_EFORMAT,
                           "line %zu: metadata column %zu is not KEY=VALUE",
                           lineno, i + 1);
    *eq = 0;
    le->meta[i] = (mdb_mantaray_kv){rest, eq + 1};
    rest = next;
  }
  e->meta = le->meta;
  e->n_meta = n;
  return MDBEE_OK;
}

static int build(const char *out_dir, const char *base, const char *input,
                 int hex_paths) {
  mdb_error err = {0};
  uint8_t *data, base_root[32];
  size_t len;
  if (base && mdb_hex_decode(base, base_root, 32, &err))
    return cli_fail("manifest", &err);
  if (cli_read_all(input, &data, &len, &err))
    return cli_fail("manifest", &err);
  if (make_dir(out_dir, &err)) {
    free(data);
    return cli_fail("manifest", &err);
  }
  mdb_mantaray *m = NULL;
  int rc = base ? mdb_mantaray_open(base_root, dir_source, (void *)out_dir, &m,
                                    &err)
                : mdb_mantaray_new(&m, &err);
  size_t lineno = 0;
  char *text = (char *)data;
  char *end = text + len;
  while (rc == MDBEE_OK && text < end) {
    char *nl = memchr(text, '\n', (size_t)(end - text));
    char *next = nl ? nl + 1 : end;
    lineno++;
    if (nl)
      *nl = 0;
    else if (memchr(text, 0, (size_t)(end - text)))
      rc = mdb_error_set(&err, MDBEE_EFORMAT, "line %zu: NUL byte", lineno);
    if (rc == MDBEE_OK && nl && memchr(text, 0, (size_t)(nl - text)))
      rc = mdb_error_set(&err, MDBEE_EFORMAT, "line %zu: NUL byte", lineno);
    if (rc == MDBEE_OK && *text) {
      line_entry le;
      mdb_mantaray_entry e;
      rc = parse_line(text, lineno, hex_paths, &le, &e, &err);
      if (rc == MDBEE_OK &&
          (rc = e.ref_size ? mdb_mantaray_put(m, &e, &err)
                           : mdb_mantaray_remove(m, e.path, e.path_len, &err)))
        mdb_error_wrap(&err, "line %zu", lineno);
      free(le.path);
      free(le.meta);
    }
    text = next;
  }
  uint8_t root[32];
  if (rc == MDBEE_OK)
    rc = mdb_mantaray_save(m, dir_sink, (void *)out_dir, root, &err);
  mdb_mantaray_free(m);
  free(data);
  if (rc)
    return cli_fail("manifest", &err);
  char hex[65];
  mdb_hex_encode(root, 32, hex);
  printf("%s\n", hex);
  return CLI_OK;
}

static int feed(const char *out_dir, const char *owner_hex,
                const char *topic_hex) {
  mdb_error err = {0};
  uint8_t owner[20], topic[32], root[32];
  if (mdb_hex_decode(owner_hex, owner, 20, &err))
    return cli_fail("manifest", &err);
  if (mdb_hex_decode(topic_hex, topic, 32, &err))
    return cli_fail("manifest", &err);
  if (make_dir(out_dir, &err) ||
      mdb_mantaray_feed_manifest(owner, topic, dir_sink, (void *)out_dir, root,
                                 &err))
    return cli_fail("manifest", &err);
  char hex[65];
  mdb_hex_encode(root, 32, hex);
  printf("%s\n", hex);
  return CLI_OK;
}

static int print_entry(void *ctx, const mdb_mantaray_entry *e,
                       mdb_error *err) {
  int hex_paths = *(const int *)ctx;
  char *buf = malloc(2 * (e->path_len > e->ref_size ? e->path_len
                                                    : e->ref_size) + 1);
  if (!buf)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (hex_paths) {
    mdb_hex_encode(e->path, e->path_len, buf);
    fputs(buf, stdout);
  } else {
    fwrite(e->path, 1, e->path_len, stdout);
  }
  mdb_hex_encode(e->ref, e->ref_size, buf);
  printf("\t%s\t", buf);
  free(buf);
  bson_t meta = BSON_INITIALIZER;
  for (size_t i = 0; i < e->n_meta; i++)
    BSON_APPEND_UTF8(&meta, e->meta[i].key, e->meta[i].value);
  char *json = bson_as_relaxed_extended_json(&meta, NULL);
  printf("%s\n", json ? json : "{}");
  bson_free(json);
  bson_destroy(&meta);
  return MDBEE_OK;
}

static int read_manifest(const char *dir, const char *root_hex,
                         const char *path, int hex_paths) {
  mdb_error err = {0};
  uint8_t root[32];
  mdb_mantaray *m = NULL;
  if (mdb_hex_decode(root_hex, root, 32, &err) ||
      mdb_mantaray_open(root, dir_source, (void *)dir, &m, &err))
    return cli_fail("manifest", &err);
  int rc;
  if (!path) {
    rc = mdb_mantaray_walk(m, print_entry, &hex_paths, &err);
  } else {
    uint8_t *p = NULL;
    size_t n = 0;
    mdb_mantaray_entry e;
    rc = decode_path(path, strlen(path), hex_paths, &p, &n, &err);
    if (rc == MDBEE_OK && (rc = mdb_mantaray_lookup(m, p, n, &e, &err)) == 0)
      rc = print_entry(&hex_paths, &e, &err);
    free(p);
  }
  mdb_mantaray_free(m);
  return rc ? cli_fail("manifest", &err) : CLI_OK;
}

int cli_manifest(int argc, char **argv) {
  static const struct option options[] = {
      {"out", required_argument, NULL, 'o'},
      {"hex-paths", no_argument, NULL, 'x'},
      {"owner", required_argument, NULL, 'w'},
      {"topic", required_argument, NULL, 't'},
      {"base", required_argument, NULL, 'b'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  const char *sub = argv[1], *out = NULL, *owner = NULL, *topic = NULL,
             *base = NULL;
  int hex_paths = 0, c;
  optind = 1;
  argc--, argv++;
  while ((c = getopt_long(argc, argv, "o:xh", options, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'x': hex_paths = 1; break;
    case 'w': owner = optarg; break;
    case 't': topic = optarg; break;
    case 'b': base = optarg; break;
    case 'h': usage(stdout); return CLI_OK;
    default: usage(stderr); return CLI_USAGE;
    }
  }
  int rest = argc - optind;
  char **args = argv + optind;
  if (strcmp(sub, "build") == 0 && out && rest <= 1)
    return build(out, base, rest ? args[0] : NULL, hex_paths);
  if (strcmp(sub, "feed") == 0 && out && owner && topic && rest == 0)
    return feed(out, owner, topic);
  if (strcmp(sub, "ls") == 0 && rest == 2)
    return read_manifest(args[0], args[1], NULL, hex_paths);
  if (strcmp(sub, "get") == 0 && rest == 3)
    return read_manifest(args[0], args[1], args[2], hex_paths);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  usage(stderr);
  return CLI_USAGE;
}
