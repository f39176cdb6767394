// Test support: a tiny request/response application over QUIC streams for scenario tests.
//
// A request stream carries an 8-byte header (the response size, big-endian u64 in two u32s), then
// `upload` bytes, then FIN. The server verifies every byte, and after the FIN answers with
// `download` bytes and FIN. Stream bytes follow a pattern keyed by the stream ID and offset, so any
// corruption, loss or reordering that leaks through the transport is detected. Writers respect
// backpressure (streamWrite's return value, 'stream-writable' events) and stream limits
// (openStream() === null → wait for 'streams-available').
import type { Connection, ConnectionEvent } from '../../src/connection/index.js';

const HEADER = 8;

export function patternByte(streamId: number, offset: number): number {
  return (offset * 31 + streamId * 7 + (offset >>> 8)) & 0xff;
}

function fillPattern(out: Uint8Array, streamId: number, offset: number): void {
  for (let i = 0; i < out.length; i++) out[i] = patternByte(streamId, offset + i);
}

/** Sends `total` pattern bytes (after an optional header) on one stream, honouring backpressure. */
class StreamWriter {
  readonly id: number;
  readonly total: number;
  private readonly header: Uint8Array | null;
  private headerSent = 0;
  sent = 0;
  finished = false;
  private readonly chunk: Uint8Array;

  constructor(id: number, total: number, header: Uint8Array | null, chunk: Uint8Array) {
    this.id = id;
    this.total = total;
    this.header = header;
    this.chunk = chunk;
  }

  /** Write as much as the connection accepts. Returns false if the stream's send side was reset. */
  pump(conn: Connection): boolean {
    if (this.finished) return true;
    if (this.header !== null && this.headerSent < this.header.length) {
      const n = conn.streamWrite(this.id, this.header.subarray(this.headerSent), this.total === 0);
      if (n < 0) return false;
      this.headerSent += n;
      if (this.headerSent < this.header.length) return true;
      if (this.total === 0) {
        this.finished = true;
        return true;
      }
    }
    while (this.sent < this.total) {
      const len = Math.min(this.chunk.length, this.total - this.sent);
      const buf = this.chunk.subarray(0, len);
      fillPattern(buf, this.id, this.sent);
      const last = this.sent + len === this.total;
      const n = conn.streamWrite(this.id, buf, last);
      if (n < 0) return false;
      this.sent += n;
      if (n < len) return true; // backpressure: wait for 'stream-writable'
    }
    if (this.total === 0 && this.header === null) conn.streamFinish(this.id);
    this.finished = true;
    return true;
  }
}

/** Reads one stream, checking the pattern. */
class StreamReader {
  readonly id: number;
  received = 0;
  fin = false;
  header: Uint8Array | null;
  headerRead = 0;
  error: string | null = null;

  constructor(id: number, withHeader: boolean) {
    this.id = id;
    this.header = withHeader ? new Uint8Array(HEADER) : null;
  }

  drain(conn: Connection, scratch: Uint8Array): void {
    while (!this.fin) {
      const r = conn.streamRead(this.id, scratch);
      if (r.resetCode >= 0) {
        this.error = `stream ${this.id} reset by peer (code ${r.resetCode})`;
        this.fin = true;
        return;
      }
      let p = 0;
      if (this.header !== null && this.headerRead < HEADER) {
        const k = Math.min(HEADER - this.headerRead, r.bytes);
        this.header.set(scratch.subarray(0, k), this.headerRead);
        this.headerRead += k;
        p = k;
      }
      for (let i = p; i < r.bytes; i++) {
        if (scratch[i] !== patternByte(this.id, this.received)) {
          this.error ??= `stream ${this.id}: byte ${this.received} is ${scratch[i]}, expected ${patternByte(this.id, this.received)}`;
        }
        this.received++;
      }
      if (r.fin) this.fin = true;
      if (r.bytes === 0) return;
    }
  }

