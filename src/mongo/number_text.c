#include "number_text.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes |d| as "%.{prec}e" and says whether that text reads back as d. */
static int reads_back(double a, int prec, char buf[40]) {
  snprintf(buf, 40, "%.*e", prec, a);
  return strtod(buf, NULL) == a;
}

void mdb_number_shortest(double d, char digits[18], int *point) {
  char buf[40];
  double a = fabs(d);
  /* glibc prints correctly rounded digits, so the fewest digits that read
   * back as d are the shortest, nearest ones. */
  if (a >= DBL_MIN) {
    /* A normal double's neighbours are less than 2^-52 |d| away, finer
     * than the step between 15-digit decimals of its decade.  So any
     * shorter decimal that reads back is also the 15-digit rounding (with
     * zeros after it), and if 15 digits fail, fewer fail too: 15, 16, 17
     * in turn (17 always reads back) find the shortest. */
    if (!reads_back(a, 14, buf) && !reads_back(a, 15, buf))
      snprintf(buf, sizeof buf, "%.16e", a);
  } else {
    /* Subnormals have fewer significant bits, so their shortest digits
     * can be far fewer than 15 without the 15-digit rounding ending in
     * zeros.  Reading back succeeds for every precision from the shortest
     * up (more correctly rounded digits are never further from d), so the
     * precision is found by bisection. */
    int lo = 0, hi = 16; /* "%.16e" (17 digits) always reads back */
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (reads_back(a, mid, buf)) hi = mid;
      else lo = mid + 1;
    }
    snprintf(buf, sizeof buf, "%.*e", lo, a);
  }
  /* buf is D[.DDD]e[+-]XX */
  size_t n = 0;
  const char *p = buf;
  for (; *p != 'e'; p++)
    if (*p != '.') digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0') n--;
  digits[n] = '\0';
  *point = atoi(p + 1) + 1;
}

/* Writes the decimal digits of v at o; returns the end. */
static char *put_uint(char *o, uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *o++ = tmp[--n];
  return o;
}

void mdb_number_text(double d, char out[MDB_NUMBER_TEXT_MAX]) {
  if (d == 0) {
    strcpy(out, signbit(d) ? "-0.0" : "0.0");
    return;
  }
  char *o = out;
  if (d < 0) *o++ = '-';
  double a = fabs(d);
  /* Below 2^53 an integral double converts to uint64_t exactly, which
   * saves printf for the commonest doubles (counts, whole amounts). */
  if (a < 0x1p53 && a == (double)(uint64_t)a) {
    o = put_uint(o, (uint64_t)a);
    strcpy(o, ".0");
    return;
  }
  if (a == floor(a) && a < 1e21) {
    snprintf(o, MDB_NUMBER_TEXT_MAX - 1, "%.0f.0", a);
    return;
  }
  char digits[18];
  int point;
  mdb_number_shortest(d, digits, &point);
  int k = (int)strlen(digits);
  /* Integral values below 1e21 were handled above, so point < k here
   * whenever point <= 21. */
  if (point > 0 && point <= 21) {
    memcpy(o, digits, (size_t)point);
    o += point;
    *o++ = '.';
    strcpy(o, digits + point);
  } else if (point > -6 && point <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -point; i++) *o++ = '0';
    strcpy(o, digits);
  } else {
    int e = point - 1;
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      memcpy(o, digits + 1, (size_t)k - 1);
      o += k - 1;
    }
    *o++ = 'e';
    *o++ = e < 0 ? '-' : '+';
    o = put_uint(o, (uint64_t)abs(e));
    *o = '\0';
  }
}
