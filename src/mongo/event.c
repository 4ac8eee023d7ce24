/* Normalisation of one change event, and _id key bytes. */
#include <stdlib.h>
#include <string.h>

#include "source_internal.h"

/* Finds dotted path in doc; 1 when present with the given type (or any
 * type when type is 0). */
static int find(const bson_t *doc, const char *path, bson_type_t type,
                bson_iter_t *it) {
  bson_iter_t root;
  if (!bson_iter_init(&root, doc) || !bson_iter_find_descendant(&root, path, it))
    return 0;
  return type == 0 || bson_iter_type(it) == type;
}

static const char *string_at(const bson_t *doc, const char *path) {
  bson_iter_t it;
  return find(doc, path, BSON_TYPE_UTF8, &it) ? bson_iter_utf8(&it, NULL) : NULL;
}

/* fullDocument as a document that has an _id, else 0. */
static int full_document(const bson_t *change, bson_t *doc) {
  bson_iter_t it;
  if (!find(change, "fullDocument", BSON_TYPE_DOCUMENT, &it)) return 0;
  uint32_t len;
  const uint8_t *data;
  bson_iter_document(&it, &len, &data);
  if (!bson_init_static(doc, data, len)) return 0;
  bson_iter_t id;
  return bson_iter_init_find(&id, doc, "_id");
}

static int key_from(const bson_t *change, const bson_t *doc, int have_doc,
                    bson_value_t *id) {
  bson_iter_t it;
  if (find(change, "documentKey._id", 0, &it) ||
      (have_doc && bson_iter_init_find(&it, doc, "_id"))) {
    *id = *bson_iter_value(&it);
    return 1;
  }
  return 0;
}

int source_normalise(const bson_t *change, const char *stream_db,
                     const char *stream_coll, source_change *out,
                     mdb_error *err) {
  memset(out, 0, sizeof *out);
  const char *op = string_at(change, "operationType");
  if (!op)
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "change event without operationType");
  out->operation = op;
  out->db = string_at(change, "ns.db");
  out->coll = string_at(change, "ns.coll");
  int named = out->coll != NULL;
  if (!out->db) out->db = stream_db;
  /* Without ns, an event of a collection stream is about that collection;
   * a database-wide event (dropDatabase) names no collection at all. */
  if (!out->coll && strcmp(op, "dropDatabase") != 0) out->coll = stream_coll;
  bson_iter_t it;
  if (find(change, "clusterTime", BSON_TYPE_TIMESTAMP, &it))
    bson_iter_timestamp(&it, &out->cluster_t, &out->cluster_i);

  out->op = MDB_SOURCE_CHECKPOINT;
  int is_insert = strcmp(op, "insert") == 0;
  if (is_insert || strcmp(op, "update") == 0 || strcmp(op, "replace") == 0) {
    int have_doc = full_document(change, &out->doc);
    int have_id = key_from(change, &out->doc, have_doc, &out->id);
    if (is_insert && !have_doc)
      return mdb_error_set(err, MDBEE_EFORMAT,
                           "insert event without fullDocument._id");
    if (have_doc) {
      out->op = MDB_SOURCE_UPSERT;
    } else if (have_id) {
      /* updateLookup found nothing: the document is gone by now. */
      out->op = MDB_SOURCE_DELETE;
    }
    /* Neither: a server that reports neither key nor document for a gone
     * document (mongo-java-server) delivers its delete next; nothing to
     * do but move the resume point. */
  } else if (strcmp(op, "delete") == 0) {
    if (!key_from(change, NULL, 0, &out->id))
      return mdb_error_set(err, MDBEE_EFORMAT,
                           "delete event without documentKey._id");
    out->op = MDB_SOURCE_DELETE;
  } else if (!named && (strcmp(op, "drop") == 0 || strcmp(op, "rename") == 0)) {
    /* Which collection?  mongo-java-server sends the drop of any
     * collection of the database to every collection's stream without ns;
     * assuming the stream's own would delete live data.  A re-scan is
     * right whichever collection it was. */
    out->rescan = 1;
  } else if (strcmp(op, "drop") == 0) {
    out->op = MDB_SOURCE_DROP;
  } else if (strcmp(op, "rename") == 0) {
    out->op = MDB_SOURCE_DROP;
    out->to_db = string_at(change, "to.db");
    out->to_coll = string_at(change, "to.coll");
  } else if (strcmp(op, "dropDatabase") == 0) {
    out->op = MDB_SOURCE_DROP_DATABASE;
    out->coll = NULL;
  } else if (strcmp(op, "invalidate") == 0) {
    out->invalidate = 1;
  }
  if (out->op != MDB_SOURCE_CHECKPOINT && !out->db)
    return mdb_error_set(err, MDBEE_EFORMAT, "%s event without ns.db", op);
  if ((out->op == MDB_SOURCE_UPSERT || out->op == MDB_SOURCE_DELETE ||
       out->op == MDB_SOURCE_DROP) && !out->coll)
    return mdb_error_set(err, MDBEE_EFORMAT, "%s event without ns.coll", op);
  return MDBEE_OK;
}

