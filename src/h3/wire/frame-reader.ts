// L1 streaming HTTP/3 frame parser (RFC 9114 §7.1, §7.2, RFC 9218 §7.2) for one stream.
// Accepts stream data in arbitrary chunks (a frame header may be split anywhere), reports DATA
// payload incrementally as views into the pushed chunks (bodies are never buffered), buffers other
// frames up to a limit, and skips unknown and reserved frame types without buffering them.
//
// Errors (H3Error, connection errors):
// - HTTP/2-only frame types 0x02, 0x06, 0x08, 0x09 → H3_FRAME_UNEXPECTED (§7.2.8);
// - with a stream kind, a frame not allowed on it (§7.2 table, RFC 9218 §7.2) → H3_FRAME_UNEXPECTED;
//   on a control stream, a first frame other than SETTINGS → H3_MISSING_SETTINGS and a second
//   SETTINGS → H3_FRAME_UNEXPECTED (§6.2.1, §7.2.4);
// - CANCEL_PUSH / GOAWAY / MAX_PUSH_ID whose Length is 0 or above 8 (one varint) → H3_FRAME_ERROR
//   as soon as the header arrives; a payload with extra or missing bytes → H3_FRAME_ERROR (§7.1);
// - HEADERS, PUSH_PROMISE, SETTINGS, PRIORITY_UPDATE longer than `maxFramePayload` →
//   H3_EXCESSIVE_LOAD (the frame is well-formed but more than this endpoint will buffer; §10.5);
// - the stream ending inside a frame (end()) → H3_FRAME_ERROR (§7.1).

import { EMPTY, Reader } from '../../util/bytes.js';
import { H3Error, H3ErrorCode } from './errors.js';
import { H3FrameType, decodeFramePayload, isHttp2OnlyFrameType, type H3Frame } from './frames.js';

/** Which stream the reader parses: frames not allowed there are rejected ('any' checks nothing). */
export type FrameStreamKind = 'control' | 'request' | 'push' | 'any';

export interface FrameReaderOptions {
  kind?: FrameStreamKind;
  /** Largest non-DATA frame payload buffered (default 65536). */
  maxFramePayload?: number;
}

/** A complete non-DATA frame, or a piece of DATA payload (a view into the pushed chunk). */
export type H3FrameEvent = H3Frame | { type: 'data'; data: Uint8Array };

const S_HEADER = 0;
const S_DATA = 1;
const S_BUFFER = 2;
const S_SKIP = 3;

export class FrameReader {
  readonly kind: FrameStreamKind;
  readonly maxFramePayload: number;

  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  private state = S_HEADER;
  private readonly hdr = new Uint8Array(16);
  private hdrLen = 0;
  private readonly reader = new Reader();
  private type = 0;
  private remaining = 0;
  private buf: Uint8Array = EMPTY;
  private filled = 0;
  private frames = 0;

  constructor(options: FrameReaderOptions = {}) {
    this.kind = options.kind ?? 'any';
    const max = options.maxFramePayload ?? 65536;
    if (!(max >= 0)) throw new RangeError('options.maxFramePayload must be a non-negative number');
    this.maxFramePayload = max;
  }

  /** Frames whose header has been read. */
  get framesRead(): number {
    return this.frames;
  }

  /** True while inside a frame (a FIN now would truncate it). */
  get inFrame(): boolean {
    return this.state !== S_HEADER || this.hdrLen > 0;
  }

  /** Type of the frame being read (valid while inFrame). */
  get currentType(): number {
    return this.type;
  }

  /** Hand the next chunk of stream data to the reader; read() every event before pushing again. */
  push(chunk: Uint8Array): void {
    if (this.pos < this.chunk.length) throw new RangeError('push() before the previous chunk was fully read');
    this.chunk = chunk;
    this.pos = 0;
  }

