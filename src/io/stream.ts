// L7: QUIC streams as Node streams (RFC 9000 §2–§3 through the sans-IO connection's pull API).
// Bidirectional streams are `Duplex`, unidirectional ones `Writable` (ours) or `Readable` (the
// peer's). Backpressure both ways:
// - writing: _write hands the chunk to conn.streamWrite(), which accepts what the send buffer and
//   flow control allow; the rest waits for the connection's 'stream-writable' event before the
//   write callback runs, so Node's writable buffer (highWaterMark) fills and write() returns false;
// - reading: _read pulls with conn.streamRead() only while Node wants data (push() returned true);
//   unread bytes stay in the connection, whose flow-control window then stops the peer — a slow
//   reader holds at most one window, never the whole transfer.
// Aborts: resetStream(code) → RESET_STREAM, stopSending(code) → STOP_SENDING; destroy() does both
// for the directions still open (code 0 unless destroy's error carries `errorCode`). The peer's
// RESET_STREAM destroys the stream with ERR_QUIC_STREAM_RESET; its STOP_SENDING with
// ERR_QUIC_STREAM_STOPPED unless we had already ended our side.
import { Duplex, Readable, Writable } from 'node:stream';
import { QuicError, QuicErrorCode } from './errors.js';

/** What a stream needs of its session (QuicSession implements it). */
export interface StreamHost {
  streamWrite(id: number, data: Uint8Array): number;
  streamFinish(id: number): void;
  streamRead(id: number, out: Uint8Array): { bytes: number; fin: boolean; resetCode?: number };
  streamReset(id: number, code: number): void;
  streamStopSending(id: number, code: number): void;
  /** Scratch buffer for reads (shared by the session's streams; copied out before push). */
  readonly readScratch: Buffer;
  /** The application acted: let the driver flush this connection. */
  kick(): void;
  /** The stream is done with (both directions). */
  forget(id: number): void;
  /** A write was accepted with 0 bytes: retry after the connection's next events. */
  stalled(core: StreamCore): void;
  /** Pull this stream after the current batch of events. */
  scheduleRead(core: StreamCore): void;
}

type NodeSide = Duplex | Readable | Writable;

/** The protocol side of one stream, shared by the three Node stream classes. */
export class StreamCore {
  readonly id: number;
  readonly host: StreamHost;
  node!: NodeSide;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  /** Receiving is over: FIN read, reset by the peer, or stopSending. */
  recvDone: boolean;
  /** Sending is over: FIN queued, or reset (ours, or forced by the peer's STOP_SENDING). */
  sendDone: boolean;
  private wantRead = false;
  private pending: Uint8Array | null = null;
  private pendingCb: ((err?: Error | null) => void) | null = null;
  private sendError: QuicError | null = null;
  /** Bytes read / written, for stats. */
  bytesRead = 0;
  bytesWritten = 0;

  constructor(host: StreamHost, id: number, canRead: boolean, canWrite: boolean) {
    this.host = host;
    this.id = id;
    this.canRead = canRead;
    this.canWrite = canWrite;
    this.recvDone = !canRead;
    this.sendDone = !canWrite;
  }

  // ---------------------------------------------------------------- writing

  write(chunk: Uint8Array, cb: (err?: Error | null) => void): void {
    if (this.sendError !== null) return cb(this.sendError);
    if (this.sendDone) return cb(new QuicError(QuicErrorCode.STREAM_ABORTED, `stream ${this.id}: write after resetStream()`));
    let n: number;
    try {
      n = this.host.streamWrite(this.id, chunk);
    } catch (e) {
      return cb(e as Error);
    }
    if (n < 0) return cb(this.stoppedError(0));
    this.bytesWritten += n;
    if (n > 0) this.host.kick();
    if (n === chunk.length) return cb();
    this.pending = chunk.subarray(n);
    this.pendingCb = cb;
    // A write that took nothing may not be followed by 'stream-writable': retry after events.
    if (n === 0) this.host.stalled(this);
  }

  /** 'stream-writable': the connection has room again. */
  onWritable(): void {
    const chunk = this.pending;
    if (chunk === null) return;
    let n: number;
    try {
      n = this.host.streamWrite(this.id, chunk);
    } catch (e) {
      return this.completeWrite(e as Error);
    }
    if (n < 0) return this.completeWrite(this.sendError ?? this.stoppedError(0));
    this.bytesWritten += n;
    if (n > 0) this.host.kick();
    if (n === chunk.length) this.completeWrite(null);
    else {
      this.pending = chunk.subarray(n);
      if (n === 0) this.host.stalled(this);
    }
  }

