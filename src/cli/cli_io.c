#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

int cli_read_all(const char *path, uint8_t **data, size_t *len,
                 mdb_error *err) {
  int from_stdin = !path || strcmp(path, "-") == 0;
  FILE *f = from_stdin ? stdin : fopen(path, "rb");
  if (!f)
    return mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  int rc = MDBEE_OK;
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t *grown = realloc(buf, cap * 2);
    if (!grown) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = grown;
    cap *= 2;
  }
  if (!buf)
    rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory reading %s",
                       from_stdin ? "standard input" : path);
  else if (ferror(f))
    rc = mdb_error_set(err, MDBEE_EIO, "%s: read failed",
                       from_stdin ? "standard input" : path);
  if (!from_stdin) fclose(f);
  if (rc != MDBEE_OK) {
    free(buf);
    return rc;
  }
  *data = buf;
  *len = n;
  return MDBEE_OK;
}

int cli_write_file(const char *path, const uint8_t *data, size_t len,
                   mdb_error *err) {
  size_t tmp_len = strlen(path) + 8;
  char *tmp = malloc(tmp_len);
  if (!tmp) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  snprintf(tmp, tmp_len, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  int rc = MDBEE_OK;
  if (!f) {
    rc = mdb_error_set(err, MDBEE_EIO, "%s: %s", tmp, strerror(errno));
  } else {
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
      rc = mdb_error_set(err, MDBEE_EIO, "%s: %s", path, strerror(errno));
      remove(tmp);
    }
  }
  free(tmp);
  return rc;
}

int cli_fail(const char *command, const mdb_error *err) {
  fprintf(stderr, "mdbee %s: %s\n", command,
          err->message[0] ? err->message : mdb_error_name(err->code));
  return CLI_FAIL;
}
