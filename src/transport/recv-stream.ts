// L2b: the receiving part of a stream, RFC 9000 §3.2 (states Recv → Size Known → Data Recvd →
// Data Read, Reset Recvd → Reset Read), §3.5 (STOP_SENDING), §4.1–4.2 (stream flow control and
// MAX_STREAM_DATA), §4.5 (final size rules → FINAL_SIZE_ERROR), §19.4 (RESET_STREAM),
// §19.8 (STREAM, 2^62-1 offset ceiling).
//
// Data is pulled (DESIGN §2): `read(out)` copies into caller memory, `peek()`/`consume(n)` give a
// zero-copy view. For connection-level flow control the owner tracks two counters this stream
// exposes: `highest` (credit the peer consumed: highest offset, or the final size after a reset)
// and `released` (credit given back: bytes read plus bytes discarded after a reset or
// STOP_SENDING). Both end equal to the final size.

import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { FrameType } from '../codec/frames/frame-types.js';
import { EMPTY } from '../util/bytes.js';
import { RecvWindow } from './flow-control.js';
import { Reassembly } from './reassembly.js';

export const RecvState = {
  Recv: 0,
  SizeKnown: 1,
  DataRecvd: 2,
  DataRead: 3,
  ResetRecvd: 4,
  ResetRead: 5,
} as const;
export type RecvState = (typeof RecvState)[keyof typeof RecvState];

/** read(): all data up to the FIN has been read. */
export const READ_END = -1;
/** read(): the peer reset the stream (RESET_STREAM); see `resetCode`. */
export const READ_RESET = -2;

const FRAME_RESET_STREAM = FrameType.RESET_STREAM;
const FRAME_STREAM = FrameType.STREAM;
const MAX_FINAL_SIZE = 2 ** 62 - 1;

export interface RecvStreamOptions {
  /** Our initial limit for this stream (initial_max_stream_data_*). */
  window: number;
  /** Auto-tuning cap for the stream window (default: no growth). */
  maxWindow?: number;
  /** See RecvWindowOptions.updateFraction. */
  updateFraction?: number;
  /** Treat different bytes at an already-buffered offset as PROTOCOL_VIOLATION. */
  detectConflicts?: boolean;
}

export class RecvStream {
  readonly id: number;
  state: RecvState = RecvState.Recv;
  /** Stream-level receive window (what we advertise in MAX_STREAM_DATA). */
  readonly fc: RecvWindow;
  /** Final size once known (FIN or RESET_STREAM); -1 before. */
  finalSize = -1;
  /** Application error code of the peer's RESET_STREAM; -1 when not reset. */
  resetCode = -1;
  /** Code of our STOP_SENDING (the application stopped reading); -1 when not stopped. */
  stopCode = -1;
  /** A STOP_SENDING frame needs (re)sending. */
  stopPending = false;
  /** A MAX_STREAM_DATA frame needs (re)sending (set by the owner, cleared by take). */
  maxDataPending = false;
  /** Connection-level credit returned: bytes read or discarded. */
  released = 0;

  private asm: Reassembly | null = null;
  private readonly detectConflicts: boolean;

  constructor(id: number, opts: RecvStreamOptions) {
    this.id = id;
    const fcOpts: { window: number; maxWindow?: number; updateFraction?: number } = { window: opts.window };
    if (opts.maxWindow !== undefined) fcOpts.maxWindow = opts.maxWindow;
    if (opts.updateFraction !== undefined) fcOpts.updateFraction = opts.updateFraction;
    this.fc = new RecvWindow(fcOpts);
    this.detectConflicts = opts.detectConflicts ?? false;
  }

  /** Highest offset received (or the final size): the credit the peer has consumed. */
  get highest(): number {
    return this.fc.received;
  }

  /** Offset of the next byte the application reads. */
  get readOffset(): number {
    return this.asm === null ? 0 : this.asm.readOffset;
  }

  /** Contiguous bytes ready for the application. */
  get readable(): number {
    if (this.asm === null || this.state >= RecvState.DataRead || this.stopCode >= 0) return 0;
    return this.asm.readable;
  }

  /** All data up to the FIN has been read and the end observed by the application (Data Read). */
  get isFinished(): boolean {
    return this.state === RecvState.DataRead;
  }

