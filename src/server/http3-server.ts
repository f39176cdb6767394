// L7: the HTTP/3 server (RFC 9114) — createServer() with node:http-style (req, res) listeners
// and/or a fetch-style handler (options.fetch). It listens with QUIC (ALPN "h3") through listen()
// and runs an H3Connection per session (src/server/h3-session.ts). Graceful close (RFC 9114 §5.2):
// GOAWAY, wait for requests in flight (bounded), then CONNECTION_CLOSE with H3_NO_ERROR. With 0-RTT
// on, session tickets carry the SETTINGS we advertise and 0-RTT is accepted only when the ones a
// client remembered are compatible with them (RFC 9114 §7.2.4.2).
import { EventEmitter } from 'node:events';
import { acceptsRememberedSettings, rememberedSettingsFor, type H3LocalSettings } from '../h3/index.js';
import { H3ErrorCode } from '../h3/wire/index.js';
import { listenWith, type AddressInfo, type QuicServer } from '../io/quic.js';
import type { ServerOptions } from '../io/options.js';
import type { QuicSession } from '../io/session.js';
import { H3Session, type H3RequestEvent, type H3StreamHandler } from './h3-session.js';
import { Http3IncomingMessage } from './incoming-message.js';
import { Http3ServerResponse } from './server-response.js';
import { sendWebResponse, toWebRequest, type FetchHandler } from './fetch-handler.js';
import type { HeaderField } from '../qpack/index.js';

export type RequestListener = (req: Http3IncomingMessage, res: Http3ServerResponse) => void;

export interface Http3ServerOptions extends Omit<ServerOptions, 'alpn'> {
  /** ALPN (default ['h3']). */
  alpn?: string | string[];
  /** A fetch-style handler: (request) => Response. Used when there is no 'request' listener. */
  fetch?: FetchHandler;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE we accept (default 65536). */
  maxHeaderSize?: number;
  /** QPACK dynamic table capacity we allow the client's encoder (default 16384). */
  qpackTableCapacity?: number;
}

const H3_KEYS = ['fetch', 'maxHeaderSize', 'qpackTableCapacity'] as const;

export interface Http3ServerStats {
  requests: number;
  /** Responses by status class ('1xx'…'5xx'). */
  responses: Record<string, number>;
  activeRequests: number;
}

/**
 * An HTTP/3 server: 'request' (req, res), 'checkContinue' (req, res) for `expect: 100-continue`
 * (default: 100 is sent, then 'request'), 'session' (QuicSession), 'listening', 'close',
 * 'requestError' (err, req).
 */
export class Http3Server extends EventEmitter {
  readonly options: Http3ServerOptions;
  quic: QuicServer | undefined;
  readonly h3Sessions = new Set<H3Session>();
  readonly stats: Http3ServerStats = { requests: 0, responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, activeRequests: 0 };
  private fetchHandler: FetchHandler | undefined;
  private closing: Promise<void> | null = null;
  /** The SETTINGS every session advertises, fixed at listen() (0-RTT tickets remember them). */
  private settings: H3LocalSettings = {};

