// L2b: the sending part of a stream, RFC 9000 §3.1 (states Ready → Send → Data Sent → Data Recvd,
// Reset Sent → Reset Recvd), §2.2 (retransmission may re-split data), §3.5 (STOP_SENDING answered
// with RESET_STREAM), §4.1 (stream flow control, STREAM_DATA_BLOCKED), §4.5 (final size),
// §19.4 (RESET_STREAM final size = data sent), §19.8 (STREAM frame layout).
//
// Buffering: the application's chunks are kept by reference in an array queue (no coalescing copy)
// from the acknowledged prefix to the write offset; the only copy is into the packet, via
// `copyData`. Acknowledged ranges above the prefix live in a RangeSet; when the prefix advances,
// whole chunks are released. Lost ranges (minus anything acknowledged meanwhile) go to a
// retransmission RangeSet that `nextFrame` drains before sending new data.
//
// Also usable for CRYPTO data (RFC 9000 §19.6): give it an unlimited credit and never write FIN.

import { EMPTY, varintSize } from '../util/bytes.js';
import { RangeSet } from '../util/range-set.js';
import { SendCredit } from './flow-control.js';
import { StreamUsageError } from './stream-id.js';

export const SendState = {
  Ready: 0,
  Send: 1,
  DataSent: 2,
  DataRecvd: 3,
  ResetSent: 4,
  ResetRecvd: 5,
} as const;
export type SendState = (typeof SendState)[keyof typeof SendState];

/** Scratch output of `nextFrame`: one STREAM frame to put in a packet. */
export interface StreamFrameInfo {
  streamId: number;
  offset: number;
  length: number;
  fin: boolean;
  /** Bytes of this frame never sent before (they consumed connection credit). */
  newBytes: number;
}

export function newStreamFrameInfo(): StreamFrameInfo {
  return { streamId: 0, offset: 0, length: 0, fin: false, newBytes: 0 };
}

/**
 * Encoded size of a STREAM frame header with the Length field present (RFC 9000 §19.8): type,
 * Stream ID, Offset (omitted when 0), Length.
 */
export function streamFrameOverhead(streamId: number, offset: number, length: number): number {
  return 1 + varintSize(streamId) + (offset > 0 ? varintSize(offset) : 0) + varintSize(length);
}

export interface SendStreamOptions {
  /** Peer's initial limit for this stream (initial_max_stream_data_*). */
  maxStreamData: number;
  /** Most bytes buffered (unacknowledged) before write() applies backpressure. Default 1 MiB. */
  bufferLimit?: number;
}

const MAX_FINAL_SIZE = 2 ** 62 - 1;

export class SendStream {
  readonly id: number;
  state: SendState = SendState.Ready;
  /** Stream-level flow control credit granted by the peer. */
  readonly credit: SendCredit;
  bufferLimit: number;

  /** Bytes accepted from the application (the next write lands here). */
  writeOffset = 0;
  /** Every byte below this offset is acknowledged and released. */
  ackedOffset = 0;
  /** One past the highest offset ever sent (new data continues here). */
  sentOffset = 0;
  finWritten = false;
  finSent = false;
  finAcked = false;
  /** The FIN needs (re)sending. */
  finPending = false;

  /** Error code of our RESET_STREAM; -1 when not reset. */
  resetCode = -1;
  /** Final size carried in our RESET_STREAM. */
  resetFinalSize = 0;
  /** A RESET_STREAM frame needs (re)sending. */
  resetPending = false;
  /** Error code from the peer's STOP_SENDING; -1 when none received. */
  stopCode = -1;

  private chunks: Uint8Array[] = [];
  private chunkStart: number[] = [];
  private head = 0;
  private readonly acked = new RangeSet();
  private readonly lost = new RangeSet();

  constructor(id: number, opts: SendStreamOptions) {
    this.id = id;
    this.credit = new SendCredit(opts.maxStreamData);
    this.bufferLimit = opts.bufferLimit ?? 1 << 20;
  }

  /** True when a reset has been sent or acknowledged. */
  get isReset(): boolean {
    return this.state === SendState.ResetSent || this.state === SendState.ResetRecvd;
  }

