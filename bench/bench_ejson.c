/* Encoding throughput: BSON -> Extended JSON (relaxed and canonical) for
 * typical documents and for single documents of 1, 4 and 16 MB (the time
 * per byte must not grow with the size), plus document ids and index keys.
 *
 *   build/release/bench/bench_ejson [DOCS]
 */
#include <bson/bson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdbee/docid.h"
#include "mdbee/ejson.h"
#include "mdbee/indexkey.h"

/* Rates are per CPU-second of this (single-threaded) process: on a
 * machine shared with other jobs, wall time would count the waits for a
 * core too. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const mdb_error *err) {
  fprintf(stderr, "bench_ejson: %s: %s\n", what, err->message);
  exit(1);
}

/* About 1 KB: the mix of types of an ordinary application document. */
static bson_t *typical(int i) {
  bson_oid_t oid;
  bson_oid_init(&oid, NULL);
  bson_t *d = BCON_NEW(
      "_id", BCON_OID(&oid), "n", BCON_INT32(i), "big", BCON_INT64(i * 1000003LL),
      "price", BCON_DOUBLE(i * 0.37), "name", BCON_UTF8("Ann \"Lee\" é ☃"),
      "created", BCON_DATE_TIME(1700000000000LL + i), "active", BCON_BOOL(i & 1),
      "address", "{", "street", BCON_UTF8("1 Main Street"), "city",
      BCON_UTF8("Springfield"), "zip", BCON_UTF8("12345"), "}",
      "tags", "[", BCON_UTF8("a"), BCON_UTF8("bb"), BCON_UTF8("ccc"), "]");
  bson_t items;
  bson_append_array_begin(d, "items", -1, &items);
  for (int k = 0; k < 8; k++) {
    char key[4];
    snprintf(key, sizeof key, "%d", k);
    bson_t it;
    bson_append_document_begin(&items, key, -1, &it);
    BSON_APPEND_UTF8(&it, "sku", "SKU-000123");
    BSON_APPEND_INT32(&it, "qty", k);
    BSON_APPEND_DOUBLE(&it, "unit", 9.99 + k);
    bson_append_document_end(&items, &it);
  }
  bson_append_array_end(d, &items);
  return d;
}

/* A document of about size bytes: many small sub-documents and strings. */
static bson_t *large(size_t size) {
  bson_t *d = bson_new();
  BSON_APPEND_INT32(d, "_id", 1);
  bson_t arr;
  bson_append_array_begin(d, "rows", -1, &arr);
  for (int i = 0; arr.len + 200 < size; i++) {
    char key[12];
    snprintf(key, sizeof key, "%d", i);
    bson_t row;
    bson_append_document_begin(&arr, key, -1, &row);
    BSON_APPEND_INT32(&row, "i", i);
    BSON_APPEND_UTF8(&row, "s", "some text of forty characters, or so....");
    BSON_APPEND_DOUBLE(&row, "d", i / 7.0);
    bson_append_document_end(&arr, &row);
  }
  bson_append_array_end(d, &arr);
  return d;
}

static double encode_rate(const bson_t *const *docs, int n, int rounds,
                          mdb_ejson_mode mode, const char *const *redact,
                          size_t n_redact, size_t *out_bytes) {
  mdb_ejson_options o = {.mode = mode, .redact = redact, .n_redact = n_redact};
  mdb_error err = {0};
  size_t in = 0, out = 0;
  double t0 = now();
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < n; i++) {
      char *json;
      size_t len;
      if (mdb_ejson_encode(bson_get_data(docs[i]), docs[i]->len, &o, &json, &len,
                           &err) != MDBEE_OK)
        die("encode", &err);
      in += docs[i]->len;
      out += len;
      free(json);
    }
  double dt = now() - t0;
  *out_bytes = out / (size_t)rounds / (size_t)n;
  return (double)in / dt / 1e6;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  if (n <= 0) n = 20000;
  bson_t **docs = calloc((size_t)n, sizeof *docs);
  size_t bytes = 0;
  for (int i = 0; i < n; i++) {
    docs[i] = typical(i);
    bytes += docs[i]->len;
  }
  size_t out;
  printf("typical documents: %d of %zu bytes BSON\n", n, bytes / (size_t)n);
  /* the third pass: relaxed, with two fields redacted (one inside the
   * array of items), as a collection with redact paths is encoded */
  const char *const redact[] = {"address.zip", "items.unit"};
  const char *const names[] = {"relaxed", "canonical", "redacted"};
  for (int m = 0; m < 3; m++) {
    double mbs = encode_rate((const bson_t *const *)docs, n, 3,
                             m == 1 ? MDB_EJSON_CANONICAL : MDB_EJSON_RELAXED,
                             redact, m == 2 ? 2 : 0, &out);
    printf("  %-9s %7.1f MB/s of BSON, %8.0f docs/s, %zu bytes of JSON each\n",
           names[m], mbs, mbs * 1e6 / ((double)bytes / n), out);
  }
  mdb_error err = {0};
  double t0 = now();
  for (int i = 0; i < n; i++) {
    bson_iter_t it;
    bson_iter_init_find(&it, docs[i], "_id");
    uint8_t v[13] = {BSON_TYPE_OID};
    memcpy(v + 1, bson_iter_oid(&it)->bytes, 12);
    char *seg;
    if (mdb_docid_encode(v, sizeof v, &seg, &err) != MDBEE_OK) die("docid", &err);
    free(seg);
  }
  printf("  docid      %8.0f ids/s\n", n / (now() - t0));
  const char *fields[] = {"address.city", "tags"};
  t0 = now();
  for (int i = 0; i < n; i++) {
    mdb_indexkey_set s;
    if (mdb_indexkey_document(bson_get_data(docs[i]), docs[i]->len, fields, 2, &s,
                              &err) != MDBEE_OK)
      die("indexkey", &err);
    mdb_indexkey_set_free(&s);
  }
  printf("  indexkey   %8.0f docs/s (compound, 3 keys each)\n", n / (now() - t0));
  for (int i = 0; i < n; i++) bson_destroy(docs[i]);
  free(docs);

  printf("single large documents (relaxed):\n");
  for (size_t mb = 1; mb <= 16; mb *= 4) {
    bson_t *d = large(mb << 20);
    const bson_t *one[1] = {d};
    double mbs = encode_rate(one, 1, 3, MDB_EJSON_RELAXED, NULL, 0, &out);
    printf("  %2zu MB      %7.1f MB/s of BSON, %zu bytes of JSON\n", mb, mbs, out);
    bson_destroy(d);
  }
  return 0;
}
