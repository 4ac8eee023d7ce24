/* mdbee key: the publisher's signing key.
 *   mdbee key address --key-file F   prints the 0x-prefixed owner address
 *   mdbee key new --out F            writes a fresh raw hex key, mode 0600 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mdbee/hex.h"
#include "mdbee/key.h"

static int usage(void) {
  fprintf(stderr,
          "usage: mdbee key address --key-file FILE\n"
          "       mdbee key new --out FILE\n"
          "FILE is a raw hex private key or an Ethereum V3 keystore (password "
          "in $%s).\n",
          MDB_KEY_PASSWORD_ENV);
  return CLI_USAGE;
}

void cli_print_address(const uint8_t address[MDB_ADDRESS_SIZE]) {
  char hex[2 * MDB_ADDRESS_SIZE + 1];
  mdb_hex_encode(address, MDB_ADDRESS_SIZE, hex);
  printf("0x%s\n", hex);
}

int cli_key(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *sub = argv[1];
  const char *path = NULL;
  static const struct option opts[] = {{"key-file", required_argument, 0, 'k'},
                                       {"out", required_argument, 0, 'o'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    if ((c == 'k' && strcmp(sub, "address") == 0) ||
        (c == 'o' && strcmp(sub, "new") == 0))
      path = optarg;
    else
      return usage();
  }
  if (!path || optind != argc - 1) return usage();
  mdb_error err = {0};
  mdb_key *key = NULL;
  uint8_t address[MDB_ADDRESS_SIZE];
  if (strcmp(sub, "address") == 0) {
    if (mdb_key_load_file(path, NULL, &key, &err) != MDBEE_OK)
      return cli_fail("key address", &err);
  } else {
    if (mdb_key_generate(&key, &err) != MDBEE_OK ||
        mdb_key_save_raw(key, path, &err) != MDBEE_OK) {
      mdb_key_free(key);
      return cli_fail("key new", &err);
    }
  }
  mdb_key_address(key, address);
  mdb_key_free(key);
  cli_print_address(address);
  return CLI_OK;
}
