/* Mantaray entry metadata: a JSON object of string values stored in the
 * parent's fork record.  Written as bee-js writes it (JSON.stringify of an
 * object whose keys were inserted in byte order); read as Bee reads it (any
 * JSON object of strings), with untrusted input bounds-checked. */
#include <stdlib.h>
#include <string.h>

#include "mantaray_internal.h"

/* Length of the valid UTF-8 sequence at s[0..len), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_seq(const uint8_t *s, size_t len) {
  uint8_t c = s[0];
  size_t n;
  uint32_t cp, min;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (len < n)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

static bool utf8_valid(const char *s) {
  const uint8_t *p = (const uint8_t *)s;
  size_t len = strlen(s);
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(p + i, len - i);
    if (!n)
      return false;
    i += n;
  }
  return true;
}

static int kv_cmp(const void *a, const void *b) {
  return strcmp(((const mdb_mantaray_kv *)a)->key,
                ((const mdb_mantaray_kv *)b)->key);
}

void mdb_mr_meta_free(mdb_mr_meta *meta) {
  free(meta->kv);
  meta->kv = NULL;
  meta->n = 0;
  meta->json_size = 0;
}

void mdb_mr_meta_move(mdb_mr_meta *dst, mdb_mr_meta *src) {
  mdb_mr_meta_free(dst);
  *dst = *src;
  src->kv = NULL;
  src->n = 0;
  src->json_size = 0;
}

/* Sorts meta and refuses duplicate keys; frees meta on failure. */
static int sort_unique(mdb_mr_meta *meta, int code, mdb_error *err) {
  qsort(meta->kv, meta->n, sizeof *meta->kv, kv_cmp);
  for (size_t i = 1; i < meta->n; i++)
    if (strcmp(meta->kv[i - 1].key, meta->kv[i].key) == 0) {
      int rc = mdb_error_set(err, code, "metadata key \"%.64s\" appears twice",
                             meta->kv[i].key);
      mdb_mr_meta_free(meta);
      return rc;
    }
  return MDBEE_OK;
}

/* --- writing --- */

/* Bytes JSON.stringify uses for c inside a string. */
static size_t escaped_size(uint8_t c) {
  if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
      c == '\r' || c == '\t')
    return 2;
  return c < 0x20 ? 6 : 1;
}

static size_t string_size(const char *s) {
  size_t n = 2;
  for (const uint8_t *p = (const uint8_t *)s; *p; p++)
    n += escaped_size(*p);
  return n;
}

static size_t json_size(const mdb_mantaray_kv *kv, size_t n) {
  size_t size = 2 + (n ? n - 1 : 0); /* braces, commas */
  for (size_t i = 0; i < n; i++)
    size += string_size(kv[i].key) + 1 + string_size(kv[i].value);
  return size;
}

size_t mdb_mr_meta_json_size(const mdb_mr_meta *meta) {
  return meta->n ? meta->json_size : 2;
}

/* Copies n pairs into out as one block: the array, then the strings. */
static int pack(const mdb_mantaray_kv *kv, size_t n, mdb_mr_meta *out,
                mdb_error *err) {
  size_t bytes = n * sizeof *kv;
  for (size_t i = 0; i < n; i++)
    bytes += strlen(kv[i].key) + 1 + strlen(kv[i].value) + 1;
  mdb_mantaray_kv *block = malloc(bytes);
  if (!block)
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory for metadata");
  char *s = (char *)(block + n);
  for (size_t i = 0; i < n; i++) {
    size_t k = strlen(kv[i].key) + 1, v = strlen(kv[i].value) + 1;
    block[i].key = memcpy(s, kv[i].key, k);
    block[i].value = memcpy(s + k, kv[i].value, v);
    s += k + v;
  }
  out->kv = block;
  out->n = n;
  out->json_size = json_size(kv, n);
  return MDBEE_OK;
}

