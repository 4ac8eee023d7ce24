#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdbee/hex.h"

void vec_open(vec_file *v, const char *name) {
  memset(v, 0, sizeof *v);
  const char *dir = getenv("MDBEE_VECTORS");
  assert_non_null(dir);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  v->f = fopen(path, "r");
  if (!v->f) fail_msg("cannot open vector file %s", path);
}

int vec_next(vec_file *v) {
  ssize_t n = getline(&v->line, &v->cap, v->f);
  if (n <= 0) return 0;
  v->lineno++;
  if (v->line[n - 1] == '\n') v->line[n - 1] = '\0';
  v->nfields = 0;
  for (char *save = NULL, *tok = strtok_r(v->line, "\t", &save);
       tok && v->nfields < 8; tok = strtok_r(NULL, "\t", &save))
    v->fields[v->nfields++] = tok;
  return 1;
}

uint8_t *vec_bytes(vec_file *v, size_t i, size_t *len) {
  assert_true(i < v->nfields);
  const char *text = v->fields[i];
  if (strcmp(text, "-") == 0) text = "";
  *len = strlen(text) / 2;
  uint8_t *out = malloc(*len + 1);
  assert_non_null(out);
  mdb_error err = {0};
  if (mdb_hex_decode(text, out, *len, &err) != MDBEE_OK)
    fail_msg("line %zu field %zu: %s", v->lineno, i, err.message);
  return out;
}

void vec_close(vec_file *v) {
  fclose(v->f);
  free(v->line);
}
