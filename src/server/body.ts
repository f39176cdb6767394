// L7: HTTP/3 message bodies as Node streams, with backpressure both ways. Reading pulls DATA
// payload from the H3 connection only while the Readable wants more (the QUIC stream's flow-control
// window then holds the peer back); writing hands chunks to H3Connection.write() and completes
// the write callback only once every byte was taken (after 'writable' when it was short).
import type { Readable } from 'node:stream';
import type { H3Session } from './h3-session.js';

/** Pulls one message body into a Readable. */
export class BodySource {
  private wantRead = false;
  done = false;
  bytes = 0;
  private readonly hs: H3Session;
  private readonly id: number;
  private readonly node: Readable;

  constructor(hs: H3Session, id: number, node: Readable) {
    this.hs = hs;
    this.id = id;
    this.node = node;
  }

  /** The header said there is no body. */
  endNow(): void {
    if (this.done) return;
    this.done = true;
    this.node.push(null);
  }

  read(): void {
    this.wantRead = true;
    this.pull();
  }

  /**
   * 'data' or 'end' arrived. The pull waits until the current batch of datagrams was processed
   * (H3Session runs it after the batch): one larger chunk instead of one per packet.
   */
  onData(): void {
    if (this.wantRead) this.hs.scheduleRead(this);
  }

  /** @internal Run by the session after a batch of events. */
  runScheduled(): void {
    if (this.wantRead) this.pull();
  }

  private pull(): void {
    const scratch = this.hs.scratch;
    let got = false;
    while (this.wantRead && !this.done) {
      const r = this.hs.h3.read(this.id, scratch);
      if (r.bytes > 0) {
        got = true;
        this.bytes += r.bytes;
        const chunk = Buffer.allocUnsafe(r.bytes);
        scratch.copy(chunk, 0, 0, r.bytes);
        this.wantRead = this.node.push(chunk);
      }
      if (r.fin) {
        this.done = true;
        this.node.push(null);
        break;
      }
      if (r.bytes === 0) break;
    }
    if (got) this.hs.kick(); // credit for the peer (MAX_STREAM_DATA)
  }
}

/** Writes one message body; the caller sends the header section first. */
export class BodySink {
  private pending: Uint8Array | null = null;
  private pendingCb: ((err?: Error | null) => void) | null = null;
  bytes = 0;
  private readonly hs: H3Session;
  private readonly id: number;

  constructor(hs: H3Session, id: number) {
    this.hs = hs;
    this.id = id;
  }

  write(chunk: Uint8Array, cb: (err?: Error | null) => void): void {
    let n: number;
    try {
      n = this.hs.h3.write(this.id, chunk);
    } catch (e) {
      return cb(e as Error);
    }
    this.bytes += n;
    this.hs.kick();
    if (n === chunk.length) return cb();
    this.pending = chunk.subarray(n);
    this.pendingCb = cb;
    if (n === 0) this.hs.markStalled(this.id);
  }

  onWritable(): void {
    const chunk = this.pending;
    if (chunk === null) return;
    let n: number;
    try {
      n = this.hs.h3.write(this.id, chunk);
    } catch (e) {
      return this.complete(e as Error);
    }
    this.bytes += n;
    if (n > 0) this.hs.kick();
    if (n === chunk.length) this.complete(null);
    else {
      this.pending = chunk.subarray(n);
      if (n === 0) this.hs.markStalled(this.id);
    }
  }

  /** Fail (or drop) a write in progress. */
  abort(err: Error | null): void {
    if (this.pendingCb !== null) this.complete(err);
  }

  private complete(err: Error | null): void {
    const cb = this.pendingCb;
    this.pending = null;
    this.pendingCb = null;
    cb?.(err);
  }
}
