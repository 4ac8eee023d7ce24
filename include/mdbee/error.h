/* mdbee error reporting.
 *
 * Every fallible library function returns an int status: MDBEE_OK (0) on
 * success, or one of the MDBEE_E* codes below.  When the caller passes a
 * non-NULL mdb_error, the function also writes a human-readable message
 * there; the message never contains secret material (keys, passwords).
 *
 * Constants are prefixed MDBEE_ rather than MDB_ because LMDB, which mdbee
 * links, already owns the MDB_ namespace (MDB_SUCCESS, MDB_INVALID, ...).
 */
#ifndef MDBEE_ERROR_H
#define MDBEE_ERROR_H

#include <stddef.h>

enum {
  MDBEE_OK = 0,
  MDBEE_EINVAL,   /* the caller passed an argument the function cannot use */
  MDBEE_EFORMAT,  /* input bytes (file, network, BSON, manifest) are malformed */
  MDBEE_EVERIFY,  /* a hash, signature or owner does not match what it claims */
  MDBEE_ENOMEM,   /* allocation failed */
  MDBEE_EIO,      /* a file or stream operation failed; message has errno text */
  MDBEE_ENOTFOUND,/* the thing looked up does not exist */
  MDBEE_ENET,     /* a network request could not be completed */
  MDBEE_EREMOTE,  /* a peer (Bee, MongoDB) answered with an error */
  MDBEE_ECONFIG,  /* configuration is invalid; message names file, line, key */
  MDBEE_ECRYPTO,  /* a cryptographic primitive failed (bad key, bad password) */
  MDBEE_ESTATE,   /* local state (LMDB) failed or is inconsistent */
  MDBEE_ECANCELED /* the operation was interrupted on request */
};

#define MDB_ERROR_MESSAGE_MAX 512

/* Carries the message of the last failure.  Zero-initialise it; it owns no
 * heap memory, so it needs no cleanup. */
typedef struct mdb_error {
  int code;
  char message[MDB_ERROR_MESSAGE_MAX];
} mdb_error;

/* Records code and a printf-style message in err (ignored when err is NULL)
 * and returns code, so callers can write `return mdb_error_set(err, ...)`. */
int mdb_error_set(mdb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the message already in err, keeping its code, and
 * returns that code.  Used to add the file or peer name on the way up. */
int mdb_error_wrap(mdb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns a static English name for a code ("format error", ...). */
const char *mdb_error_name(int code);

#endif
