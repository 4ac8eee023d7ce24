/* mdbee bson2json: prints BSON documents as the Extended JSON mdbee
 * publishes.  The input is one BSON document or several back to back (as
 * mongodump's .bson files hold them); each is printed followed by a
 * newline.  Lets an operator preview a document and the conformance tests
 * drive the encoder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mdbee/ejson.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: mdbee bson2json [--canonical] [--redact PATH]... [FILE|-]\n"
          "  --canonical    canonical Extended JSON (default: relaxed)\n"
          "  --redact PATH  leave out the dotted field path (repeatable)\n");
}

int cli_bson2json(int argc, char **argv) {
  static const struct option longopts[] = {
      {"canonical", no_argument, NULL, 'c'},
      {"redact", required_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  mdb_ejson_options opts = {0};
  const char **redact = calloc((size_t)argc, sizeof *redact);
  if (!redact) {
    fprintf(stderr, "mdbee bson2json: out of memory\n");
    return CLI_FAIL;
  }
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (c == 'c') {
      opts.mode = MDB_EJSON_CANONICAL;
    } else if (c == 'r') {
      redact[opts.n_redact++] = optarg;
    } else {
      usage(c == 'h' ? stdout : stderr);
      free(redact);
      return c == 'h' ? CLI_OK : CLI_USAGE;
    }
  }
  if (argc - optind > 1) {
    usage(stderr);
    free(redact);
    return CLI_USAGE;
  }
  opts.redact = redact;
  mdb_error err = {0};
  uint8_t *data = NULL;
  size_t len = 0;
  int rc = cli_read_all(optind < argc ? argv[optind] : NULL, &data, &len, &err);
  size_t off = 0, n = 0;
  while (rc == MDBEE_OK && off < len) {
    size_t doc_len = len - off;
    if (doc_len >= 4) {
      uint32_t l = (uint32_t)data[off] | (uint32_t)data[off + 1] << 8 |
                   (uint32_t)data[off + 2] << 16 | (uint32_t)data[off + 3] << 24;
      if (l < doc_len) doc_len = l;
    }
    char *json;
    size_t json_len;
    rc = mdb_ejson_encode(data + off, doc_len, &opts, &json, &json_len, &err);
    if (rc != MDBEE_OK) {
      mdb_error_wrap(&err, "document %zu (byte %zu)", n, off);
      break;
    }
    fwrite(json, 1, json_len, stdout);
    putchar('\n');
    free(json);
    off += doc_len;
    n++;
  }
  free(data);
  free(redact);
  if (rc == MDBEE_OK && fflush(stdout) != 0)
    rc = mdb_error_set(&err, MDBEE_EIO, "cannot write standard output");
  return rc == MDBEE_OK ? CLI_OK : cli_fail("bson2json", &err);
}
