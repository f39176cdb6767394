// L7: QuicSession — one QUIC connection for applications (in the spirit of node:quic and quic-go):
// `opened` / `closed` promises, openStream(), incoming streams as 'stream' events and an async
// iterator, datagrams with delivery status (RFC 9221), session tickets and NEW_TOKEN tokens for the
// next connection. A thin adapter: every protocol decision is the sans-IO connection's; this class
// turns its events into Node idioms and marks the connection dirty for its driver after each
// application call. The driver is a SessionDriver (src/io/session-driver.ts): the UDP driver of a
// single-threaded server or client, or a shard of the multi-core server in a worker thread.
import { EventEmitter } from 'node:events';
import type { Connection, ConnectionEvent, ConnectionStats, PathInfo } from '../connection/index.js';
import { AsyncQueue } from './async-queue.js';
import { QuicError, QuicErrorCode, closeError, isCleanClose, sessionClosedError, type CloseInfo } from './errors.js';
import { checkBool, checkObject, describe } from './options.js';
import { QuicReceiveStream, QuicSendStream, QuicStream, type AnyQuicStream, type StreamCore, type StreamHost } from './stream.js';
import type { ConnectionSink, SessionDriver } from './session-driver.js';

export interface SessionInfo {
  /** Negotiated ALPN protocol. */
  alpn: string;
  /** QUIC version in use. */
  version: number;
  /** TLS resumed from a session ticket. */
  resumed: boolean;
  /** The server accepted our 0-RTT data (client), or we accepted the client's (server). */
  earlyDataAccepted: boolean;
}

export type DatagramStatus = 'acked' | 'lost';

/** @internal What listen()/connect() hand a new session. */
export interface SessionInit {
  conn: Connection;
  driver: SessionDriver<Connection>;
  role: 'client' | 'server';
  /** Close the driver (its socket) when the session ends (client sessions own theirs). */
  ownsDriver: boolean;
  servername?: string;
  /** Called once when the connection is gone (server bookkeeping, qlog close). */
  onGone?: (session: QuicSession) => void;
  /** Called synchronously when the handshake completes, before any later event (server: emit 'session'). */
  onOpened?: (session: QuicSession) => void;
}

/** Receives every connection event before the session's own handling (HTTP/3 uses it). */
export type SessionTap = (event: ConnectionEvent) => void;

const READ_SCRATCH = 64 * 1024;
const noop = (): void => {};

export class QuicSession extends EventEmitter implements StreamHost, ConnectionSink, AsyncIterable<AnyQuicStream> {
  readonly role: 'client' | 'server';
  /** Resolves when the handshake completes; rejects if the session ends first. */
  readonly opened: Promise<SessionInfo>;
  /** Resolves when the session ends cleanly (NO_ERROR, local close, idle after the handshake); rejects with a QuicError otherwise. */
  readonly closed: Promise<void>;
  /** @internal */
  readonly conn: Connection;
  /** @internal */
  readonly driver: SessionDriver<Connection>;
  readonly servername: string | undefined;
  /** @internal */
  readonly readScratch: Buffer = Buffer.allocUnsafe(READ_SCRATCH);

  private readonly streams = new Map<number, StreamCore>();
  private readonly stalledWrites = new Set<StreamCore>();
  private readonly pendingReads = new Set<StreamCore>();
  private readonly incoming = new AsyncQueue<AnyQuicStream>();
  private readonly datagramWaiters = new Map<number, (s: DatagramStatus) => void>();
  private streamWaiters: Array<{ bidi: boolean; resolve: () => void; reject: (e: Error) => void }> = [];
  private resolveOpened!: (info: SessionInfo) => void;
  private rejectOpened!: (e: Error) => void;
  private resolveClosed!: () => void;
  private rejectClosed!: (e: Error) => void;
  private info: SessionInfo | null = null;
  /** Application close codes that mean "no error" (HTTP/3 adds H3_NO_ERROR 0x100). */
  noErrorCodes: readonly number[] = [0];
  private openedSettled = false;
  private endError: QuicError | null = null;
  private ended = false;
  private readonly ownsDriver: boolean;
  private readonly onGone: ((s: QuicSession) => void) | undefined;
  private readonly onOpenedHook: ((s: QuicSession) => void) | undefined;
  private tap: SessionTap | undefined;
  private afterTap: (() => void) | undefined;
  private ticket: Buffer | undefined;
  private newToken: Buffer | undefined;
  /** ms (driver clock) when the session was created and when the handshake completed. */
  readonly createdAt: number;
  handshakeAt = -1;

