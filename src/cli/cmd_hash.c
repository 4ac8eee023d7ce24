/* mdbee hash: prints the Swarm reference of a file, the same that bee-js,
 * `bee split` and Bee's POST /bytes give, without uploading anything.  The
 * input is streamed, so any size works, from a file or a pipe. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mdbee/bmt.h"
#include "mdbee/chunk.h"
#include "mdbee/hex.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: mdbee hash [--prefixes N,N,...] [--threads N] [FILE|-]\n"
          "Prints the 64-hex Swarm reference (unencrypted chunk tree) of FILE\n"
          "or standard input.\n"
          "  --prefixes LIST  print the reference of the first N bytes for\n"
          "                   each N in LIST instead (one per line, in order)\n"
          "  --threads N      hash on at most N threads (1-32; default one\n"
          "                   per CPU)\n");
}

static void print_ref(const uint8_t ref[MDB_REF_SIZE]) {
  char hex[2 * MDB_REF_SIZE + 1];
  mdb_hex_encode(ref, MDB_REF_SIZE, hex);
  printf("%s\n", hex);
}

static int hash_stream(FILE *in, const char *name, mdb_error *err) {
  mdb_splitter *sp;
  int rc = mdb_splitter_new(NULL, NULL, &sp, err);
  if (rc != MDBEE_OK) return rc;
  enum { BLOCK = 1 << 20 };
  uint8_t *buf = malloc(BLOCK);
  if (!buf) rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  while (rc == MDBEE_OK) {
    size_t n = fread(buf, 1, BLOCK, in);
    if (n > 0) rc = mdb_splitter_write(sp, buf, n, err);
    if (n < BLOCK) break;
  }
  if (rc == MDBEE_OK && ferror(in))
    rc = mdb_error_set(err, MDBEE_EIO, "%s: %s", name, strerror(errno));
  uint8_t root[MDB_REF_SIZE];
  if (rc == MDBEE_OK) rc = mdb_splitter_finish(sp, root, err);
  if (rc == MDBEE_OK) print_ref(root);
  free(buf);
  mdb_splitter_free(sp);
  return rc;
}

/* Parses "N,N,..." into a malloc'd array. */
static int parse_prefixes(const char *text, size_t **out, size_t *count) {
  size_t cap = 1;
  for (const char *p = text; *p; p++) cap += *p == ',';
  size_t *v = malloc(cap * sizeof *v), n = 0;
  if (!v) return 0;
  const char *p = text;
  for (;;) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(p, &end, 10);
    if (end == p || errno || *p == '-' || (*end != ',' && *end) ||
        x > SIZE_MAX) {
      free(v);
      return 0;
    }
    v[n++] = (size_t)x;
    if (!*end) break;
    p = end + 1;
  }
  *out = v;
  *count = n;
  return 1;
}

static int hash_prefixes(const char *path, const size_t *prefixes, size_t n,
                         mdb_error *err) {
  uint8_t *data;
  size_t len;
  int rc = cli_read_all(path, &data, &len, err);
  if (rc != MDBEE_OK) return rc;
  for (size_t i = 0; i < n && rc == MDBEE_OK; i++) {
    uint8_t root[MDB_REF_SIZE];
    if (prefixes[i] > len)
      rc = mdb_error_set(err, MDBEE_EINVAL,
                         "prefix %zu is longer than the input (%zu bytes)",
                         prefixes[i], len);
    else
      rc = mdb_chunk_tree_split(data, prefixes[i], NULL, NULL, root, err);
    if (rc == MDBEE_OK) print_ref(root);
  }
  free(data);
  return rc;
}

int cli_hash(int argc, char **argv) {
  static const struct option options[] = {
      {"prefixes", required_argument, NULL, 'p'},
      {"threads", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  size_t *prefixes = NULL, nprefixes = 0;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
    case 'p':
      free(prefixes);
      if (!parse_prefixes(optarg, &prefixes, &nprefixes)) {
        fprintf(stderr, "mdbee hash: --prefixes wants comma-separated "
                        "byte counts\n");
        return CLI_USAGE;
      }
      break;
    case 't': {
      char *end;
      unsigned long threads = strtoul(optarg, &end, 10);
      if (end == optarg || *end || threads < 1 || threads > 32) {
        fprintf(stderr, "mdbee hash: --threads wants a number from 1 to 32\n");
        free(prefixes);
        return CLI_USAGE;
      }
      mdb_bmt_set_threads((unsigned)threads);
      break;
    }
    case 'h':
      usage(stdout);
      free(prefixes);
      return CLI_OK;
    default:
      usage(stderr);
      free(prefixes);
      return CLI_USAGE;
    }
  }
  if (argc - optind > 1) {
    usage(stderr);
    free(prefixes);
    return CLI_USAGE;
  }
  const char *path = optind < argc ? argv[optind] : "-";
  mdb_error err = {0};
  int rc;
  if (prefixes) {
    rc = hash_prefixes(path, prefixes, nprefixes, &err);
    free(prefixes);
  } else {
    int from_stdin = strcmp(path, "-") == 0;
    FILE *in = from_stdin ? stdin : fopen(path, "rb");
    if (!in) {
      rc = mdb_error_set(&err, MDBEE_EIO, "%s: %s", path, strerror(errno));
    } else {
      rc = hash_stream(in, from_stdin ? "standard input" : path, &err);
      if (!from_stdin) fclose(in);
    }
  }
  fflush(stdout);
  return rc == MDBEE_OK ? CLI_OK : cli_fail("hash", &err);
}
