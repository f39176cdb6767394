// L7: Http3IncomingMessage — a node:http IncomingMessage look-alike for HTTP/3 (RFC 9114 §4.1):
// a server's request or a client's response. The body is a Readable pulled from the H3 stream;
// trailers arrive before 'end'. `httpVersion` is '3'.
import { Readable } from 'node:stream';
import type { HeaderField } from '../qpack/index.js';
import type { H3StreamStats } from '../h3/index.js';
import { BodySource } from './body.js';
import type { H3Session } from './h3-session.js';
import { toNodeHeaders, type IncomingHeaders } from './headers.js';

/** What `req.socket` offers (a QUIC stream has no net.Socket). */
export interface Http3SocketInfo {
  remoteAddress: string;
  remotePort: number;
  remoteFamily: 'IPv4' | 'IPv6';
  localAddress: string | undefined;
  localPort: number | undefined;
  encrypted: true;
  alpnProtocol: string;
}

export class Http3IncomingMessage extends Readable {
  /** Request: method and path (`url` as node:http has it: the :path). */
  method: string | undefined = undefined;
  url: string | undefined = undefined;
  /** Response: status code. */
  statusCode: number | undefined = undefined;
  statusMessage = '';
  headers: IncomingHeaders = Object.create(null) as IncomingHeaders;
  rawHeaders: string[] = [];
  trailers: IncomingHeaders = Object.create(null) as IncomingHeaders;
  rawTrailers: string[] = [];
  readonly httpVersion = '3';
  readonly httpVersionMajor = 3;
  readonly httpVersionMinor = 0;
  /** :authority and :scheme of a request. */
  authority: string | undefined = undefined;
  scheme: string | undefined = undefined;
  /** The body and trailers were received completely. */
  complete = false;
  /** The peer reset the stream before the message completed. */
  aborted = false;
  readonly streamId: number;
  readonly socket: Http3SocketInfo;
  /**
   * HTTP/3 byte counters of this exchange's stream (HEADERS payloads and decoded field bytes each
   * way, DATA payloads, stream bytes read); they stay valid after it ended.
   */
  readonly stats: H3StreamStats | undefined;
  /** @internal */
  readonly source: BodySource;
  /** @internal */
  onDestroy: ((err: Error | null) => void) | undefined = undefined;

  /** @internal */
  constructor(hs: H3Session, streamId: number, fields: readonly HeaderField[]) {
    super({ highWaterMark: 64 * 1024 });
    this.streamId = streamId;
    const path = hs.quic.remoteAddress;
    this.socket = {
      remoteAddress: path.remoteAddress,
      remotePort: path.remotePort,
      remoteFamily: path.remoteAddress.includes(':') ? 'IPv6' : 'IPv4',
      localAddress: path.localAddress,
      localPort: path.localPort,
      encrypted: true,
      alpnProtocol: hs.quic.alpn,
    };
    const h = toNodeHeaders(fields);
    this.headers = h.headers;
    this.rawHeaders = h.rawHeaders;
    this.source = new BodySource(hs, streamId, this);
    this.stats = hs.streamStats(streamId);
    this.once('end', () => {
      this.complete = true;
    });
  }

  /** @internal */
  setTrailers(fields: readonly HeaderField[]): void {
    const t = toNodeHeaders(fields);
    this.trailers = t.headers;
    this.rawTrailers = t.rawHeaders;
  }

  /**
   * @internal The peer reset its side, or the connection ended: 'aborted', then the body fails
   * with `err` ('error', 'close'). A body received to its end (only still buffered) is left alone,
   * unless `discard` (a server request whose connection ended: destroyed, as node:http does,
   * without 'aborted').
   */
  abort(err: Error, discard = false): void {
    if (this.complete || this.destroyed) return;
    if (this.source.done) {
      if (discard) this.destroy(err);
      return;
    }
    this.aborted = true;
    this.emit('aborted');
    this.destroy(err);
  }

  override _read(): void {
    this.source.read();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.source.done) this.onDestroy?.(err);
    cb(err);
  }
}
