// L7: Http3ServerResponse — a node:http ServerResponse look-alike over one HTTP/3 request stream
// (RFC 9114 §4.1): statusCode, setHeader/getHeader/removeHeader, writeHead, write/end with
// backpressure, flushHeaders, addTrailers (trailer section, §4.1), writeContinue / writeEarlyHints /
// writeInformational (1xx interim responses, §4.1). Headers go out with the first write, end() or
// flushHeaders(); end(chunk) with no prior write sets content-length; HEAD, 204 and 304 responses
// drop body bytes as node:http does. Connection-specific fields (connection, transfer-encoding, …)
// are dropped (§4.2).
import { Writable } from 'node:stream';
import { H3ErrorCode } from '../h3/wire/index.js';
import type { HeaderFieldInput } from '../qpack/index.js';
import { BodySink } from './body.js';
import type { H3Session } from './h3-session.js';
import type { Http3IncomingMessage } from './incoming-message.js';
import { CONNECTION_SPECIFIC, checkValue, fromNodeHeaders, normalizeName, type OutgoingHeaderValue, type OutgoingHeaders } from './headers.js';

function headersSentError(what: string): Error {
  return Object.assign(new Error(`Cannot ${what} after they are sent to the client`), { code: 'ERR_HTTP_HEADERS_SENT' });
}

function checkStatus(code: unknown): number {
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 999) {
    throw new RangeError(`statusCode: expected an integer 100..999, got ${String(code)}`);
  }
  return code;
}

let dateSecond = -1;
let dateText = '';

/** The IMF-fixdate of now (RFC 9110 §5.6.7), formatted once per second as node:http does. */
function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

export class Http3ServerResponse extends Writable {
  statusCode = 200;
  /** Kept for compatibility; HTTP/3 has no reason phrase. */
  statusMessage = '';
  /** Add a `date` header when none is set (default true). */
  sendDate = true;
  readonly req: Http3IncomingMessage;
  readonly streamId: number;
  private readonly hs: H3Session;
  private readonly sink: BodySink;
  private readonly map = new Map<string, { name: string; value: OutgoingHeaderValue }>();
  private sent = false;
  private noBody = false;
  private trailerFields: HeaderFieldInput[] | undefined;
  private endChunk = false;
  private wroteBody = false;
  /** @internal */
  onDestroy: ((err: Error | null) => void) | undefined = undefined;

  /** @internal */
  constructor(hs: H3Session, streamId: number, req: Http3IncomingMessage) {
    super({ highWaterMark: 64 * 1024, decodeStrings: true });
    this.hs = hs;
    this.streamId = streamId;
    this.req = req;
    this.sink = new BodySink(hs, streamId);
  }

  get headersSent(): boolean {
    return this.sent;
  }

