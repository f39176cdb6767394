// Test helper (not a test file): a tiny "application" on top of a Connection — writes streams with
// backpressure (continuing on 'stream-writable'), reads on 'stream-readable', checks a byte pattern.
import type { Connection, ConnectionEvent } from '../../src/connection/index.js';

/** Deterministic content of stream `id` at `offset`. */
export function patternByte(id: number, offset: number): number {
  return (id * 31 + offset * 7 + (offset >>> 8)) & 0xff;
}

export function patternChunk(id: number, offset: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = patternByte(id, offset + i);
  return b;
}

interface Outgoing {
  total: number;
  written: number;
  fin: boolean;
}

export interface Incoming {
  received: number;
  fin: boolean;
  corrupt: boolean;
  resetCode: number;
}

export class StreamApp {
  readonly conn: Connection;
  readonly out = new Map<number, Outgoing>();
  readonly in = new Map<number, Incoming>();
  private readonly readBuf = new Uint8Array(64 * 1024);
  /** Called when a peer stream finished (all data + FIN read). */
  onFinished: ((id: number, received: number) => void) | null = null;
  chunk = 16 * 1024;
  /** Check and generate the byte pattern (false: constant bytes, no checks — for benchmarks). */
  verify = true;
  private static readonly constant = new Uint8Array(1 << 20).fill(0x5a);

  constructor(conn: Connection) {
    this.conn = conn;
  }

  /** Queue `total` pattern bytes on stream `id` (then FIN if `fin`). */
  send(id: number, total: number, fin = true): void {
    this.out.set(id, { total, written: 0, fin });
    this.pump(id);
  }

  pump(id: number): void {
    const o = this.out.get(id);
    if (o === undefined) return;
    while (o.written < o.total) {
      const n = Math.min(this.chunk, o.total - o.written);
      const last = o.written + n === o.total;
      const data = this.verify ? patternChunk(id, o.written, n) : StreamApp.constant.subarray(0, n);
      const w = this.conn.streamWrite(id, data, last && o.fin);
      if (w < 0) {
        this.out.delete(id);
        return;
      }
      o.written += w;
      if (w < n) return;
    }
    if (o.total === 0 && o.fin) this.conn.streamFinish(id);
    this.out.delete(id);
  }

  read(id: number): void {
    let s = this.in.get(id);
    if (s === undefined) {
      s = { received: 0, fin: false, corrupt: false, resetCode: -1 };
      this.in.set(id, s);
    }
    if (s.fin) return;
    for (;;) {
      const r = this.conn.streamRead(id, this.readBuf);
      for (let i = 0; this.verify && i < r.bytes; i++) {
        if (this.readBuf[i] !== patternByte(id, s.received + i)) {
          s.corrupt = true;
          break;
        }
      }
      s.received += r.bytes;
      if (r.fin) {
        s.fin = true;
        s.resetCode = r.resetCode;
        this.onFinished?.(id, s.received);
        return;
      }
      if (r.bytes === 0) return;
    }
  }

  handle(e: ConnectionEvent): void {
    switch (e.type) {
      case 'stream-readable':
        this.read(e.id);
        break;
      case 'stream-writable':
        this.pump(e.id);
        break;
      default:
        break;
    }
  }

  totalReceived(): number {
    let n = 0;
    for (const s of this.in.values()) n += s.received;
    return n;
  }

  finishedCount(): number {
    let n = 0;
    for (const s of this.in.values()) if (s.fin) n++;
    return n;
  }

  anyCorrupt(): boolean {
    for (const s of this.in.values()) if (s.corrupt) return true;
    return false;
  }
}
