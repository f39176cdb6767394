// L1 QPACK string literals: RFC 7541 §5.2 extended to N-bit prefixes by RFC 9204 §4.1.2. The first
// (8-N) bits of the first byte belong to the enclosing instruction, then the H (Huffman) flag, then
// the length as an (N-1)-bit prefix integer, then the octets. Strings are Latin-1 JS strings: one
// char per octet, so any field octets round-trip losslessly.

import type { Reader } from '../util/bytes.js';
import type { ByteSink } from './byte-sink.js';
import { QpackError } from './errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, latin1FromBytes } from './huffman.js';
import { INCOMPLETE, readPrefixInt, writePrefixInt } from './prefix-int.js';

/**
 * Read an N-bit prefix string literal. Returns null (cursor unchanged) when the input ends inside
 * it — expected on instruction streams (DESIGN §7.6) — and throws QpackError(`errorCode`) for an
 * over-long length integer or invalid Huffman data. A string whose decoded length would exceed
 * `maxLength` is QpackError(`tooLongCode`, default `errorCode`): raw strings are refused from their
 * length before their octets arrive (so a stream parser never waits for more); Huffman strings when
 * even their shortest possible decoding is too long, else after decoding.
 */
export function readString(r: Reader, prefixBits: number, maxLength: number, errorCode: number, tooLongCode = errorCode): string | null {
  const at = r.pos;
  if (at >= r.end) return null;
  const huffman = (r.buf[at]! & (1 << (prefixBits - 1))) !== 0;
  const len = readPrefixInt(r, prefixBits - 1, errorCode);
  if (len === INCOMPLETE) return null;
  if (minDecodedLength(len, huffman) > maxLength) throw tooLong(tooLongCode, len, huffman, maxLength);
  const start = r.pos;
  if (r.end - start < len) {
    r.pos = at;
    return null;
  }
  r.pos = start + len;
  if (!huffman) return latin1FromBytes(r.buf, start, start + len);
  const s = huffmanDecode(r.buf, start, start + len);
  if (s === null) throw new QpackError(errorCode, 'invalid Huffman-encoded string');
  if (s.length > maxLength) throw tooLong(tooLongCode, s.length, false, maxLength);
  return s;
}

/**
 * Fewest chars `len` octets can decode to: raw, `len`; Huffman, codes are at most 30 bits and the
 * padding under 8 (RFC 7541 §5.2), so 8·len − 7 ≤ 30·chars.
 */
function minDecodedLength(len: number, huffman: boolean): number {
  return huffman ? Math.ceil((8 * len - 7) / 30) : len;
}

function tooLong(code: number, len: number, huffman: boolean, maxLength: number): QpackError {
  const what = huffman ? `Huffman string literal of ${len} octets` : `string literal of ${len} bytes`;
  return new QpackError(code, `${what} exceeds the limit of ${Math.max(0, maxLength)}`);
}

/**
 * Write `str` (Latin-1; the caller has checked every char is ≤ 0xff) as an N-bit prefix string
 * literal. With `huffman`, the Huffman form is used when it is strictly shorter.
 */
export function writeString(s: ByteSink, first: number, prefixBits: number, str: string, huffman: boolean): void {
  const rawLen = str.length;
  if (huffman && rawLen > 0) {
    const hLen = huffmanEncodedLength(str);
    if (hLen < rawLen) {
      writePrefixInt(s, first | (1 << (prefixBits - 1)), prefixBits - 1, hLen);
      s.ensure(hLen);
      s.len = huffmanEncode(str, s.buf, s.len);
      return;
    }
  }
  writePrefixInt(s, first, prefixBits - 1, rawLen);
  s.ensure(rawLen);
  const b = s.buf;
  let p = s.len;
  for (let i = 0; i < rawLen; i++) b[p++] = str.charCodeAt(i);
  s.len = p;
}

/** Bytes taken by `str` as an N-bit prefix string literal (same Huffman choice as writeString). */
export function stringSize(prefixBits: number, str: string, huffman: boolean): number {
  let len = str.length;
  if (huffman && len > 0) {
    const h = huffmanEncodedLength(str);
    if (h < len) len = h;
  }
  let n = 1;
  const max = (1 << (prefixBits - 1)) - 1;
  if (len >= max) {
    let v = len - max;
    n++;
    while (v >= 0x80) {
      n++;
      v = Math.floor(v / 128);
    }
  }
  return n + len;
}

/** True when every char of `s` fits one octet (QPACK field names and values are octet strings). */
export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}
