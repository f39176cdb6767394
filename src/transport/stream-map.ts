// L2b: all streams of one connection — RFC 9000 §2.1 (IDs, implicit opening of lower-numbered
// streams), §3 (per-direction state machines, frames valid per direction → STREAM_STATE_ERROR),
// §4.1 (connection-level flow control: MAX_DATA / DATA_BLOCKED), §4.6 (stream limits:
// MAX_STREAMS / STREAMS_BLOCKED, STREAM_LIMIT_ERROR, values above 2^60 → FRAME_ENCODING_ERROR),
// §19.4–19.14 (frame semantics).
//
// The connection state machine drives this object and never touches SendStream/RecvStream
// internals for protocol decisions:
//  - frame handlers `onStreamFrame`, `onResetStream`, … throw TransportError on peer violations;
//  - the packet builder pulls `pollControlFrame` then `pollStreamFrame` (+ `copyStreamData`);
//  - loss recovery reports per-frame `on…Acked` / `on…Lost`;
//  - the application side (`open`, `write`, `read`, …) is pulled, and `pollEvent` reports
//    readiness edges (DESIGN §2: stream data is pulled, not pushed).
// Streams are garbage-collected once both directions are terminal; peer streams closing raise
// MAX_STREAMS so that a peer can open far more streams over time than the concurrent limit.

import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { FrameType } from '../codec/frames/frame-types.js';
import { varintSize } from '../util/bytes.js';
import { RecvWindow, SendCredit } from './flow-control.js';
import { RecvState, RecvStream } from './recv-stream.js';
export { READ_END, READ_RESET } from './recv-stream.js';
import { SendStream, type StreamFrameInfo } from './send-stream.js';
import { DEFAULT_URGENCY, StreamScheduler, type Schedulable } from './stream-scheduler.js';
import { isLocallyInitiated, isUni, makeStreamId, streamIndex, StreamUsageError } from './stream-id.js';

/** Frame types of the frames this module produces and consumes (values of the codec's FrameType). */
export const StreamFrameType = {
  RESET_STREAM: FrameType.RESET_STREAM,
  STOP_SENDING: FrameType.STOP_SENDING,
  STREAM: FrameType.STREAM,
  MAX_DATA: FrameType.MAX_DATA,
  MAX_STREAM_DATA: FrameType.MAX_STREAM_DATA,
  MAX_STREAMS_BIDI: FrameType.MAX_STREAMS_BIDI,
  MAX_STREAMS_UNI: FrameType.MAX_STREAMS_UNI,
  DATA_BLOCKED: FrameType.DATA_BLOCKED,
  STREAM_DATA_BLOCKED: FrameType.STREAM_DATA_BLOCKED,
  STREAMS_BLOCKED_BIDI: FrameType.STREAMS_BLOCKED_BIDI,
  STREAMS_BLOCKED_UNI: FrameType.STREAMS_BLOCKED_UNI,
} as const;

const FT = StreamFrameType;
/** RFC 9000 §4.6: stream counts above 2^60 cannot be expressed as stream IDs. */
export const MAX_STREAMS_LIMIT = 2 ** 60;

/** Stream-related transport parameters of one endpoint (RFC 9000 §18.2). */
export interface StreamLimits {
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
}

export interface StreamMapOptions {
  isClient: boolean;
  /** The limits we advertise in our transport parameters. */
  local: StreamLimits;
  /** Auto-tuning cap for stream receive windows (default 16 MiB; ≤ the initial window disables). */
  maxStreamWindow?: number;
  /** Auto-tuning cap for the connection receive window (default 24 MiB). */
  maxConnectionWindow?: number;
  /** Per-stream send buffer limit for write() backpressure (default 1 MiB). */
  sendBufferLimit?: number;
  /** Fraction of a window consumed before MAX_DATA / MAX_STREAM_DATA is sent (default 0.25). */
  updateFraction?: number;
  /** Compare retransmitted stream bytes (PROTOCOL_VIOLATION on mismatch). */
  detectConflicts?: boolean;
}

/** A control frame to send, or one that was acknowledged or lost. One stable shape for all. */
export interface ControlFrameInfo {
  /** One of StreamFrameType (never STREAM). */
  frameType: number;
  /** RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED; else 0. */
  streamId: number;
  /** RESET_STREAM, STOP_SENDING; else 0. */
  errorCode: number;
  /** Final size (RESET_STREAM) or the Maximum field of MAX_* / *_BLOCKED. */
  value: number;
}

export function newControlFrameInfo(): ControlFrameInfo {
  return { frameType: 0, streamId: 0, errorCode: 0, value: 0 };
}

/** Encoded size of a control frame (RFC 9000 §19). */
export function controlFrameSize(f: ControlFrameInfo): number {
  switch (f.frameType) {
    case FT.RESET_STREAM:
      return 1 + varintSize(f.streamId) + varintSize(f.errorCode) + varintSize(f.value);
    case FT.STOP_SENDING:
      return 1 + varintSize(f.streamId) + varintSize(f.errorCode);
    case FT.MAX_STREAM_DATA:
    case FT.STREAM_DATA_BLOCKED:
      return 1 + varintSize(f.streamId) + varintSize(f.value);
    default:
      return 1 + varintSize(f.value);
  }
}

