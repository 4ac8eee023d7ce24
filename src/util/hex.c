#include "mdbee/hex.h"

#include <string.h>

void mdb_hex_encode(const uint8_t *bytes, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * len] = '\0';
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int mdb_hex_decode(const char *text, uint8_t *out, size_t out_len,
                   mdb_error *err) {
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text += 2;
  size_t n = strlen(text);
  if (n != 2 * out_len)
    return mdb_error_set(err, MDBEE_EFORMAT,
                         "expected %zu hex digits, got %zu", 2 * out_len, n);
  for (size_t i = 0; i < out_len; i++) {
    int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return mdb_error_set(err, MDBEE_EFORMAT,
                           "non-hex character at position %zu", 2 * i);
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return MDBEE_OK;
}
