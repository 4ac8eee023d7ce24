/* Text forms of doubles shared by the Extended JSON encoder and document
 * paths.  Internal to libmdbee. */
#ifndef MDBEE_NUMBER_TEXT_H
#define MDBEE_NUMBER_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define MDB_NUMBER_TEXT_MAX 40

/* The shortest decimal digits that read back as the finite d (the
 * digits JavaScript's Number.prototype.toString chooses): writes them to
 * digits (up to 17 and a NUL) and the decimal point position to *point, so
 * |d| = 0.DIGITS x 10^point.  d must be finite and nonzero. */
void mdb_number_shortest(double d, char digits[18], int *point);

/* Writes v in decimal (a '-' and the digits, as printf's %lld) to out,
 * NUL-terminated; returns its length. */
#define MDB_INT_TEXT_MAX 21
size_t mdb_int_text(int64_t v, char out[MDB_INT_TEXT_MAX]);

/* The $numberDouble text of a finite d, as the MongoDB Node driver writes
 * it: "-0.0" for negative zero, an integral value below 1e21 in full with
 * ".0", anything else as JavaScript prints numbers ("0.1", "1e+21",
 * "1.5e-7"). */
void mdb_number_text(double d, char out[MDB_NUMBER_TEXT_MAX]);

#endif
