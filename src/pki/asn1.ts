// L3: a strict DER reader and a small DER writer (ITU-T X.690 §8 BER, §10 DER restrictions),
// with the universal types X.509 needs (RFC 5280 §4.1): BOOLEAN, INTEGER, BIT STRING, OCTET STRING,
// NULL, OBJECT IDENTIFIER, the string types, UTCTime and GeneralizedTime (RFC 5280 §4.1.2.5).
//
// The reader accepts only definite, minimally encoded lengths (X.690 §10.1), primitive encodings
// of primitive types, minimal INTEGERs (§8.3.2), canonical BOOLEANs (§11.1) and zero unused bits in
// BIT STRINGs (§11.2.1). Every failure is a CertificateError with alert bad_certificate (42).
import { malformed } from './errors.js';

/** Identifier octets of the universal tags we use, and helpers for context-specific tags. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  TeletexString: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag [n] (n < 31): constructed for EXPLICIT tagging and constructed types. */
export function ctx(n: number, constructed: boolean): number {
  return (constructed ? 0xa0 : 0x80) | n;
}

/** Tag class of an identifier (X.690 §8.1.2.2): 0 universal, 1 application, 2 context, 3 private. */
export function tagClass(tag: number): number {
  return (tag & 0xc0) >> 6;
}

export function isConstructed(tag: number): boolean {
  return (tag & 0x20) !== 0;
}

/** Largest element we agree to read: certificates are kilobytes; this bounds hostile lengths. */
const MAX_LENGTH = 0x00ff_ffff;

const UNIVERSAL_PRIMITIVE = new Set<number>([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1a, 0x1c, 0x1e]);

/**
 * A cursor over DER. `tag` values are the identifier octet for tag numbers < 31; high tag numbers
 * (X.690 §8.1.2.4) are represented as `(identifier & 0xe0 | 0x1f) + number * 256`.
 */
