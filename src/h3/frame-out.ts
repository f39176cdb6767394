// L6 frame headers written straight into the buffer of an outgoing frame (RFC 9114 §7.1: Type (i),
// Length (i); RFC 9000 §16 varints), with no Writer or DataView per frame on the request path.

/** Write a varint at `pos` (RFC 9000 §16); returns the position after it. No DataView per frame. */
export function putVarint(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0x40) {
    buf[pos] = v;
    return pos + 1;
  }
  if (v < 0x4000) {
    buf[pos] = 0x40 | (v >>> 8);
    buf[pos + 1] = v & 0xff;
    return pos + 2;
  }
  if (v < 0x40000000) {
    buf[pos] = 0x80 | (v >>> 24);
    buf[pos + 1] = (v >>> 16) & 0xff;
    buf[pos + 2] = (v >>> 8) & 0xff;
    buf[pos + 3] = v & 0xff;
    return pos + 4;
  }
  const hi = Math.floor(v / 0x100000000);
  const lo = v >>> 0;
  buf[pos] = 0xc0 | (hi >>> 24);
  buf[pos + 1] = (hi >>> 16) & 0xff;
  buf[pos + 2] = (hi >>> 8) & 0xff;
  buf[pos + 3] = hi & 0xff;
  buf[pos + 4] = lo >>> 24;
  buf[pos + 5] = (lo >>> 16) & 0xff;
  buf[pos + 6] = (lo >>> 8) & 0xff;
  buf[pos + 7] = lo & 0xff;
  return pos + 8;
}

/** Frame header (type, length) at the start of `buf`, sized by frameHeaderSize (RFC 9114 §7.1). */
export function putFrameHeader(buf: Uint8Array, type: number, length: number): void {
  putVarint(buf, putVarint(buf, 0, type), length);
}
