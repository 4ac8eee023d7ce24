/* The JSON files a snapshot adds beside the documents: database and
 * collection meta, and the explorer page. */
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>

#include "mdbee/ejson.h"
#include "mdbee/hex.h"
#include "publish_internal.h"

/* Format of what is published, for readers: bumped whenever the layout or
 * an encoding changes meaning. */
#define MDBEE_PUBLISH_FORMAT 1

extern const char mdb_explorer_html[];
extern const size_t mdb_explorer_html_len;

static int put_bson_json(mdb_publisher *p, mdb_mantaray *tree,
                         const char *path, const bson_t *doc, mdb_error *err) {
  char *json = NULL;
  size_t len = 0;
  mdb_ejson_options relaxed = {.mode = MDB_EJSON_RELAXED};
  int rc = mdb_ejson_encode(bson_get_data(doc), doc->len, &relaxed, &json,
                            &len, err);
  if (rc == MDBEE_OK)
    rc = publish_put_file(p, tree, path, (const uint8_t *)json, len,
                          "application/json", err);
  free(json);
  return rc;
}

static void append_strings(bson_t *doc, const char *key,
                           const char *const *items, size_t n) {
  bson_t list;
  BSON_APPEND_ARRAY_BEGIN(doc, key, &list);
  for (size_t i = 0; i < n; i++) {
    char buf[16];
    const char *index;
    bson_uint32_to_string((uint32_t)i, &index, buf, sizeof buf);
    BSON_APPEND_UTF8(&list, index, items[i]);
  }
  bson_append_array_end(doc, &list);
}

static void append_hex(bson_t *doc, const char *key, const uint8_t *ref) {
  char hex[65];
  if (!ref) {
    BSON_APPEND_NULL(doc, key);
    return;
  }
  mdb_hex_encode(ref, 32, hex);
  BSON_APPEND_UTF8(doc, key, hex);
}

int publish_collection_meta(mdb_publisher *p, mdb_mantaray *tree,
                            const uint64_t *counts, mdb_error *err) {
  for (size_t i = 0; i < p->opts.n_collections; i++) {
    const mdb_publish_collection *c = &p->opts.collections[i];
    bson_t doc = BSON_INITIALIZER, list, item;
    BSON_APPEND_UTF8(&doc, "name", c->name);
    BSON_APPEND_INT64(&doc, "count", (int64_t)counts[i]);
    BSON_APPEND_ARRAY_BEGIN(&doc, "indexes", &list);
    for (size_t j = 0; j < c->n_indexes; j++) {
      char buf[16];
      const char *index;
      bson_uint32_to_string((uint32_t)j, &index, buf, sizeof buf);
      BSON_APPEND_DOCUMENT_BEGIN(&list, index, &item);
      BSON_APPEND_UTF8(&item, "name", c->indexes[j].name);
      append_strings(&item, "fields", c->indexes[j].fields, c->indexes[j].n_fields);
      bson_append_document_end(&list, &item);
    }
    bson_append_array_end(&doc, &list);
    append_strings(&doc, "redacted", c->redact, c->n_redact);
    BSON_APPEND_UTF8(&doc, "json", p->opts.canonical_json ? "canonical" : "relaxed");
    char *path = publish_doc_path(c->name, "$meta");
    int rc = path ? put_bson_json(p, tree, path, &doc, err)
                  : mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    free(path);
    bson_destroy(&doc);
    if (rc != MDBEE_OK) return rc;
  }
  return MDBEE_OK;
}

int publish_db_meta(mdb_publisher *p, mdb_mantaray *tree,
                    const uint8_t state_root[32], const uint8_t *prev_root,
                    const mdb_publish_stamp *stamp, mdb_error *err) {
  bson_t doc = BSON_INITIALIZER, source;
  BSON_APPEND_UTF8(&doc, "name", p->opts.db);
  const char **names = calloc(p->opts.n_collections + 1, sizeof *names);
  if (!names) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  for (size_t i = 0; i < p->opts.n_collections; i++)
    names[i] = p->opts.collections[i].name;
  append_strings(&doc, "collections", names, p->opts.n_collections);
  free(names);
  BSON_APPEND_DATE_TIME(&doc, "snapshotTime", stamp->time * 1000);
  append_hex(&doc, "stateRoot", state_root);
  append_hex(&doc, "previousRoot", prev_root);
  BSON_APPEND_DOCUMENT_BEGIN(&doc, "source", &source);
  if (stamp->cluster_t)
    BSON_APPEND_TIMESTAMP(&source, "clusterTime", stamp->cluster_t,
                          stamp->cluster_i);
  else
    BSON_APPEND_NULL(&source, "clusterTime");
  bson_append_document_end(&doc, &source);
  BSON_APPEND_INT32(&doc, "format", MDBEE_PUBLISH_FORMAT);
  BSON_APPEND_UTF8(&doc, "json", p->opts.canonical_json ? "canonical" : "relaxed");
  uint8_t owner[MDB_ADDRESS_SIZE];
  char owner_hex[2 + 2 * MDB_ADDRESS_SIZE + 1] = "0x";
  mdb_key_address(p->opts.key, owner);
  mdb_hex_encode(owner, sizeof owner, owner_hex + 2);
  BSON_APPEND_UTF8(&doc, "publisher", owner_hex);
  int rc = put_bson_json(p, tree, "$meta", &doc, err);
  bson_destroy(&doc);
  return rc;
}

int publish_explorer(mdb_publisher *p, mdb_mantaray *tree, mdb_error *err) {
  int rc = publish_put_file(p, tree, "index.html",
                            (const uint8_t *)mdb_explorer_html,
                            mdb_explorer_html_len, "text/html; charset=utf-8",
                            err);
  if (rc != MDBEE_OK) return rc;
  return publish_set_index_document(p, tree, "index.html", err);
}
