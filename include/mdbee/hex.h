/* Hexadecimal encoding of byte strings (lower case, no 0x prefix). */
#ifndef MDBEE_HEX_H
#define MDBEE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "mdbee/error.h"

/* Writes 2*len lower-case hex digits and a NUL to out, which the caller
 * sizes to at least 2*len+1 bytes. */
void mdb_hex_encode(const uint8_t *bytes, size_t len, char *out);

/* Decodes exactly out_len bytes from hex text of length 2*out_len, with an
 * optional "0x" prefix; upper and lower case are accepted.  Returns
 * MDBEE_EFORMAT (out untouched or partly written) when the text has another
 * length or a non-hex character. */
int mdb_hex_decode(const char *text, uint8_t *out, size_t out_len,
                   mdb_error *err);

#endif
