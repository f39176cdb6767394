// L1 QPACK prefixed integers: RFC 7541 §5.1, used unmodified by RFC 9204 §4.1.1 with prefixes of
// 3 to 8 bits. Decoding is bounded (RFC 7541 §5.1, RFC 9204 §7.4): at most 8 continuation bytes and
// values up to 2^53-1 (JS numbers are exact only to there); larger values are the caller's QPACK error.

import type { Reader } from '../util/bytes.js';
import { QpackError } from './errors.js';
import type { ByteSink } from './byte-sink.js';

const MAX_CONTINUATION = 8;

/**
 * Write `value` as an N-bit prefix integer; `first` carries the pattern bits above the prefix
 * (e.g. 0xc0 for an indexed static field line). `value` must be an integer in [0, 2^53-1].
 */
export function writePrefixInt(s: ByteSink, first: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    s.u8(first | value);
    return;
  }
  s.ensure(10);
  const b = s.buf;
  let p = s.len;
  b[p++] = first | max;
  value -= max;
  if (value < 0x8000_0000) {
    while (value >= 0x80) {
      b[p++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
  } else {
    while (value >= 0x80) {
      b[p++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
  }
  b[p++] = value;
  s.len = p;
}

/** Bytes taken by `value` as an N-bit prefix integer. */
export function prefixIntSize(prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let n = 2;
  value -= max;
  while (value >= 0x80) {
    n++;
    value = Math.floor(value / 128);
  }
  return n;
}

/** What readPrefixInt (-1) and readString (null) report when the input ends inside the item. */
export const INCOMPLETE = -1;

/**
 * Read an N-bit prefix integer starting at the current byte (whose high 8-N bits belong to the
 * caller). Returns INCOMPLETE (-1, cursor unchanged) when the input ends inside the integer — an
 * expected outcome on instruction streams, so a return value, not an exception (DESIGN §7.6) — and
 * throws QpackError(`errorCode`) when the integer is longer or larger than this implementation accepts.
 */
export function readPrefixInt(r: Reader, prefixBits: number, errorCode: number): number {
  const end = r.end;
  let p = r.pos;
  if (p >= end) return INCOMPLETE;
  const buf = r.buf;
  const max = (1 << prefixBits) - 1;
  let v = buf[p++]! & max;
  if (v < max) {
    r.pos = p;
    return v;
  }
  let m = 1;
  for (let i = 0; ; i++) {
    if (p >= end) return INCOMPLETE;
    const b = buf[p++]!;
    v += (b & 0x7f) * m;
    if ((b & 0x80) === 0) break;
    if (i + 1 >= MAX_CONTINUATION) throw new QpackError(errorCode, 'prefix integer too long');
    m *= 128;
  }
  if (v > Number.MAX_SAFE_INTEGER) throw new QpackError(errorCode, 'prefix integer exceeds 2^53-1');
  r.pos = p;
  return v;
}
