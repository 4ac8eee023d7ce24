/* mdbee get: reads a published document (or any path) through a gateway,
 * verifying every chunk and the feed update's signature. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mdbee/bee.h"
#include "mdbee/feed.h"
#include "mdbee/hex.h"
#include "mdbee/reader.h"

static int usage(int status) {
  fprintf(status == CLI_OK ? stdout : stderr,
          "usage: mdbee get [--gateway URL] (--root REF | --owner 0xADDR\n"
          "                 (--db NAME | --topic HEX32) [--at UNIX_SECONDS]) PATH\n"
          "Prints the file at PATH (e.g. customers/65000000c0ffee0000000000,\n"
          "$meta) of a published snapshot: the one at --root, or the newest\n"
          "(or newest at --at) announced by the owner's feed.  The feed topic of\n"
          "database NAME is Keccak-256 of \"mdbee:NAME\" unless configured\n"
          "otherwise.  Every chunk is verified; the gateway is not trusted.\n"
          "Default gateway: http://127.0.0.1:1633.\n");
  return status;
}

int cli_get(int argc, char **argv) {
  static const struct option options[] = {
      {"gateway", required_argument, NULL, 'g'},
      {"root", required_argument, NULL, 'r'},
      {"owner", required_argument, NULL, 'o'},
      {"db", required_argument, NULL, 'd'},
      {"topic", required_argument, NULL, 't'},
      {"at", required_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *gateway = "http://127.0.0.1:1633", *root_hex = NULL,
             *owner_hex = NULL, *db = NULL, *topic_hex = NULL;
  int64_t at = 0;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
    case 'g': gateway = optarg; break;
    case 'r': root_hex = optarg; break;
    case 'o': owner_hex = optarg; break;
    case 'd': db = optarg; break;
    case 't': topic_hex = optarg; break;
    case 'a': at = strtoll(optarg, NULL, 10); break;
    default: return usage(opt == 'h' ? CLI_OK : CLI_USAGE);
    }
  }
  if (optind != argc - 1 || (!root_hex && !(owner_hex && (db || topic_hex))))
    return usage(CLI_USAGE);
  const char *path = argv[optind];
  mdb_error err = {0};
  uint8_t root[32], owner[20], topic[32];
  if (root_hex && mdb_hex_decode(root_hex, root, 32, &err) != MDBEE_OK)
    return cli_fail("get --root", &err);
  if (!root_hex) {
    if (mdb_hex_decode(owner_hex, owner, 20, &err) != MDBEE_OK)
      return cli_fail("get --owner", &err);
    if (topic_hex && mdb_hex_decode(topic_hex, topic, 32, &err) != MDBEE_OK)
      return cli_fail("get --topic", &err);
    if (!topic_hex) {
      char text[512];
      int n = snprintf(text, sizeof text, "mdbee:%s", db);
      mdb_feed_topic_from_string(text, (size_t)n, topic);
    }
  }
  mdb_bee *bee = NULL;
  mdb_bee_options bee_opts = {.url = gateway};
  int rc = mdb_bee_open(&bee_opts, &bee, &err);
  if (rc == MDBEE_OK && !root_hex) {
    mdb_reader_update u;
    rc = mdb_reader_feed_update(bee, owner, topic, at, &u, &err);
    if (rc == MDBEE_OK) {
      memcpy(root, u.root, 32);
      char hex[65];
      mdb_hex_encode(root, 32, hex);
      fprintf(stderr, "feed update %llu of %llu: root %s\n",
              (unsigned long long)u.index, (unsigned long long)u.timestamp, hex);
    }
  }
  uint8_t *data = NULL;
  size_t len = 0;
  char *type = NULL;
  if (rc == MDBEE_OK) rc = mdb_reader_get(bee, root, path, &data, &len, &type, &err);
  if (rc == MDBEE_OK && fwrite(data, 1, len, stdout) != len)
    rc = mdb_error_set(&err, MDBEE_EIO, "writing standard output");
  free(data);
  free(type);
  mdb_bee_close(bee);
  return rc == MDBEE_OK ? CLI_OK : cli_fail("get", &err);
}