  /** Terminal: all data acknowledged (Data Recvd) or the reset acknowledged (Reset Recvd). */
  get isTerminal(): boolean {
    return this.state === SendState.DataRecvd || this.state === SendState.ResetRecvd;
  }

  /** Bytes held for (re)transmission: written but not yet acknowledged. */
  get buffered(): number {
    return this.writeOffset - this.ackedOffset;
  }

  /** How many more bytes write() would accept now. */
  get writable(): number {
    if (this.finWritten || this.state >= SendState.DataRecvd) return 0;
    const room = this.bufferLimit - this.buffered;
    return room > 0 ? room : 0;
  }

  /** Written bytes never sent yet. */
  get unsent(): number {
    return this.writeOffset - this.sentOffset;
  }

  /** Has lost data or a lost/unsent FIN that needs no new connection credit. */
  get hasRetransmit(): boolean {
    if (this.isReset) return false;
    return !this.lost.isEmpty || (this.finPending && this.sentOffset === this.writeOffset);
  }

  /** Something to send given unlimited connection credit (STREAM frames only; RESET_STREAM aside). */
  get wantsToSend(): boolean {
    if (this.state >= SendState.DataRecvd) return false;
    if (!this.lost.isEmpty) return true;
    if (this.sentOffset < this.writeOffset) return this.sentOffset < this.credit.limit;
    return this.finPending;
  }

  /**
   * Queue application data (kept by reference: do not modify `data` afterwards). Accepts as many
   * bytes as the buffer limit allows and returns that count; FIN is applied only when every byte
   * was accepted. Returns -1 when the stream was reset (by us or because of STOP_SENDING).
   */
  write(data: Uint8Array, fin = false): number {
    if (this.isReset) return -1;
    if (this.finWritten) throw new StreamUsageError(this.id, 'write after finish');
    let n = data.length;
    const room = this.writable;
    if (n > room) n = room;
    if (this.writeOffset + n > MAX_FINAL_SIZE) throw new StreamUsageError(this.id, 'stream exceeds 2^62-1 bytes');
    if (n > 0) {
      this.chunks.push(n === data.length ? data : data.subarray(0, n));
      this.chunkStart.push(this.writeOffset);
      this.writeOffset += n;
    }
    if (fin && n === data.length) {
      this.finWritten = true;
      this.finPending = true;
    }
    return n;
  }

  /** End the stream (FIN after the buffered data). Returns false when already reset. */
  finish(): boolean {
    if (this.isReset) return false;
    if (this.finWritten) return true;
    this.finWritten = true;
    this.finPending = true;
    return true;
  }

  /**
   * Offset of the next STREAM frame: the first lost byte, else the next new byte. Lets a packet
   * builder size the frame header before calling `nextFrame`.
   */
  nextOffset(): number {
    return this.lost.isEmpty ? this.sentOffset : this.lost.start(0);
  }

