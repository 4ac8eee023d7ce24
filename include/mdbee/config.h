/* mdbee configuration: one YAML file (see docs/configuration.md and
 * config/mdbee.example.yaml).
 *
 * Loading is strict: an unknown key, a value of the wrong type, a bad
 * duration or a missing required key fails with MDBEE_ECONFIG and a
 * message of the form "FILE:LINE: key.path: what is wrong", e.g.
 *   mdbee.yaml:12: databases[0].collections[1].redact: expected a list
 *
 * The MongoDB password is never written in the file: it comes from an
 * environment variable or a file readable only by its owner.  The URI with
 * the password (mongo_uri) is secret; print mongo_uri_redacted instead.
 * Relative paths in the file are resolved against the file's directory.
 */
#ifndef MDBEE_CONFIG_H
#define MDBEE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/ejson.h"
#include "mdbee/error.h"
#include "mdbee/source.h"

/* A secondary index to publish under <collection>/$indexes/<name>/. */
typedef struct mdb_config_index {
  char *name;            /* URL-safe: [A-Za-z0-9._-], not starting with '.' */
  char **fields;         /* dotted key paths, in key order (ascending) */
  size_t n_fields;
} mdb_config_index;

typedef struct mdb_config_collection {
  char *name;
  char **redact;         /* dotted paths removed before publishing */
  size_t n_redact;
  mdb_config_index *indexes;
  size_t n_indexes;
} mdb_config_collection;

typedef struct mdb_config_database {
  char *name;
  /* Feed topic: Keccak-256 of feed_topic_text (default "mdbee:<name>"),
   * as bee-js Topic.fromString computes it; or, when the file gives
   * 64 hex digits, those bytes as they are. */
  uint8_t feed_topic[32];
  char *feed_topic_text;     /* NULL when the topic was given as hex */
  mdb_config_collection *collections;
  size_t n_collections;
} mdb_config_database;

typedef struct mdb_config {
  char *path;                 /* the file loaded, as given */

  char *mongo_uri;            /* SECRET: contains the password if any */
  char *mongo_uri_redacted;   /* safe to print: password shown as "***" */
  mdb_source_level watch;     /* default MDB_SOURCE_WATCH_COLLECTION */

  char *bee_url;              /* e.g. "http://localhost:1633" */
  int batch_auto;             /* 1: buy a batch (amount, depth) */
  uint8_t batch_id[32];       /* when batch_auto is 0 */
  uint64_t batch_amount;      /* when batch_auto is 1 */
  uint32_t batch_depth;       /* when batch_auto is 1 */

  char *key_file;             /* signing key (raw hex key or V3 keystore;
                                 a keystore's password comes from
                                 $MDBEE_KEY_PASSWORD, see key.h) */

  uint64_t snapshot_interval_ms;   /* default 60 s */
  uint32_t retention_keep_last;    /* 0: no count limit */
  uint64_t retention_keep_for_ms;  /* 0: no age limit */
  mdb_ejson_mode json_mode;        /* default MDB_EJSON_RELAXED */
  int encrypt;                     /* default 0 */
  char *state_dir;
  char *listen;               /* metrics/health "host:port", or NULL: off */

  mdb_config_database *databases;
  size_t n_databases;
} mdb_config;

/* Loads and validates path.  On success *out is the caller's, freed with
 * mdb_config_free.  Reads the password env var or file named there.
 * MDBEE_ECONFIG for any problem in the file (message names FILE:LINE and
 * the key path), MDBEE_EIO when the file cannot be read. */
int mdb_config_load(const char *path, mdb_config **out, mdb_error *err);

/* Same from YAML text in memory; name is used in messages and to resolve
 * relative paths (its directory). */
int mdb_config_parse(const char *name, const char *text, size_t len,
                     mdb_config **out, mdb_error *err);

/* Wipes the secret URI and frees everything.  NULL is a no-op. */
void mdb_config_free(mdb_config *cfg);

/* Finds a configured collection; NULL when db/coll is not published. */
const mdb_config_collection *mdb_config_find(const mdb_config *cfg,
                                             const char *db,
                                             const char *coll);

/* Writes uri with any password replaced by "***" into a malloc'd string
 * (caller frees); NULL when out of memory.  Safe on malformed URIs: when
 * no user part is recognised everything before the host is hidden. */
char *mdb_config_redact_uri(const char *uri);

/* Parses a duration such as "500ms", "30s", "5m", "1h30m", "7d" into
 * milliseconds.  MDBEE_ECONFIG when malformed or overflowing. */
int mdb_config_parse_duration(const char *text, uint64_t *ms,
                              mdb_error *err);

#endif
