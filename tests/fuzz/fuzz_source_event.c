/* Fuzzes what the MongoDB source reads from a server: the input is taken
 * as a change event document (when it is well-formed BSON) and normalised
 * both for a collection stream and a wider one; it is also taken as the
 * _id key bytes the local state stores, which must turn back into a value
 * whose key bytes are the input again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/mongo/source_internal.h"

static void check_change(const source_change *c) {
  if (c->op != MDB_SOURCE_UPSERT && c->op != MDB_SOURCE_DELETE) return;
  uint8_t *key;
  size_t len;
  if (mdb_source_id_key(&c->id, &key, &len, NULL) != MDBEE_OK) return;
  free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bson_t holder;
  size_t bad;
  if (bson_init_static(&holder, data, size) &&
      bson_validate(&holder, BSON_VALIDATE_NONE, &bad)) {
    source_change c;
    if (source_normalise(&holder, "d", "c", &c, NULL) == MDBEE_OK)
      check_change(&c);
    if (source_normalise(&holder, "d", NULL, &c, NULL) == MDBEE_OK)
      check_change(&c);
  }

  bson_t *doc;
  bson_value_t v;
  if (mdb_source_id_value(data, size, &doc, &v, NULL) == MDBEE_OK) {
    uint8_t *key;
    size_t len;
    if (mdb_source_id_key(&v, &key, &len, NULL) != MDBEE_OK) abort();
    if (len != size || memcmp(key, data, size) != 0) abort();
    free(key);
    bson_destroy(doc);
  }
  return 0;
}