export class DerReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Offsets of the element last read by `next()`. */
  elemStart = 0;
  valueStart = 0;
  valueEnd = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next element's tag without consuming it, or -1 at the end. */
  peekTag(): number {
    if (this.pos >= this.end) return -1;
    const save = this.pos;
    const tag = this.readTag();
    this.pos = save;
    return tag;
  }

  private readTag(): number {
    if (this.pos >= this.end) throw malformed('truncated identifier');
    const id = this.buf[this.pos++]!;
    if ((id & 0x1f) !== 0x1f) return id;
    // High tag number form: base-128, minimal (no leading 0x80), value must be ≥ 31.
    let num = 0;
    let first = true;
    for (;;) {
      if (this.pos >= this.end) throw malformed('truncated high tag number');
      const b = this.buf[this.pos++]!;
      if (first && b === 0x80) throw malformed('non-minimal high tag number');
      first = false;
      num = num * 128 + (b & 0x7f);
      if (num > 0xffff) throw malformed('tag number too large');
      if ((b & 0x80) === 0) break;
    }
    if (num < 31) throw malformed('high tag form for a low tag number');
    return ((id & 0xe0) | 0x1f) + num * 256;
  }

  /** Read the next element's header; sets elemStart/valueStart/valueEnd and returns its tag. */
  next(): number {
    const start = this.pos;
    const tag = this.readTag();
    if (this.pos >= this.end) throw malformed('truncated length');
    const first = this.buf[this.pos++]!;
    let len: number;
    if (first < 0x80) {
      len = first;
    } else if (first === 0x80) {
      throw malformed('indefinite length');
    } else {
      const n = first & 0x7f;
      if (n > 3) throw malformed('length too large');
      if (this.end - this.pos < n) throw malformed('truncated length');
      if (this.buf[this.pos] === 0) throw malformed('non-minimal length (leading zero)');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + this.buf[this.pos++]!;
      if (len < 0x80) throw malformed('non-minimal length (long form for < 128)');
      if (len > MAX_LENGTH) throw malformed('length too large');
    }
    if (this.end - this.pos < len) throw malformed(`element of ${len} bytes exceeds its container`);
    if (tag < 0x40) {
      // Universal class: SEQUENCE/SET must be constructed, the primitive types primitive (DER §10.2).
      const num = tag & 0x1f;
      const cons = (tag & 0x20) !== 0;
      if (((num === 0x10 || num === 0x11) && !cons) || (cons && UNIVERSAL_PRIMITIVE.has(num))) {
        throw malformed(`universal tag ${num} in the wrong form`);
      }
    }
    this.elemStart = start;
    this.valueStart = this.pos;
    this.valueEnd = this.pos + len;
    this.pos = this.valueEnd;
    return tag;
  }

  private expect(tag: number, what: string): void {
    const got = this.next();
    if (got !== tag) throw malformed(`expected ${what} (tag 0x${tag.toString(16)}), got tag 0x${got.toString(16)}`);
  }

  /** Contents of the next element, which must have `tag`. */
  value(tag: number, what = 'element'): Uint8Array {
    this.expect(tag, what);
    return this.buf.subarray(this.valueStart, this.valueEnd);
  }

  /** The full encoding (header + contents) of the next element, whatever its tag. */
  raw(): Uint8Array {
    this.next();
    return this.buf.subarray(this.elemStart, this.valueEnd);
  }

  /** The full encoding of the next element, which must have `tag`. */
  rawOf(tag: number, what = 'element'): Uint8Array {
    this.expect(tag, what);
    return this.buf.subarray(this.elemStart, this.valueEnd);
  }

  /** A reader over the contents of the next constructed element with `tag` (default SEQUENCE). */
  sequence(tag: number = Tag.SEQUENCE, what = 'SEQUENCE'): DerReader {
    this.expect(tag, what);
    return new DerReader(this.buf, this.valueStart, this.valueEnd);
  }

  /** If the next element has `tag`, a reader over its contents; otherwise null (nothing consumed). */
  optional(tag: number): DerReader | null {
    if (this.peekTag() !== tag) return null;
    this.next();
    return new DerReader(this.buf, this.valueStart, this.valueEnd);
  }

  /** Throws if anything is left (trailing data). */
  finish(what = 'element'): void {
    if (this.pos !== this.end) throw malformed(`trailing data after ${what}`);
  }

  boolean(): boolean {
    const v = this.value(Tag.BOOLEAN, 'BOOLEAN');
    if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw malformed('BOOLEAN not DER (X.690 §11.1)');
    return v[0] === 0xff;
  }

  /** INTEGER contents (two's complement, minimal). */
  integerBytes(tag: number = Tag.INTEGER): Uint8Array {
    const v = this.value(tag, 'INTEGER');
    checkInteger(v);
    return v;
  }

  /** A non-negative INTEGER that fits in 31 bits (versions, pathLenConstraint, salt lengths). */
  smallUint(tag: number = Tag.INTEGER): number {
    const v = this.integerBytes(tag);
    if (v[0]! & 0x80) throw malformed('negative INTEGER where a non-negative one is required');
    if (v.length > 5 || (v.length === 5 && v[0] !== 0)) throw malformed('INTEGER too large');
    let n = 0;
    for (let i = 0; i < v.length; i++) n = n * 256 + v[i]!;
    if (n > 0x7fff_ffff) throw malformed('INTEGER too large');
    return n;
  }

  oid(): string {
    return decodeOid(this.value(Tag.OID, 'OBJECT IDENTIFIER'));
  }

  null(): void {
    if (this.value(Tag.NULL, 'NULL').length !== 0) throw malformed('NULL with contents');
  }

  octetString(): Uint8Array {
    return this.value(Tag.OCTET_STRING, 'OCTET STRING');
  }

  /** BIT STRING contents without the unused-bits octet; unused bits must be zero (X.690 §11.2.1). */
  bitString(tag: number = Tag.BIT_STRING): { bytes: Uint8Array; unusedBits: number } {
    return decodeBitString(this.value(tag, 'BIT STRING'));
  }

  /** UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5) as ms since the epoch. */
  time(): number {
    const tag = this.next();
    const v = this.buf.subarray(this.valueStart, this.valueEnd);
    if (tag === Tag.UTCTime) return decodeUtcTime(v);
    if (tag === Tag.GeneralizedTime) return decodeGeneralizedTime(v);
    throw malformed(`expected a Time, got tag 0x${tag.toString(16)}`);
  }
}

export function checkInteger(v: Uint8Array): void {
  if (v.length === 0) throw malformed('empty INTEGER');
  if (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) {
    throw malformed('non-minimal INTEGER (X.690 §8.3.2)');
  }
}

export function decodeBitString(v: Uint8Array): { bytes: Uint8Array; unusedBits: number } {
  if (v.length === 0) throw malformed('empty BIT STRING');
  const unused = v[0]!;
  if (unused > 7 || (v.length === 1 && unused !== 0)) throw malformed('bad BIT STRING unused-bits count');
  if (unused && (v[v.length - 1]! & ((1 << unused) - 1)) !== 0) throw malformed('BIT STRING unused bits not zero (X.690 §11.2.1)');
  return { bytes: v.subarray(1), unusedBits: unused };
}