  /** Every byte up to the FIN has arrived (Data Recvd or Data Read). */
  get allReceived(): boolean {
    return this.state === RecvState.DataRecvd || this.state === RecvState.DataRead;
  }

  /** Terminal: Data Read or Reset Read. */
  get isTerminal(): boolean {
    return this.state === RecvState.DataRead || this.state === RecvState.ResetRead;
  }

  /**
   * A STREAM frame arrived. Enforces final-size (FINAL_SIZE_ERROR) and stream flow-control
   * (FLOW_CONTROL_ERROR) rules; connection-level credit is the owner's (watch `highest`).
   */
  onData(offset: number, data: Uint8Array, fin: boolean): void {
    const end = offset + data.length;
    if (end > MAX_FINAL_SIZE) {
      throw new TransportError(TransportErrorCode.FLOW_CONTROL_ERROR, `stream ${this.id} offset ${end} exceeds 2^62-1`, FRAME_STREAM);
    }
    if (this.finalSize >= 0) {
      if (end > this.finalSize || (fin && end !== this.finalSize)) {
        throw new TransportError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: data to ${end}${fin ? ' with FIN' : ''}, final size ${this.finalSize}`, FRAME_STREAM);
      }
    } else if (fin && end < this.fc.received) {
      throw new TransportError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: FIN at ${end} below received offset ${this.fc.received}`, FRAME_STREAM);
    }
    if (end > this.fc.maxData) {
      throw new TransportError(TransportErrorCode.FLOW_CONTROL_ERROR, `stream ${this.id}: data to ${end} exceeds limit ${this.fc.maxData}`, FRAME_STREAM);
    }
    if (end > this.fc.received) this.fc.addReceived(end - this.fc.received);
    if (fin && this.finalSize < 0) {
      this.finalSize = end;
      if (this.state === RecvState.Recv) this.state = RecvState.SizeKnown;
    }
    if (this.state > RecvState.SizeKnown) return; // all received already, or reset: discard
    if (data.length > 0) {
      this.reassembly().insert(offset, data);
      if (this.stopCode >= 0) this.discardReadable();
    }
    if (this.stopCode >= 0) this.released = this.fc.received;
    if (this.finalSize >= 0 && this.receivedAll()) {
      this.state = RecvState.DataRecvd;
      if (this.stopCode >= 0) this.finishRead();
    }
  }

