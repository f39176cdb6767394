// L0 byte helpers: Reader/Writer cursors over Uint8Array, one truncation error type.
// Hot-path idioms (DESIGN §7): a cursor is reused per datagram, subarray never slice,
// one DataView per backing buffer, no allocation inside read/write methods.

/** Thrown when a decoder needs more bytes than its input has. The only error a cursor read throws. */
export class BufferUnderflow extends Error {
  readonly code = 'ERR_QUIC_BUFFER_UNDERFLOW';
  constructor(needed: number, available: number) {
    super(`buffer underflow: needed ${needed} byte(s), ${available} available`);
    this.name = 'BufferUnderflow';
  }
}

/** Thrown when an encoder is asked to write past the end of the caller's memory (a programming error). */
export class BufferOverflow extends RangeError {
  readonly code = 'ERR_QUIC_BUFFER_OVERFLOW';
  constructor(needed: number, available: number) {
    super(`buffer overflow: needed ${needed} byte(s), ${available} available`);
    this.name = 'BufferOverflow';
  }
}

/** Thrown by exact varint reads when the value does not fit a JS number exactly (≥ 2^53). */
export class VarintRangeError extends RangeError {
  readonly code = 'ERR_QUIC_VARINT_RANGE';
  constructor() {
    super('varint exceeds 2^53-1');
    this.name = 'VarintRangeError';
  }
}

export const MAX_VARINT = 2 ** 62 - 1;
/** Largest value our `number` varint can hold exactly; decoders saturate to it (DESIGN §7.4). */
export const MAX_SAFE_VARINT = Number.MAX_SAFE_INTEGER;

const TWO32 = 0x1_0000_0000;

/** Size in bytes of the QUIC varint encoding of v (RFC 9000 §16). */
export function varintSize(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x4000_0000) return 4;
  return 8;
}

function dataViewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A read cursor. `pos` and `end` are public so codecs can record offsets into the datagram. */
export class Reader {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array = EMPTY, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = dataViewOf(buf);
    this.pos = start;
    this.end = end;
  }

  /** Re-point this cursor at another buffer (reuse per datagram). */
  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = dataViewOf(buf);
    }
    this.pos = start;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  need(n: number): void {
    if (this.end - this.pos < n) throw new BufferUnderflow(n, this.end - this.pos);
  }

  u8(): number {
    if (this.pos >= this.end) throw new BufferUnderflow(1, 0);
    return this.buf[this.pos++]!;
  }

  peekU8(): number {
    if (this.pos >= this.end) throw new BufferUnderflow(1, 0);
    return this.buf[this.pos]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 3;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Big-endian unsigned integer of n (1..6) bytes. */
  uint(n: number): number {
    this.need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos + i]!;
    this.pos += n;
    return v;
  }

  /** QUIC varint; values above 2^53-1 saturate to MAX_SAFE_VARINT (peer limits, error codes). */
  varint(): number {
    if (this.pos >= this.end) throw new BufferUnderflow(1, 0);
    const b = this.buf;
    const p = this.pos;
    const first = b[p]!;
    switch (first >> 6) {
      case 0:
        this.pos = p + 1;
        return first;
      case 1:
        this.need(2);
        this.pos = p + 2;
        return ((first & 0x3f) << 8) | b[p + 1]!;
      case 2:
        this.need(4);
        this.pos = p + 4;
        return (first & 0x3f) * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      default: {
        this.need(8);
        const hi = (first & 0x3f) * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
        const lo = this.view.getUint32(p + 4);
        this.pos = p + 8;
        if (hi >= 0x20_0000) return MAX_SAFE_VARINT;
        return hi * TWO32 + lo;
      }
    }
  }

  /** QUIC varint that must be exact: throws VarintRangeError above 2^53-1. */
  varintExact(): number {
    const start = this.pos;
    const v = this.varint();
    if (v === MAX_SAFE_VARINT && this.pos - start === 8) {
      // Distinguish a genuine 2^53-1 from saturation.
      const hi = (this.buf[start]! & 0x3f) * 0x100_0000 + ((this.buf[start + 1]! << 16) | (this.buf[start + 2]! << 8) | this.buf[start + 3]!);
      if (hi >= 0x20_0000) throw new VarintRangeError();
    }
    return v;
  }

  /** n bytes as a view into the underlying buffer (no copy). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Bytes prefixed by a varint length. */
  varintBytes(): Uint8Array {
    const n = this.varint();
    return this.bytes(n);
  }

  /** Bytes prefixed by a 1-byte length (connection IDs, TLS opaque<0..255>). */
  u8Bytes(): Uint8Array {
    return this.bytes(this.u8());
  }

  u16Bytes(): Uint8Array {
    return this.bytes(this.u16());
  }

  u24Bytes(): Uint8Array {
    return this.bytes(this.u24());
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Everything left, as a view; the cursor moves to the end. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return out;
  }
}

