// L7: HTTP/3 over a QuicSession — the glue between the I/O layer and the sans-IO H3Connection (L6,
// RFC 9114). The session's tap feeds every QUIC event to the H3 connection; H3 events are pulled
// right after and dispatched to the per-request handler of their stream (a server request/response
// pair, or a client request). Application calls (respond, write, end, read, cancel) go straight to
// the H3 connection, then the session is kicked so the UDP driver flushes it this turn. A client
// session attaches the server's SETTINGS to its session tickets and, resuming with 0-RTT, complies
// with the remembered ones until the server's arrive (RFC 9114 §7.2.4.2).
import type { ConnectionEvent } from '../connection/index.js';
import { secureRandom } from '../crypto/random.js';
import { H3Connection, type H3CloseError, type H3ConnectionOptions, type H3Event, type H3LocalSettings, type H3Stats, type H3StreamStats, type H3Transport, type RequestHead } from '../h3/index.js';
import { H3ErrorCode } from '../h3/wire/index.js';
import { withClientSessionAppData } from '../tls/index.js';
import type { HeaderField } from '../qpack/index.js';
import type { QuicSession } from '../io/session.js';
import { QuicError, QuicErrorCode, closeError } from '../io/errors.js';
import type { BodySource } from './body.js';

/** What a request stream's owner gets told (server exchange or client request). */
export interface H3StreamHandler {
  /** Client: interim 1xx response. */
  onInformational?(status: number, headers: HeaderField[]): void;
  /** Client: final response header section. */
  onResponse?(status: number, headers: HeaderField[], endStream: boolean): void;
  /** Body bytes may be read (H3Connection.read). */
  onData(): void;
  onTrailers(trailers: HeaderField[]): void;
  /** The body is complete. */
  onEnd(): void;
  /** A short write may continue. */
  onWritable(): void;
  /** The peer reset its side (or a GOAWAY rejected the request, remote false). */
  onReset(code: number, remote: boolean): void;
  /** The peer stopped reading; our side was reset. */
  onStopSending(code: number): void;
  /** A malformed message: the stream was reset. */
  onStreamError(message: string, code: number): void;
  /** The connection ended. */
  onClosed(error: Error): void;
}

/** A validated request as the H3 layer reports it (the fields of its RequestHead), on a stream. */
export type H3RequestEvent = Pick<RequestHead, 'method' | 'scheme' | 'authority' | 'path' | 'protocol' | 'headers'> & {
  streamId: number;
  endStream: boolean;
};

const READ_SCRATCH = 64 * 1024;

export class H3Session {
  readonly quic: QuicSession;
  readonly h3: H3Connection;
  readonly role: 'client' | 'server';
  /** Reused by body readers: read into it, copy out what was read. */
  readonly scratch: Buffer = Buffer.allocUnsafe(READ_SCRATCH);
  private readonly handlers = new Map<number, H3StreamHandler>();
  /** Streams whose last write took nothing: retried after the next batch of events. */
  private readonly stalled = new Set<number>();
  /** Bodies with data to pull once the batch is done. */
  private readonly reads = new Set<BodySource>();
  private closedError: ConnectionEndError | null = null;
  /** Server: a new request. */
  onRequest: ((ev: H3RequestEvent) => void) | undefined;
  /** Client: the server sent GOAWAY — no new requests on this connection. */
  onGoaway: ((id: number) => void) | undefined;
  /** Client: request() may succeed again. */
  onStreamsAvailable: (() => void) | undefined;
  /** The connection ended (any way): every attached stream was failed with `error` first. */
  onClosed: ((error: ConnectionEndError) => void) | undefined;
  /** Server: every request below our GOAWAY finished. */
  onDrained: (() => void) | undefined;
  goawayReceived = false;
  /**
   * Client: a session to resume from, with the server's SETTINGS attached once they are known
   * (RFC 9114 §7.2.4.2). Called for every ticket, and again when SETTINGS arrive after one.
   */
  onSessionTicket: ((ticket: Buffer) => void) | undefined;
  private bareTicket: Uint8Array | undefined;
  private ticket: Buffer | undefined;