/* MongoDB refuses these types for _id; their bytes need not round-trip
 * (libbson rewrites regex options), so keys never hold them. */
static int id_type_allowed(bson_type_t t) {
  return t != BSON_TYPE_ARRAY && t != BSON_TYPE_REGEX &&
         t != BSON_TYPE_UNDEFINED;
}

int mdb_source_id_key(const bson_value_t *v, uint8_t **out, size_t *len,
                      mdb_error *err) {
  if (!id_type_allowed(v->value_type))
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "_id of BSON type 0x%02x, which MongoDB does not allow",
                         (unsigned)v->value_type);
  /* A one-element document with an empty name is: i32 length, type, the
   * name's NUL, the value, the document's NUL.  Keep type and value. */
  bson_t b = BSON_INITIALIZER;
  if (!bson_append_value(&b, "", 0, v)) {
    bson_destroy(&b);
    return mdb_error_set(err, MDBEE_EINVAL, "_id cannot be encoded");
  }
  const uint8_t *data = bson_get_data(&b);
  size_t n = b.len - 6;
  uint8_t *key = malloc(n);
  if (!key) {
    bson_destroy(&b);
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  key[0] = data[4];
  memcpy(key + 1, data + 6, n - 1);
  bson_destroy(&b);
  *out = key;
  *len = n;
  return MDBEE_OK;
}

int mdb_source_id_value(const uint8_t *key, size_t len, bson_t **holder,
                        bson_value_t *out, mdb_error *err) {
  if (len < 1 || len > INT32_MAX - 8 || !id_type_allowed((bson_type_t)key[0]))
    return mdb_error_set(err, MDBEE_EFORMAT, "not an _id key (%zu bytes)", len);
  /* {"": value}: i32 length, type, the empty name's NUL, value, NUL. */
  size_t n = len + 6;
  uint8_t *raw = malloc(n);
  if (!raw) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (int i = 0; i < 4; i++) raw[i] = (uint8_t)(n >> (8 * i));
  raw[4] = key[0];
  raw[5] = 0;
  memcpy(raw + 6, key + 1, len - 1);
  raw[n - 1] = 0;
  bson_t *doc = bson_new_from_data(raw, n);
  free(raw);
  bson_iter_t it;
  size_t bad;
  if (!doc || !bson_validate(doc, BSON_VALIDATE_NONE, &bad) ||
      !bson_iter_init(&it, doc) || !bson_iter_next(&it) ||
      bson_iter_next(&it)) {
    if (doc) bson_destroy(doc);
    return mdb_error_set(err, MDBEE_EFORMAT, "malformed _id key");
  }
  bson_iter_init(&it, doc);
  bson_iter_next(&it);
  /* Only bytes mdb_source_id_key produces are keys: anything libbson
   * would write differently (a symbol with an inner NUL...) is refused, so
   * that a value always maps back to the key it came from. */
  uint8_t *again = NULL;
  size_t again_len = 0;
  int same = mdb_source_id_key(bson_iter_value(&it), &again, &again_len,
                               NULL) == MDBEE_OK &&
             again_len == len && memcmp(again, key, len) == 0;
  free(again);
  if (!same) {
    bson_destroy(doc);
    return mdb_error_set(err, MDBEE_EFORMAT, "non-canonical _id key");
  }
  *out = *bson_iter_value(&it);
  *holder = doc;
  return MDBEE_OK;
}
