// L7: the HTTP/3 client (RFC 9114) — a lower-level request() (a node:http ClientRequest look-alike:
// a Writable body, 'response' with an Http3IncomingMessage) and a fetch()-compatible function on
// top that returns a real WHATWG Response with a streaming body. One QUIC connection per origin is
// kept and reused (until GOAWAY, close or idle timeout); sockets do not keep the process alive while
// no request is in flight.
import { Readable, Writable } from 'node:stream';
import { decodeRememberedSettings, type H3Stats, type H3StreamStats } from '../h3/index.js';
import { H3ErrorCode } from '../h3/wire/index.js';
import { clientSessionAppData } from '../tls/index.js';
import { connectWith } from '../io/quic.js';
import type { ClientOptions } from '../io/options.js';
import { checkObject, describe } from '../io/options.js';
import type { QuicSession } from '../io/session.js';
import { QuicError, QuicErrorCode } from '../io/errors.js';
import type { HeaderField, HeaderFieldInput } from '../qpack/index.js';
import { BodySink } from './body.js';
import { H3Session, type H3StreamHandler } from './h3-session.js';
import { Http3IncomingMessage } from './incoming-message.js';
import { CONNECTION_SPECIFIC, fromNodeHeaders, toWebHeaders, type OutgoingHeaders } from './headers.js';

export interface Http3ClientOptions extends Omit<ClientOptions, 'alpn' | 'servername'> {
  alpn?: string | string[];
  /** Override SNI / certificate name for every origin (default: the URL's host). */
  servername?: string;
}

export interface Http3RequestOptions {
  method?: string;
  /** Headers: an object, a Headers instance or [name, value] pairs. */
  headers?: OutgoingHeaders | Headers | ReadonlyArray<readonly [string, string]>;
  signal?: AbortSignal;
  /** RFC 9218 priority: urgency 0..7, incremental. */
  priority?: { urgency: number; incremental: boolean };
  /** Send this :path verbatim instead of the URL's (normalised) path and query — tests, proxies. */
  path?: string;
}

interface Pooled {
  key: string;
  hs: H3Session;
  quic: QuicSession;
  active: number;
}

function toUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = input instanceof URL ? input : new URL(String(input));
  } catch {
    throw new TypeError(`url: invalid URL ${describe(input)}`);
  }
  if (url.protocol !== 'https:') throw new TypeError(`url: HTTP/3 needs an https: URL, got ${url.protocol}`);
  return url;
}

function originKey(url: URL): string {
  return `${url.hostname}:${url.port || '443'}`;
}

function headerList(h: Http3RequestOptions['headers']): HeaderFieldInput[] {
  if (h === undefined) return [];
  if (h instanceof Headers) {
    const out: HeaderFieldInput[] = [];
    for (const [k, v] of h) if (!CONNECTION_SPECIFIC.has(k)) out.push([k, v]);
    return out;
  }
  if (Array.isArray(h)) {
    return (h as ReadonlyArray<readonly [string, string]>).filter((p) => !CONNECTION_SPECIFIC.has(p[0].toLowerCase())).map((p) => [p[0].toLowerCase(), String(p[1])] as const);
  }
  return fromNodeHeaders(checkObject('options.headers', h) as OutgoingHeaders);
}

