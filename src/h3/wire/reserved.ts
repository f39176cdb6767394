// L1 HTTP/3 reserved ("GREASE") code points: 0x1f * N + 0x21 for frame types (RFC 9114 §7.2.8),
// settings (§7.2.4.1), stream types (§6.2.3) and error codes (§8.1). Receivers ignore them.

/** True for a value of the form 0x1f * N + 0x21. */
export function isReserved(v: number): boolean {
  return v >= 0x21 && (v - 0x21) % 0x1f === 0;
}

/** The N-th reserved value (the caller picks N, e.g. from its RNG; N < 2^48 keeps it a varint). */
export function reservedValue(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 48) throw new RangeError('n must be an integer in [0, 2^48)');
  return 0x1f * n + 0x21;
}