  /**
   * `options.earlySettings` (client, resuming with 0-RTT): the server SETTINGS remembered with the
   * session (clientSessionAppData of it), complied with until the server's own arrive.
   */
  constructor(quic: QuicSession, role: 'client' | 'server', settings: H3LocalSettings = {}, options: { earlySettings?: Uint8Array } = {}) {
    this.quic = quic;
    this.role = role;
    const h3Options: H3ConnectionOptions = { role, rng: secureRandom, settings };
    if (options.earlySettings !== undefined) h3Options.earlySettings = options.earlySettings;
    this.h3 = new H3Connection(quic.conn as unknown as H3Transport, h3Options);
    quic.setTap(
      (ev) => this.onTransportEvent(ev),
      () => this.afterBatch(),
    );
    if (role === 'client') {
      quic.on('session-ticket', (t: Buffer) => {
        this.bareTicket = t;
        this.publishTicket();
      });
    }
    // The session may end without a 'closed' event reaching the tap (a socket error, the endpoint
    // dropping it): make sure the HTTP/3 layer, and every request on it, hears of it.
    quic.once('close', (err: Error | undefined) => this.transportGone(err));
    quic.kick();
  }

  /** Why the connection ended (null while open): a QuicError with `kind`, `errorCode`, `reason`. */
  get closeError(): ConnectionEndError | null {
    return this.closedError;
  }

  private transportGone(err: Error | undefined): void {
    if (this.h3.closed) {
      this.pump();
      return;
    }
    this.sessionError = err instanceof QuicError ? err : undefined;
    const q = err as QuicError | undefined;
    this.h3.transportEnded({ kind: q?.kind ?? 'local', code: q?.errorCode ?? 0, reason: err?.message ?? 'the QUIC session ended', remote: q?.remote ?? false });
    this.pump();
  }

  /** The QuicError the session ended with when it did not end through a close event (socket error). */
  private sessionError: QuicError | undefined;

  /** Client: the latest session ticket, with the server's SETTINGS attached when known; pass it as `session` to resume. */
  get sessionTicket(): Buffer | undefined {
    return this.ticket;
  }

