// L1: a growable big-endian byte builder for TLS handshake messages (RFC 8446 §3 presentation
// language: uintN, opaque<floor..ceiling> vectors with 1-, 2- or 3-byte length prefixes).
// Handshake messages are built a few times per connection (cold path), so a growing buffer is
// simpler than sizing every structure first. Length prefixes are patched on close.

export class ByteBuilder {
  private buf: Uint8Array;
  private len = 0;
  private readonly open: number[] = [];

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.len;
  }

  private grow(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v;
    return this;
  }

  u24(v: number): this {
    this.grow(3);
    this.buf[this.len++] = v >>> 16;
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = v >>> 16;
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** opaque<0..2^8-1> */
  u8Bytes(b: Uint8Array): this {
    if (b.length > 0xff) throw new RangeError(`vector of ${b.length} bytes does not fit a 1-byte length`);
    return this.u8(b.length).bytes(b);
  }

  /** opaque<0..2^16-1> */
  u16Bytes(b: Uint8Array): this {
    if (b.length > 0xffff) throw new RangeError(`vector of ${b.length} bytes does not fit a 2-byte length`);
    return this.u16(b.length).bytes(b);
  }

  /** opaque<0..2^24-1> */
  u24Bytes(b: Uint8Array): this {
    if (b.length > 0xffffff) throw new RangeError(`vector of ${b.length} bytes does not fit a 3-byte length`);
    return this.u24(b.length).bytes(b);
  }

  /** Open a vector with an `n`-byte length prefix (1, 2 or 3); close it with end(). */
  begin(n: 1 | 2 | 3): this {
    this.grow(n);
    this.open.push(this.len, n);
    this.len += n;
    return this;
  }

  end(): this {
    const n = this.open.pop();
    const at = this.open.pop();
    if (n === undefined || at === undefined) throw new RangeError('ByteBuilder.end() without begin()');
    const size = this.len - at - n;
    if (size >= 2 ** (8 * n)) throw new RangeError(`vector of ${size} bytes does not fit a ${n}-byte length`);
    for (let i = n - 1, v = size; i >= 0; i--, v = Math.floor(v / 256)) this.buf[at + i] = v & 0xff;
    return this;
  }

  /** A copy of the bytes built (the builder may be reused or dropped). */
  finish(): Uint8Array {
    if (this.open.length !== 0) throw new RangeError('ByteBuilder.finish() with an open vector');
    return this.buf.slice(0, this.len);
  }
}
