// L1: TLS handshake message framing (RFC 8446 §4: msg_type u8, length u24, body) and a reassembler
// that accepts the handshake byte stream of one encryption level split at any point
// (RFC 9001 §4.1.3: CRYPTO frames carry the stream; QUIC hands it over in order).
import { TlsAlert, AlertDescription } from './alert.js';

export interface HandshakeMessage {
  readonly type: number;
  /** The body, without the 4-byte header. */
  readonly body: Uint8Array;
  /** Header + body, as hashed into the transcript (RFC 8446 §4.4.1). */
  readonly raw: Uint8Array;
}

/** Frame a handshake message: type (1) + u24 length + body. */
export function encodeHandshake(type: number, body: Uint8Array): Uint8Array {
  if (body.length > 0xffffff) throw new RangeError(`handshake body of ${body.length} bytes exceeds 2^24-1`);
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = body.length >>> 16;
  out[2] = body.length >>> 8;
  out[3] = body.length;
  out.set(body, 4);
  return out;
}

/** Default largest handshake message accepted (a generous certificate chain fits). */
export const DEFAULT_MAX_HANDSHAKE_MESSAGE = 0x10000;

/**
 * Collects handshake bytes of one encryption level and yields whole messages. Bytes may be split
 * anywhere, including inside the 4-byte header. A declared length above `maxMessageSize` fails at
 * once with decode_error, before the body is buffered.
 */
export class HandshakeReassembler {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  readonly maxMessageSize: number;

  constructor(maxMessageSize = DEFAULT_MAX_HANDSHAKE_MESSAGE) {
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 4 || maxMessageSize > 0xffffff) {
      throw new RangeError(`maxMessageSize: expected an integer in [4, 2^24-1], got ${maxMessageSize}`);
    }
    this.maxMessageSize = maxMessageSize;
  }

  /** Bytes buffered that do not yet form a complete message. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Append bytes (copied). */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    const used = this.end - this.start;
    if (this.end + data.length > this.buf.length) {
      if (used + data.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = Math.max(64, this.buf.length * 2);
        while (cap < used + data.length) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = used;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** The type byte of the next (possibly incomplete) message, or -1 when nothing is buffered. */
  peekType(): number {
    return this.end > this.start ? this.buf[this.start]! : -1;
  }

  /** The next complete message, or null if more bytes are needed. Throws TlsAlert(decode_error). */
  next(): HandshakeMessage | null {
    const avail = this.end - this.start;
    if (avail < 4) return null;
    const b = this.buf;
    const s = this.start;
    const len = (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!;
    if (len > this.maxMessageSize) {
      throw new TlsAlert(AlertDescription.decode_error, `handshake message type ${b[s]} of ${len} bytes exceeds the ${this.maxMessageSize}-byte limit`);
    }
    if (avail < 4 + len) return null;
    const raw = b.slice(s, s + 4 + len);
    this.start = s + 4 + len;
    if (this.start === this.end) this.start = this.end = 0;
    return { type: raw[0]!, body: raw.subarray(4), raw };
  }
}
