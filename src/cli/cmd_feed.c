/* mdbee feed: sequence feeds.
 *   mdbee feed address --owner 0xADDR --topic HEX32 --index N
 *     prints the chunk address of update N.
 *   mdbee feed update --key-file F --topic HEX32 --index N --ref HEX
 *                     [--timestamp SECONDS] --out FILE
 *     writes a signed v1 update (timestamp || reference) and prints its
 *     address; the timestamp defaults to now. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "mdbee/feed.h"
#include "mdbee/hex.h"

static int usage(void) {
  fprintf(stderr,
          "usage: mdbee feed address --owner 0xADDR --topic HEX32 --index N\n"
          "       mdbee feed update --key-file FILE --topic HEX32 --index N "
          "--ref HEX [--timestamp SECONDS] --out FILE\n");
  return CLI_USAGE;
}

static int parse_u64(const char *s, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return 0;
  *out = v;
  return 1;
}

static void print_ref(const uint8_t ref[MDB_REF_SIZE]) {
  char hex[2 * MDB_REF_SIZE + 1];
  mdb_hex_encode(ref, MDB_REF_SIZE, hex);
  printf("%s\n", hex);
}

int cli_feed(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *sub = argv[1];
  const char *owner_hex = NULL, *topic_hex = NULL, *index_s = NULL,
             *key_file = NULL, *ref_hex = NULL, *time_s = NULL, *out = NULL;
  static const struct option opts[] = {
      {"owner", required_argument, 0, 'w'}, {"topic", required_argument, 0, 't'},
      {"index", required_argument, 0, 'i'}, {"key-file", required_argument, 0, 'k'},
      {"ref", required_argument, 0, 'r'},   {"timestamp", required_argument, 0, 's'},
      {"out", required_argument, 0, 'o'},   {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    switch (c) {
    case 'w': owner_hex = optarg; break;
    case 't': topic_hex = optarg; break;
    case 'i': index_s = optarg; break;
    case 'k': key_file = optarg; break;
    case 'r': ref_hex = optarg; break;
    case 's': time_s = optarg; break;
    case 'o': out = optarg; break;
    default: return usage();
    }
  }
  uint64_t index, timestamp = (uint64_t)time(NULL);
  if (optind != argc - 1 || !topic_hex || !parse_u64(index_s, &index) ||
      (time_s && !parse_u64(time_s, &timestamp)))
    return usage();
  int is_address = strcmp(sub, "address") == 0;
  if (is_address ? !owner_hex || key_file || ref_hex || time_s || out
                 : strcmp(sub, "update") != 0 || owner_hex || !key_file ||
                       !ref_hex || !out)
    return usage();
  const char *cmd = is_address ? "feed address" : "feed update";
  mdb_error err = {0};
  uint8_t topic[MDB_FEED_TOPIC_SIZE], address[MDB_REF_SIZE];
  if (mdb_hex_decode(topic_hex, topic, sizeof topic, &err) != MDBEE_OK)
    return mdb_error_wrap(&err, "--topic"), cli_fail(cmd, &err);
  if (is_address) {
    uint8_t owner[MDB_ADDRESS_SIZE];
    if (mdb_hex_decode(owner_hex, owner, sizeof owner, &err) != MDBEE_OK)
      return mdb_error_wrap(&err, "--owner"), cli_fail(cmd, &err);
    mdb_feed_update_address(owner, topic, index, address);
    print_ref(address);
    return CLI_OK;
  }
  uint8_t ref[2 * MDB_REF_SIZE];
  size_t hex_len = strlen(ref_hex) - (strncmp(ref_hex, "0x", 2) ? 0 : 2);
  size_t ref_len = hex_len == 4 * MDB_REF_SIZE ? 2 * MDB_REF_SIZE : MDB_REF_SIZE;
  if (mdb_hex_decode(ref_hex, ref, ref_len, &err) != MDBEE_OK)
    return mdb_error_wrap(&err, "--ref"), cli_fail(cmd, &err);
  mdb_key *key = NULL;
  uint8_t soc[MDB_SOC_SIZE_MAX];
  size_t soc_size = 0;
  int rc = mdb_key_load_file(key_file, NULL, &key, &err);
  if (rc == MDBEE_OK)
    rc = mdb_feed_update_make(key, topic, index, timestamp, ref, ref_len, soc,
                              &soc_size, address, &err);
  mdb_key_free(key);
  if (rc == MDBEE_OK) rc = cli_write_file(out, soc, soc_size, &err);
  if (rc != MDBEE_OK) return cli_fail(cmd, &err);
  print_ref(address);
  return CLI_OK;
}