  constructor(options: Http3ServerOptions = {}, listener?: RequestListener) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError('options.fetch: expected a function (request) => Response');
    if (listener !== undefined && typeof listener !== 'function') throw new TypeError('listener: expected a function (req, res) => void');
    this.options = options;
    this.fetchHandler = options.fetch;
    if (listener) this.on('request', listener);
  }

  /** Bind and start serving. `port`/`host` override the options. */
  async listen(port?: number, host?: string): Promise<this> {
    if (this.quic !== undefined) throw new Error('listen: already listening');
    const o: Record<string, unknown> = { ...this.options };
    for (const k of H3_KEYS) delete o[k];
    if (port !== undefined) o['port'] = port;
    if (host !== undefined) o['host'] = host;
    const settings: H3LocalSettings = {};
    if (this.options.maxHeaderSize !== undefined) settings.maxFieldSectionSize = this.options.maxHeaderSize;
    if (this.options.qpackTableCapacity !== undefined) settings.qpackMaxTableCapacity = this.options.qpackTableCapacity;
    this.settings = settings;
    // RFC 9114 §7.2.4.2: tickets carry the SETTINGS we advertise; 0-RTT is accepted only when the
    // ones a client remembered are compatible with those this server sends now.
    const core = this.options.enableEarlyData === true ? { ticketAppData: rememberedSettingsFor(settings), acceptEarlyData: (b: Uint8Array) => acceptsRememberedSettings(b, settings) } : {};
    this.quic = await listenWith(o as ServerOptions, { alpn: ['h3'] }, [], (s) => this.adopt(s), core);
    this.quic.on('session', (s: QuicSession) => this.emit('session', s));
    this.emit('listening');
    return this;
  }

  /**
   * @internal Serve HTTP/3 on QUIC sessions accepted elsewhere instead of listen() — a multi-core
   * shard worker (src/multicore/http3-app.ts). Returns the function that adopts each new session
   * (call it before the session's first event), with the SETTINGS the options ask for.
   */
  sessionAdopter(): (session: QuicSession) => void {
    if (this.quic !== undefined) throw new Error('sessionAdopter: already listening');
    const settings: H3LocalSettings = {};
    if (this.options.maxHeaderSize !== undefined) settings.maxFieldSectionSize = this.options.maxHeaderSize;
    if (this.options.qpackTableCapacity !== undefined) settings.qpackMaxTableCapacity = this.options.qpackTableCapacity;
    this.settings = settings;
    return (s) => this.adopt(s);
  }

  address(): AddressInfo {
    if (this.quic === undefined) throw new Error('address: not listening');
    return this.quic.address();
  }

  addresses(): AddressInfo[] {
    return this.quic?.addresses() ?? [];
  }

  private adopt(session: QuicSession): void {
    session.noErrorCodes = [0, H3ErrorCode.H3_NO_ERROR];
    const hs = new H3Session(session, 'server', this.settings);
    this.h3Sessions.add(hs);
    hs.onRequest = (ev) => this.onRequest(hs, ev);
    hs.onDrained = () => {
      // Every request below our GOAWAY is done: close now.
      void session.close(H3ErrorCode.H3_NO_ERROR);
    };
    void session.closed.catch(() => {}).finally(() => this.h3Sessions.delete(hs));
  }

  private onRequest(hs: H3Session, ev: H3RequestEvent): void {
    const req = new Http3IncomingMessage(hs, ev.streamId, ev.headers);
    req.method = ev.method;
    req.url = ev.path ?? (ev.method === 'CONNECT' ? (ev.authority ?? '') : '/');
    req.authority = ev.authority;
    req.scheme = ev.scheme;
    if (ev.authority !== undefined && req.headers['host'] === undefined) req.headers['host'] = ev.authority;
    const res = new Http3ServerResponse(hs, ev.streamId, req);
    const id = ev.streamId;
    this.stats.requests++;
    this.stats.activeRequests++;
    let counted = false;
    const done = (): void => {
      if (counted) return;
      counted = true;
      this.stats.activeRequests--;
      hs.detach(id);
    };
    res.once('finish', () => {
      const cls = `${Math.floor(res.statusCode / 100)}xx`;
      this.stats.responses[cls] = (this.stats.responses[cls] ?? 0) + 1;
    });
    res.once('close', done);
    const cancel = (err: Error | null): void => {
      if (hs.closed) return;
      hs.h3.cancel(id, err ? H3ErrorCode.H3_INTERNAL_ERROR : H3ErrorCode.H3_REQUEST_CANCELLED);
      hs.kick();
    };
    res.onDestroy = cancel;
    req.onDestroy = (err) => {
      // Reading abandoned before the body ended: stop the client sending (the response may go on).
      if (!hs.closed && err !== null) cancel(err);
    };
    const streamError = (message: string, code: number, remote: boolean): Error =>
      Object.assign(new Error(message), { code: 'ERR_QUIC_HTTP3_ERROR', errorCode: code, remote });
    const handler: H3StreamHandler = {
      onData: () => req.source.onData(),
      onTrailers: (t: HeaderField[]) => req.setTrailers(t),
      onEnd: () => req.source.onData(),
      onWritable: () => res.onWritable(),
      onReset: (code) => {
        const e = streamError(`the client reset the request (code 0x${code.toString(16)})`, code, true);
        req.abort(e);
        res.abort(e);
      },
      onStopSending: (code) => res.abort(streamError(`the client stopped reading the response (code 0x${code.toString(16)})`, code, true)),
      onStreamError: (message, code) => {
        const e = streamError(`malformed request: ${message}`, code, false);
        req.abort(e);
        res.abort(e);
      },
      onClosed: (err) => {
        req.abort(err, true);
        res.abort(err);
      },
    };
    hs.attach(id, handler);
    if (ev.endStream) req.source.endNow();
    // Errors on these objects are reported through 'requestError', never as unhandled 'error's.
    req.on('error', () => {});
    res.on('error', () => {});
    // RFC 9110 §10.1.1: answer `expect: 100-continue` (or let a 'checkContinue' listener decide), as node:http does.
    const expect = req.headers['expect'];
    if (typeof expect === 'string' && expect.toLowerCase() === '100-continue') {
      if (this.listenerCount('checkContinue') > 0) {
        this.emit('checkContinue', req, res);
        return;
      }
      res.writeContinue();
    }
    if (this.listenerCount('request') > 0) {
      this.emit('request', req, res);
    } else if (this.fetchHandler !== undefined) {
      this.runFetch(this.fetchHandler, req, res);
    } else {
      res.statusCode = 404;
      res.end();
    }
  }

  private runFetch(handler: FetchHandler, req: Http3IncomingMessage, res: Http3ServerResponse): void {
    const ac = new AbortController();
    // The exchange ended before the response did (the client reset it, or the connection ended):
    // abort the handler's request.signal with why.
    res.once('close', () => {
      if (!res.writableFinished) ac.abort(res.errored ?? req.errored ?? new Error('the client went away'));
    });
    let request: Request;
    try {
      request = toWebRequest(req, ac.signal);
    } catch (e) {
      this.fail(e, req, res);
      return;
    }
    Promise.resolve()
      .then(() => handler(request, { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort }))
      .then((response) => sendWebResponse(response, res))
      .catch((e: unknown) => this.fail(e, req, res));
  }

  /** A handler failed: 500 when nothing was sent yet, else reset the stream. */
  private fail(e: unknown, req: Http3IncomingMessage, res: Http3ServerResponse): void {
    if (this.listenerCount('requestError') > 0) this.emit('requestError', e, req);
    if (res.destroyed || res.writableFinished) return;
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain');
      res.end('Internal Server Error\n');
    } else {
      res.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Graceful shutdown (RFC 9114 §5.2): GOAWAY to every session, wait up to `timeout` ms (default
   * 5000) for requests in flight, then close the connections and the sockets.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    if (this.closing !== null) return this.closing;
    const timeout = options.timeout ?? 5000;
    this.closing = (async () => {
      const q = this.quic;
      if (q === undefined) return;
      const sessions = [...this.h3Sessions];
      for (const hs of sessions) {
        if (!hs.closed) {
          hs.h3.shutdown();
          hs.kick();
        }
      }
      const all = Promise.all(sessions.map((hs) => hs.quic.closed.catch(() => {})));
      await Promise.race([all, new Promise((r) => setTimeout(r, timeout).unref())]);
      await q.close({ code: H3ErrorCode.H3_NO_ERROR });
      this.emit('close');
    })();
    return this.closing;
  }
}

/** Create an HTTP/3 server; call listen() to start it. */
export function createServer(options?: Http3ServerOptions | RequestListener, listener?: RequestListener): Http3Server {
  if (typeof options === 'function') return new Http3Server({}, options);
  return new Http3Server(options ?? {}, listener);
}