  /** A write is waiting for room. */
  get writePending(): boolean {
    return this.pending !== null;
  }

  private completeWrite(err: Error | null): void {
    const cb = this.pendingCb;
    this.pending = null;
    this.pendingCb = null;
    cb?.(err);
  }

  final(cb: (err?: Error | null) => void): void {
    if (this.sendError !== null) return cb(this.sendError);
    if (!this.sendDone) {
      this.sendDone = true;
      try {
        this.host.streamFinish(this.id);
      } catch (e) {
        return cb(e as Error);
      }
      this.host.kick();
    }
    cb();
    this.maybeForget();
  }

  private stoppedError(code: number): QuicError {
    return new QuicError(QuicErrorCode.STREAM_STOPPED, `stream ${this.id}: the peer sent STOP_SENDING (code ${code})`, { errorCode: code, remote: true });
  }

  /** 'stream-stop-sending': the peer will not read; the core has reset our side. */
  onStopSending(code: number): void {
    if (!this.canWrite) return;
    const node = this.node as Writable;
    const wasDone = this.sendDone;
    this.sendDone = true;
    if (wasDone && this.pending === null) return; // we had finished: nothing lost
    this.sendError = this.stoppedError(code);
    if (this.pendingCb !== null) this.completeWrite(this.sendError);
    else if (!node.writableEnded) node.destroy(this.sendError);
  }

  /** Abandon sending (RESET_STREAM). */
  resetStream(code: number): void {
    if (!this.canWrite) throw new TypeError(`stream ${this.id}: cannot reset a receive-only stream`);
    this.sendDone = true;
    try {
      this.host.streamReset(this.id, code);
    } catch {
      /* connection closed */
    }
    this.host.kick();
    if (this.pendingCb !== null) this.completeWrite(null);
    this.maybeDestroy();
  }

  // ---------------------------------------------------------------- reading

  read(): void {
    this.wantRead = true;
    this.pull();
  }

  /** 'stream-readable': data or FIN arrived; pulled after the batch of events (larger chunks). */
  onReadable(): void {
    if (this.wantRead) this.host.scheduleRead(this);
  }

  /** @internal Run by the session after a batch of events. */
  runScheduled(): void {
    if (this.wantRead) this.pull();
  }

  private pull(): void {
    const node = this.node as Readable;
    const scratch = this.host.readScratch;
    let gotAny = false;
    while (this.wantRead && !this.recvDone) {
      let r: { bytes: number; fin: boolean; resetCode?: number };
      try {
        r = this.host.streamRead(this.id, scratch);
      } catch (e) {
        node.destroy(e as Error);
        return;
      }
      if (r.resetCode !== undefined && r.resetCode >= 0) {
        this.onReset(r.resetCode);
        return;
      }
      if (r.bytes > 0) {
        gotAny = true;
        this.bytesRead += r.bytes;
        const chunk = Buffer.allocUnsafe(r.bytes);
        scratch.copy(chunk, 0, 0, r.bytes);
        this.wantRead = node.push(chunk);
      }
      if (r.fin) {
        this.recvDone = true;
        node.push(null);
        break;
      }
      if (r.bytes === 0) break;
    }
    if (gotAny) this.host.kick(); // reading opens flow-control credit (MAX_STREAM_DATA)
    this.maybeForget();
  }

  /** 'stream-reset' (or a read that found the reset): the peer abandoned sending. */
  onReset(code: number): void {
    if (!this.canRead || this.recvDone) return;
    this.recvDone = true;
    const err = new QuicError(QuicErrorCode.STREAM_RESET, `stream ${this.id}: the peer reset the stream (code ${code})`, { errorCode: code, remote: true });
    this.node.destroy(err);
  }

  /** Stop receiving (STOP_SENDING); the readable side ends. */
  stopSending(code: number): void {
    if (!this.canRead) throw new TypeError(`stream ${this.id}: cannot stop a send-only stream`);
    if (this.recvDone) return;
    this.recvDone = true;
    try {
      this.host.streamStopSending(this.id, code);
    } catch {
      /* connection closed */
    }
    this.host.kick();
    (this.node as Readable).push(null);
    this.maybeDestroy();
  }

  // ---------------------------------------------------------------- teardown

  /** Both directions over: a Duplex whose send side was reset never 'finish'es, so end it here. */
  maybeDestroy(): void {
    const node = this.node;
    if (node.destroyed || !this.recvDone || !this.sendDone) return;
    const readEnded = !this.canRead || (node as Readable).readableEnded;
    if (readEnded) node.destroy();
  }

  private maybeForget(): void {
    if (this.recvDone && this.sendDone) this.host.forget(this.id);
  }