int mdb_mr_meta_copy(const mdb_mantaray_kv *kv, size_t n, mdb_mr_meta *out,
                     mdb_error *err) {
  *out = (mdb_mr_meta){0};
  if (!n)
    return MDBEE_OK;
  for (size_t i = 0; i < n; i++) {
    if (!kv[i].key || !kv[i].value)
      return mdb_error_set(err, MDBEE_EINVAL, "metadata pair %zu is NULL", i);
    if (!utf8_valid(kv[i].key) || !utf8_valid(kv[i].value))
      return mdb_error_set(err, MDBEE_EINVAL,
                           "metadata pair %zu is not valid UTF-8", i);
  }
  int rc = pack(kv, n, out, err);
  return rc ? rc : sort_unique(out, MDBEE_EINVAL, err);
}

static uint8_t *write_string(uint8_t *o, const char *s) {
  static const char hex[] = "0123456789abcdef";
  *o++ = '"';
  for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
    uint8_t c = *p;
    const char *short_form = NULL;
    switch (c) {
    case '"': short_form = "\\\""; break;
    case '\\': short_form = "\\\\"; break;
    case '\b': short_form = "\\b"; break;
    case '\f': short_form = "\\f"; break;
    case '\n': short_form = "\\n"; break;
    case '\r': short_form = "\\r"; break;
    case '\t': short_form = "\\t"; break;
    default: break;
    }
    if (short_form) {
      *o++ = (uint8_t)short_form[0];
      *o++ = (uint8_t)short_form[1];
    } else if (c < 0x20) {
      memcpy(o, "\\u00", 4);
      o[4] = (uint8_t)hex[c >> 4];
      o[5] = (uint8_t)hex[c & 15];
      o += 6;
    } else {
      *o++ = c;
    }
  }
  *o++ = '"';
  return o;
}

void mdb_mr_meta_json_write(const mdb_mr_meta *meta, uint8_t *out) {
  uint8_t *o = out;
  *o++ = '{';
  for (size_t i = 0; i < meta->n; i++) {
    if (i)
      *o++ = ',';
    o = write_string(o, meta->kv[i].key);
    *o++ = ':';
    o = write_string(o, meta->kv[i].value);
  }
  *o = '}';
}

/* --- reading (untrusted) --- */

typedef struct json_reader {
  const uint8_t *p;
  size_t len, pos;
  mdb_error *err;
} json_reader;

static int bad(json_reader *r, const char *what) {
  return mdb_error_set(r->err, MDBEE_EFORMAT,
                       "metadata JSON: %s at byte %zu", what, r->pos);
}

static void skip_ws(json_reader *r) {
  while (r->pos < r->len && (r->p[r->pos] == ' ' || r->p[r->pos] == '\t' ||
                             r->p[r->pos] == '\n' || r->p[r->pos] == '\r'))
    r->pos++;
}

static int hex4(json_reader *r, uint32_t *out) {
  if (r->len - r->pos < 4)
    return bad(r, "truncated \\u escape");
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t c = r->p[r->pos++];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return bad(r, "bad hex digit in \\u escape");
    v = v << 4 | (uint32_t)d;
  }
  *out = v;
  return MDBEE_OK;
}

