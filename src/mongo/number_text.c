#include "number_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdb_number_shortest(double d, char digits[18], int *point) {
  char buf[40];
  /* glibc prints correctly rounded digits, so the fewest digits that read
   * back as d are the shortest, nearest ones.  Reading back succeeds for
   * every precision from that one up (more correctly rounded digits are
   * never further from d), so the precision is found by bisection. */
  int lo = 0, hi = 16; /* "%.16e" (17 digits) always reads back */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    snprintf(buf, sizeof buf, "%.*e", mid, fabs(d));
    if (strtod(buf, NULL) == fabs(d)) hi = mid;
    else lo = mid + 1;
  }
  snprintf(buf, sizeof buf, "%.*e", lo, fabs(d));
  /* buf is D[.DDD]e[+-]XX */
  size_t n = 0;
  const char *p = buf;
  for (; *p != 'e'; p++)
    if (*p != '.') digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0') n--;
  digits[n] = '\0';
  *point = atoi(p + 1) + 1;
}

void mdb_number_text(double d, char out[MDB_NUMBER_TEXT_MAX]) {
  if (d == 0) {
    strcpy(out, signbit(d) ? "-0.0" : "0.0");
    return;
  }
  if (d == floor(d) && fabs(d) < 1e21) {
    snprintf(out, MDB_NUMBER_TEXT_MAX, "%.0f.0", d);
    return;
  }
  char digits[18];
  int point;
  mdb_number_shortest(d, digits, &point);
  int k = (int)strlen(digits);
  char *o = out;
  if (d < 0) *o++ = '-';
  /* Integral values below 1e21 were handled above, so point < k here
   * whenever point <= 21. */
  if (point > 0 && point <= 21) {
    o += sprintf(o, "%.*s.%s", point, digits, digits + point);
  } else if (point > -6 && point <= 0) {
    o += sprintf(o, "0.");
    for (int i = 0; i < -point; i++) *o++ = '0';
    o += sprintf(o, "%s", digits);
  } else {
    int e = point - 1;
    if (k == 1)
      o += sprintf(o, "%ce%c%d", digits[0], e < 0 ? '-' : '+', abs(e));
    else
      o += sprintf(o, "%c.%se%c%d", digits[0], digits + 1, e < 0 ? '-' : '+',
                   abs(e));
  }
}