/** A write cursor into caller memory. Writes past `end` throw BufferOverflow. */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = dataViewOf(buf);
    this.pos = start;
    this.end = end;
  }

  /** A writer over a fresh buffer of `size` bytes (for tests and cold paths). */
  static alloc(size: number): Writer {
    return new Writer(new Uint8Array(size));
  }

  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = dataViewOf(buf);
    }
    this.pos = start;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** The bytes written so far from `start` (default 0), as a view. */
  written(start = 0): Uint8Array {
    return this.buf.subarray(start, this.pos);
  }

  need(n: number): void {
    if (this.end - this.pos < n) throw new BufferOverflow(n, this.end - this.pos);
  }

  u8(v: number): void {
    if (this.pos >= this.end) throw new BufferOverflow(1, 0);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.need(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u24(v: number): void {
    this.need(3);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 16;
    b[p + 1] = v >>> 8;
    b[p + 2] = v;
    this.pos = p + 3;
  }

  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }

  /** Big-endian unsigned integer in n (1..6) bytes. */
  uint(v: number, n: number): void {
    this.need(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.pos + i] = v % 256;
      v = Math.floor(v / 256);
    }
    this.pos += n;
  }

  /** QUIC varint in its shortest encoding. v must be an integer in [0, 2^53-1]. */
  varint(v: number): void {
    this.varintN(v, varintSize(v));
  }

  /** QUIC varint in exactly `size` bytes (1, 2, 4 or 8), e.g. a reserved Length field. */
  varintN(v: number, size: number): void {
    if (!(v >= 0 && v <= MAX_SAFE_VARINT) || !Number.isInteger(v)) {
      throw new RangeError(`value: a QUIC varint must be an integer in [0, 2^53-1], got ${v}`);
    }
    this.need(size);
    const b = this.buf;
    const p = this.pos;
    switch (size) {
      case 1:
        if (v >= 0x40) throw new RangeError(`value: varint ${v} does not fit the 1 byte requested by size`);
        b[p] = v;
        break;
      case 2:
        if (v >= 0x4000) throw new RangeError(`value: varint ${v} does not fit the 2 bytes requested by size`);
        b[p] = 0x40 | (v >>> 8);
        b[p + 1] = v;
        break;
      case 4:
        if (v >= 0x4000_0000) throw new RangeError(`value: varint ${v} does not fit the 4 bytes requested by size`);
        this.view.setUint32(p, (0x8000_0000 | v) >>> 0);
        break;
      case 8: {
        const hi = Math.floor(v / TWO32);
        this.view.setUint32(p, (0xc000_0000 | hi) >>> 0);
        this.view.setUint32(p + 4, v >>> 0);
        break;
      }
      default:
        throw new RangeError(`size: a varint takes 1, 2, 4 or 8 bytes, got ${size}`);
    }
    this.pos = p + size;
  }

  bytes(src: Uint8Array): void {
    this.need(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  varintBytes(src: Uint8Array): void {
    this.varint(src.length);
    this.bytes(src);
  }

  u8Bytes(src: Uint8Array): void {
    if (src.length > 0xff) throw new RangeError(`src: length ${src.length} does not fit a 1 byte length prefix`);
    this.u8(src.length);
    this.bytes(src);
  }

  u16Bytes(src: Uint8Array): void {
    if (src.length > 0xffff) throw new RangeError(`src: length ${src.length} does not fit a 2 byte length prefix`);
    this.u16(src.length);
    this.bytes(src);
  }

  u24Bytes(src: Uint8Array): void {
    if (src.length > 0xffffff) throw new RangeError(`src: length ${src.length} does not fit a 3 byte length prefix`);
    this.u24(src.length);
    this.bytes(src);
  }

  fill(value: number, n: number): void {
    this.need(n);
    this.buf.fill(value, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Reserve n bytes to patch later (e.g. a length prefix); returns their offset. */
  reserve(n: number): number {
    this.need(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

export const EMPTY = new Uint8Array(0);

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

/** Parse hex; whitespace is ignored (RFC vectors are printed wrapped). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError('hex: expected an even number of hex digits');
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Constant-time comparison for MACs, tokens and stateless reset tokens. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const utf8Enc = new TextEncoder();
const utf8Dec = new TextDecoder('utf-8', { fatal: false });

export function utf8(s: string): Uint8Array {
  return utf8Enc.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return utf8Dec.decode(b);
}

/** Zeroise secret material (DESIGN §7.9). */
export function wipe(b: Uint8Array | undefined | null): void {
  if (b) b.fill(0);
}