  /**
   * Plan the next STREAM frame fitting in `maxFrameBytes` (header with Length included), taking
   * retransmissions first, then new data within stream credit and `connAvailable` connection
   * credit, then a FIN-only frame. Marks the bytes as sent. Returns false when nothing fits or
   * nothing can be sent. `out.newBytes` is the connection credit consumed.
   */
  nextFrame(maxFrameBytes: number, connAvailable: number, out: StreamFrameInfo): boolean {
    if (this.state >= SendState.DataRecvd) return false;
    out.streamId = this.id;
    if (!this.lost.isEmpty) {
      const s = this.lost.start(0);
      const e = this.lost.end(0);
      const len = fitLength(this.id, s, e - s, maxFrameBytes);
      if (len <= 0) return false;
      this.lost.remove(s, s + len);
      const end = s + len;
      const fin = this.finWritten && !this.finAcked && end === this.writeOffset && this.sentOffset === this.writeOffset;
      if (fin) {
        // The FIN may ride on a retransmission even if it was never sent before (finish() after
        // the tail was lost): that is the Send → Data Sent transition.
        this.finPending = false;
        this.finSent = true;
        this.state = SendState.DataSent;
      }
      out.offset = s;
      out.length = len;
      out.fin = fin;
      out.newBytes = 0;
      return true;
    }
    const unsent = this.writeOffset - this.sentOffset;
    if (unsent > 0) {
      let want = unsent;
      const streamAvail = this.credit.limit - this.sentOffset;
      if (streamAvail < want) want = streamAvail;
      if (connAvailable < want) want = connAvailable;
      if (want <= 0) return false;
      const len = fitLength(this.id, this.sentOffset, want, maxFrameBytes);
      if (len <= 0) return false;
      out.offset = this.sentOffset;
      out.length = len;
      out.newBytes = len;
      this.sentOffset += len;
      this.credit.consume(len);
      const fin = this.finWritten && this.sentOffset === this.writeOffset;
      out.fin = fin;
      if (fin) {
        this.finPending = false;
        this.finSent = true;
        this.state = SendState.DataSent;
      } else if (this.state === SendState.Ready) {
        this.state = SendState.Send;
      }
      return true;
    }
    if (this.finPending) {
      if (streamFrameOverhead(this.id, this.writeOffset, 0) > maxFrameBytes) return false;
      out.offset = this.writeOffset;
      out.length = 0;
      out.fin = true;
      out.newBytes = 0;
      this.finPending = false;
      this.finSent = true;
      this.state = SendState.DataSent;
      return true;
    }
    return false;
  }

