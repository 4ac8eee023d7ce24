/* Fuzzes the Extended JSON encoder and the document id / index key
 * encoders on untrusted bytes.  The first byte picks options (mode,
 * redaction, depth limit); the rest is the BSON document.  Whatever is
 * accepted must be well-formed: the JSON's brackets balance outside
 * strings, a document id decodes back to the same value and its index key
 * is computed without error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdbee/docid.h"
#include "mdbee/ejson.h"
#include "mdbee/indexkey.h"

static void check_json(const char *s, size_t len) {
  long depth = 0;
  int in_str = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
      else if ((unsigned char)c < 0x20) abort();
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) abort();
    }
  }
  if (depth != 0 || in_str) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const char *const redact[] = {"a", "b.c", "d.0.e", "_id"};
  uint8_t opt = data[0];
  mdb_ejson_options o = {.mode = opt & 1 ? MDB_EJSON_CANONICAL : MDB_EJSON_RELAXED,
                         .redact = redact,
                         .n_redact = opt & 2 ? 4 : 0,
                         .max_depth = opt & 4 ? 3 : 0};
  char *json = NULL;
  size_t len = 0;
  if (mdb_ejson_encode(data + 1, size - 1, &o, &json, &len, NULL) == MDBEE_OK) {
    if (strlen(json) != len) abort();
    check_json(json, len);
    free(json);
  }
  /* The same bytes as an _id value: type byte + value bytes. */
  char *seg = NULL;
  if (mdb_docid_encode(data + 1, size - 1, &seg, NULL) == MDBEE_OK) {
    uint8_t *back = NULL;
    size_t back_len = 0;
    if (mdb_docid_decode(seg, strlen(seg), &back, &back_len, NULL) != MDBEE_OK ||
        back_len != size - 1 || memcmp(back, data + 1, back_len) != 0)
      abort();
    free(back);
    char *key = NULL;
    if (mdb_indexkey_value(data + 1, size - 1, &key, NULL) != MDBEE_OK) abort();
    free(key);
    free(seg);
  }
  /* And as a path segment. */
  uint8_t *value = NULL;
  size_t vlen = 0;
  if (mdb_docid_decode((const char *)data + 1, size - 1, &value, &vlen, NULL) ==
      MDBEE_OK)
    free(value);
  static const char *const fields[] = {"a", "b.c"};
  mdb_indexkey_set keys = {0};
  if (mdb_indexkey_document(data + 1, size - 1, fields, 2, &keys, NULL) == MDBEE_OK)
    mdb_indexkey_set_free(&keys);
  return 0;
}
