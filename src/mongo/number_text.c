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

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static u128 pow10_128(int q) {
  static const uint64_t p[20] = {
      1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
      100000000u, 1000000000u, 10000000000u, 100000000000u,
      1000000000000u, 10000000000000u, 100000000000000u,
      1000000000000000u, 10000000000000000u, 100000000000000000u,
      1000000000000000000u, 10000000000000000000u};
  return q < 20 ? p[q] : (u128)p[19] * p[q - 19];
}

/* The same digits as the printf search below, in integer arithmetic, for
 * the doubles documents are full of (1e-5 <= a < 2^53: prices, ratios,
 * measurements).  a = f / 2^s exactly; its n-digit rounding is
 * m / 10^q with m = round(f 10^q / 2^s), computed exactly in 128 bits
 * (f < 2^53, 10^q <= 10^22 < 2^74), and m / 10^q reads back as a when it
 * lies closer to a than half the gap to a's neighbour:
 * |m 2^s - f 10^q| < 10^q / 2 (/ 4 below a power of two, whose lower
 * neighbour is nearer).  Returns 0 when a is outside that range or a
 * rounding tie or midpoint makes the answer depend on tie rules: the
 * printf search decides those. */
static int shortest_exact(double a, char digits[18], int *point) {
  uint64_t bits;
  memcpy(&bits, &a, sizeof bits);
  int biased = (int)(bits >> 52);
  const uint64_t hidden = UINT64_C(1) << 52;
  uint64_t f = (bits & (hidden - 1)) | hidden;
  int s = 1075 - biased;
  if (biased == 0 || s <= 0 || s > 100) return 0;
  /* floor(log10(2^(biased-1023))), at most one below the real exponent */
  int e10 = ((biased - 1023) * 78913) >> 18;
  for (int n = 15, fixes = 0; n <= 17;) {
    int q = n - 1 - e10;
    if (q < 0 || q > 22 || fixes > 2) return 0;
    u128 scaled = (u128)f * pow10_128(q);
    u128 m = scaled >> s;
    if (m < pow10_128(n - 1) || m >= pow10_128(n)) {
      e10 += m < pow10_128(n - 1) ? -1 : 1;
      fixes++;
      continue;
    }
    u128 rem = scaled - (m << s), half = (u128)1 << (s - 1), err = rem;
    if (rem == half) return 0;
    if (rem > half) {
      m++;
      err = ((u128)1 << s) - rem;
    }
    u128 gap = (rem < half && f == hidden) ? 4 * err : 2 * err;
    if (gap == pow10_128(q)) return 0;
    if (gap < pow10_128(q)) {
      int len = n;
      if (m == pow10_128(n)) { /* 9.99... rounded up to 10.0... */
        m /= 10;
        len++;
      }
      char *end = put_uint(digits, (uint64_t)m);
      *point = len - q;
      while (end > digits + 1 && end[-1] == '0') end--;
      *end = '\0';
      return 1;
    }
    n++;
  }
  return 0;
}
#else
static int shortest_exact(double a, char digits[18], int *point) {
  (void)a, (void)digits, (void)point;
  return 0;
}
#endif

void mdb_number_shortest(double d, char digits[18], int *point) {
  char buf[40];
  double a = fabs(d);
  if (shortest_exact(a, digits, point)) return;
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

size_t mdb_int_text(int64_t v, char out[MDB_INT_TEXT_MAX]) {
  char *o = out;
  if (v < 0) *o++ = '-';
  o = put_uint(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
  *o = '\0';
  return (size_t)(o - out);
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