  /** Copy stream bytes [offset, offset + length) (sent, not yet acknowledged) into `dst` at `pos`. */
  copyData(offset: number, length: number, dst: Uint8Array, pos: number): void {
    if (offset < this.ackedOffset || offset + length > this.writeOffset) {
      throw new StreamUsageError(this.id, `copyData(${offset}, ${length}) outside buffered [${this.ackedOffset}, ${this.writeOffset})`);
    }
    let k = this.findChunk(offset);
    let off = offset;
    let left = length;
    while (left > 0) {
      const chunk = this.chunks[k]!;
      const from = off - this.chunkStart[k]!;
      const n = Math.min(left, chunk.length - from);
      dst.set(from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n), pos);
      pos += n;
      off += n;
      left -= n;
      k++;
    }
  }

  /**
   * A STREAM frame [offset, offset + length) (+FIN) was acknowledged. Returns true when this made
   * the stream reach Data Recvd (every byte and the FIN acknowledged).
   */
  onAck(offset: number, length: number, fin: boolean): boolean {
    if (this.state >= SendState.DataRecvd) return false;
    const end = offset + length;
    if (length > 0) {
      this.lost.remove(offset, end);
      if (end > this.ackedOffset) {
        this.acked.insert(offset > this.ackedOffset ? offset : this.ackedOffset, end);
        if (this.acked.start(0) === this.ackedOffset) {
          this.ackedOffset = this.acked.end(0);
          this.acked.shift();
          this.releaseAcked();
        }
      }
    }
    if (fin) {
      this.finAcked = true;
      this.finPending = false;
    }
    if (this.finAcked && this.ackedOffset === this.writeOffset) {
      this.state = SendState.DataRecvd;
      this.releaseAll();
      return true;
    }
    return false;
  }

  /** A STREAM frame was declared lost: queue its unacknowledged bytes (and FIN) again. */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this.state >= SendState.DataRecvd) return;
    const end = offset + length;
    let pos = offset > this.ackedOffset ? offset : this.ackedOffset;
    const acked = this.acked;
    let i = acked.indexAfter(pos);
    while (pos < end) {
      if (i < acked.length && acked.start(i) <= pos) {
        pos = acked.end(i);
        i++;
        continue;
      }
      const gapEnd = i < acked.length && acked.start(i) < end ? acked.start(i) : end;
      this.lost.insert(pos, gapEnd);
      pos = gapEnd;
    }
    if (fin && !this.finAcked) this.finPending = true;
  }

  /**
   * Abandon the stream with RESET_STREAM(code); final size = bytes sent so far (RFC 9000 §19.4).
   * Returns false when already reset or fully acknowledged.
   */
  reset(code: number): boolean {
    if (this.state >= SendState.DataRecvd) return false;
    this.resetCode = code;
    this.resetFinalSize = this.sentOffset;
    this.resetPending = true;
    this.state = SendState.ResetSent;
    this.finPending = false;
    this.releaseAll();
    return true;
  }

  /**
   * STOP_SENDING received (RFC 9000 §3.5): reset with the peer's code unless already terminal or
   * reset. Returns true when a RESET_STREAM was queued.
   */
  onStopSending(code: number): boolean {
    if (this.stopCode < 0) this.stopCode = code;
    return this.reset(code);
  }

  /** RESET_STREAM frame taken for sending. */
  takeReset(): void {
    this.resetPending = false;
  }

  /** Our RESET_STREAM was lost: send it again unless acknowledged meanwhile. */
  onResetLost(): boolean {
    if (this.state !== SendState.ResetSent) return false;
    this.resetPending = true;
    return true;
  }

  /** Our RESET_STREAM was acknowledged: Reset Recvd. Returns true on that transition. */
  onResetAcked(): boolean {
    if (this.state !== SendState.ResetSent) return false;
    this.state = SendState.ResetRecvd;
    this.resetPending = false;
    return true;
  }

  /**
   * The peer rejected 0-RTT (RFC 9001 §4.6.2, RFC 9000 §7.4.1): nothing sent so far reached it.
   * Every buffered byte and the FIN become unsent again, under a fresh stream credit of `limit`
   * (the peer's new transport parameters raise it with onMaxStreamData-style updates). A stream
   * already reset keeps its RESET_STREAM, now with final size 0 (the peer saw no data).
   */
  restartAfterRejection(limit: number): void {
    const c = this.credit;
    c.limit = limit;
    c.used = 0;
    c.blockedPending = false;
    c.blockedAt = -1;
    this.lost.clear();
    if (this.isReset) {
      this.resetFinalSize = 0;
      if (this.state === SendState.ResetSent) this.resetPending = true;
      return;
    }
    if (this.state >= SendState.DataRecvd) return;
    this.acked.clear();
    this.sentOffset = this.ackedOffset;
    this.finSent = false;
    this.finPending = this.finWritten && !this.finAcked;
    this.state = SendState.Ready;
  }

  /** MAX_STREAM_DATA from the peer. Returns true when the limit increased. */
  onMaxStreamData(max: number): boolean {
    return this.credit.update(max);
  }

  /**
   * Call after writes and sends: true when a STREAM_DATA_BLOCKED should now be queued (data is
   * waiting on the stream limit and none was sent for this limit yet). RFC 9000 §4.1.
   */
  checkBlocked(): boolean {
    if (this.isReset || this.sentOffset >= this.writeOffset) return false;
    return this.credit.markBlocked();
  }

  private findChunk(offset: number): number {
    const starts = this.chunkStart;
    let lo = this.head;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private releaseAcked(): void {
    const chunks = this.chunks;
    const starts = this.chunkStart;
    let h = this.head;
    while (h < chunks.length && starts[h]! + chunks[h]!.length <= this.ackedOffset) {
      chunks[h] = EMPTY;
      h++;
    }
    this.head = h;
    if (h === chunks.length) {
      chunks.length = 0;
      starts.length = 0;
      this.head = 0;
    } else if (h >= 64 && h * 2 >= chunks.length) {
      chunks.splice(0, h);
      starts.splice(0, h);
      this.head = 0;
    }
  }

  private releaseAll(): void {
    this.chunks.length = 0;
    this.chunkStart.length = 0;
    this.head = 0;
    this.acked.clear();
    this.lost.clear();
  }
}

/** Largest data length ≤ want whose STREAM frame fits in maxFrameBytes (0 when none fits). */
function fitLength(id: number, offset: number, want: number, maxFrameBytes: number): number {
  const fixed = 1 + varintSize(id) + (offset > 0 ? varintSize(offset) : 0);
  const room = maxFrameBytes - fixed;
  if (room < 2) return 0;
  // Length field size depends on the length itself; reserve for the larger candidate first.
  let len = Math.min(want, room - varintSize(Math.min(want, room)));
  if (len <= 0) return 0;
  const lf = varintSize(len);
  if (len + lf > room) len = room - lf;
  return len > 0 ? len : 0;
}
