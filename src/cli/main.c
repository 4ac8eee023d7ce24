/* mdbee command line: dispatches to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"version", "print the mdbee version", cli_version},
    {"bson2json", "print BSON documents as published Extended JSON",
     cli_bson2json},
    {"run", "run the bridge until SIGINT/SIGTERM", cli_run},
    {"sync", "--once: initial sync and one snapshot, then exit", cli_sync},
    {"status", "last snapshot, backlog and lag", cli_status},
    {"get", "read a published file, verifying every chunk", cli_get},
    {"source", "dump: print normalised MongoDB change events", cli_source},
    {"manifest", "build, ls, get: mantaray manifests as chunk files",
     cli_manifest},
    {"key", "address, new: the publisher's signing key", cli_key},
    {"soc", "make, verify: single owner chunks", cli_soc},
    {"feed", "address, update: sequence feed updates", cli_feed},
    {"hash", "print the Swarm reference of a file", cli_hash},
};

static void usage(FILE *out) {
  fprintf(out, "usage: mdbee <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'mdbee <command> --help' describes a command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "mdbee: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CLI_USAGE;
}

int cli_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("mdbee %s\n", MDBEE_VERSION);
  return CLI_OK;
}
