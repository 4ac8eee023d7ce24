#include "mdbee/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mdb_error_set(mdb_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

int mdb_error_wrap(mdb_error *err, const char *fmt, ...) {
  if (!err) return MDBEE_EINVAL;
  char old[MDB_ERROR_MESSAGE_MAX];
  memcpy(old, err->message, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  /* A message cut at the buffer's end is still useful, so the old text is
   * copied only as far as it fits. */
  size_t used = n < 0 ? 0 : (size_t)n;
  const char sep[] = ": ";
  for (size_t i = 0; used < sizeof err->message - 1 && i < sizeof sep - 1;)
    err->message[used++] = sep[i++];
  for (size_t i = 0; used < sizeof err->message - 1 && old[i];)
    err->message[used++] = old[i++];
  if (used < sizeof err->message) err->message[used] = '\0';
  return err->code;
}

const char *mdb_error_name(int code) {
  switch (code) {
  case MDBEE_OK: return "ok";
  case MDBEE_EINVAL: return "invalid argument";
  case MDBEE_EFORMAT: return "format error";
  case MDBEE_EVERIFY: return "verification failed";
  case MDBEE_ENOMEM: return "out of memory";
  case MDBEE_EIO: return "I/O error";
  case MDBEE_ENOTFOUND: return "not found";
  case MDBEE_ENET: return "network error";
  case MDBEE_EREMOTE: return "remote error";
  case MDBEE_ECONFIG: return "configuration error";
  case MDBEE_ECRYPTO: return "cryptographic error";
  case MDBEE_ESTATE: return "state error";
  case MDBEE_ECANCELED: return "canceled";
  default: return "unknown error";
  }
}