export type StreamEvent =
  /** The peer opened a stream (also each lower-numbered one it implicitly opened). */
  | { type: 'opened'; streamId: number }
  /** Data (or the end of the stream) can be read; edge-triggered, re-armed when a read drains it. */
  | { type: 'readable'; streamId: number }
  /** Send buffer space freed after a write() was cut short. */
  | { type: 'writable'; streamId: number }
  /** The peer reset its sending side (RESET_STREAM). */
  | { type: 'reset'; streamId: number; errorCode: number }
  /** The peer asked us to stop sending (STOP_SENDING); our side was reset with its code. */
  | { type: 'stop_sending'; streamId: number; errorCode: number }
  /** Every byte we wrote and our FIN were acknowledged. */
  | { type: 'send_complete'; streamId: number }
  /** Both directions are terminal; the stream is forgotten. */
  | { type: 'closed'; streamId: number }
  /** open() may succeed again after having returned null. */
  | { type: 'streams_available'; bidi: boolean };

/** One stream: its send and/or receive half, scheduling links and event edges. */
export class Stream implements Schedulable {
  readonly id: number;
  readonly send: SendStream | null;
  readonly recv: RecvStream | null;
  urgency: number = DEFAULT_URGENCY;
  incremental = true;
  schedNext: Schedulable | null = null;
  schedPrev: Schedulable | null = null;
  scheduled = false;
  /** In the control-frame queue. */
  ctrlQueued = false;
  /** In the retransmission-candidate queue (StreamMap.retx). */
  retxQueued = false;
  closed = false;
  readableSignaled = false;
  resetSignaled = false;
  writeBlocked = false;
  /**
   * A local stream above the peer's current stream limit (after a 0-RTT rejection lowered it):
   * it sends nothing, not even control frames, until MAX_STREAMS admits it.
   */
  held = false;
  /** Free slot for the layer above (e.g. its Duplex object). */
  userData: unknown = undefined;

  constructor(id: number, send: SendStream | null, recv: RecvStream | null) {
    this.id = id;
    this.send = send;
    this.recv = recv;
  }
}

const BIDI = 0;
const UNI = 1;

export class StreamMap {
  readonly isClient: boolean;
  /** Connection-level credit the peer gave us (MAX_DATA). */
  readonly connSend: SendCredit;
  /** Connection-level credit we give the peer. */
  readonly connRecv: RecvWindow;

  private readonly local: StreamLimits;
  private peer: StreamLimits | null = null;
  private readonly streams = new Map<number, Stream>();
  private readonly sched = new StreamScheduler<Stream>();
  private readonly ctrlQueue: Stream[] = [];
  private ctrlHead = 0;
  /**
   * Streams that may hold a retransmission (lost data, or a FIN with all data sent) — what can go
   * out while connection flow control is exhausted. A superset, checked lazily: a stream is added
   * whenever it may have gained one and dropped once seen without one, so finding out whether any
   * retransmission is ready is amortized O(1) instead of a walk over every scheduled stream.
   */
  private readonly retx: Stream[] = [];
  private retxHead = 0;
  private readonly events: StreamEvent[] = [];
  private eventHead = 0;
  private readonly maxStreamWindow: number;
  private readonly sendBufferLimit: number;
  private readonly updateFraction: number | undefined;
  private readonly detectConflicts: boolean;

  private maxDataPending = false;
  /** Streams with `held` set. */
  private heldCount = 0;
  // Index 0 = bidirectional, 1 = unidirectional.
  /** Streams we opened. */
  private readonly localOpened = [0, 0];
  /** Peer's MAX_STREAMS limits on us. */
  private readonly peerMaxStreams = [0, 0];
  private readonly streamsBlockedPending = [false, false];
  private readonly streamsBlockedAt = [-1, -1];
  private readonly openWanted = [false, false];
  /** Streams the peer opened (implicitly included). */
  private readonly peerOpened = [0, 0];
  /** Peer streams fully closed and forgotten. */
  private readonly peerClosed = [0, 0];
  /** Limits we advertised (transport parameter, then MAX_STREAMS). */
  private readonly localMaxStreams: number[];
  private readonly maxStreamsPending = [false, false];

