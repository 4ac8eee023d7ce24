/* Shared by src/mongo: one change event reduced to what mdbee acts on. */
#ifndef MDBEE_SOURCE_INTERNAL_H
#define MDBEE_SOURCE_INTERNAL_H

#include "mdbee/source.h"

typedef struct source_change {
  mdb_source_op op;        /* UPSERT, DELETE, DROP, DROP_DATABASE or
                              CHECKPOINT (nothing to apply) */
  int invalidate;          /* the stream ended: reopen it and re-scan */
  int rescan;              /* re-scan the stream's collections, then go on */
  const char *db;          /* NUL-terminated, into the event or stream */
  const char *coll;
  const char *to_db;       /* rename target, else NULL */
  const char *to_coll;
  bson_value_t id;         /* UPSERT/DELETE; borrowed from the event */
  bson_t doc;              /* UPSERT: fullDocument, static view */
  uint32_t cluster_t, cluster_i;
  const char *operation;
} source_change;

/* Reduces a change event read from the stream watching stream_db /
 * stream_coll (NULL when wider) following MongoDB's documented format and
 * tolerating servers that omit ns, give the update specification as
 * documentKey, or report a gone document's update fields (see source.h).
 * All pointers in out borrow from change and the stream names.
 * MDBEE_EFORMAT, naming the field, when the event cannot be understood. */
int source_normalise(const bson_t *change, const char *stream_db,
                     const char *stream_coll, source_change *out,
                     mdb_error *err);

#endif