/** Dotted-decimal OID from contents octets (X.690 §8.19), strict: minimal sub-identifiers. */
export function decodeOid(v: Uint8Array): string {
  if (v.length === 0) throw malformed('empty OBJECT IDENTIFIER');
  if (v[v.length - 1]! & 0x80) throw malformed('truncated OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let i = 0;
  while (i < v.length) {
    if (v[i] === 0x80) throw malformed('non-minimal OBJECT IDENTIFIER sub-identifier');
    let n = 0;
    let big: bigint | null = null;
    for (;;) {
      const b = v[i++]!;
      if (big !== null) big = big * 128n + BigInt(b & 0x7f);
      else if (n >= 2 ** 45) big = BigInt(n) * 128n + BigInt(b & 0x7f);
      else n = n * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (arcs.length === 0) {
      // First sub-identifier encodes the first two arcs (X.690 §8.19.4).
      if (big !== null) {
        arcs.push('2', (big - 80n).toString());
      } else if (n < 40) arcs.push('0', String(n));
      else if (n < 80) arcs.push('1', String(n - 40));
      else arcs.push('2', String(n - 80));
    } else {
      arcs.push(big !== null ? big.toString() : String(n));
    }
  }
  return arcs.join('.');
}

function digits(v: Uint8Array, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = v[i]! - 0x30;
    if (c < 0 || c > 9) throw malformed('non-digit in time');
    x = x * 10 + c;
  }
  return x;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function toEpochMs(year: number, v: Uint8Array, at: number): number {
  const month = digits(v, at, 2);
  const day = digits(v, at + 2, 2);
  const hour = digits(v, at + 4, 2);
  const minute = digits(v, at + 6, 2);
  const second = digits(v, at + 8, 2);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]! || (month === 2 && day === 29 && !leap)) {
    throw malformed('invalid date');
  }
  if (hour > 23 || minute > 59 || second > 59) throw malformed('invalid time of day');
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** UTCTime "YYMMDDHHMMSSZ" (RFC 5280 §4.1.2.5.1: YY ≥ 50 is 19YY, else 20YY). */
export function decodeUtcTime(v: Uint8Array): number {
  if (v.length !== 13 || v[12] !== 0x5a) throw malformed('UTCTime not in YYMMDDHHMMSSZ form');
  const yy = digits(v, 0, 2);
  return toEpochMs(yy >= 50 ? 1900 + yy : 2000 + yy, v, 2);
}

/** GeneralizedTime "YYYYMMDDHHMMSSZ" without fractions (RFC 5280 §4.1.2.5.2). */
export function decodeGeneralizedTime(v: Uint8Array): number {
  if (v.length !== 15 || v[14] !== 0x5a) throw malformed('GeneralizedTime not in YYYYMMDDHHMMSSZ form');
  const t = toEpochMs(digits(v, 0, 4), v, 4);
  return t;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Text of a directory string (RFC 5280 §4.1.2.4 DirectoryString and friends). Lenient on purpose:
 * names are compared as DER bytes, the text is for display and CN, so a PrintableString with a
 * stray character or Teletex bytes still decode (as Latin-1) instead of failing the certificate.
 * Returns null for non-string tags.
 */
export function decodeString(tag: number, v: Uint8Array): string | null {
  switch (tag) {
    case Tag.UTF8String:
      try {
        return utf8Strict.decode(v);
      } catch {
        return latin1.decode(v);
      }
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.VisibleString:
    case Tag.NumericString:
    case Tag.TeletexString:
      return latin1.decode(v);
    case Tag.BMPString: {
      if (v.length % 2) return null;
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case Tag.UniversalString: {
      if (v.length % 4) return null;
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    default:
      return null;
  }
}

/** An IA5String's text, strictly ASCII (SAN dNSName, RFC 5280 §4.2.1.6). */
export function decodeIa5(v: Uint8Array): string {
  let s = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i]! > 0x7f) throw malformed('non-ASCII byte in IA5String');
    s += String.fromCharCode(v[i]!);
  }
  return s;
}

// -------------------------------------------------------------------------------------------
// Writer: each function returns one complete DER element (cold path: certificate generation).

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) out.unshift(x & 0xff);
  return [0x80 | out.length, ...out];
}

