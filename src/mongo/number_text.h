/* Text forms of doubles shared by the Extended JSON encoder and document
 * paths.  Internal to libmdbee. */
#ifndef MDBEE_NUMBER_TEXT_H
#define MDBEE_NUMBER_TEXT_H

#define MDB_NUMBER_TEXT_MAX 40

/* The shortest decimal digits that read back as the finite d (the
 * digits JavaScript's Number.prototype.toString chooses): writes them to
 * digits (up to 17 and a NUL) and the decimal point position to *point, so
 * |d| = 0.DIGITS x 10^point.  d must be finite and nonzero. */
void mdb_number_shortest(double d, char digits[18], int *point);

/* The $numberDouble text of a finite d, as the MongoDB Node driver writes
 * it: "-0.0" for negative zero, an integral value below 1e21 in full with
 * ".0", anything else as JavaScript prints numbers ("0.1", "1e+21",
 * "1.5e-7"). */
void mdb_number_text(double d, char out[MDB_NUMBER_TEXT_MAX]);

#endif
