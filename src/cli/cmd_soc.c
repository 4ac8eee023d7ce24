/* mdbee soc: single owner chunks.
 *   mdbee soc make --key-file F --id HEX32 --out FILE [FILE|-]
 *     wraps the bytes (at most 4096) in a content-addressed chunk, signs it
 *     as a SOC, writes the SOC bytes to --out and prints its address.
 *   mdbee soc verify --address HEX32 [--owner 0xADDR] [FILE|-]
 *     checks SOC bytes claimed to live at an address; prints the owner. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mdbee/hex.h"
#include "mdbee/soc.h"

static int usage(void) {
  fprintf(stderr,
          "usage: mdbee soc make --key-file FILE --id HEX32 --out FILE "
          "[FILE|-]\n"
          "       mdbee soc verify --address HEX32 [--owner 0xADDR] "
          "[FILE|-]\n");
  return CLI_USAGE;
}

static int soc_make(const char *key_file, const char *id_hex,
                    const char *out, const char *in) {
  mdb_error err = {0};
  uint8_t id[MDB_SOC_ID_SIZE];
  if (mdb_hex_decode(id_hex, id, sizeof id, &err) != MDBEE_OK) {
    mdb_error_wrap(&err, "--id");
    return cli_fail("soc make", &err);
  }
  uint8_t *data = NULL;
  size_t len = 0;
  mdb_key *key = NULL;
  int rc = cli_read_all(in, &data, &len, &err);
  if (rc == MDBEE_OK && len > MDB_CHUNK_PAYLOAD_MAX)
    rc = mdb_error_set(&err, MDBEE_EINVAL,
                       "a SOC payload is at most %d bytes, input has %zu",
                       MDB_CHUNK_PAYLOAD_MAX, len);
  if (rc == MDBEE_OK) rc = mdb_key_load_file(key_file, NULL, &key, &err);
  uint8_t chunk[MDB_SPAN_SIZE + MDB_CHUNK_PAYLOAD_MAX], soc[MDB_SOC_SIZE_MAX];
  uint8_t address[MDB_REF_SIZE];
  size_t soc_size = 0;
  if (rc == MDBEE_OK) {
    mdb_bmt_span_encode(len, chunk);
    if (len) memcpy(chunk + MDB_SPAN_SIZE, data, len);
    rc = mdb_soc_make(key, id, chunk, MDB_SPAN_SIZE + len, soc, &soc_size,
                      address, &err);
  }
  mdb_key_free(key);
  free(data);
  if (rc == MDBEE_OK) rc = cli_write_file(out, soc, soc_size, &err);
  if (rc != MDBEE_OK) return cli_fail("soc make", &err);
  char hex[2 * MDB_REF_SIZE + 1];
  mdb_hex_encode(address, MDB_REF_SIZE, hex);
  printf("%s\n", hex);
  return CLI_OK;
}

static int soc_verify(const char *address_hex, const char *owner_hex,
                      const char *in) {
  mdb_error err = {0};
  uint8_t address[MDB_REF_SIZE], owner[MDB_ADDRESS_SIZE];
  if (mdb_hex_decode(address_hex, address, sizeof address, &err) != MDBEE_OK) {
    mdb_error_wrap(&err, "--address");
    return cli_fail("soc verify", &err);
  }
  if (owner_hex &&
      mdb_hex_decode(owner_hex, owner, sizeof owner, &err) != MDBEE_OK) {
    mdb_error_wrap(&err, "--owner");
    return cli_fail("soc verify", &err);
  }
  uint8_t *data = NULL;
  size_t len = 0;
  mdb_soc soc;
  int rc = cli_read_all(in, &data, &len, &err);
  if (rc == MDBEE_OK)
    rc = mdb_soc_verify(data, len, address, owner_hex ? owner : NULL, &soc,
                        &err);
  free(data);
  if (rc != MDBEE_OK) return cli_fail("soc verify", &err);
  cli_print_address(soc.owner);
  return CLI_OK;
}

int cli_soc(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *sub = argv[1];
  const char *key_file = NULL, *id = NULL, *out = NULL, *address = NULL,
             *owner = NULL;
  static const struct option opts[] = {{"key-file", required_argument, 0, 'k'},
                                       {"id", required_argument, 0, 'i'},
                                       {"out", required_argument, 0, 'o'},
                                       {"address", required_argument, 0, 'a'},
                                       {"owner", required_argument, 0, 'w'},
                                       {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    switch (c) {
    case 'k': key_file = optarg; break;
    case 'i': id = optarg; break;
    case 'o': out = optarg; break;
    case 'a': address = optarg; break;
    case 'w': owner = optarg; break;
    default: return usage();
    }
  }
  int rest = argc - 1 - optind;
  if (rest > 1) return usage();
  const char *in = rest == 1 ? argv[1 + optind] : NULL;
  if (strcmp(sub, "make") == 0 && key_file && id && out && !address && !owner)
    return soc_make(key_file, id, out, in);
  if (strcmp(sub, "verify") == 0 && address && !key_file && !id && !out)
    return soc_verify(address, owner, in);
  return usage();
}