  get requestedResponse(): number {
    const h = this.header!;
    return (((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0) * 0x1_0000_0000 + (((h[4]! << 24) | (h[5]! << 16) | (h[6]! << 8) | h[7]!) >>> 0);
  }
}

export interface TransferRequest {
  upload: number;
  download: number;
}

/** The client side: opens one stream per request (at most `concurrency` at a time). */
export class TransferClient {
  readonly conn: Connection;
  readonly requests: TransferRequest[];
  readonly concurrency: number;
  private next = 0;
  private readonly writers = new Map<number, StreamWriter>();
  private readonly readers = new Map<number, { reader: StreamReader; expect: number }>();
  completed = 0;
  bytesDownloaded = 0;
  readonly errors: string[] = [];
  private readonly scratch = new Uint8Array(65536);
  private readonly chunk = new Uint8Array(16384);
  blocked = 0;

  constructor(conn: Connection, requests: TransferRequest[], concurrency = Infinity) {
    this.conn = conn;
    this.requests = requests;
    this.concurrency = concurrency;
  }

  get done(): boolean {
    return this.completed === this.requests.length;
  }

  /** Open what the stream limit and concurrency allow and pump writers. */
  kick(): void {
    const conn = this.conn;
    if (conn.state !== 'established' && conn.state !== 'handshaking') return;
    if (!conn.handshakeComplete) return;
    while (this.next < this.requests.length && this.readers.size < this.concurrency) {
      const id = conn.openStream(true);
      if (id === null) {
        this.blocked++;
        break;
      }
      const req = this.requests[this.next++]!;
      const h = new Uint8Array(HEADER);
      const hi = Math.floor(req.download / 0x1_0000_0000);
      const lo = req.download >>> 0;
      h[0] = hi >>> 24;
      h[1] = (hi >>> 16) & 0xff;
      h[2] = (hi >>> 8) & 0xff;
      h[3] = hi & 0xff;
      h[4] = lo >>> 24;
      h[5] = (lo >>> 16) & 0xff;
      h[6] = (lo >>> 8) & 0xff;
      h[7] = lo & 0xff;
      const w = new StreamWriter(id, req.upload, h, this.chunk);
      this.writers.set(id, w);
      this.readers.set(id, { reader: new StreamReader(id, false), expect: req.download });
      this.pumpWriter(w);
    }
  }

  private pumpWriter(w: StreamWriter): void {
    if (!w.pump(this.conn)) this.errors.push(`stream ${w.id}: our send side was reset`);
    if (w.finished) this.writers.delete(w.id);
  }

  onEvent(ev: ConnectionEvent): void {
    const conn = this.conn;
    switch (ev.type) {
      case 'handshake-completed':
      case 'streams-available':
        this.kick();
        break;
      case 'stream-writable': {
        const w = this.writers.get(ev.id);
        if (w !== undefined) this.pumpWriter(w);
        break;
      }
      case 'stream-readable': {
        const r = this.readers.get(ev.id);
        if (r === undefined) break;
        const before = r.reader.received;
        r.reader.drain(conn, this.scratch);
        this.bytesDownloaded += r.reader.received - before;
        if (r.reader.error !== null) this.errors.push(r.reader.error);
        if (r.reader.fin) {
          if (r.reader.received !== r.expect) this.errors.push(`stream ${ev.id}: got ${r.reader.received} bytes, expected ${r.expect}`);
          this.readers.delete(ev.id);
          this.completed++;
          this.kick();
        }
        break;
      }
      case 'stream-reset':
        this.errors.push(`stream ${ev.id} reset by the server (code ${ev.code})`);
        break;
      default:
        break;
    }
  }
}

/** The server side: reads each request, then answers with the requested number of bytes. */
export class TransferServer {
  private readonly readers = new Map<Connection, Map<number, StreamReader>>();
  private readonly writers = new Map<Connection, Map<number, StreamWriter>>();
  readonly errors: string[] = [];
  requestsServed = 0;
  bytesUploaded = 0;
  private readonly scratch = new Uint8Array(65536);
  private readonly chunk = new Uint8Array(16384);

  onEvent(conn: Connection, ev: ConnectionEvent): void {
    switch (ev.type) {
      case 'stream-opened':
      case 'stream-readable': {
        let rs = this.readers.get(conn);
        if (rs === undefined) this.readers.set(conn, (rs = new Map()));
        let r = rs.get(ev.id);
        if (r === undefined) {
          if (!conn.hasStream(ev.id)) break;
          rs.set(ev.id, (r = new StreamReader(ev.id, true)));
        }
        if (r.fin) break;
        const before = r.received;
        r.drain(conn, this.scratch);
        this.bytesUploaded += r.received - before;
        if (r.error !== null) this.errors.push(r.error);
        if (r.fin && r.error === null) {
          const w = new StreamWriter(ev.id, r.requestedResponse, null, this.chunk);
          let ws = this.writers.get(conn);
          if (ws === undefined) this.writers.set(conn, (ws = new Map()));
          ws.set(ev.id, w);
          this.requestsServed++;
          this.pump(conn, w);
        }
        break;
      }
      case 'stream-writable': {
        const w = this.writers.get(conn)?.get(ev.id);
        if (w !== undefined) this.pump(conn, w);
        break;
      }
      case 'closed':
        this.readers.delete(conn);
        this.writers.delete(conn);
        break;
      default:
        break;
    }
  }

  private pump(conn: Connection, w: StreamWriter): void {
    if (!w.pump(conn)) this.errors.push(`stream ${w.id}: server send side reset`);
    if (w.finished) this.writers.get(conn)?.delete(w.id);
  }
}