  constructor(opts: StreamMapOptions) {
    this.isClient = opts.isClient;
    const l = opts.local;
    for (const [k, v] of Object.entries(l)) {
      if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`local.${k} must be a non-negative integer`);
    }
    if (l.initialMaxStreamsBidi > MAX_STREAMS_LIMIT || l.initialMaxStreamsUni > MAX_STREAMS_LIMIT) {
      throw new RangeError('local.initialMaxStreams* must be ≤ 2^60');
    }
    this.local = { ...l };
    this.localMaxStreams = [l.initialMaxStreamsBidi, l.initialMaxStreamsUni];
    this.maxStreamWindow = opts.maxStreamWindow ?? 16 << 20;
    this.sendBufferLimit = opts.sendBufferLimit ?? 1 << 20;
    this.updateFraction = opts.updateFraction;
    this.detectConflicts = opts.detectConflicts ?? false;
    this.connSend = new SendCredit(0);
    const connOpts: { window: number; maxWindow: number; updateFraction?: number } = {
      window: l.initialMaxData,
      maxWindow: opts.maxConnectionWindow ?? 24 << 20,
    };
    if (opts.updateFraction !== undefined) connOpts.updateFraction = opts.updateFraction;
    this.connRecv = new RecvWindow(connOpts);
  }

  // ---------------------------------------------------------------- setup

  /**
   * Apply the peer's transport parameters (RFC 9000 §18.2, §7.4). Limits only grow: streams
   * opened before (0-RTT, or before the handshake) receive the new initial credit.
   */
  setPeerLimits(p: StreamLimits): void {
    if (p.initialMaxStreamsBidi > MAX_STREAMS_LIMIT || p.initialMaxStreamsUni > MAX_STREAMS_LIMIT) {
      throw new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'initial_max_streams above 2^60');
    }
    this.peer = { ...p };
    this.connSend.update(p.initialMaxData);
    this.raisePeerMaxStreams(BIDI, p.initialMaxStreamsBidi);
    this.raisePeerMaxStreams(UNI, p.initialMaxStreamsUni);
    for (const s of this.streams.values()) {
      if (s.send !== null && s.send.credit.update(this.peerSendLimit(s.id))) this.afterSendChange(s);
    }
    if (this.heldCount > 0) {
      // After a 0-RTT rejection: streams still above the limits wait (STREAMS_BLOCKED tells the peer).
      this.releaseHeld(BIDI, this.peerMaxStreams[BIDI]!);
      this.releaseHeld(UNI, this.peerMaxStreams[UNI]!);
    }
  }

  /**
   * The server rejected 0-RTT (RFC 9001 §4.6.2: reset the state of all streams; RFC 9000 §7.4.1:
   * the remembered limits no longer apply). Nothing we sent reached the peer: every local stream's
   * data becomes unsent again (it goes out in 1-RTT packets, within the new limits), and the
   * peer's limits restart from zero until setPeerLimits() applies its transport parameters —
   * which may be lower than the remembered ones. Streams beyond the new stream limit are held
   * (and STREAMS_BLOCKED sent) until MAX_STREAMS admits them. Call after the 0-RTT packets'
   * frames were declared lost.
   */
  onEarlyDataRejected(): void {
    this.peer = null;
    const c = this.connSend;
    c.limit = 0;
    c.used = 0;
    c.blockedPending = false;
    c.blockedAt = -1;
    for (let d = 0; d < 2; d++) {
      this.peerMaxStreams[d] = 0;
      this.streamsBlockedPending[d] = false;
      this.streamsBlockedAt[d] = -1;
    }
    for (const s of this.streams.values()) {
      if (!isLocallyInitiated(s.id, this.isClient)) continue;
      s.send?.restartAfterRejection(0);
      this.sched.remove(s);
      s.held = true;
      this.heldCount++;
    }
  }

  // ---------------------------------------------------------------- application side

  /** Number of streams currently tracked (open or not yet collected). */
  get size(): number {
    return this.streams.size;
  }

  /** Counters for the connection's `stats` object. */
  stats(): { openedLocalBidi: number; openedLocalUni: number; openedPeerBidi: number; openedPeerUni: number; closedPeer: number; active: number } {
    return {
      openedLocalBidi: this.localOpened[BIDI]!,
      openedLocalUni: this.localOpened[UNI]!,
      openedPeerBidi: this.peerOpened[BIDI]!,
      openedPeerUni: this.peerOpened[UNI]!,
      closedPeer: this.peerClosed[BIDI]! + this.peerClosed[UNI]!,
      active: this.streams.size,
    };
  }

  get(id: number): Stream | undefined {
    return this.streams.get(id);
  }

  /** How many more streams of this direction we may open now. */
  openable(bidi: boolean): number {
    const d = bidi ? BIDI : UNI;
    return Math.max(0, this.peerMaxStreams[d]! - this.localOpened[d]!);
  }

  /**
   * Open a stream. Returns its ID, or null when the peer's limit is reached — a STREAMS_BLOCKED
   * frame is then queued and a 'streams_available' event follows the next MAX_STREAMS.
   */
  open(bidi: boolean): number | null {
    const d = bidi ? BIDI : UNI;
    const limit = this.peerMaxStreams[d]!;
    if (this.localOpened[d]! >= limit) {
      this.openWanted[d] = true;
      if (this.streamsBlockedAt[d] !== limit) {
        this.streamsBlockedAt[d] = limit;
        this.streamsBlockedPending[d] = true;
      }
      return null;
    }
    const id = makeStreamId(this.localOpened[d]!, this.isClient, bidi);
    this.localOpened[d]!++;
    this.createStream(id, true);
    return id;
  }

  /**
   * Queue data (kept by reference until acknowledged). Returns the bytes accepted (backpressure:
   * fewer than offered → a 'writable' event follows), or -1 when our side was reset (see the
   * 'stop_sending' event / `get(id).send.stopCode`).
   */
  write(id: number, data: Uint8Array, fin = false): number {
    const s = this.sendable(id);
    const n = s.send!.write(data, fin);
    if (n < 0) return n;
    if (n < data.length) s.writeBlocked = true;
    this.afterSendChange(s);
    return n;
  }

  /** Send FIN after the buffered data. */
  finish(id: number): void {
    const s = this.sendable(id);
    if (s.send!.finish()) this.afterSendChange(s);
  }

  /** Abandon sending with RESET_STREAM(errorCode) (RFC 9000 §3.1). */
  resetStream(id: number, errorCode: number): void {
    const s = this.sendable(id);
    if (s.send!.reset(errorCode)) {
      this.sched.remove(s);
      this.queueCtrl(s);
    }
  }

  /**
   * Copy readable bytes into `out` at `pos`. Returns the count (0: wait for 'readable'), READ_END
   * (-1) once the FIN has been reached, or READ_RESET (-2) after a peer reset (code in the 'reset'
   * event). Seeing READ_END / READ_RESET completes the receiving side; when both sides are done
   * the stream is collected and further calls throw StreamUsageError.
   */
  read(id: number, out: Uint8Array, pos = 0): number {
    const s = this.receivable(id);
    const r = s.recv!;
    const released = r.released;
    const n = r.read(out, pos);
    this.afterRead(s, released);
    return n;
  }

  /** Zero-copy view of readable bytes; follow with consume(id, n). Empty: call read() for the status. */
  peek(id: number): Uint8Array {
    return this.receivable(id).recv!.peek();
  }

  consume(id: number, n: number): void {
    const s = this.receivable(id);
    const released = s.recv!.released;
    s.recv!.consume(n);
    this.afterRead(s, released);
  }

  /** Stop reading: discard data and send STOP_SENDING(errorCode) (RFC 9000 §3.5). */
  stopSending(id: number, errorCode: number): void {
    const s = this.receivable(id);
    const r = s.recv!;
    const released = r.released;
    if (r.stop(errorCode)) this.queueCtrl(s);
    this.afterRead(s, released);
  }

  /** RFC 9218-style priority: urgency 0 (first) … 7, incremental = round-robin within a level. */
  setPriority(id: number, urgency: number, incremental: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined) throw new StreamUsageError(id, 'unknown stream');
    this.sched.setPriority(s, urgency, incremental);
  }

  pollEvent(): StreamEvent | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const e = this.events[this.eventHead++]!;
    if (this.eventHead === this.events.length) {
      this.events.length = 0;
      this.eventHead = 0;
    }
    return e;
  }

  // ---------------------------------------------------------------- frames received

  /** STREAM frame (RFC 9000 §19.8). */
  onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean): void {
    const s = this.streamForFrame(id, FT.STREAM, true);
    if (s === null) return;
    const r = s.recv!;
    const highest = r.highest;
    const released = r.released;
    r.onData(offset, data, fin);
    this.afterRecv(s, highest, released, FT.STREAM);
  }

  /** RESET_STREAM frame (RFC 9000 §19.4). */
  onResetStream(id: number, errorCode: number, finalSize: number): void {
    const s = this.streamForFrame(id, FT.RESET_STREAM, true);
    if (s === null) return;
    const r = s.recv!;
    const highest = r.highest;
    const released = r.released;
    r.onReset(errorCode, finalSize);
    this.afterRecv(s, highest, released, FT.RESET_STREAM);
  }

  /** STOP_SENDING frame (RFC 9000 §19.5). */
  onStopSending(id: number, errorCode: number): void {
    const s = this.streamForFrame(id, FT.STOP_SENDING, false);
    if (s === null) return;
    const send = s.send!;
    if (send.onStopSending(errorCode)) {
      this.sched.remove(s);
      this.queueCtrl(s);
      this.events.push({ type: 'stop_sending', streamId: id, errorCode });
    }
  }

  /** MAX_DATA frame (RFC 9000 §19.9). */
  onMaxData(max: number): void {
    this.connSend.update(max);
  }

  /** MAX_STREAM_DATA frame (RFC 9000 §19.10). */
  onMaxStreamData(id: number, max: number): void {
    const s = this.streamForFrame(id, FT.MAX_STREAM_DATA, false);
    if (s === null) return;
    if (s.send!.onMaxStreamData(max)) this.afterSendChange(s);
  }

  /** MAX_STREAMS frame (RFC 9000 §19.11); `bidi` from the frame type (0x12 / 0x13). */
  onMaxStreams(bidi: boolean, max: number): void {
    if (max > MAX_STREAMS_LIMIT) {
      throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'MAX_STREAMS above 2^60', bidi ? FT.MAX_STREAMS_BIDI : FT.MAX_STREAMS_UNI);
    }
    this.raisePeerMaxStreams(bidi ? BIDI : UNI, max);
  }

  /** DATA_BLOCKED frame (RFC 9000 §19.12): resend our limit if the peer has not seen it. */
  onDataBlocked(limit: number): void {
    if (limit < this.connRecv.maxData) this.maxDataPending = true;
    else if (this.connRecv.shouldUpdate()) this.maxDataPending = true;
  }

  /** STREAM_DATA_BLOCKED frame (RFC 9000 §19.13). */
  onStreamDataBlocked(id: number, limit: number): void {
    const s = this.streamForFrame(id, FT.STREAM_DATA_BLOCKED, true);
    if (s === null) return;
    const r = s.recv!;
    if (r.state !== RecvState.Recv || r.stopCode >= 0) return;
    if ((limit < r.fc.maxData || r.fc.shouldUpdate()) && !r.maxDataPending) {
      r.maxDataPending = true;
      this.queueCtrl(s);
    }
  }

  /** STREAMS_BLOCKED frame (RFC 9000 §19.14). */
  onStreamsBlocked(bidi: boolean, limit: number): void {
    if (limit > MAX_STREAMS_LIMIT) {
      throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'STREAMS_BLOCKED above 2^60', bidi ? FT.STREAMS_BLOCKED_BIDI : FT.STREAMS_BLOCKED_UNI);
    }
    const d = bidi ? BIDI : UNI;
    if (limit < this.localMaxStreams[d]!) this.maxStreamsPending[d] = true;
  }

  // ---------------------------------------------------------------- packet builder

  /** A control frame is waiting (MAX_*, *_BLOCKED, RESET_STREAM, STOP_SENDING). */
  hasPendingControl(): boolean {
    if (this.maxDataPending || this.connSend.blockedPending) return true;
    if (this.maxStreamsPending[0] || this.maxStreamsPending[1]) return true;
    if (this.streamsBlockedPending[0] || this.streamsBlockedPending[1]) return true;
    for (let k = this.ctrlHead; k < this.ctrlQueue.length; k++) {
      const s = this.ctrlQueue[k]!;
      if (!s.closed && hasStreamControl(s)) return true;
    }
    return false;
  }

  /** STREAM data can be sent now (retransmissions, or new data within connection credit). */
  hasPendingStreamData(): boolean {
    if (this.sched.isEmpty) return false;
    if (this.connSend.available > 0) return true;
    return this.firstRetransmit() !== null;
  }

  /**
   * Take the next control frame whose encoding fits in `maxBytes`. `now` (ms) and `rtt` (smoothed,
   * ms; 0 if unknown) drive window auto-tuning. The frame is considered sent: report its fate with
   * onControlFrameAcked / onControlFrameLost. Returns false when none is pending or fits.
   */
  pollControlFrame(maxBytes: number, now: number, rtt: number, out: ControlFrameInfo): boolean {
    out.streamId = 0;
    out.errorCode = 0;
    const cr = this.connRecv;
    if (this.maxDataPending && 1 + varintSize(cr.peekUpdate(now, rtt)) <= maxBytes) {
      this.maxDataPending = false;
      out.frameType = FT.MAX_DATA;
      out.value = cr.update(now, rtt);
      return true;
    }
    for (let d = 0; d < 2; d++) {
      if (this.maxStreamsPending[d] && 1 + varintSize(this.maxStreamsTarget(d)) <= maxBytes) {
        this.maxStreamsPending[d] = false;
        const v = Math.max(this.localMaxStreams[d]!, this.maxStreamsTarget(d));
        this.localMaxStreams[d] = v;
        out.frameType = d === BIDI ? FT.MAX_STREAMS_BIDI : FT.MAX_STREAMS_UNI;
        out.value = v;
        return true;
      }
    }
    if (this.connSend.blockedPending && 1 + varintSize(this.connSend.blockedAt) <= maxBytes) {
      out.frameType = FT.DATA_BLOCKED;
      out.value = this.connSend.takeBlocked();
      return true;
    }
    for (let d = 0; d < 2; d++) {
      if (this.streamsBlockedPending[d] && 1 + varintSize(this.streamsBlockedAt[d]!) <= maxBytes) {
        this.streamsBlockedPending[d] = false;
        out.frameType = d === BIDI ? FT.STREAMS_BLOCKED_BIDI : FT.STREAMS_BLOCKED_UNI;
        out.value = this.streamsBlockedAt[d]!;
        return true;
      }
    }
    while (this.ctrlHead < this.ctrlQueue.length) {
      const s = this.ctrlQueue[this.ctrlHead]!;
      if (s.held) {
        this.dequeueCtrl(); // queued again when MAX_STREAMS admits it
        continue;
      }
      if (!s.closed && this.pollStreamControl(s, maxBytes, now, rtt, out)) {
        if (!hasStreamControl(s)) this.dequeueCtrl();
        return true;
      }
      if (!s.closed && hasStreamControl(s)) return false; // pending but does not fit
      this.dequeueCtrl();
    }
    return false;
  }

  /**
   * Take the next STREAM frame fitting in `maxBytes` (header with Length included): the most
   * urgent ready stream, retransmissions before new data. The bytes are marked sent; copy them
   * with copyStreamData and report the frame's fate with onStreamFrameAcked / onStreamFrameLost.
   */
  pollStreamFrame(maxBytes: number, out: StreamFrameInfo): boolean {
    const connAvail = this.connSend.available;
    // Connection credit exhausted: only retransmissions may go. Without any, say DATA_BLOCKED
    // (once per limit) and stop here instead of walking every scheduled stream per packet.
    if (connAvail === 0 && this.firstRetransmit() === null) {
      this.markConnBlocked();
      return false;
    }
    let s = this.sched.first();
    while (s !== null) {
      const send = s.send!;
      if (!send.wantsToSend) {
        const next = this.sched.next(s);
        this.sched.remove(s);
        s = next;
        continue;
      }
      if (connAvail === 0 && !send.hasRetransmit) {
        if (send.sentOffset < send.credit.limit) this.connSend.markBlocked();
        s = this.sched.next(s);
        continue;
      }
      if (!send.nextFrame(maxBytes, connAvail, out)) return false;
      if (out.newBytes > 0) this.connSend.consume(out.newBytes);
      if (send.wantsToSend) {
        this.sched.rotate(s);
        // All data sent with the FIN still to go (it did not fit): a retransmission-like frame.
        if (send.hasRetransmit) this.noteRetransmit(s);
      } else this.sched.remove(s);
      if (send.checkBlocked()) this.queueCtrl(s);
      if (this.connSend.available === 0 && send.unsent > 0 && send.sentOffset < send.credit.limit) this.connSend.markBlocked();
      return true;
    }
    return false;
  }

  /** Copy the payload of a STREAM frame planned by pollStreamFrame into packet memory. */
  copyStreamData(id: number, offset: number, length: number, dst: Uint8Array, pos: number): void {
    const s = this.streams.get(id);
    if (s === undefined || s.send === null) throw new StreamUsageError(id, 'no send buffer');
    s.send.copyData(offset, length, dst, pos);
  }

  // ---------------------------------------------------------------- loss recovery

  onStreamFrameAcked(id: number, offset: number, length: number, fin: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined || s.send === null) return;
    const send = s.send;
    if (send.onAck(offset, length, fin)) {
      this.events.push({ type: 'send_complete', streamId: id });
      this.maybeCollect(s);
      return;
    }
    // Low-water mark: wake a blocked writer once 1/16 of the buffer is free, not at every ACK.
    // Topping the buffer up an ACK's worth at a time costs a write and an event per ACK and
    // leaves a few-byte tail every couple of packets that goes out as its own runt packet (one
    // in four packets of a single-stream bulk transfer); 1/16 keeps the buffer ≥ 15/16 full.
    if (s.writeBlocked && send.writable > 0 && (send.writable >= send.bufferLimit >>> 4 || send.buffered === 0)) {
      s.writeBlocked = false;
      this.events.push({ type: 'writable', streamId: id });
    }
  }

  onStreamFrameLost(id: number, offset: number, length: number, fin: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined || s.send === null) return;
    s.send.onLost(offset, length, fin);
    if (s.send.wantsToSend && !s.held) this.schedule(s);
  }

  onControlFrameAcked(f: ControlFrameInfo): void {
    if (f.frameType !== FT.RESET_STREAM) return;
    const s = this.streams.get(f.streamId);
    if (s !== undefined && s.send !== null && s.send.onResetAcked()) this.maybeCollect(s);
  }

  onControlFrameLost(f: ControlFrameInfo): void {
    switch (f.frameType) {
      case FT.MAX_DATA:
        if (f.value === this.connRecv.maxData) this.maxDataPending = true;
        return;
      case FT.DATA_BLOCKED:
        this.connSend.onBlockedLost(f.value);
        return;
      case FT.MAX_STREAMS_BIDI:
      case FT.MAX_STREAMS_UNI: {
        const d = f.frameType === FT.MAX_STREAMS_BIDI ? BIDI : UNI;
        if (f.value === this.localMaxStreams[d]) this.maxStreamsPending[d] = true;
        return;
      }
      case FT.STREAMS_BLOCKED_BIDI:
      case FT.STREAMS_BLOCKED_UNI: {
        const d = f.frameType === FT.STREAMS_BLOCKED_BIDI ? BIDI : UNI;
        if (f.value === this.peerMaxStreams[d] && this.localOpened[d]! >= f.value && this.openWanted[d]) {
          this.streamsBlockedPending[d] = true;
        }
        return;
      }
    }
    const s = this.streams.get(f.streamId);
    if (s === undefined) return;
    let again = false;
    switch (f.frameType) {
      case FT.RESET_STREAM:
        again = s.send !== null && s.send.onResetLost();
        break;
      case FT.STOP_SENDING:
        again = s.recv !== null && s.recv.onStopSendingLost();
        break;
      case FT.MAX_STREAM_DATA:
        again = s.recv !== null && s.recv.onMaxStreamDataLost(f.value);
        break;
      case FT.STREAM_DATA_BLOCKED:
        again = s.send !== null && !s.send.isReset && s.send.credit.onBlockedLost(f.value);
        break;
    }
    if (again) this.queueCtrl(s);
  }

  // ---------------------------------------------------------------- internals

  private peerSendLimit(id: number): number {
    const p = this.peer;
    if (p === null) return 0;
    if (isUni(id)) return p.initialMaxStreamDataUni;
    // The peer's "bidi_local" applies to streams the peer opened, "bidi_remote" to ours.
    return isLocallyInitiated(id, this.isClient) ? p.initialMaxStreamDataBidiRemote : p.initialMaxStreamDataBidiLocal;
  }

  private localRecvWindow(id: number): number {
    if (isUni(id)) return this.local.initialMaxStreamDataUni;
    return isLocallyInitiated(id, this.isClient) ? this.local.initialMaxStreamDataBidiLocal : this.local.initialMaxStreamDataBidiRemote;
  }

  private createStream(id: number, local: boolean): Stream {
    const uni = isUni(id);
    const send = !uni || local ? new SendStream(id, { maxStreamData: this.peerSendLimit(id), bufferLimit: this.sendBufferLimit }) : null;
    let recv: RecvStream | null = null;
    if (!uni || !local) {
      const window = this.localRecvWindow(id);
      const o: { window: number; maxWindow: number; updateFraction?: number; detectConflicts: boolean } = {
        window,
        maxWindow: Math.max(window, this.maxStreamWindow),
        detectConflicts: this.detectConflicts,
      };
      if (this.updateFraction !== undefined) o.updateFraction = this.updateFraction;
      recv = new RecvStream(id, o);
    }
    const s = new Stream(id, send, recv);
    this.streams.set(id, s);
    return s;
  }

  /**
   * The stream a received frame refers to, opening peer streams (and all lower-numbered ones of
   * the type) as needed. `wantRecv`: the frame targets our receiving part (STREAM, RESET_STREAM,
   * STREAM_DATA_BLOCKED) rather than our sending part (STOP_SENDING, MAX_STREAM_DATA).
   * Returns null for streams already closed and forgotten.
   */
  private streamForFrame(id: number, frameType: number, wantRecv: boolean): Stream | null {
    const local = isLocallyInitiated(id, this.isClient);
    const uni = isUni(id);
    if (uni && local === wantRecv) {
      throw new TransportError(
        TransportErrorCode.STREAM_STATE_ERROR,
        `stream ${id} is ${local ? 'send' : 'receive'}-only here`,
        frameType,
      );
    }
    const s = this.streams.get(id);
    if (s !== undefined) return s;
    const d = uni ? UNI : BIDI;
    const index = streamIndex(id);
    if (local) {
      if (index >= this.localOpened[d]!) {
        throw new TransportError(TransportErrorCode.STREAM_STATE_ERROR, `stream ${id} not yet opened by us`, frameType);
      }
      return null;
    }
    if (index < this.peerOpened[d]!) return null;
    if (index >= this.localMaxStreams[d]!) {
      throw new TransportError(TransportErrorCode.STREAM_LIMIT_ERROR, `stream ${id} exceeds the limit of ${this.localMaxStreams[d]}`, frameType);
    }
    let opened: Stream | null = null;
    for (let k = this.peerOpened[d]!; k <= index; k++) {
      const sid = makeStreamId(k, !this.isClient, !uni);
      opened = this.createStream(sid, false);
      this.events.push({ type: 'opened', streamId: sid });
    }
    this.peerOpened[d] = index + 1;
    return opened;
  }

  private sendable(id: number): Stream {
    const s = this.streams.get(id);
    if (s === undefined) throw new StreamUsageError(id, 'unknown or closed stream');
    if (s.send === null) throw new StreamUsageError(id, 'receive-only stream');
    return s;
  }

  private receivable(id: number): Stream {
    const s = this.streams.get(id);
    if (s === undefined) throw new StreamUsageError(id, 'unknown or closed stream');
    if (s.recv === null) throw new StreamUsageError(id, 'send-only stream');
    return s;
  }

  private afterSendChange(s: Stream): void {
    if (s.held) return;
    const send = s.send!;
    if (send.wantsToSend) this.schedule(s);
    if (send.checkBlocked()) this.queueCtrl(s);
    if (send.unsent > 0 && send.sentOffset < send.credit.limit && this.connSend.available === 0) this.connSend.markBlocked();
  }

  private afterRecv(s: Stream, prevHighest: number, prevReleased: number, frameType: number): void {
    const r = s.recv!;
    const grown = r.highest - prevHighest;
    if (grown > 0 && !this.connRecv.addReceived(grown)) {
      throw new TransportError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `connection data ${this.connRecv.received} exceeds limit ${this.connRecv.maxData}`,
        frameType,
      );
    }
    this.creditReturned(r.released - prevReleased);
    if (r.state === RecvState.ResetRecvd) {
      if (!s.resetSignaled) {
        s.resetSignaled = true;
        this.events.push({ type: 'reset', streamId: s.id, errorCode: r.resetCode });
      }
    } else if (!s.readableSignaled && (r.readable > 0 || r.state === RecvState.DataRecvd)) {
      s.readableSignaled = true;
      this.events.push({ type: 'readable', streamId: s.id });
    }
    this.maybeCollect(s);
  }

  private afterRead(s: Stream, prevReleased: number): void {
    const r = s.recv!;
    this.creditReturned(r.released - prevReleased);
    if (r.readable === 0) s.readableSignaled = false;
    if (!r.maxDataPending && r.wantsMaxStreamData()) {
      r.maxDataPending = true;
      this.queueCtrl(s);
    }
    this.maybeCollect(s);
  }

  private creditReturned(n: number): void {
    if (n <= 0) return;
    this.connRecv.onConsumed(n);
    if (!this.maxDataPending && this.connRecv.shouldUpdate()) this.maxDataPending = true;
  }

  /** Queue `s` for STREAM frames (it wants to send), noting a retransmission it may hold. */
  private schedule(s: Stream): void {
    this.sched.push(s);
    if (s.send!.hasRetransmit) this.noteRetransmit(s);
  }

  private noteRetransmit(s: Stream): void {
    if (s.retxQueued) return;
    s.retxQueued = true;
    const q = this.retx;
    q.push(s);
    // Candidates are only consumed while connection credit is exhausted: keep the queue bounded
    // (at most twice the streams tracked) when that never happens. Each sweep halves it at least.
    if (q.length - this.retxHead > 64 && q.length - this.retxHead > 2 * this.streams.size) {
      let n = 0;
      for (let i = this.retxHead; i < q.length; i++) {
        const c = q[i]!;
        if (c.scheduled && !c.closed && c.send !== null && c.send.hasRetransmit) q[n++] = c;
        else c.retxQueued = false;
      }
      q.length = n;
      this.retxHead = 0;
    }
  }

  /**
   * The oldest candidate that has a retransmission ready now (scheduled, not closed), dropping the
   * stale ones in front of it; null when none has. Each candidate is dropped at most once per
   * noteRetransmit, so the cost is amortized O(1).
   */
  private firstRetransmit(): Stream | null {
    const q = this.retx;
    while (this.retxHead < q.length) {
      const s = q[this.retxHead]!;
      if (s.scheduled && !s.closed && s.send !== null && s.send.hasRetransmit) return s;
      s.retxQueued = false;
      this.retxHead++;
    }
    q.length = 0;
    this.retxHead = 0;
    return null;
  }

  /**
   * Connection credit is exhausted and only new data waits: DATA_BLOCKED (RFC 9000 §4.1, §19.12)
   * if a scheduled stream has unsent bytes within its own credit. markBlocked() acts once per
   * limit, so the walk runs once per MAX_DATA value, not per packet.
   */
  private markConnBlocked(): void {
    const c = this.connSend;
    if (c.blockedAt === c.limit || c.used < c.limit) return;
    for (let s = this.sched.first(); s !== null; s = this.sched.next(s)) {
      const send = s.send!;
      if (send.unsent > 0 && send.sentOffset < send.credit.limit) {
        c.markBlocked();
        return;
      }
    }
  }

  private queueCtrl(s: Stream): void {
    if (s.ctrlQueued || s.closed || s.held) return;
    s.ctrlQueued = true;
    this.ctrlQueue.push(s);
  }

  private dequeueCtrl(): void {
    this.ctrlQueue[this.ctrlHead]!.ctrlQueued = false;
    this.ctrlHead++;
    if (this.ctrlHead === this.ctrlQueue.length) {
      this.ctrlQueue.length = 0;
      this.ctrlHead = 0;
    } else if (this.ctrlHead >= 64 && this.ctrlHead * 2 >= this.ctrlQueue.length) {
      this.ctrlQueue.splice(0, this.ctrlHead);
      this.ctrlHead = 0;
    }
  }

  private pollStreamControl(s: Stream, maxBytes: number, now: number, rtt: number, out: ControlFrameInfo): boolean {
    const send = s.send;
    const recv = s.recv;
    out.streamId = s.id;
    out.errorCode = 0;
    if (send !== null && send.resetPending) {
      out.frameType = FT.RESET_STREAM;
      out.errorCode = send.resetCode;
      out.value = send.resetFinalSize;
      if (controlFrameSize(out) > maxBytes) return false;
      send.takeReset();
      return true;
    }
    if (recv !== null && recv.stopPending) {
      out.frameType = FT.STOP_SENDING;
      out.errorCode = recv.stopCode;
      out.value = 0;
      if (controlFrameSize(out) > maxBytes) return false;
      recv.takeStopSending();
      return true;
    }
    if (recv !== null && recv.maxDataPending) {
      if (recv.state !== RecvState.Recv || recv.stopCode >= 0) {
        recv.maxDataPending = false;
      } else {
        out.frameType = FT.MAX_STREAM_DATA;
        out.value = recv.fc.peekUpdate(now, rtt);
        if (controlFrameSize(out) > maxBytes) return false;
        out.value = recv.takeMaxStreamData(now, rtt);
        // Keep the connection window comfortably above any stream window (quic-go: 1.5×).
        this.connRecv.ensureWindow(recv.fc.window * 1.5);
        return true;
      }
    }
    if (send !== null && send.credit.blockedPending) {
      if (send.isReset || send.sentOffset < send.credit.blockedAt) {
        send.credit.blockedPending = false;
      } else {
        out.frameType = FT.STREAM_DATA_BLOCKED;
        out.value = send.credit.blockedAt;
        if (controlFrameSize(out) > maxBytes) return false;
        send.credit.takeBlocked();
        return true;
      }
    }
    return false;
  }

  private maybeCollect(s: Stream): void {
    if (s.closed) return;
    if (s.send !== null && !s.send.isTerminal) return;
    if (s.recv !== null && !s.recv.isTerminal) return;
    s.closed = true;
    this.streams.delete(s.id);
    this.sched.remove(s);
    this.events.push({ type: 'closed', streamId: s.id });
    if (!isLocallyInitiated(s.id, this.isClient)) {
      const d = isUni(s.id) ? UNI : BIDI;
      this.peerClosed[d]!++;
      const initial = d === BIDI ? this.local.initialMaxStreamsBidi : this.local.initialMaxStreamsUni;
      // Replenish in batches of 1/8 of the concurrency (at least 1) to limit MAX_STREAMS frames.
      const batch = Math.max(1, Math.floor(initial / 8));
      if (this.maxStreamsTarget(d) - this.localMaxStreams[d]! >= batch) this.maxStreamsPending[d] = true;
    }
  }

  /** The MAX_STREAMS value that keeps the peer's concurrency at our initial limit. */
  private maxStreamsTarget(d: number): number {
    const initial = d === BIDI ? this.local.initialMaxStreamsBidi : this.local.initialMaxStreamsUni;
    return Math.min(MAX_STREAMS_LIMIT, this.peerClosed[d]! + initial);
  }

  /** Admit held streams of direction `d` below the new limit; STREAMS_BLOCKED if some still wait. */
  private releaseHeld(d: number, max: number): void {
    let waiting = false;
    for (const s of this.streams.values()) {
      if (!s.held || (isUni(s.id) ? UNI : BIDI) !== d) continue;
      if (streamIndex(s.id) >= max) {
        waiting = true;
        continue;
      }
      s.held = false;
      this.heldCount--;
      if (s.send !== null) this.afterSendChange(s);
      if (hasStreamControl(s)) this.queueCtrl(s);
    }
    if (waiting && this.streamsBlockedAt[d] !== max) {
      this.streamsBlockedAt[d] = max;
      this.streamsBlockedPending[d] = true;
    }
  }

  private raisePeerMaxStreams(d: number, max: number): void {
    if (max <= this.peerMaxStreams[d]!) return;
    this.peerMaxStreams[d] = max;
    this.streamsBlockedPending[d] = false;
    if (this.heldCount > 0) this.releaseHeld(d, max);
    if (this.openWanted[d]) {
      this.openWanted[d] = false;
      this.events.push({ type: 'streams_available', bidi: d === BIDI });
    }
  }
}

function hasStreamControl(s: Stream): boolean {
  const send = s.send;
  const recv = s.recv;
  return (
    (send !== null && (send.resetPending || send.credit.blockedPending)) ||
    (recv !== null && (recv.stopPending || recv.maxDataPending))
  );
}