  /** Node's _destroy: abort the directions still open. */
  destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Our own abort code travels in err.errorCode; an error the peer caused is not echoed back.
    const code = (err as { errorCode?: unknown; remote?: unknown } | null)?.remote === true ? 0 : (err as { errorCode?: unknown } | null)?.errorCode;
    const c = typeof code === 'number' && Number.isInteger(code) && code >= 0 ? code : 0;
    if (!this.sendDone) {
      this.sendDone = true;
      try {
        this.host.streamReset(this.id, c);
      } catch {
        /* closed */
      }
    }
    if (!this.recvDone) {
      this.recvDone = true;
      try {
        this.host.streamStopSending(this.id, c);
      } catch {
        /* closed */
      }
    }
    if (this.pendingCb !== null) this.completeWrite(err ?? new QuicError(QuicErrorCode.STREAM_ABORTED, `stream ${this.id} destroyed`));
    this.host.kick();
    this.host.forget(this.id);
    cb(err);
  }

  /** The session ended: everything still open fails with `err`. */
  /**
   * The session ended: streams still open are destroyed — with `err` (the peer closed, or an error
   * ended the session), or without an error when we closed the session ourselves (`err` null).
   */
  sessionClosed(err: Error | null): void {
    this.recvDone = true;
    this.sendDone = true;
    const node = this.node;
    if (node.destroyed) return;
    if (this.pendingCb !== null) this.completeWrite(err ?? new QuicError(QuicErrorCode.SESSION_CLOSED, `stream ${this.id}: the session closed`));
    const readOpen = this.canRead && !(node as Readable).readableEnded;
    const writeOpen = this.canWrite && !(node as Writable).writableFinished;
    if (readOpen || writeOpen) {
      if (err === null) node.destroy();
      else node.destroy(err);
    }
  }
}

export interface StreamMethods {
  /** QUIC stream ID (RFC 9000 §2.1). */
  readonly id: number;
  readonly bidirectional: boolean;
  /** True for streams we opened. */
  readonly local: boolean;
}

function checkCode(code: unknown): number {
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`code: expected a non-negative integer application error code, got ${String(code)}`);
  }
  return code;
}

const STREAM_OPTIONS = { highWaterMark: 64 * 1024 };

/** A bidirectional QUIC stream. */
export class QuicStream extends Duplex implements StreamMethods {
  readonly id: number;
  readonly bidirectional = true;
  readonly local: boolean;
  /** @internal */
  readonly core: StreamCore;

  /** @internal Sessions create streams (openStream, 'stream' events). */
  constructor(host: StreamHost, id: number, local: boolean) {
    super({ ...STREAM_OPTIONS, allowHalfOpen: true });
    this.id = id;
    this.local = local;
    this.core = new StreamCore(host, id, true, true);
    this.core.node = this;
    this.once('end', () => this.core.maybeDestroy());
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.core.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.core.final(cb);
  }
  override _read(): void {
    this.core.read();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.core.destroy(err, cb);
  }
  /** Abandon sending: RESET_STREAM with an application error code. */
  resetStream(code: number): void {
    this.core.resetStream(checkCode(code));
  }
  /** Ask the peer to stop sending: STOP_SENDING with an application error code; reading ends. */
  stopSending(code: number): void {
    this.core.stopSending(checkCode(code));
  }
}

/** A unidirectional stream we opened (send only). */
export class QuicSendStream extends Writable implements StreamMethods {
  readonly id: number;
  readonly bidirectional = false;
  readonly local = true;
  /** @internal */
  readonly core: StreamCore;
  /** @internal */
  constructor(host: StreamHost, id: number) {
    super(STREAM_OPTIONS);
    this.id = id;
    this.core = new StreamCore(host, id, false, true);
    this.core.node = this;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.core.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.core.final(cb);
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.core.destroy(err, cb);
  }
  resetStream(code: number): void {
    this.core.resetStream(checkCode(code));
  }
}

/** A unidirectional stream the peer opened (receive only). */
export class QuicReceiveStream extends Readable implements StreamMethods {
  readonly id: number;
  readonly bidirectional = false;
  readonly local = false;
  /** @internal */
  readonly core: StreamCore;
  /** @internal */
  constructor(host: StreamHost, id: number) {
    super(STREAM_OPTIONS);
    this.id = id;
    this.core = new StreamCore(host, id, true, false);
    this.core.node = this;
  }
  override _read(): void {
    this.core.read();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.core.destroy(err, cb);
  }
  stopSending(code: number): void {
    this.core.stopSending(checkCode(code));
  }
}

export type AnyQuicStream = QuicStream | QuicSendStream | QuicReceiveStream;
