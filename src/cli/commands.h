/* The mdbee subcommands.  Each takes the arguments after its name (argv[0]
 * is the subcommand name) and returns the process exit status: 0 success,
 * 1 failure (message already printed to stderr), 2 usage error. */
#ifndef MDBEE_CLI_COMMANDS_H
#define MDBEE_CLI_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_version(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_sync(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_get(int argc, char **argv);
int cli_source(int argc, char **argv);
int cli_manifest(int argc, char **argv);
int cli_key(int argc, char **argv);
int cli_soc(int argc, char **argv);
int cli_feed(int argc, char **argv);
int cli_hash(int argc, char **argv);
int cli_bson2json(int argc, char **argv);

/* Shared helpers (cli_io.c). */

/* Reads all of path ("-" or NULL: standard input) into a malloc'd buffer
 * owned by the caller. */
int cli_read_all(const char *path, uint8_t **data, size_t *len,
                 mdb_error *err);

/* Writes len bytes to path atomically (temporary file + rename). */
int cli_write_file(const char *path, const uint8_t *data, size_t len,
                   mdb_error *err);

/* Prints an Ethereum address as 0x and 40 hex digits and a newline
 * (cmd_key.c). */
void cli_print_address(const uint8_t address[20]);

/* Prints "mdbee <command>: <message>" to stderr and returns CLI_FAIL. */
int cli_fail(const char *command, const mdb_error *err);

#endif
