// L1 QPACK Huffman coding: RFC 7541 §5.2 with the code of RFC 7541 Appendix B (RFC 9204 §4.1.2).
// Encoding packs codes through a 32-bit accumulator. Decoding runs a 4-bit-at-a-time state machine
// built once from the code table: 256 states (the internal nodes of the code tree) × 16 nibbles.
// A decoded string is rejected (RFC 7541 §5.2) when it contains EOS, when its padding is longer
// than 7 bits, or when the padding is not the most significant bits of EOS (all ones).

import { HUFFMAN_CODES, HUFFMAN_EOS, HUFFMAN_LENGTHS } from './huffman-table.js';

// ---- decoder tables -------------------------------------------------------------------------

// Tree of the code: internal nodes 0..255 (0 = root); a child < 0 is the leaf of symbol ~child.
const LEFT = new Int16Array(256);
const RIGHT = new Int16Array(256);
// A state accepts end-of-string when the bits read since the last symbol are ≤ 7 ones.
const ACCEPT = new Uint8Array(256);
// Transition for (state, nibble): bits 0–7 next state, bit 8 "emits a symbol", bits 9–16 the
// symbol, bit 17 "fails" (EOS decoded).
const TRANSITIONS = new Uint32Array(256 * 16);
const EMIT = 1 << 8;
const FAIL = 1 << 17;

function buildDecoder(): void {
  let nodes = 1;
  LEFT.fill(0);
  RIGHT.fill(0);
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      const arr = bit ? RIGHT : LEFT;
      if (i === 0) {
        arr[node] = ~sym;
      } else {
        if (arr[node] === 0) arr[node] = nodes++;
        node = arr[node]!;
      }
    }
  }
  if (nodes !== 256) throw new Error(`huffman: expected 256 internal nodes, built ${nodes}`);
  // Accepting states: the root, and the nodes on the all-ones path at depth 1..7.
  ACCEPT[0] = 1;
  let n = 0;
  for (let depth = 1; depth <= 7; depth++) {
    n = RIGHT[n]!;
    ACCEPT[n] = 1;
  }
  for (let state = 0; state < 256; state++) {
    for (let nib = 0; nib < 16; nib++) {
      let node = state;
      let t = 0;
      for (let i = 3; i >= 0; i--) {
        const child = (nib >>> i) & 1 ? RIGHT[node]! : LEFT[node]!;
        if (child < 0) {
          const sym = ~child;
          if (sym === HUFFMAN_EOS) {
            t |= FAIL;
            break;
          }
          t |= EMIT | (sym << 9);
          node = 0;
        } else {
          node = child;
        }
      }
      TRANSITIONS[state * 16 + nib] = t | node;
    }
  }
}
buildDecoder();

let scratch = new Uint8Array(1024);

/**
 * Decode the Huffman string in src[start, end) into a Latin-1 string (one char per octet).
 * Returns null when the input is not a valid Huffman string (RFC 7541 §5.2).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | null {
  const maxOut = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < maxOut) scratch = new Uint8Array(Math.max(maxOut, scratch.length * 2));
  const out = scratch;
  let o = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let t = TRANSITIONS[state * 16 + (b >>> 4)]!;
    if (t & FAIL) return null;
    if (t & EMIT) out[o++] = (t >>> 9) & 0xff;
    state = t & 0xff;
    t = TRANSITIONS[state * 16 + (b & 15)]!;
    if (t & FAIL) return null;
    if (t & EMIT) out[o++] = (t >>> 9) & 0xff;
    state = t & 0xff;
  }
  if (!ACCEPT[state]) return null;
  return latin1FromBytes(out, 0, o);
}

/** Decode to bytes (tests, tools). Returns null on an invalid string. */
export function huffmanDecodeBytes(src: Uint8Array): Uint8Array | null {
  const s = huffmanDecode(src, 0, src.length);
  if (s === null) return null;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// ---- encoder --------------------------------------------------------------------------------

/** Length in bytes of the Huffman encoding of a Latin-1 string (chars must be ≤ 0xff). */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/** Length in bytes of the Huffman encoding of a byte string. */
export function huffmanEncodedLengthBytes(b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < b.length; i++) bits += HUFFMAN_LENGTHS[b[i]!]!;
  return (bits + 7) >>> 3;
}

/**
 * Huffman-encode a Latin-1 string into out[pos…]; the caller sized `out` with huffmanEncodedLength.
 * Returns the position after the last byte. Padding is the high bits of EOS (all ones).
 */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  let acc = 0;
  let n = 0;
  let p = pos;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    if (len > 24) {
      acc = (acc << (len - 16)) | (code >>> 16);
      n += len - 16;
      while (n >= 8) {
        n -= 8;
        out[p++] = acc >>> n;
        acc &= (1 << n) - 1;
      }
      acc = (acc << 16) | (code & 0xffff);
      n += 16;
    } else {
      acc = (acc << len) | code;
      n += len;
    }
    while (n >= 8) {
      n -= 8;
      out[p++] = acc >>> n;
      acc &= (1 << n) - 1;
    }
  }
  if (n > 0) out[p++] = (acc << (8 - n)) | ((1 << (8 - n)) - 1);
  return p;
}

/** Huffman-encode bytes (tests, tools). */
export function huffmanEncodeBytes(b: Uint8Array): Uint8Array {
  const s = latin1FromBytes(b, 0, b.length);
  const out = new Uint8Array(huffmanEncodedLength(s));
  huffmanEncode(s, out, 0);
  return out;
}

// ---- Latin-1 helpers ------------------------------------------------------------------------

/** One char per octet: the lossless mapping QPACK uses between field bytes and JS strings. */
export function latin1FromBytes(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 16) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}