  /**
   * RESET_STREAM arrived (RFC 9000 §19.4): final size must match what is known and cover what was
   * received. After all data arrived (Data Recvd) the reset is suppressed and the data delivered.
   */
  onReset(errorCode: number, finalSize: number): void {
    if (finalSize > MAX_FINAL_SIZE) {
      throw new TransportError(TransportErrorCode.FLOW_CONTROL_ERROR, `stream ${this.id} final size exceeds 2^62-1`, FRAME_RESET_STREAM);
    }
    if (this.finalSize >= 0 ? finalSize !== this.finalSize : finalSize < this.fc.received) {
      throw new TransportError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: reset final size ${finalSize}, known ${this.finalSize >= 0 ? this.finalSize : `≥ ${this.fc.received}`}`, FRAME_RESET_STREAM);
    }
    if (finalSize > this.fc.maxData) {
      throw new TransportError(TransportErrorCode.FLOW_CONTROL_ERROR, `stream ${this.id}: final size ${finalSize} exceeds limit ${this.fc.maxData}`, FRAME_RESET_STREAM);
    }
    if (finalSize > this.fc.received) this.fc.addReceived(finalSize - this.fc.received);
    this.finalSize = finalSize;
    if (this.state > RecvState.SizeKnown) return;
    this.state = RecvState.ResetRecvd;
    this.resetCode = errorCode;
    this.released = finalSize;
    this.maxDataPending = false;
    this.stopPending = false;
    this.asm?.release();
    if (this.stopCode >= 0) this.state = RecvState.ResetRead;
  }

  /**
   * Copy readable bytes into `out` at `pos`. Returns the count (0: nothing yet), READ_END once all
   * data up to the FIN has been read (Data Read), or READ_RESET when the peer reset the stream
   * (Reset Read; `resetCode` holds its code). Reading after stop() returns READ_END.
   */
  read(out: Uint8Array, pos = 0): number {
    switch (this.state) {
      case RecvState.ResetRecvd:
        this.state = RecvState.ResetRead;
        return READ_RESET;
      case RecvState.ResetRead:
        return READ_RESET;
      case RecvState.DataRead:
        return READ_END;
    }
    if (this.stopCode >= 0) return READ_END;
    if (this.asm !== null) {
      const n = this.asm.read(out, pos);
      if (n > 0) {
        this.released += n;
        this.fc.onConsumed(n);
        return n;
      }
    }
    if (this.state === RecvState.DataRecvd && this.readOffset === this.finalSize) {
      this.finishRead();
      return READ_END;
    }
    return 0;
  }

  /**
   * Zero-copy view of the next readable bytes (valid until the next call on this stream); empty
   * when nothing is readable — then read() tells whether the stream ended.
   */
  peek(): Uint8Array {
    if (this.asm === null || this.state >= RecvState.DataRead || this.stopCode >= 0) return EMPTY;
    return this.asm.peek();
  }

  /** Mark `n` bytes from `peek()` as read. */
  consume(n: number): void {
    if (n === 0) return;
    if (this.asm === null || this.stopCode >= 0 || this.state >= RecvState.DataRead) {
      throw new RangeError(`consume(${n}): nothing readable`);
    }
    this.asm.consume(n);
    this.released += n;
    this.fc.onConsumed(n);
  }

  /**
   * The application stops reading (RFC 9000 §3.5): discard buffered and future data, return their
   * credit, and ask the peer to stop with STOP_SENDING(code) while that is still useful.
   * Returns true when a STOP_SENDING frame was queued.
   */
  stop(code: number): boolean {
    if (this.stopCode >= 0 || this.isTerminal) return false;
    this.stopCode = code;
    this.maxDataPending = false;
    if (this.state === RecvState.ResetRecvd) {
      this.state = RecvState.ResetRead;
      return false;
    }
    this.released = this.fc.received;
    if (this.state === RecvState.DataRecvd) {
      this.finishRead();
      return false;
    }
    this.discardReadable();
    this.stopPending = true;
    return true;
  }

  /** MAX_STREAM_DATA is worth sending: still in Recv, reading, and past the update threshold. */
  wantsMaxStreamData(): boolean {
    return this.state === RecvState.Recv && this.stopCode < 0 && this.fc.shouldUpdate();
  }

  /** Value for the MAX_STREAM_DATA frame being sent (auto-tunes the window). */
  takeMaxStreamData(now: number, rtt: number): number {
    this.maxDataPending = false;
    return this.fc.update(now, rtt);
  }

  /** A MAX_STREAM_DATA(value) was lost: resend if it is still the current limit and useful. */
  onMaxStreamDataLost(value: number): boolean {
    if (this.state !== RecvState.Recv || this.stopCode >= 0 || value !== this.fc.maxData) return false;
    this.maxDataPending = true;
    return true;
  }

  /** Code for the STOP_SENDING frame being sent. */
  takeStopSending(): number {
    this.stopPending = false;
    return this.stopCode;
  }

  /** Our STOP_SENDING was lost: resend while in Recv / Size Known (RFC 9000 §3.5). */
  onStopSendingLost(): boolean {
    if (this.stopCode < 0 || this.state > RecvState.SizeKnown) return false;
    this.stopPending = true;
    return true;
  }

  private reassembly(): Reassembly {
    if (this.asm === null) {
      this.asm = new Reassembly({
        maxBuffered: Math.max(1, this.fc.maxWindow),
        overflowError: TransportErrorCode.FLOW_CONTROL_ERROR,
        frameType: FRAME_STREAM,
        detectConflicts: this.detectConflicts,
      });
    }
    return this.asm;
  }

  private receivedAll(): boolean {
    if (this.asm === null) return this.finalSize === 0;
    return this.asm.hasAllBelow(this.finalSize);
  }

  private discardReadable(): void {
    const a = this.asm;
    if (a !== null && a.readable > 0) a.skipTo(a.readOffset + a.readable);
  }

  private finishRead(): void {
    this.state = RecvState.DataRead;
    this.maxDataPending = false;
    this.stopPending = false;
    this.asm?.release();
  }
}