  /** @internal Use listen() / connect(). */
  constructor(init: SessionInit) {
    super();
    this.conn = init.conn;
    this.driver = init.driver;
    this.role = init.role;
    this.ownsDriver = init.ownsDriver;
    this.servername = init.servername;
    this.onGone = init.onGone;
    this.onOpenedHook = init.onOpened;
    this.createdAt = init.driver.clock();
    this.opened = new Promise<SessionInfo>((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    this.closed = new Promise<void>((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    // Nobody has to await these: never an unhandled rejection.
    this.opened.catch(noop);
    this.closed.catch(noop);
  }

  // ------------------------------------------------------------------ state

  /** Handshake information, null before the handshake completes. */
  get handshake(): SessionInfo | null {
    return this.info;
  }

  get alpn(): string {
    return this.conn.alpn;
  }

  /** The peer's current address. */
  get remoteAddress(): PathInfo {
    return this.conn.path;
  }

  get handshakeConfirmed(): boolean {
    return this.conn.handshakeConfirmed;
  }

  get stats(): ConnectionStats {
    return this.conn.stats;
  }

  /** Largest datagram payload the peer accepts now (0: datagrams not negotiated). */
  get maxDatagramSize(): number {
    return this.conn.maxDatagramSize;
  }

  /** The latest session ticket (client): pass it as `session` to resume. */
  get sessionTicket(): Buffer | undefined {
    return this.ticket;
  }

  /** The latest NEW_TOKEN token (client): pass it as `token` to skip address validation. */
  get token(): Buffer | undefined {
    return this.newToken;
  }

  /** True once the session has ended. */
  get destroyed(): boolean {
    return this.ended;
  }

  /** True from close() (ours or the peer's) on: no new streams, writes or datagrams. */
  get closing(): boolean {
    const st = this.conn.state;
    return this.ended || st === 'closing' || st === 'draining' || st === 'closed';
  }

  /** The error that ended the session (null for a clean end or while open). */
  get error(): QuicError | null {
    return this.endError;
  }

  // ------------------------------------------------------------------ streams

  /** Open a stream; waits while the peer's stream limit is reached (and for the handshake, without 0-RTT). */
  async openStream(options: { bidirectional?: boolean } = {}): Promise<QuicStream | QuicSendStream> {
    const o = checkObject('options', options);
    const bidi = o['bidirectional'] === undefined ? true : checkBool('options.bidirectional', o['bidirectional']);
    for (;;) {
      if (this.closing) throw this.endError ?? this.closingError('openStream');
      let id: number | null;
      try {
        id = this.conn.openStream(bidi);
      } catch (e) {
        throw wrapClosed(e, 'openStream');
      }
      if (id !== null) {
        this.kick();
        return this.adopt(id, true, bidi) as QuicStream | QuicSendStream;
      }
      await new Promise<void>((resolve, reject) => this.streamWaiters.push({ bidi, resolve, reject }));
    }
  }

  /** Incoming streams, as they open (ends when the session ends). */
  [Symbol.asyncIterator](): AsyncIterator<AnyQuicStream> {
    return this.incoming[Symbol.asyncIterator]();
  }

  private adopt(id: number, local: boolean, bidi: boolean): AnyQuicStream {
    const s: AnyQuicStream = bidi ? new QuicStream(this, id, local) : local ? new QuicSendStream(this, id) : new QuicReceiveStream(this, id);
    this.streams.set(id, s.core);
    return s;
  }

  // StreamHost (internal)
  /** @internal */
  streamWrite(id: number, data: Uint8Array): number {
    const n = this.conn.streamWrite(id, data);
    // -1 also answers a write racing with the connection's close: report that, not STOP_SENDING.
    if (n < 0 && this.closing) throw this.endError ?? this.closingError('write');
    return n;
  }

  /** The error for an operation attempted while the connection closes (ours or the peer's close). */
  private closingError(what: string): QuicError {
    const e = this.conn.error;
    if (e !== null && !isCleanClose(e as CloseInfo, this.info !== null, this.noErrorCodes)) return closeError(e as CloseInfo, this.info !== null);
    return sessionClosedError(what);
  }
  /** @internal */
  streamFinish(id: number): void {
    this.conn.streamFinish(id);
  }
  /** @internal */
  streamRead(id: number, out: Uint8Array): { bytes: number; fin: boolean; resetCode?: number } {
    return this.conn.streamRead(id, out);
  }
  /** @internal */
  streamReset(id: number, code: number): void {
    this.conn.streamReset(id, code);
  }
  /** @internal */
  streamStopSending(id: number, code: number): void {
    this.conn.streamStopSending(id, code);
  }
  /** @internal The application acted on the connection: flush it this turn. */
  kick(): void {
    if (!this.ended) this.driver.markDirty(this.conn);
  }
  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }
  /** @internal */
  stalled(core: StreamCore): void {
    this.stalledWrites.add(core);
  }
  /** @internal */
  scheduleRead(core: StreamCore): void {
    this.pendingReads.add(core);
  }
  /** @internal ConnectionSink: after a batch of events, retry writes that found no room. */
  afterEvents(): void {
    // A handshake that failed (we or the peer closed) rejects `opened` now, not after the closing period.
    if (this.info === null && !this.openedSettled) {
      const e = this.conn.error;
      if (e !== null) {
        this.openedSettled = true;
        this.rejectOpened(closeError(e as CloseInfo, false));
      }
    }
    this.afterTap?.();
    if (this.pendingReads.size > 0) {
      const reads = [...this.pendingReads];
      this.pendingReads.clear();
      for (const core of reads) core.runScheduled();
    }
    if (this.stalledWrites.size === 0) return;
    const list = [...this.stalledWrites];
    this.stalledWrites.clear();
    for (const core of list) if (core.writePending) core.onWritable();
  }

  // ------------------------------------------------------------------ datagrams

  /**
   * Send a QUIC DATAGRAM (RFC 9221, unreliable). Resolves 'acked' when the packet carrying it was
   * acknowledged, 'lost' when it was declared lost or dropped from the send queue. Rejects when
   * datagrams were not negotiated (ERR_QUIC_DATAGRAM_UNSUPPORTED) or it is too large
   * (ERR_QUIC_DATAGRAM_TOO_LARGE; see maxDatagramSize).
   */
  async sendDatagram(data: Uint8Array | string): Promise<DatagramStatus> {
    let bytes: Uint8Array;
    if (typeof data === 'string') bytes = Buffer.from(data);
    else if (data instanceof Uint8Array) bytes = data;
    else throw new TypeError(`data: expected a Buffer, Uint8Array or string, got ${describe(data)}`);
    if (this.info === null && !this.ended) await this.opened;
    if (this.closing) throw this.endError ?? this.closingError('sendDatagram');
    const max = this.conn.maxDatagramSize;
    if (max === 0) throw new QuicError(QuicErrorCode.DATAGRAM_UNSUPPORTED, 'sendDatagram: the peer does not accept DATAGRAM frames (set options.datagrams on both sides)');
    if (bytes.length > max) throw new QuicError(QuicErrorCode.DATAGRAM_TOO_LARGE, `sendDatagram: ${bytes.length} bytes exceed the ${max}-byte limit`);
    let id: number | null;
    try {
      id = this.conn.sendDatagram(bytes);
    } catch (e) {
      throw wrapClosed(e, 'sendDatagram');
    }
    if (id === null) {
      if (this.closing) throw this.closingError('sendDatagram');
      throw new QuicError(QuicErrorCode.DATAGRAM_TOO_LARGE, `sendDatagram: ${bytes.length} bytes do not fit`);
    }
    this.kick();
    const key = id;
    return new Promise<DatagramStatus>((resolve) => this.datagramWaiters.set(key, resolve));
  }

  // ------------------------------------------------------------------ control

  /** Initiate a key update (RFC 9001 §6); false when not possible yet. */
  updateKeys(): boolean {
    const ok = this.conn.updateKeys();
    this.kick();
    return ok;
  }

  /**
   * Close with an application error code (default 0 = no error) and wait until the connection is
   * gone (after the closing period, RFC 9000 §10.2). Resolves even if `closed` would reject.
   */
  close(code = 0, reason = ''): Promise<void> {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`code: expected a non-negative integer application error code, got ${describe(code)}`);
    }
    if (typeof reason !== 'string') throw new TypeError(`reason: expected a string, got ${describe(reason)}`);
    if (!this.ended && !this.closing) {
      this.conn.close(code, reason, true, this.driver.clock());
      this.kick();
    }
    return this.closed.catch(noop);
  }

  /** Close at once with `error` (its `errorCode`, default 0) without waiting. */
  destroy(error?: Error): void {
    const code = (error as { errorCode?: unknown } | undefined)?.errorCode;
    void this.close(typeof code === 'number' && Number.isInteger(code) && code >= 0 ? code : 0, error?.message ?? '');
  }

  /**
   * @internal The socket failed before the handshake completed (a connected client socket gets
   * ECONNREFUSED from an ICMP port unreachable): end the session now rather than at the timeout.
   */
  socketError(err: Error): void {
    if (this.ended || this.info !== null) return;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const qe = new QuicError(QuicErrorCode.SOCKET, `no QUIC server at ${this.conn.path.remoteAddress}:${this.conn.path.remotePort} (${code})`, { cause: err });
    this.ended = true;
    this.endError = qe;
    for (const s of [...this.streams.values()]) s.sessionClosed(qe);
    this.streams.clear();
    for (const w of this.streamWaiters.splice(0)) w.reject(qe);
    for (const w of this.datagramWaiters.values()) w('lost');
    this.datagramWaiters.clear();
    if (!this.openedSettled) this.rejectOpened(qe);
    this.openedSettled = true;
    this.incoming.end();
    this.rejectClosed(qe);
    this.driver.detach(this.conn);
    this.onGone?.(this);
    if (this.ownsDriver) void this.driver.close();
    this.emit('close', qe);
  }

  /** @internal HTTP/3 routes stream and datagram events to itself; `after` runs after each batch. */
  setTap(tap: SessionTap | undefined, after?: () => void): void {
    this.tap = tap;
    this.afterTap = after;
  }

  // ------------------------------------------------------------------ events from the driver

  /** @internal ConnectionSink */
  onEvent(ev: ConnectionEvent): void {
    if (this.ended) return;
    const tap = this.tap;
    switch (ev.type) {
      case 'handshake-completed': {
        this.handshakeAt = this.driver.clock();
        this.info = { alpn: ev.alpn, version: this.conn.version, resumed: ev.resumed, earlyDataAccepted: ev.earlyDataAccepted };
        tap?.(ev);
        this.resolveOpened(this.info);
        this.onOpenedHook?.(this);
        this.wakeStreamWaiters();
        this.emit('handshake', this.info);
        return;
      }
      case 'closed':
        tap?.(ev);
        this.finish(ev.error as CloseInfo);
        return;
      case 'session-ticket':
        this.ticket = Buffer.from(ev.ticket);
        this.emit('session-ticket', this.ticket);
        return;
      case 'new-token':
        this.newToken = Buffer.from(ev.token);
        this.emit('new-token', this.newToken);
        return;
      case 'path-validated':
      case 'path-migrated':
        this.emit('path', ev.type === 'path-migrated' ? 'migrated' : 'validated', ev.path);
        return;
      case 'key-updated':
        this.emit('key-update', ev.phase);
        return;
      case 'version-negotiated':
        this.emit('version', ev.version);
        return;
      case 'datagram-acked':
      case 'datagram-lost': {
        const w = this.datagramWaiters.get(ev.id);
        if (w !== undefined) {
          this.datagramWaiters.delete(ev.id);
          w(ev.type === 'datagram-acked' ? 'acked' : 'lost');
        }
        return;
      }
      case 'streams-available':
        tap?.(ev);
        this.wakeStreamWaiters();
        return;
      default:
        break;
    }
    if (tap !== undefined) {
      tap(ev);
      return;
    }
    switch (ev.type) {
      case 'stream-opened': {
        const s = this.adopt(ev.id, false, ev.bidirectional);
        // A queued stream may fail before anyone iterates to it: that must not crash the process.
        s.on('error', noop);
        this.incoming.push(s);
        this.emit('stream', s);
        return;
      }
      case 'stream-readable':
        this.streams.get(ev.id)?.onReadable();
        return;
      case 'stream-writable':
        this.streams.get(ev.id)?.onWritable();
        return;
      case 'stream-reset':
        this.streams.get(ev.id)?.onReset(ev.code);
        return;
      case 'stream-stop-sending':
        this.streams.get(ev.id)?.onStopSending(ev.code);
        return;
      case 'stream-closed': {
        const s = this.streams.get(ev.id);
        if (s !== undefined) {
          s.maybeDestroy();
          this.streams.delete(ev.id);
        }
        return;
      }
      case 'datagram':
        this.emit('datagram', Buffer.from(ev.data.buffer, ev.data.byteOffset, ev.data.byteLength));
        return;
      default:
        return;
    }
  }

  /** @internal ConnectionSink: the endpoint dropped the connection. */
  onRemoved(): void {
    if (!this.ended) this.finish(this.conn.error ?? { kind: 'local', code: 0, reason: 'connection removed', remote: false });
  }

  private wakeStreamWaiters(): void {
    const w = this.streamWaiters;
    this.streamWaiters = [];
    for (const x of w) x.resolve();
  }

  private finish(info: CloseInfo): void {
    if (this.ended) return;
    this.ended = true;
    const handshakeDone = this.info !== null;
    const clean = isCleanClose(info, handshakeDone, this.noErrorCodes);
    const err = closeError(info, handshakeDone);
    if (!clean) this.endError = err;
    // Our own clean close ends open streams quietly; anything else is an error for them.
    const streamErr = clean && !info.remote ? null : clean ? new QuicError(QuicErrorCode.SESSION_CLOSED, 'the peer closed the session', { remote: true }) : err;
    for (const s of [...this.streams.values()]) s.sessionClosed(streamErr);
    this.streams.clear();
    for (const w of this.streamWaiters.splice(0)) w.reject(err);
    for (const w of this.datagramWaiters.values()) w('lost');
    this.datagramWaiters.clear();
    if (!handshakeDone && !this.openedSettled) this.rejectOpened(err);
    this.openedSettled = true;
    this.incoming.end();
    if (clean) this.resolveClosed();
    else this.rejectClosed(err);
    this.driver.detach(this.conn);
    this.onGone?.(this);
    if (this.ownsDriver) void this.driver.close();
    this.emit('close', clean ? undefined : err);
  }
}

function wrapClosed(e: unknown, what: string): Error {
  if ((e as { code?: unknown })?.code === 'ERR_QUIC_CONNECTION_CLOSED') return sessionClosedError(what);
  return e as Error;
}
