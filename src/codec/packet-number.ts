// L1: packet number encoding and decoding.
// RFC 9000 §17.1 (truncated packet numbers), App. A.2 (choosing the encoded length),
// App. A.3 (recovering the full packet number). Packet numbers are `number`s (DESIGN §7.4):
// exact to 2^53, far beyond what a connection can send.

/** Largest packet number allowed by RFC 9000 §12.3. */
export const MAX_PACKET_NUMBER = 2 ** 62 - 1;

/**
 * Bytes (1–4) needed to encode `fullPn` so that a receiver whose largest acknowledged packet is
 * `largestAcked` (-1 when nothing was acknowledged) recovers it (RFC 9000 App. A.2): the encoding
 * must have at least one bit more than log2 of the number of unacknowledged packet numbers.
 * More than 2^31 outstanding packet numbers cannot be represented; the result is capped at 4.
 */
export function packetNumberLength(fullPn: number, largestAcked: number): 1 | 2 | 3 | 4 {
  const numUnacked = largestAcked < 0 ? fullPn + 1 : fullPn - largestAcked;
  // min_bits = log2(num_unacked) + 1; bytes = ceil(min_bits / 8) ⇔ num_unacked ≤ 2^(8·bytes − 1).
  if (numUnacked <= 0x80) return 1;
  if (numUnacked <= 0x8000) return 2;
  if (numUnacked <= 0x80_0000) return 3;
  return 4;
}

/** The `length` least significant bytes of `pn`, as a number. */
export function truncatePacketNumber(pn: number, length: number): number {
  switch (length) {
    case 1:
      return pn % 0x100;
    case 2:
      return pn % 0x1_0000;
    case 3:
      return pn % 0x100_0000;
    case 4:
      return pn % 0x1_0000_0000;
    default:
      throw new RangeError(`length: packet number length must be 1..4, got ${length}`);
  }
}

/** Write the truncated packet number big-endian in `length` bytes at `offset`. */
export function writePacketNumber(buf: Uint8Array, offset: number, pn: number, length: number): void {
  const t = truncatePacketNumber(pn, length);
  for (let i = length - 1, v = t; i >= 0; i--) {
    buf[offset + i] = v & 0xff;
    v >>>= 8;
  }
}

/** Read a truncated packet number of `length` bytes at `offset` (after header protection removal). */
export function readPacketNumber(buf: Uint8Array, offset: number, length: number): number {
  let v = 0;
  for (let i = 0; i < length; i++) v = v * 256 + buf[offset + i]!;
  return v;
}

/**
 * Recover a full packet number from its truncated encoding of `length` bytes, given the largest
 * packet number successfully processed in the space (-1 when none): RFC 9000 App. A.3.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, length: number): number {
  const expected = largestPn + 1;
  const win = 2 ** (length * 8);
  const hwin = win / 2;
  // (expected & ~mask) | truncated, computed without 32-bit bitwise operators.
  const candidate = expected - (expected % win) + truncatedPn;
  if (candidate <= expected - hwin && candidate < MAX_PACKET_NUMBER + 1 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}
