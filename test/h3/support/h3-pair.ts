// Test support: an HTTP/3 client and server over the in-memory fake QUIC pair, with a loop that
// moves bytes, feeds transport events to each H3Connection and hands HTTP/3 events to handlers
// until nothing moves. Also small helpers shared by the H3 tests (header lists, body readers, raw
// frame builders for hand-made peers).

import { H3Connection } from '../../../src/h3/connection.js';
import type { H3ConnectionOptions, H3Event } from '../../../src/h3/types.js';
import { FakeQuicPair, type FakeQuic, type FakeQuicOptions } from './fake-quic.js';
import { SeededRandom } from '../../../src/crypto/random.js';
import type { HeaderFieldInput } from '../../../src/qpack/index.js';

export type Handler = (ev: H3Event, h3: H3Connection) => void;

export interface H3PairOptions {
  fake?: FakeQuicOptions;
  client?: Partial<H3ConnectionOptions>;
  server?: Partial<H3ConnectionOptions>;
  /** Seed of the GREASE rng (default: GREASE off unless client/server options give an rng). */
  greaseSeed?: number;
}

export class H3Pair {
  readonly fake: FakeQuicPair;
  readonly client: H3Connection;
  readonly server: H3Connection;
  readonly clientEvents: H3Event[] = [];
  readonly serverEvents: H3Event[] = [];
  onClient: Handler | null = null;
  onServer: Handler | null = null;

  constructor(options: H3PairOptions = {}) {
    this.fake = new FakeQuicPair(options.fake);
    const rng = options.greaseSeed === undefined ? undefined : new SeededRandom(options.greaseSeed);
    this.client = new H3Connection(this.fake.client, { role: 'client', ...(rng ? { rng } : {}), ...options.client });
    this.server = new H3Connection(this.fake.server, { role: 'server', ...(rng ? { rng } : {}), ...options.server });
  }

  /** Run until nothing moves; returns the number of rounds. */
  run(maxRounds = 100000): number {
    for (let i = 0; i < maxRounds; i++) {
      let progress = this.fake.step();
      progress = this.pumpSide(this.fake.client, this.client, this.clientEvents, this.onClient) || progress;
      progress = this.pumpSide(this.fake.server, this.server, this.serverEvents, this.onServer) || progress;
      if (!progress) return i;
    }
    throw new Error('H3Pair.run: did not settle');
  }

  private pumpSide(t: FakeQuic, h3: H3Connection, log: H3Event[], handler: Handler | null): boolean {
    let progress = false;
    for (let ev = t.pollEvent(); ev; ev = t.pollEvent()) {
      h3.handleTransportEvent(ev);
      progress = true;
    }
    for (let ev = h3.pollEvent(); ev; ev = h3.pollEvent()) {
      log.push(ev);
      progress = true;
      if (handler) handler(ev, h3);
    }
    return progress;
  }
}

export function get(path = '/', extra: Array<[string, string]> = [], authority = 'example.com'): HeaderFieldInput[] {
  return [[':method', 'GET'], [':scheme', 'https'], [':authority', authority], [':path', path], ...extra];
}

export function post(path: string, extra: Array<[string, string]> = []): HeaderFieldInput[] {
  return [[':method', 'POST'], [':scheme', 'https'], [':authority', 'example.com'], [':path', path], ...extra];
}

/** Read everything readable now from a stream into `into`; returns fin. */
export function drain(h3: H3Connection, streamId: number, into: number[], bufSize = 1000): boolean {
  const buf = new Uint8Array(bufSize);
  for (;;) {
    const r = h3.read(streamId, buf);
    for (let i = 0; i < r.bytes; i++) into.push(buf[i]!);
    if (r.fin) return true;
    if (r.bytes === 0) return false;
  }
}

/** Events of one type. */
export function ofType<T extends H3Event['type']>(events: H3Event[], type: T): Array<Extract<H3Event, { type: T }>> {
  return events.filter((e): e is Extract<H3Event, { type: T }> => e.type === type);
}

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