  /** The stream ended cleanly (FIN): a truncated last frame is H3_FRAME_ERROR. */
  end(): void {
    if (this.inFrame) {
      throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'stream ended inside a frame', this.state === S_HEADER ? -1 : this.type);
    }
  }

  /** The next event from the pushed data, or null when the chunk is used up. */
  read(): H3FrameEvent | null {
    const chunk = this.chunk;
    const end = chunk.length;
    for (;;) {
      switch (this.state) {
        case S_HEADER: {
          if (this.pos >= end || !this.readHeader()) return null;
          const ev = this.startFrame();
          if (ev) return ev;
          continue;
        }
        case S_DATA: {
          if (this.remaining === 0) {
            this.state = S_HEADER;
            continue;
          }
          if (this.pos >= end) return null;
          const n = Math.min(this.remaining, end - this.pos);
          const data = chunk.subarray(this.pos, this.pos + n);
          this.pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_HEADER;
          return { type: 'data', data };
        }
        case S_BUFFER: {
          if (this.pos >= end) return null;
          const n = Math.min(this.buf.length - this.filled, end - this.pos);
          this.buf.set(chunk.subarray(this.pos, this.pos + n), this.filled);
          this.pos += n;
          this.filled += n;
          if (this.filled < this.buf.length) return null;
          const payload = this.buf;
          this.buf = EMPTY;
          this.state = S_HEADER;
          const f = decodeFramePayload(this.type, payload);
          if (f) return f;
          continue;
        }
        default: {
          // S_SKIP
          if (this.remaining === 0) {
            this.state = S_HEADER;
            continue;
          }
          if (this.pos >= end) return null;
          const n = Math.min(this.remaining, end - this.pos);
          this.pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_HEADER;
          continue;
        }
      }
    }
  }

  /** Collect the frame header (type and length varints), possibly across chunks. */
  private readHeader(): boolean {
    const chunk = this.chunk;
    const end = chunk.length;
    if (this.hdrLen === 0) {
      const avail = end - this.pos;
      const l1 = 1 << (chunk[this.pos]! >> 6);
      if (avail > l1) {
        const l2 = 1 << (chunk[this.pos + l1]! >> 6);
        if (avail >= l1 + l2) {
          const r = this.reader.reset(chunk, this.pos, end);
          this.type = r.varint();
          this.remaining = r.varint();
          this.pos = r.pos;
          return true;
        }
      }
    }
    const hdr = this.hdr;
    while (this.pos < end) {
      hdr[this.hdrLen++] = chunk[this.pos++]!;
      const l1 = 1 << (hdr[0]! >> 6);
      if (this.hdrLen > l1 && this.hdrLen === l1 + (1 << (hdr[l1]! >> 6))) {
        const r = this.reader.reset(hdr, 0, this.hdrLen);
        this.type = r.varint();
        this.remaining = r.varint();
        this.hdrLen = 0;
        return true;
      }
    }
    return false;
  }

  /** Validate a frame header and enter its payload state; returns a frame already complete. */
  private startFrame(): H3FrameEvent | null {
    const type = this.type;
    const len = this.remaining;
    const first = this.frames === 0;
    this.frames++;
    const kind = this.kind;
    if (kind === 'control') {
      if (first && type !== H3FrameType.SETTINGS) {
        throw new H3Error(H3ErrorCode.H3_MISSING_SETTINGS, `first control-stream frame is 0x${type.toString(16)}, not SETTINGS`, type);
      }
      if (!first && type === H3FrameType.SETTINGS) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'second SETTINGS frame', type);
    }
    if (isHttp2OnlyFrameType(type)) {
      throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)} is not allowed in HTTP/3`, type);
    }
    let buffered = true;
    switch (type) {
      case H3FrameType.DATA:
      case H3FrameType.HEADERS:
        if (kind === 'control') this.unexpected(type);
        if (type === H3FrameType.DATA) {
          this.state = S_DATA;
          return null;
        }
        break;
      case H3FrameType.PUSH_PROMISE:
        if (kind === 'control' || kind === 'push') this.unexpected(type);
        break;
      case H3FrameType.CANCEL_PUSH:
      case H3FrameType.GOAWAY:
      case H3FrameType.MAX_PUSH_ID:
        if (kind === 'request' || kind === 'push') this.unexpected(type);
        if (len === 0 || len > 8) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, `frame Length ${len} cannot hold exactly one varint`, type);
        break;
      case H3FrameType.SETTINGS:
      case H3FrameType.PRIORITY_UPDATE_REQUEST:
      case H3FrameType.PRIORITY_UPDATE_PUSH:
        if (kind === 'request' || kind === 'push') this.unexpected(type);
        break;
      default:
        buffered = false;
    }
    if (!buffered) {
      this.state = S_SKIP;
      return null;
    }
    if (len > this.maxFramePayload) {
      throw new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `frame payload of ${len} bytes exceeds the limit of ${this.maxFramePayload}`, type);
    }
    const chunk = this.chunk;
    if (chunk.length - this.pos >= len) {
      const payload = chunk.subarray(this.pos, this.pos + len);
      this.pos += len;
      this.state = S_HEADER;
      return decodeFramePayload(type, payload);
    }
    this.buf = new Uint8Array(len);
    this.filled = 0;
    this.state = S_BUFFER;
    return null;
  }

  private unexpected(type: number): never {
    throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `frame type 0x${type.toString(16)} is not allowed on a ${this.kind} stream`, type);
  }
}