  private publishTicket(): void {
    const bare = this.bareTicket;
    if (bare === undefined) return;
    const remember = this.h3.settingsToRemember;
    // Without the server's SETTINGS yet the bare ticket still resumes (0-RTT then runs on defaults).
    let blob: Uint8Array = bare;
    if (remember !== null) {
      try {
        blob = withClientSessionAppData(bare, remember);
      } catch {
        // Not a session blob we can extend: keep it bare.
      }
    }
    this.ticket = Buffer.from(blob);
    this.onSessionTicket?.(this.ticket);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /**
   * HTTP/3 counters of this connection: requests, and bytes — HEADERS payloads, decoded field
   * bytes and DATA payloads each way, stream bytes read (see H3Stats). Live; final once closed.
   */
  get stats(): H3Stats {
    return this.h3.stats;
  }

  /** Byte counters of one request stream while it is open (keep the object: it stays valid). */
  streamStats(streamId: number): H3StreamStats | undefined {
    return this.h3.streamStats(streamId);
  }

  /** Route a stream's events to `handler`. */
  attach(streamId: number, handler: H3StreamHandler): void {
    this.handlers.set(streamId, handler);
  }

  detach(streamId: number): void {
    this.handlers.delete(streamId);
    this.stalled.delete(streamId);
  }

  /** After an application call: pull H3 events it caused, and flush. */
  kick(): void {
    this.pump();
    this.quic.kick();
  }

  /** A write took 0 bytes: make sure it is retried (the transport may not announce room). */
  markStalled(streamId: number): void {
    this.stalled.add(streamId);
  }

  /** Pull `body` after the current batch of events (coalesces per-packet 'data' events). */
  scheduleRead(body: BodySource): void {
    this.reads.add(body);
  }

  private afterBatch(): void {
    // A stateless reset or the peer's CONNECTION_CLOSE starts draining without an event; the
    // 'closed' event only follows ~3 PTO later (RFC 9000 §10.2). Fail requests now.
    if (!this.h3.closed && this.quic.closing && this.h3.transportEnded()) this.pump();
    if (this.reads.size > 0) {
      const list = [...this.reads];
      this.reads.clear();
      for (const b of list) b.runScheduled();
    }
    this.retryStalled();
  }

  private retryStalled(): void {
    if (this.stalled.size === 0) return;
    const ids = [...this.stalled];
    this.stalled.clear();
    for (const id of ids) this.handlers.get(id)?.onWritable();
  }

  private onTransportEvent(ev: ConnectionEvent): void {
    this.h3.handleTransportEvent(ev);
    this.pump();
  }

  /** Deliver pending H3 events. */
  pump(): void {
    let ev: H3Event | undefined;
    while ((ev = this.h3.pollEvent()) !== undefined) this.dispatch(ev);
  }

  private dispatch(ev: H3Event): void {
    switch (ev.type) {
      case 'settings':
        // A ticket that came first is published again, now with the SETTINGS to remember.
        if (this.role === 'client' && this.bareTicket !== undefined) this.publishTicket();
        return;
      case 'request':
        this.onRequest?.(ev);
        return;
      case 'informational':
        this.handlers.get(ev.streamId)?.onInformational?.(ev.status, ev.headers);
        return;
      case 'response':
        this.handlers.get(ev.streamId)?.onResponse?.(ev.status, ev.headers, ev.endStream);
        return;
      case 'data':
        this.handlers.get(ev.streamId)?.onData();
        return;
      case 'trailers':
        this.handlers.get(ev.streamId)?.onTrailers(ev.trailers);
        return;
      case 'end':
        this.handlers.get(ev.streamId)?.onEnd();
        return;
      case 'writable':
        this.handlers.get(ev.streamId)?.onWritable();
        return;
      case 'reset':
        this.handlers.get(ev.streamId)?.onReset(ev.code, ev.remote);
        return;
      case 'stop-sending':
        this.handlers.get(ev.streamId)?.onStopSending(ev.code);
        return;
      case 'stream-error':
        this.handlers.get(ev.streamId)?.onStreamError(ev.error.message, ev.error.errorCode);
        return;
      case 'goaway':
        this.goawayReceived = true;
        this.onGoaway?.(ev.id);
        return;
      case 'streams-available':
        this.onStreamsAvailable?.();
        return;
      case 'drained':
        this.onDrained?.();
        return;
      case 'closed': {
        const err = connectionEndError(ev.error, this.quic.handshake !== null, this.sessionError);
        this.closedError = err;
        const hs = [...this.handlers.values()];
        this.handlers.clear();
        this.stalled.clear();
        this.reads.clear();
        for (const h of hs) h.onClosed(err);
        // Requests waiting for stream credit find the connection closed.
        this.onStreamsAvailable?.();
        this.onClosed?.(err);
        return;
      }
      default:
        return;
    }
  }
}

/** The error requests on a connection that ended get (DESIGN §5): a QuicError with the close details. */
export type ConnectionEndError = QuicError & {
  /** The close reason (the peer's CONNECTION_CLOSE reason phrase, or ours). */
  readonly reason: string;
  /** 'ERR_H3_…' / 'ERR_QPACK_…' name of an HTTP/3 close code, else the transport's. */
  readonly h3Code: string;
};

/**
 * Map how the connection ended onto a typed error: kind 'reset' → ERR_QUIC_STATELESS_RESET, 'idle'
 * → ERR_QUIC_IDLE_TIMEOUT (ERR_QUIC_HANDSHAKE_TIMEOUT before the handshake), 'transport' →
 * ERR_QUIC_TRANSPORT_ERROR / ERR_QUIC_TLS_ERROR, 'application' with an H3 error code →
 * ERR_QUIC_HTTP3_ERROR, a no-error close (H3_NO_ERROR, NO_ERROR, ours or the peer's) →
 * ERR_QUIC_SESSION_CLOSED; a session that ended with its own error (socket) keeps that code.
 */
export function connectionEndError(e: H3CloseError, handshakeDone: boolean, sessionError?: QuicError): ConnectionEndError {
  const who = e.remote ? 'the peer' : 'us';
  const reason = e.reason ? `: ${e.reason}` : '';
  const extra = { errorCode: e.code, remote: e.remote, kind: e.kind as QuicError['kind'] & string };
  let err: QuicError;
  const noError = (e.kind === 'application' && (e.code === H3ErrorCode.H3_NO_ERROR || e.code === 0)) || (e.kind === 'transport' && e.code === 0);
  if (sessionError !== undefined) {
    err = new QuicError(sessionError.code, `HTTP/3 connection ended: ${sessionError.message}`, { ...extra, cause: sessionError });
  } else if (e.kind === 'local' || noError) {
    err = new QuicError(QuicErrorCode.SESSION_CLOSED, `the HTTP/3 connection was closed by ${who}${e.kind === 'application' ? ` (${e.errCode})` : ''}${reason}`, extra);
  } else if (e.kind === 'application') {
    err = new QuicError(QuicErrorCode.HTTP3, `the HTTP/3 connection was closed by ${who} with ${e.errCode} (0x${e.code.toString(16)})${reason}`, extra);
  } else {
    // Idle timeouts and resets are named by the message already (the core's reason repeats it).
    const said = e.kind === 'idle' || e.kind === 'reset' ? '' : e.reason;
    err = closeError({ kind: e.kind as 'transport', code: e.code, reason: said, remote: e.remote }, handshakeDone);
  }
  return Object.assign(err, { reason: e.reason, h3Code: e.errCode });
}