/** One element with identifier `tag` (< 0x1f tag numbers) and the concatenation of `parts`. */
export function derTlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const hdr = lengthBytes(len);
  const out = new Uint8Array(1 + hdr.length + len);
  out[0] = tag;
  out.set(hdr, 1);
  let o = 1 + hdr.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function derSequence(...children: Uint8Array[]): Uint8Array {
  return derTlv(Tag.SEQUENCE, ...children);
}

/** SET OF: DER sorts the encodings (X.690 §11.6). */
export function derSet(...children: Uint8Array[]): Uint8Array {
  const sorted = children.slice().sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  return derTlv(Tag.SET, ...sorted);
}

/** [n] EXPLICIT wrapping of one element. */
export function derExplicit(n: number, inner: Uint8Array): Uint8Array {
  return derTlv(ctx(n, true), inner);
}

export function derBoolean(v: boolean): Uint8Array {
  return derTlv(Tag.BOOLEAN, new Uint8Array([v ? 0xff : 0]));
}

export function derNull(): Uint8Array {
  return new Uint8Array([Tag.NULL, 0]);
}

/** INTEGER from a non-negative safe integer, or from unsigned big-endian magnitude bytes. */
export function derInteger(v: number | Uint8Array): Uint8Array {
  let mag: Uint8Array;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`v: expected a non-negative safe integer, got ${v}`);
    const bytes: number[] = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
    mag = new Uint8Array(bytes);
  } else {
    mag = v;
  }
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  mag = mag.subarray(i);
  if (mag.length === 0) return new Uint8Array([Tag.INTEGER, 1, 0]);
  if (mag[0]! & 0x80) return derTlv(Tag.INTEGER, new Uint8Array([0]), mag);
  return derTlv(Tag.INTEGER, mag);
}

/** OBJECT IDENTIFIER from dotted decimal (X.690 §8.19). */
export function derOid(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw new TypeError(`dotted: invalid OID ${JSON.stringify(dotted)}`);
  const arcs = dotted.split('.').map((s) => BigInt(s));
  if (arcs[0]! < 2n && arcs[1]! >= 40n) throw new TypeError(`dotted: second arc must be < 40 under ${arcs[0]}`);
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const s of subs) {
    const chunk: number[] = [Number(s & 0x7fn)];
    for (let x = s >> 7n; x > 0n; x >>= 7n) chunk.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return derTlv(Tag.OID, new Uint8Array(out));
}

export function derOctetString(v: Uint8Array): Uint8Array {
  return derTlv(Tag.OCTET_STRING, v);
}

export function derBitString(v: Uint8Array, unusedBits = 0): Uint8Array {
  if (unusedBits < 0 || unusedBits > 7 || (v.length === 0 && unusedBits !== 0)) throw new RangeError('unusedBits: 0..7');
  return derTlv(Tag.BIT_STRING, new Uint8Array([unusedBits]), v);
}

/** A named-bit BIT STRING (X.690 §11.2.2: trailing zero bits removed), bit 0 = MSB of the first octet. */
export function derNamedBits(bits: readonly number[]): Uint8Array {
  const max = bits.length ? Math.max(...bits) : -1;
  if (max < 0) return derBitString(new Uint8Array(0));
  const bytes = new Uint8Array((max >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return derBitString(bytes, 7 - (max & 7));
}

function stringOf(tag: number, s: string, check: RegExp, what: string): Uint8Array {
  if (!check.test(s)) throw new TypeError(`${what}: characters outside the ${what} alphabet in ${JSON.stringify(s)}`);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return derTlv(tag, b);
}

export function derUtf8String(s: string): Uint8Array {
  return derTlv(Tag.UTF8String, new TextEncoder().encode(s));
}

export function derPrintableString(s: string): Uint8Array {
  return stringOf(Tag.PrintableString, s, /^[A-Za-z0-9 '()+,\-./:=?]*$/, 'PrintableString');
}

export function derIa5String(s: string): Uint8Array {
  return stringOf(Tag.IA5String, s, /^[\x00-\x7f]*$/, 'IA5String');
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function derTime(ms: number): Uint8Array {
  if (!Number.isFinite(ms)) throw new RangeError('ms: not a finite time');
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) throw new RangeError(`ms: year ${y} outside 1950..9999`);
  const rest = pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2) + pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2) + 'Z';
  const text = y < 2050 ? pad(y % 100, 2) + rest : pad(y, 4) + rest;
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  return derTlv(y < 2050 ? Tag.UTCTime : Tag.GeneralizedTime, b);
}
