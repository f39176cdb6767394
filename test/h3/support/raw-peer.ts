// Test support: a hand-driven HTTP/3 peer that writes arbitrary bytes (frames, field sections
// that break the rules, odd stream types) on the fake QUIC transport, facing a real H3Connection.
// Used for the malformed-message, connection-error and fuzz tests.

import { Writer, concat } from '../../../src/util/bytes.js';
import { H3Connection } from '../../../src/h3/connection.js';
import type { H3ConnectionOptions, H3Event } from '../../../src/h3/types.js';
import { QpackEncoder, type HeaderFieldInput } from '../../../src/qpack/index.js';
import { H3FrameType, encodeFrameHeader, frameBytes, frameHeaderSize, type H3Frame, type H3Settings } from '../../../src/h3/wire/index.js';
import { FakeQuicPair, type FakeEvent, type FakeQuic, type FakeQuicOptions } from './fake-quic.js';

/** A frame as bytes: type, length, payload. */
export function rawFrame(type: number, payload: Uint8Array): Uint8Array {
  const h = frameHeaderSize(type, payload.length);
  const out = new Uint8Array(h + payload.length);
  encodeFrameHeader(new Writer(out), type, payload.length);
  out.set(payload, h);
  return out;
}

export function varint(v: number): Uint8Array {
  const w = Writer.alloc(8);
  w.varint(v);
  return w.written().slice();
}

export const frame = (f: H3Frame): Uint8Array => frameBytes(f);

export interface RawPairOptions {
  /** Role of the real H3Connection (the raw peer takes the other). */
  h3Role: 'client' | 'server';
  fake?: FakeQuicOptions;
  h3?: Partial<H3ConnectionOptions>;
}

export class RawPair {
  readonly fake: FakeQuicPair;
  readonly h3: H3Connection;
  readonly h3Side: FakeQuic;
  readonly raw: FakeQuic;
  readonly h3Events: H3Event[] = [];
  readonly rawEvents: FakeEvent[] = [];
  onH3: ((ev: H3Event, h3: H3Connection) => void) | null = null;
  /** A static-only QPACK encoder for the raw peer's field sections. */
  readonly qpack = new QpackEncoder({ huffman: false });

  constructor(options: RawPairOptions) {
    this.fake = new FakeQuicPair(options.fake);
    this.h3Side = options.h3Role === 'client' ? this.fake.client : this.fake.server;
    this.raw = options.h3Role === 'client' ? this.fake.server : this.fake.client;
    this.h3 = new H3Connection(this.h3Side, { role: options.h3Role, ...options.h3 });
  }

  /** Open a unidirectional stream and write `bytes` on it. */
  uni(bytes: Uint8Array, fin = false): number {
    const id = this.raw.openStream(false)!;
    this.write(id, bytes, fin);
    return id;
  }

  write(id: number, bytes: Uint8Array, fin = false): void {
    const n = this.raw.streamWrite(id, bytes, fin);
    if (n !== bytes.length) throw new Error('raw write did not fit the window');
  }

  /** The usual control stream: type 0x00 + SETTINGS (+ extra bytes). */
  control(settings: Partial<H3Settings> = {}, extra: Uint8Array = new Uint8Array(0)): number {
    const s = { qpackMaxTableCapacity: 0, maxFieldSectionSize: Infinity, qpackBlockedStreams: 0, enableConnectProtocol: false, h3Datagram: false, unknown: [], ...settings };
    return this.uni(concat(new Uint8Array([0x00]), frame({ type: 'settings', settings: s }), extra));
  }

  /** A HEADERS frame carrying `fields` exactly as given (no validation), static table only. */
  headers(streamId: number, fields: ReadonlyArray<HeaderFieldInput>): Uint8Array {
    return frame({ type: 'headers', fieldSection: this.qpack.encodeFieldSection(streamId, fields).fieldSection });
  }

  data(payload: Uint8Array): Uint8Array {
    return rawFrame(H3FrameType.DATA, payload);
  }

  /** Open a request stream (raw client) and write frames on it. */
  request(frames: Uint8Array[], fin = true): number {
    const id = this.raw.openStream(true)!;
    this.write(id, concat(...frames), fin);
    return id;
  }

  run(maxRounds = 10000): void {
    for (let i = 0; i < maxRounds; i++) {
      let progress = this.fake.step();
      for (let ev = this.h3Side.pollEvent(); ev; ev = this.h3Side.pollEvent()) {
        this.h3.handleTransportEvent(ev);
        progress = true;
      }
      for (let ev = this.h3.pollEvent(); ev; ev = this.h3.pollEvent()) {
        this.h3Events.push(ev);
        if (this.onH3) this.onH3(ev, this.h3);
        progress = true;
      }
      for (let ev = this.raw.pollEvent(); ev; ev = this.raw.pollEvent()) {
        this.rawEvents.push(ev);
        progress = true;
      }
      if (!progress) return;
    }
    throw new Error('RawPair.run: did not settle');
  }

  /** Bytes the H3 side wrote on stream `id`, as received by the raw peer so far (consumes them). */
  readRaw(id: number): Uint8Array {
    const out: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const h = this.raw.streams.get(id);
      if (!h || h.recvDone) break;
      const r = this.raw.streamRead(id, buf);
      if (r.bytes > 0) out.push(buf.slice(0, r.bytes));
      if (r.fin || r.bytes === 0) break;
    }
    return concat(...out);
  }

  /** The application error code the H3 side closed with, or null. */
  get closeCode(): number | null {
    const c = this.h3Side.closeInfo;
    return c && !c.remote ? c.code : null;
  }
}