/** An HTTP/3 request in flight: write the body, end() it; 'response' delivers the response. */
export class Http3ClientRequest extends Writable {
  readonly method: string;
  readonly url: URL;
  /** The response, once its header section arrived. */
  response: Http3IncomingMessage | undefined = undefined;
  streamId = -1;
  /**
   * This request's HTTP/3 byte counters (HEADERS payloads and decoded field bytes each way, DATA
   * payloads, stream bytes read), from when its header section was sent; final once it is done.
   */
  stats: H3StreamStats | undefined = undefined;
  private readonly client: Http3Client;
  private readonly fields: HeaderFieldInput[];
  private pooled: Pooled | undefined;
  private sink: BodySink | undefined;
  private ready: Promise<void> | undefined;
  private sentHeaders = false;
  private finished_ = false;
  private readonly priority: { urgency: number; incremental: boolean } | undefined;
  private readonly signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  /** @internal Use client.request(). */
  constructor(client: Http3Client, url: URL, options: Http3RequestOptions) {
    // Not destroyed after 'finish': the exchange lives on until its response ended or failed, so a
    // connection that ends while the response is awaited still reports 'error' (then 'close').
    super({ highWaterMark: 64 * 1024, decodeStrings: true, autoDestroy: false });
    this.client = client;
    this.url = url;
    const method = options.method ?? 'GET';
    if (typeof method !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError(`options.method: invalid method ${describe(method)}`);
    this.method = method.toUpperCase() === method ? method : method.toUpperCase();
    this.priority = options.priority;
    if (options.path !== undefined && (typeof options.path !== 'string' || options.path.length === 0)) throw new TypeError(`options.path: expected a non-empty string, got ${describe(options.path)}`);
    const path = options.path ?? `${url.pathname || '/'}${url.search}`;
    const authority = url.host;
    const extra = headerList(options.headers).filter((f) => f[0] !== 'host');
    this.fields = [[':method', this.method], [':scheme', 'https'], [':authority', authority], [':path', path], ...extra];
    this.signal = options.signal;
    if (this.signal !== undefined) {
      if (this.signal.aborted) {
        process.nextTick(() => this.abort(abortError(this.signal!)));
      } else {
        this.onAbort = () => this.abort(abortError(this.signal!));
        this.signal.addEventListener('abort', this.onAbort, { once: true });
      }
    }
  }

  /** Cancel the request (H3_REQUEST_CANCELLED) and fail the response body with `err`. */
  abort(err: Error = new QuicError(QuicErrorCode.ABORTED, 'request aborted')): void {
    const r = this.response;
    if (r !== undefined && !r.complete) r.abort(err); // its onDestroy cancels the stream
    const p = this.pooled;
    if (p !== undefined && this.sentHeaders && !p.hs.closed && !(r?.complete ?? false)) {
      p.hs.h3.cancel(this.streamId, H3ErrorCode.H3_REQUEST_CANCELLED);
      p.hs.kick();
    }
    if (!this.destroyed) this.destroy(err);
    this.release();
  }

  /** Send the header section now (a streaming body follows later). */
  flushHeaders(): void {
    void this.start(false).catch((e: unknown) => this.destroy(e as Error));
  }

  private start(end: boolean): Promise<void> {
    this.ready ??= this.open(end);
    return this.ready;
  }

  private async open(end: boolean): Promise<void> {
    const pooled = await this.client.session(this.url);
    if (this.destroyed) throw new QuicError(QuicErrorCode.ABORTED, 'request destroyed');
    const hs = pooled.hs;
    let id: number | null = null;
    for (;;) {
      if (hs.closed) throw hs.closeError ?? new QuicError(QuicErrorCode.SESSION_CLOSED, 'request: the connection closed');
      id = hs.h3.request(this.fields, { end, ...(this.priority ? { priority: this.priority } : {}) });
      if (id !== null) break;
      await new Promise<void>((resolve) => {
        const prev = hs.onStreamsAvailable;
        hs.onStreamsAvailable = () => {
          hs.onStreamsAvailable = prev;
          prev?.();
          resolve();
        };
      });
    }
    this.pooled = pooled;
    pooled.active++;
    this.client.refChanged(pooled);
    this.streamId = id;
    this.stats = hs.streamStats(id);
    this.sentHeaders = true;
    this.sink = new BodySink(hs, id);
    hs.attach(id, this.handler(hs, id));
    hs.kick();
  }

  private handler(hs: H3Session, id: number): H3StreamHandler {
    const fail = (e: Error): void => {
      const r = this.response;
      if (r !== undefined && !r.complete) r.abort(e);
      this.sink?.abort(e);
      if (!this.destroyed && (!this.writableFinished || r === undefined)) this.destroy(e);
      this.release();
    };
    return {
      onInformational: (status, headers) => this.emit('information', { statusCode: status, headers: Object.fromEntries(headers.map((h) => [h[0], h[1]])), rawHeaders: headers.flat() }),
      onResponse: (status: number, headers: HeaderField[], endStream: boolean) => {
        const msg = new Http3IncomingMessage(hs, id, headers);
        msg.statusCode = status;
        msg.onDestroy = (err) => {
          // The application stopped reading the response: cancel the request.
          if (!hs.closed && !msg.complete) {
            hs.h3.cancel(id, H3ErrorCode.H3_REQUEST_CANCELLED);
            hs.kick();
          }
          this.release();
        };
        msg.once('end', () => this.release());
        this.response = msg;
        if (endStream || this.method === 'HEAD') {
          msg.source.endNow();
          if (this.method === 'HEAD' && !endStream) msg.source.onData();
        }
        this.emit('response', msg);
      },
      onData: () => this.response?.source.onData(),
      onTrailers: (t) => this.response?.setTrailers(t),
      onEnd: () => this.response?.source.onData(),
      onWritable: () => this.sink?.onWritable(),
      onReset: (code, remote) =>
        fail(
          new QuicError(QuicErrorCode.HTTP3, remote ? `the server reset the request (code 0x${code.toString(16)})` : `the request was refused after the server's GOAWAY (code 0x${code.toString(16)})`, {
            errorCode: code,
            remote,
          }),
        ),
      onStopSending: (code) => {
        // The server does not want the rest of the body (it may still answer).
        this.sink?.abort(null);
        this.bodyStopped = code;
      },
      onStreamError: (message, code) => fail(new QuicError(QuicErrorCode.HTTP3, `malformed response: ${message}`, { errorCode: code })),
      // The connection ended (reset, idle timeout, CONNECTION_CLOSE, close(), socket error).
      onClosed: (err) => fail(err),
    };
  }

  private bodyStopped = -1;
  private released = false;

  private release(): void {
    if (this.released) return;
    this.released = true;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    const p = this.pooled;
    if (p !== undefined) {
      p.active--;
      p.hs.detach(this.streamId);
      this.client.refChanged(p);
    }
    // autoDestroy is off: the exchange is over, end the Writable side too ('close').
    if (!this.destroyed && (this.writableFinished || this.response === undefined)) this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.start(false).then(
      () => {
        if (this.bodyStopped >= 0) return cb();
        this.sink!.write(chunk, cb);
      },
      (e: unknown) => cb(e as Error),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    const wasSent = this.ready !== undefined;
    this.start(true).then(
      () => {
        this.finished_ = true;
        if (wasSent && this.bodyStopped < 0 && this.pooled !== undefined && !this.pooled.hs.closed) {
          try {
            this.pooled.hs.h3.end(this.streamId);
            this.pooled.hs.kick();
          } catch (e) {
            return cb(e as Error);
          }
        }
        cb();
      },
      (e: unknown) => cb(e as Error),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const p = this.pooled;
    // autoDestroy after 'finish' is not an abort: the response may still be on its way.
    const aborting = err !== null || !this.writableFinished;
    if (aborting && p !== undefined && this.sentHeaders && !p.hs.closed && !(this.response?.complete ?? false)) {
      p.hs.h3.cancel(this.streamId, H3ErrorCode.H3_REQUEST_CANCELLED);
      p.hs.kick();
    }
    if (this.response !== undefined && !this.response.complete && err !== null) this.response.abort(err);
    this.sink?.abort(err);
    if (aborting) this.release();
    cb(err);
  }

  /** The request has been fully sent. */
  get requestSent(): boolean {
    return this.finished_;
  }
}

function abortError(signal: AbortSignal): Error {
  const r = signal.reason as unknown;
  if (r instanceof Error) return r;
  return new DOMException('This operation was aborted', 'AbortError');
}

/** Reads the whole body of a non-stream BodyInit for re-sending on a 307/308 redirect. */
type ReplayableBody = Uint8Array | null;

export class Http3Client {
  readonly options: Http3ClientOptions;
  private readonly pool = new Map<string, Promise<Pooled>>();
  private readonly live = new Set<Pooled>();
  /** The latest session ticket per origin (with the server's SETTINGS attached when known). */
  private readonly tickets = new Map<string, Buffer>();
  private closed = false;
  /** Let sockets keep the process alive only while requests are in flight (default true). */
  unrefWhenIdle: boolean;
  /**
   * Called with each new session ticket (and again once the server's SETTINGS are attached to it)
   * and the origin ("host:port") it is for; the latest is also kept: sessionTicket(url).
   */
  onSessionTicket: ((ticket: Buffer, origin: string) => void) | undefined = undefined;

  constructor(options: Http3ClientOptions = {}) {
    checkObject('options', options);
    this.options = options;
    this.unrefWhenIdle = true;
  }

  /** @internal The pooled session for an origin (one QUIC connection, reused). */
  async session(url: URL): Promise<Pooled> {
    if (this.closed) throw new QuicError(QuicErrorCode.SESSION_CLOSED, 'the HTTP/3 client is closed');
    const key = originKey(url);
    let p = this.pool.get(key);
    if (p !== undefined) {
      const pooled = await p.catch(() => undefined);
      if (pooled !== undefined && !pooled.hs.closed && !pooled.hs.goawayReceived && !pooled.quic.closing) return pooled;
      if (this.pool.get(key) === p) this.pool.delete(key);
    }
    p = this.connect(url);
    this.pool.set(key, p);
    p.catch(() => {
      if (this.pool.get(key) === p) this.pool.delete(key);
    });
    return p;
  }

  private async connect(url: URL): Promise<Pooled> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 443;
    const o: Record<string, unknown> = { ...this.options };
    if (o['servername'] === undefined) o['servername'] = host;
    const quic = await connectWith({ host, port }, o as ClientOptions, { alpn: ['h3'] });
    quic.noErrorCodes = [0, H3ErrorCode.H3_NO_ERROR];
    const early = this.options.enableEarlyData === true ? rememberedSettingsOf(this.options.session) : undefined;
    const hs = new H3Session(quic, 'client', {}, early === undefined ? {} : { earlySettings: early });
    const key = originKey(url);
    hs.onSessionTicket = (ticket) => {
      this.tickets.set(key, ticket);
      this.onSessionTicket?.(ticket, key);
    };
    const pooled: Pooled = { key, hs, quic, active: 0 };
    this.live.add(pooled);
    const forget = (): void => {
      this.live.delete(pooled);
      const cur = this.pool.get(key);
      if (cur !== undefined) void cur.then((x) => (x === pooled && this.pool.get(key) === cur ? this.pool.delete(key) : undefined)).catch(() => {});
    };
    hs.onGoaway = forget;
    // Any ending (stateless reset, idle timeout, CONNECTION_CLOSE, socket error): the next request dials anew.
    hs.onClosed = forget;
    void quic.closed.catch(() => {}).finally(forget);
    this.refChanged(pooled);
    // Resuming with 0-RTT: requests may go before the handshake completes (RFC 9001 §4.6.1).
    if (this.options.session !== undefined && this.options.enableEarlyData === true) return pooled;
    await quic.opened;
    if (quic.alpn !== 'h3' && !(this.options.alpn !== undefined)) throw new QuicError(QuicErrorCode.TLS, `the server chose ALPN ${quic.alpn}, not h3`);
    return pooled;
  }

  /**
   * The latest session ticket from `url`'s origin, also after its connection closed: pass it as
   * `session` (with `enableEarlyData` for 0-RTT) to a later client. It carries the server's HTTP/3
   * SETTINGS once they arrived (RFC 9114 §7.2.4.2), so 0-RTT requests comply with them.
   */
  sessionTicket(url: string | URL): Buffer | undefined {
    return this.tickets.get(originKey(toUrl(url)));
  }

  /**
   * HTTP/3 counters (H3Stats: requests, HEADERS/field/DATA bytes each way, stream bytes read) of
   * the pooled connection to `url`'s origin, or undefined when there is none now.
   */
  connectionStats(url: string | URL): H3Stats | undefined {
    const key = originKey(toUrl(url));
    let found: Pooled | undefined;
    for (const p of this.live) if (p.key === key && !p.hs.closed) found = p;
    return found?.hs.stats;
  }

  /** @internal Sockets hold the process only while requests are active. */
  refChanged(p: Pooled): void {
    if (this.unrefWhenIdle) p.quic.driver.ref(p.active > 0);
  }

  /** Start a request; write the body and end() it (or end() at once for no body). */
  request(url: string | URL, options: Http3RequestOptions = {}): Http3ClientRequest {
    checkObject('options', options);
    return new Http3ClientRequest(this, toUrl(url), options);
  }

  /** WHATWG fetch over HTTP/3. */
  async fetch(input: string | URL | Request, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
    let request: Request;
    // Node Readables and async iterables become web streams.
    const body = init.body as unknown;
    if (body !== undefined && body !== null && (body instanceof Readable || (typeof body === 'object' && Symbol.asyncIterator in (body as object) && !(body instanceof ReadableStream)))) {
      const stream = body instanceof Readable ? (Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>) : (Readable.toWeb(Readable.from(body as AsyncIterable<Uint8Array>)) as unknown as ReadableStream<Uint8Array>);
      request = new Request(input, { ...init, body: stream, duplex: 'half' } as RequestInit);
    } else {
      request = new Request(input, init.body !== undefined && init.body !== null ? ({ ...init, duplex: 'half' } as RequestInit) : init);
    }
    const redirect = request.redirect;
    let url = toUrl(request.url);
    let method = request.method;
    let headers: Headers = new Headers(request.headers);
    let replay: ReplayableBody = null;
    let stream: ReadableStream<Uint8Array> | null = request.body;
    const streamingBody = body instanceof ReadableStream || body instanceof Readable || (body !== null && typeof body === 'object' && Symbol.asyncIterator in (body as object));
    if (stream !== null && !streamingBody) {
      replay = new Uint8Array(await new Response(stream).arrayBuffer());
      stream = null;
    }
    const signal = request.signal;
    for (let hops = 0; ; hops++) {
      const res = await this.fetchOnce(url, method, headers, replay, stream, signal);
      const status = res.status;
      const location = res.headers.get('location');
      if (redirect === 'manual' || location === null || ![301, 302, 303, 307, 308].includes(status)) return res;
      if (redirect === 'error') {
        await res.body?.cancel();
        throw new TypeError(`fetch: redirect to ${location} with redirect: 'error'`);
      }
      if (hops >= 20) throw new TypeError('fetch: too many redirects');
      await res.body?.cancel();
      const next = new URL(location, url);
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        replay = null;
        stream = null;
        headers = new Headers(headers);
        for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(h);
      } else if (stream !== null) {
        throw new TypeError('fetch: cannot follow a 307/308 redirect with a streaming body');
      }
      url = toUrl(next);
    }
  }

  private fetchOnce(url: URL, method: string, headers: Headers, replay: ReplayableBody, stream: ReadableStream<Uint8Array> | null, signal: AbortSignal): Promise<Response> {
    const h = new Headers(headers);
    if (replay !== null && !h.has('content-length')) h.set('content-length', String(replay.length));
    const req = this.request(url, { method, headers: h, signal });
    return new Promise<Response>((resolve, reject) => {
      req.once('error', reject);
      req.once('response', (msg: Http3IncomingMessage) => {
        req.off('error', reject);
        req.on('error', () => {});
        const status = msg.statusCode!;
        const nullBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
        let body: ReadableStream<Uint8Array> | null = null;
        if (nullBody) msg.resume();
        else body = Readable.toWeb(msg) as unknown as ReadableStream<Uint8Array>;
        const response = new Response(body, { status, headers: toWebHeaders(fieldsOf(msg)) });
        Object.defineProperty(response, 'url', { value: url.href });
        resolve(response);
      });
      if (replay !== null) {
        req.end(replay);
      } else if (stream !== null) {
        req.flushHeaders();
        void (async () => {
          const reader = stream.getReader();
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              if (!req.write(value)) await new Promise<void>((r) => req.once('drain', r));
              if (req.destroyed) return;
            }
            req.end();
          } catch (e) {
            req.destroy(e as Error);
          }
        })();
      } else {
        req.end();
      }
    });
  }

  /** Close every pooled connection (H3_NO_ERROR). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.live];
    this.live.clear();
    this.pool.clear();
    await Promise.all(
      all.map(async (p) => {
        if (!p.hs.closed) {
          p.hs.h3.close(H3ErrorCode.H3_NO_ERROR);
          p.hs.kick();
        }
        await p.quic.close(H3ErrorCode.H3_NO_ERROR);
      }),
    );
  }
}

/**
 * The server SETTINGS a session blob remembers (RFC 9114 §7.2.4.2), if it carries a readable set;
 * anything else (no session, no appData, another format) means 0-RTT runs on the defaults.
 */
function rememberedSettingsOf(session: Uint8Array | undefined): Uint8Array | undefined {
  if (session === undefined) return undefined;
  let data: Uint8Array | undefined;
  try {
    data = clientSessionAppData(session);
  } catch {
    return undefined; // not a session: the connection reports that itself
  }
  return data !== undefined && decodeRememberedSettings(data) !== null ? data : undefined;
}

function fieldsOf(msg: Http3IncomingMessage): HeaderField[] {
  const out: HeaderField[] = [];
  for (let i = 0; i < msg.rawHeaders.length; i += 2) out.push([msg.rawHeaders[i]!, msg.rawHeaders[i + 1]!]);
  return out;
}

let defaultClient: Http3Client | undefined;

/** fetch() over HTTP/3 with a process-wide client (Node's bundled CAs; see Http3Client for options). */
export function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  defaultClient ??= new Http3Client();
  return defaultClient.fetch(input, init);
}

/** request() with the process-wide client. */
export function request(url: string | URL, options?: Http3RequestOptions): Http3ClientRequest {
  defaultClient ??= new Http3Client();
  return defaultClient.request(url, options);
}
