// L6: the bytes of one outgoing stream that the QUIC stream has not accepted yet. HTTP/3 frames
// must go out whole (RFC 9114 §7.1), but QUIC's streamWrite may take only part of a write
// (flow control): whatever it leaves is copied here and pushed again on 'stream-writable'.
// A stream not opened yet (MAX_STREAMS) buffers everything until it is. A negative count from the
// transport (its side was reset after STOP_SENDING) counts as nothing accepted.

import type { H3Transport } from './transport.js';

export class SendBuffer {
  /** QUIC stream ID, -1 until opened. */
  id = -1;
  private readonly transport: H3Transport;
  private chunks: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  private finPending = false;
  private finished = false;

  constructor(transport: H3Transport, id = -1) {
    this.transport = transport;
    this.id = id;
  }

  /** Bytes waiting for the transport. */
  get pending(): number {
    return this.buffered;
  }

  /** FIN was handed to the transport. */
  get finSent(): boolean {
    return this.finished;
  }

  /** FIN requested (sent or waiting behind pending bytes). */
  get ending(): boolean {
    return this.finPending || this.finished;
  }

  /**
   * Write without committing: only when nothing is pending; returns the bytes the transport took
   * (0 when blocked, in which case nothing was written).
   */
  tryWrite(data: Uint8Array): number {
    if (this.buffered > 0 || this.id < 0 || this.finished || this.finPending) return 0;
    return Math.max(0, this.transport.streamWrite(this.id, data));
  }

  /** tryWrite of bytes the caller never changes afterwards (the transport may keep them uncopied). */
  tryWriteOwned(data: Uint8Array): number {
    if (this.buffered > 0 || this.id < 0 || this.finished || this.finPending) return 0;
    return Math.max(0, this.writeOwnedNow(data));
  }

  private writeOwnedNow(data: Uint8Array): number {
    const t = this.transport;
    return t.streamWriteOwned !== undefined ? t.streamWriteOwned(this.id, data) : t.streamWrite(this.id, data);
  }

  /** Commit all of `data`: what the transport does not take now is copied and sent later. */
  writeAll(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.finished || this.finPending) throw new RangeError('write after FIN');
    if (this.buffered === 0 && this.id >= 0) {
      const n = Math.max(0, this.transport.streamWrite(this.id, data));
      if (n >= data.length) return;
      data = data.subarray(n);
    }
    this.chunks.push(data.slice());
    this.buffered += data.length;
  }

  /** Commit `data` that the caller guarantees stays unchanged (no copy of the remainder). */
  writeOwned(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.finished || this.finPending) throw new RangeError('write after FIN');
    if (this.buffered === 0 && this.id >= 0) {
      const n = Math.max(0, this.writeOwnedNow(data));
      if (n >= data.length) return;
      data = data.subarray(n);
    }
    this.chunks.push(data);
    this.buffered += data.length;
  }

  /** FIN after everything written so far. */
  finish(): void {
    if (this.finished || this.finPending) return;
    if (this.buffered === 0 && this.id >= 0) {
      this.transport.streamFinish(this.id);
      this.finished = true;
    } else {
      this.finPending = true;
    }
  }

  /** Push pending bytes (and a pending FIN); true when nothing is left. */
  flush(): boolean {
    if (this.id < 0) return this.buffered === 0 && !this.finPending;
    const chunks = this.chunks;
    while (this.head < chunks.length) {
      const c = chunks[this.head]!;
      const n = Math.max(0, this.writeOwnedNow(c)); // every queued chunk is owned or a private copy
      this.buffered -= n;
      if (n < c.length) {
        chunks[this.head] = c.subarray(n);
        return false;
      }
      chunks[this.head++] = undefined as unknown as Uint8Array;
    }
    if (this.head > 0) {
      this.chunks = [];
      this.head = 0;
    }
    if (this.finPending) {
      this.finPending = false;
      this.finished = true;
      this.transport.streamFinish(this.id);
    }
    return true;
  }

  /** Forget everything (the stream was reset). */
  discard(): void {
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
    this.finPending = false;
    this.finished = true;
  }
}