static size_t put_utf8(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (uint8_t)(0xc0 | cp >> 6);
    o[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xe0 | cp >> 12);
    o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (uint8_t)(0xf0 | cp >> 18);
  o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

/* Reads a JSON string into a malloc'd NUL-terminated UTF-8 string.  The
 * decoded text is never longer than its escaped form, which bounds the
 * allocation by the input. */
static int read_string(json_reader *r, char **out) {
  if (r->pos >= r->len || r->p[r->pos] != '"')
    return bad(r, "expected a string");
  r->pos++;
  uint8_t *s = malloc(r->len - r->pos + 1);
  if (!s)
    return mdb_error_set(r->err, MDBEE_ENOMEM, "out of memory for metadata");
  size_t n = 0;
  int rc = MDBEE_OK;
  for (;;) {
    if (r->pos >= r->len) {
      rc = bad(r, "unterminated string");
      break;
    }
    uint8_t c = r->p[r->pos];
    if (c == '"') {
      r->pos++;
      break;
    }
    if (c < 0x20) {
      rc = bad(r, "control character in string");
      break;
    }
    if (c != '\\') {
      size_t k = utf8_seq(r->p + r->pos, r->len - r->pos);
      if (!k) {
        rc = bad(r, "invalid UTF-8");
        break;
      }
      memcpy(s + n, r->p + r->pos, k);
      n += k;
      r->pos += k;
      continue;
    }
    if (++r->pos >= r->len) {
      rc = bad(r, "truncated escape");
      break;
    }
    c = r->p[r->pos++];
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
      s[n++] = (uint8_t)to[hit - from];
      continue;
    }
    if (c != 'u') {
      rc = bad(r, "unknown escape");
      break;
    }
    uint32_t cp;
    if ((rc = hex4(r, &cp)))
      break;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      uint32_t lo;
      if (r->len - r->pos < 2 || r->p[r->pos] != '\\' ||
          r->p[r->pos + 1] != 'u') {
        rc = bad(r, "unpaired surrogate");
        break;
      }
      r->pos += 2;
      if ((rc = hex4(r, &lo)))
        break;
      if (lo < 0xdc00 || lo > 0xdfff) {
        rc = bad(r, "unpaired surrogate");
        break;
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      rc = bad(r, "unpaired surrogate");
      break;
    }
    if (cp == 0) {
      rc = bad(r, "NUL character");
      break;
    }
    n += put_utf8(s + n, cp);
  }
  if (rc) {
    free(s);
    return rc;
  }
  s[n] = 0;
  *out = (char *)s;
  return MDBEE_OK;
}

static void free_loose(mdb_mr_meta *meta) {
  for (size_t i = 0; i < meta->n; i++) {
    free((char *)meta->kv[i].key);
    free((char *)meta->kv[i].value);
  }
  free(meta->kv);
}

int mdb_mr_meta_parse(const uint8_t *json, size_t len, mdb_mr_meta *out,
                      mdb_error *err) {
  json_reader r = {json, len, 0, err};
  size_t cap = 0;
  int rc;
  *out = (mdb_mr_meta){0};
  /* Parsed into separately malloc'd strings, packed at the end. */
  mdb_mr_meta loose = {0};
  skip_ws(&r);
  if (r.pos >= r.len || r.p[r.pos] != '{')
    return bad(&r, "expected an object");
  r.pos++;
  skip_ws(&r);
  if (r.pos < r.len && r.p[r.pos] == '}') {
    r.pos++;
  } else {
    for (;;) {
      char *key = NULL, *value = NULL;
      skip_ws(&r);
      if ((rc = read_string(&r, &key)))
        goto fail;
      skip_ws(&r);
      if (r.pos >= r.len || r.p[r.pos] != ':') {
        free(key);
        rc = bad(&r, "expected ':'");
        goto fail;
      }
      r.pos++;
      skip_ws(&r);
      if ((rc = read_string(&r, &value))) {
        free(key);
        goto fail;
      }
      if (loose.n == cap) {
        cap = cap ? cap * 2 : 4;
        mdb_mantaray_kv *kv = realloc(loose.kv, cap * sizeof *kv);
        if (!kv) {
          free(key);
          free(value);
          rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory for metadata");
          goto fail;
        }
        loose.kv = kv;
      }
      loose.kv[loose.n].key = key;
      loose.kv[loose.n].value = value;
      loose.n++;
      skip_ws(&r);
      if (r.pos < r.len && r.p[r.pos] == ',') {
        r.pos++;
        continue;
      }
      if (r.pos < r.len && r.p[r.pos] == '}') {
        r.pos++;
        break;
      }
      rc = bad(&r, "expected ',' or '}'");
      goto fail;
    }
  }
  skip_ws(&r);
  if (r.pos != r.len) {
    rc = bad(&r, "trailing bytes after the object");
    goto fail;
  }
  rc = loose.n ? pack(loose.kv, loose.n, out, err) : MDBEE_OK;
  if (rc == MDBEE_OK)
    rc = sort_unique(out, MDBEE_EFORMAT, err);
fail:
  free_loose(&loose);
  return rc;
}
