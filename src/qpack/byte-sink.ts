// L1 helper for the QPACK codecs: a growable byte buffer. QPACK output sizes are not known before
// encoding (Huffman, prefix integers), so the encoders write here and copy out once per result.

export class ByteSink {
  buf: Uint8Array;
  len: number;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.len = 0;
  }

  /** Make room for n more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): void {
    if (this.len === this.buf.length) this.ensure(1);
    this.buf[this.len++] = v;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }

  /** A view of the bytes written (valid until the next write or reset). */
  view(start = 0): Uint8Array {
    return this.buf.subarray(start, this.len);
  }

  /** A copy of the bytes written from `start`, after which the sink is emptied. */
  take(start = 0): Uint8Array {
    const out = this.buf.slice(start, this.len);
    this.len = 0;
    return out;
  }

  reset(): void {
    this.len = 0;
  }
}
