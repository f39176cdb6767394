// L4: what one sent packet carried, kept as the loss detector's opaque token (RFC 9002 App. A.1)
// so that an acknowledgment releases exactly those frames and a loss re-queues them
// (RFC 9000 §13.3: retransmit information, not packets). Records are pooled (DESIGN §7.7).
import type { ControlFrameInfo } from '../transport/stream-map.js';

export class SentRecord {
  /** Packet-number space (0, 1, 2). */
  space = 0;
  pn = 0;
  /** Largest Acknowledged of the ACK frame in this packet, -1 if none (RFC 9000 §13.2.4). */
  ackLargest = -1;
  /** CRYPTO frames as [offset, length] pairs (at this packet's encryption level). */
  readonly crypto: number[] = [];
  /** STREAM frames as [id, offset, length, fin] quads. */
  readonly streams: number[] = [];
  /** Stream-map control frames (MAX_*, *_BLOCKED, RESET_STREAM, STOP_SENDING). */
  readonly controls: ControlFrameInfo[] = [];
  /** NEW_CONNECTION_ID sequence numbers. */
  readonly newCids: number[] = [];
  /** RETIRE_CONNECTION_ID sequence numbers. */
  readonly retireCids: number[] = [];
  /** DATAGRAM ids (never retransmitted: reported acked or lost). */
  readonly datagrams: number[] = [];
  handshakeDone = false;
  newToken: Uint8Array | null = null;
  /** Carried a PATH_CHALLENGE / PATH_RESPONSE (probing). */
  pathProbe = false;
  /** PING (probe or keep-alive). */
  ping = false;

  reset(): void {
    this.ackLargest = -1;
    // Setting .length is a runtime call even when it does not change: only clear what was used.
    if (this.crypto.length !== 0) this.crypto.length = 0;
    if (this.streams.length !== 0) this.streams.length = 0;
    if (this.controls.length !== 0) this.controls.length = 0;
    if (this.newCids.length !== 0) this.newCids.length = 0;
    if (this.retireCids.length !== 0) this.retireCids.length = 0;
    if (this.datagrams.length !== 0) this.datagrams.length = 0;
    this.handshakeDone = false;
    this.newToken = null;
    this.pathProbe = false;
    this.ping = false;
  }

  /** Carries something that must be re-sent if lost. */
  get retransmittable(): boolean {
    return (
      this.crypto.length > 0 ||
      this.streams.length > 0 ||
      this.controls.length > 0 ||
      this.newCids.length > 0 ||
      this.retireCids.length > 0 ||
      this.handshakeDone ||
      this.newToken !== null
    );
  }
}

export class SentRecordPool {
  private readonly free: SentRecord[] = [];

  take(space: number, pn: number): SentRecord {
    const r = this.free.pop() ?? new SentRecord();
    r.space = space;
    r.pn = pn;
    return r;
  }

  release(r: SentRecord): void {
    r.reset();
    if (this.free.length < 1024) this.free.push(r);
  }
}