  /** node:http alias of writableEnded. */
  get finished(): boolean {
    return this.writableEnded;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.sent) throw headersSentError('set headers');
    const key = normalizeName(name);
    this.map.set(key, { name: key, value: checkValue(key, value) });
    return this;
  }

  appendHeader(name: string, value: number | string | readonly string[]): this {
    if (this.sent) throw headersSentError('append headers');
    const key = normalizeName(name);
    const v = checkValue(key, value);
    const prev = this.map.get(key);
    if (prev === undefined) this.map.set(key, { name: key, value: v });
    else {
      const a = Array.isArray(prev.value) ? [...(prev.value as string[])] : [String(prev.value)];
      if (Array.isArray(v)) a.push(...(v as string[]));
      else a.push(String(v));
      prev.value = a;
    }
    return this;
  }

  getHeader(name: string): OutgoingHeaderValue | undefined {
    return this.map.get(normalizeName(name))?.value;
  }

  getHeaders(): OutgoingHeaders {
    const o: OutgoingHeaders = Object.create(null) as OutgoingHeaders;
    for (const [k, v] of this.map) o[k] = v.value;
    return o;
  }

  getHeaderNames(): string[] {
    return [...this.map.keys()];
  }

  hasHeader(name: string): boolean {
    return this.map.has(normalizeName(name));
  }

  removeHeader(name: string): void {
    if (this.sent) throw headersSentError('remove headers');
    this.map.delete(normalizeName(name));
  }

  /** Set the status and headers; they are sent with the first body bytes (or end()). */
  writeHead(statusCode: number, statusMessage?: string | OutgoingHeaders | readonly (readonly [string, string])[], headers?: OutgoingHeaders | readonly (readonly [string, string])[]): this {
    if (this.sent) throw headersSentError('write headers');
    this.statusCode = checkStatus(statusCode);
    let h = headers;
    if (typeof statusMessage === 'string') this.statusMessage = statusMessage;
    else if (statusMessage !== undefined) h = statusMessage;
    if (h !== undefined) {
      if (Array.isArray(h)) {
        for (const pair of h as readonly (readonly [string, string])[]) this.appendHeader(pair[0], pair[1]);
      } else {
        for (const k of Object.keys(h)) {
          const v = (h as OutgoingHeaders)[k];
          if (v !== undefined) this.setHeader(k, v);
        }
      }
    }
    return this;
  }

  /** Send the header section now. */
  flushHeaders(): void {
    this.sendHead(false);
  }

  /** Trailer fields sent after the body (RFC 9114 §4.1). */
  addTrailers(headers: OutgoingHeaders | readonly (readonly [string, string])[]): void {
    const list: HeaderFieldInput[] = Array.isArray(headers)
      ? (headers as readonly (readonly [string, string])[]).map((p) => [normalizeName(p[0]), String(p[1])] as const)
      : fromNodeHeaders(headers as OutgoingHeaders);
    this.trailerFields = [...(this.trailerFields ?? []), ...list];
  }

  /** 100 Continue. */
  writeContinue(cb?: () => void): void {
    this.writeInformational(100, {});
    if (cb) process.nextTick(cb);
  }

  /** 103 Early Hints (RFC 8297), e.g. { link: '</style.css>; rel=preload; as=style' }. */
  writeEarlyHints(hints: OutgoingHeaders, cb?: () => void): void {
    this.writeInformational(103, hints);
    if (cb) process.nextTick(cb);
  }

  /** Any 1xx interim response (not 101: HTTP/3 has no Upgrade). */
  writeInformational(statusCode: number, headers: OutgoingHeaders = {}): void {
    if (this.sent) throw headersSentError('send an informational response');
    const code = checkStatus(statusCode);
    if (code >= 200 || code === 101) throw new RangeError(`statusCode: expected 1xx other than 101, got ${code}`);
    if (this.destroyed) return;
    this.hs.h3.respond(this.streamId, [[':status', String(code)], ...fromNodeHeaders(headers)]);
    this.hs.kick();
  }

  private head(): HeaderFieldInput[] {
    const out: HeaderFieldInput[] = [[':status', String(this.statusCode)]];
    for (const [k, v] of this.map) {
      if (CONNECTION_SPECIFIC.has(k)) continue;
      if (Array.isArray(v.value)) for (const x of v.value as string[]) out.push([k, String(x)]);
      else out.push([k, String(v.value)]);
    }
    if (this.sendDate && !this.map.has('date')) out.push(['date', httpDate()]);
    return out;
  }

  private sendHead(end: boolean): void {
    if (this.sent) return;
    checkStatus(this.statusCode);
    this.sent = true;
    const method = this.req.method;
    this.noBody = method === 'HEAD' || this.statusCode === 204 || this.statusCode === 304;
    this.hs.h3.respond(this.streamId, this.head(), { end });
    this.hs.kick();
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function' && !this.wroteBody && !this.sent) this.endChunk = true;
    return super.end(chunk as never, encoding as never, cb as never);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.sent) {
      if (this.endChunk && !this.map.has('content-length') && this.req.method !== 'HEAD' && this.statusCode !== 204 && this.statusCode !== 304) {
        this.map.set('content-length', { name: 'content-length', value: chunk.length });
      }
      try {
        this.sendHead(false);
      } catch (e) {
        return cb(e as Error);
      }
    }
    this.wroteBody = true;
    if (this.noBody || chunk.length === 0) return cb();
    this.sink.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    try {
      if (!this.sent) {
        if (!this.map.has('content-length') && !this.wroteBody && this.req.method !== 'HEAD' && this.statusCode !== 204 && this.statusCode !== 304 && this.statusCode >= 200) {
          this.map.set('content-length', { name: 'content-length', value: 0 });
        }
        if (this.trailerFields === undefined) {
          this.sendHead(true);
          return cb();
        }
        this.sendHead(false);
      }
      this.hs.h3.end(this.streamId, this.trailerFields);
      this.hs.kick();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.sink.abort(err);
    if (!this.writableFinished) this.onDestroy?.(err);
    cb(err);
  }

  /** @internal 'writable' from the H3 connection. */
  onWritable(): void {
    this.sink.onWritable();
  }

  /** @internal The client stopped reading (or the connection ended): the response is over. */
  abort(err: Error): void {
    this.sink.abort(err);
    if (!this.destroyed && !this.writableFinished) this.destroy(err);
  }
}

export const H3_INTERNAL_ERROR = H3ErrorCode.H3_INTERNAL_ERROR;
export const H3_REQUEST_CANCELLED = H3ErrorCode.H3_REQUEST_CANCELLED;
