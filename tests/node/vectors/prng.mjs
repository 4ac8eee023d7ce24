// Deterministic bytes for known-answer vectors: the same seed always gives
// the same file, so regenerating the vectors is a check that bee-js still
// agrees with what is committed.
export function prng(seed) {
  let x = BigInt(seed) | 1n;
  const next = () => {
    // xorshift64*
    x ^= x >> 12n; x ^= (x << 25n) & 0xffffffffffffffffn; x ^= x >> 27n;
    return Number(((x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 56n);
  };
  return {
    bytes(n) { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = next(); return b; },
    int(max) { return (next() << 16 | next() << 8 | next()) % max; },
  };
}

export const hex = (b) => Buffer.from(b).toString('hex');
