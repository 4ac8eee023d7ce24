/* The metrics registry and its Prometheus text rendering. */
#include "mdbee/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct family family;

struct mdb_metric {
  family *fam;
  char *labels;           /* rendered "{a=\"b\"}", or "" */
  _Atomic uint64_t value; /* counter: the count; gauge: the double's bits */
  mdb_metric_fn fn;       /* computed gauge, or NULL */
  void *ctx;
  mdb_metric *next;       /* in the family */
};

struct family {
  char *name;
  char *help;
  mdb_metric_kind kind;
  mdb_metric *first, *last;
  family *next;
};

struct mdb_metrics {
  pthread_mutex_t lock;
  family *first, *last;
};

int mdb_metrics_new(mdb_metrics **out, mdb_error *err) {
  mdb_metrics *m = calloc(1, sizeof *m);
  if (!m) return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    free(m);
    return mdb_error_set(err, MDBEE_ENOMEM, "cannot create a mutex");
  }
  *out = m;
  return MDBEE_OK;
}

void mdb_metrics_free(mdb_metrics *m) {
  if (!m) return;
  for (family *f = m->first, *fn; f; f = fn) {
    fn = f->next;
    for (mdb_metric *s = f->first, *sn; s; s = sn) {
      sn = s->next;
      free(s->labels);
      free(s);
    }
    free(f->name);
    free(f->help);
    free(f);
  }
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static int valid_name(const char *s, int colon_ok) {
  if (!s || !*s) return 0;
  for (size_t i = 0; s[i]; i++) {
    char c = s[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
             (colon_ok && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return 0;
  }
  return 1;
}

/* Escapes per the exposition format: HELP text escapes \ and newline,
 * label values also the double quote. */
static void put_escaped(mdb_buf *b, const char *s, int quote) {
  for (; *s; s++) {
    if (*s == '\\') mdb_buf_puts(b, "\\\\");
    else if (*s == '\n') mdb_buf_puts(b, "\\n");
    else if (quote && *s == '"') mdb_buf_puts(b, "\\\"");
    else mdb_buf_putc(b, *s);
  }
}

static int render_labels(const char *const *labels, char **out, mdb_error *err) {
  mdb_buf b = MDB_BUF_INIT;
  for (size_t i = 0; labels && labels[i]; i += 2) {
    if (!valid_name(labels[i], 0) || !labels[i + 1]) {
      mdb_buf_free(&b);
      return mdb_error_set(err, MDBEE_EINVAL, "invalid metric label name '%s'"
                           " or missing value", labels[i]);
    }
    mdb_buf_puts(&b, i == 0 ? "{" : ",");
    mdb_buf_printf(&b, "%s=\"", labels[i]);
    put_escaped(&b, labels[i + 1], 1);
    mdb_buf_putc(&b, '"');
  }
  if (b.len) mdb_buf_putc(&b, '}');
  return mdb_buf_take(&b, out, NULL, err);
}

static family *find_family(mdb_metrics *m, const char *name) {
  for (family *f = m->first; f; f = f->next)
    if (strcmp(f->name, name) == 0) return f;
  return NULL;
}

static int add_family(mdb_metrics *m, mdb_metric_kind kind, const char *name,
                      const char *help, family **out, mdb_error *err) {
  family *f = find_family(m, name);
  if (f) {
    if (f->kind != kind)
      return mdb_error_set(err, MDBEE_EINVAL, "metric %s registered as "
                           "another type", name);
    *out = f;
    return MDBEE_OK;
  }
  f = calloc(1, sizeof *f);
  if (f) {
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->kind = kind;
  }
  if (!f || !f->name || !f->help) {
    if (f) {
      free(f->name);
      free(f->help);
      free(f);
    }
    return mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
  }
  if (m->last) m->last->next = f;
  else m->first = f;
  m->last = f;
  *out = f;
  return MDBEE_OK;
}

static int add_series(mdb_metrics *m, mdb_metric_kind kind, const char *name,
                      const char *const *labels, const char *help,
                      mdb_metric **out, mdb_error *err) {
  if (!valid_name(name, 1))
    return mdb_error_set(err, MDBEE_EINVAL, "invalid metric name '%s'",
                         name ? name : "");
  char *text;
  int rc = render_labels(labels, &text, err);
  if (rc != MDBEE_OK) return rc;
  pthread_mutex_lock(&m->lock);
  family *f = NULL;
  rc = add_family(m, kind, name, help, &f, err);
  mdb_metric *s = NULL;
  if (rc == MDBEE_OK)
    for (s = f->first; s; s = s->next)
      if (strcmp(s->labels, text) == 0) break;
  if (rc == MDBEE_OK && !s) {
    s = calloc(1, sizeof *s);
    if (!s) {
      rc = mdb_error_set(err, MDBEE_ENOMEM, "out of memory");
    } else {
      s->fam = f;
      s->labels = text;
      text = NULL;
      if (f->last) f->last->next = s;
      else f->first = s;
      f->last = s;
    }
  }
  pthread_mutex_unlock(&m->lock);
  free(text);
  if (rc == MDBEE_OK) *out = s;
  return rc;
}

int mdb_metrics_add(mdb_metrics *m, mdb_metric_kind kind, const char *name,
                    const char *const *labels, const char *help,
                    mdb_metric **out, mdb_error *err) {
  return add_series(m, kind, name, labels, help, out, err);
}

int mdb_metrics_add_fn(mdb_metrics *m, const char *name,
                       const char *const *labels, const char *help,
                       mdb_metric_fn fn, void *ctx, mdb_error *err) {
  mdb_metric *s;
  int rc = add_series(m, MDB_METRIC_GAUGE, name, labels, help, &s, err);
  if (rc != MDBEE_OK) return rc;
  /* Under the lock: a concurrent render must see fn and ctx together. */
  pthread_mutex_lock(&m->lock);
  s->fn = fn;
  s->ctx = ctx;
  pthread_mutex_unlock(&m->lock);
  return MDBEE_OK;
}

void mdb_metric_add(mdb_metric *s, uint64_t n) {
  if (s) atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void mdb_metric_set(mdb_metric *s, double v) {
  if (!s) return;
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  atomic_store_explicit(&s->value, bits, memory_order_relaxed);
}

double mdb_metric_value(const mdb_metric *s) {
  if (!s) return 0;
  /* The handle is const for callers; the atomic load does not modify it. */
  uint64_t bits = atomic_load_explicit((_Atomic uint64_t *)&s->value,
                                       memory_order_relaxed);
  if (s->fam->kind == MDB_METRIC_COUNTER) return (double)bits;
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

static void put_double(mdb_buf *b, double v) {
  if (isnan(v)) mdb_buf_puts(b, "NaN");
  else if (isinf(v)) mdb_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
  else mdb_buf_printf(b, "%.15g", v);
}

int mdb_metrics_render(mdb_metrics *m, mdb_buf *out, mdb_error *err) {
  pthread_mutex_lock(&m->lock);
  for (family *f = m->first; f; f = f->next) {
    mdb_buf_printf(out, "# HELP %s ", f->name);
    put_escaped(out, f->help, 0);
    mdb_buf_printf(out, "\n# TYPE %s %s\n", f->name,
                   f->kind == MDB_METRIC_COUNTER ? "counter" : "gauge");
    for (mdb_metric *s = f->first; s; s = s->next) {
      mdb_buf_printf(out, "%s%s ", f->name, s->labels);
      if (f->kind == MDB_METRIC_COUNTER)
        mdb_buf_printf(out, "%" PRIu64,
                       atomic_load_explicit(&s->value, memory_order_relaxed));
      else
        put_double(out, s->fn ? s->fn(s->ctx) : mdb_metric_value(s));
      mdb_buf_putc(out, '\n');
    }
  }
  pthread_mutex_unlock(&m->lock);
  return out->failed ? mdb_error_set(err, MDBEE_ENOMEM, "out of memory")
                     : MDBEE_OK;
}
