// In-memory QUIC transfer through two sans-IO Connections (issue 5 benchmark): 100 MB client →
// server on one stream and on 8 streams, virtual 10 ms one-way delay, no loss. Reports CPU µs per
// datagram on each side (send + receive + timers of that side), and Mbit/s of payload per CPU
// second of both sides together (they share one thread). The peer in the same run is the pure
// packet-protection cost (crypto.bench.ts's packetProtectionCost: seal + header protection, and
// header protection removed + open) of the negotiated suite at 1200 and 1450 bytes (and at 50, the
// size of an ACK) — the floor the connection's per-packet cost sits on. From those, each side's
// crypto share is estimated (its datagrams × the cost at their mean size, interpolated) and the
// rest shown as the connection's own cost per datagram.
import { cipherSuiteParams } from '../../src/crypto/aead.js';
import type { Connection, ConnectionStats } from '../../src/connection/index.js';
import { StreamApp } from '../connection/app.js';
import { Pair } from '../connection/pair.js';
import { packetProtectionCost } from './crypto.bench.js';

const MB = 1_000_000;

/** Wrap a connection's I/O methods to accumulate the CPU time spent inside them. */
function meter(c: Connection): { ms: number } {
  const acc = { ms: 0 };
  const wrap = <K extends 'send' | 'receive' | 'onTimeout'>(k: K): void => {
    const orig = (c[k] as (...a: unknown[]) => unknown).bind(c);
    (c as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return orig(...a);
      } finally {
        acc.ms += performance.now() - t0;
      }
    };
  };
  wrap('send');
  wrap('receive');
  wrap('onTimeout');
  return acc;
}

/** Datagrams and bytes one side sent and received during the transfer. */
interface Side {
  ms: number;
  sent: number;
  recv: number;
  bytesSent: number;
  bytesRecv: number;
}

interface Row {
  name: string;
  mb: number;
  virtualMs: number;
  wallMs: number;
  suite: number;
  client: Side;
  server: Side;
}

function side(c: Connection, s0: ConnectionStats, ms: number): Side {
  const s = c.stats;
  return {
    ms,
    sent: s.datagramsSent - s0.datagramsSent,
    recv: s.datagramsReceived - s0.datagramsReceived,
    bytesSent: s.bytesSent - s0.bytesSent,
    bytesRecv: s.bytesReceived - s0.bytesReceived,
  };
}

function transfer(name: string, streams: number, total: number): Row {
  const p = new Pair({ seed: 1, delay: 10, client: { transport: { initialMaxData: 16 << 20 } }, server: { transport: { initialMaxData: 16 << 20 } } });
  if (!p.handshake()) throw new Error('handshake failed');
  const cm = meter(p.client);
  const sm = meter(p.server!);
  const capp = new StreamApp(p.client);
  capp.chunk = 256 * 1024;
  capp.verify = false;
  const sapp = new StreamApp(p.server!);
  sapp.verify = false;
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  const per = Math.ceil(total / streams);
  const start = p.now;
  const cs0 = p.client.stats;
  const ss0 = p.server!.stats;
  const w0 = performance.now();
  for (let i = 0; i < streams; i++) capp.send(p.client.openStream(true)!, per, true);
  if (!p.runUntil(() => sapp.finishedCount() === streams, 600_000)) throw new Error(`${name}: transfer did not finish`);
  const wallMs = performance.now() - w0;
  if (sapp.anyCorrupt()) throw new Error(`${name}: corrupt data`);
  return {
    name,
    mb: (per * streams) / MB,
    virtualMs: p.now - start,
    wallMs,
    suite: Pair.internals(p.client).oneRtt!.seal.suite.id,
    client: side(p.client, cs0, cm.ms),
    server: side(p.server!, ss0, sm.ms),
  };
}

/** Measured protect/unprotect ns at a few sizes; linear in between (and beyond). */
class CryptoCost {
  readonly sizes: number[];
  readonly protect: number[] = [];
  readonly unprotect: number[] = [];

  constructor(suite: number, sizes: number[]) {
    this.sizes = sizes;
    for (const size of sizes) {
      const c = packetProtectionCost(suite, size);
      this.protect.push(c.protect);
      this.unprotect.push(c.unprotect);
    }
  }

  at(list: number[], size: number): number {
    const s = this.sizes;
    let i = 0;
    while (i < s.length - 2 && size > s[i + 1]!) i++;
    const f = (size - s[i]!) / (s[i + 1]! - s[i]!);
    return list[i]! + f * (list[i + 1]! - list[i]!);
  }

  /** Estimated crypto ms of one side: its sent datagrams protected, its received ones opened. */
  sideMs(x: Side): number {
    const p = x.sent > 0 ? x.sent * this.at(this.protect, x.bytesSent / x.sent) : 0;
    const u = x.recv > 0 ? x.recv * this.at(this.unprotect, x.bytesRecv / x.recv) : 0;
    return (p + u) / 1e6;
  }
}

const us = (ms: number, n: number): string => ((ms * 1000) / n).toFixed(1);

export async function run(): Promise<void> {
  const rows = [transfer('100 MB, 1 stream', 1, 100 * MB), transfer('100 MB, 8 streams', 8, 100 * MB)];
  const suite = rows[0]!.suite;
  const suiteName = cipherSuiteParams(suite)?.name ?? `0x${suite.toString(16)}`;
  // Measured right after the transfers, in the same process: the crypto floor of this run.
  const cost = new CryptoCost(suite, [50, 1200, 1450]);
  console.log('| transfer | virtual s | wall s | datagrams c→s / s→c | client µs/dgram | server µs/dgram | of which crypto (est.) c / s | Mbit/s per CPU s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const cpuS = (r.client.ms + r.server.ms) / 1000;
    const cd = r.client.sent + r.client.recv;
    const sd = r.server.sent + r.server.recv;
    console.log(
      `| ${r.name} | ${(r.virtualMs / 1000).toFixed(2)} | ${(r.wallMs / 1000).toFixed(2)} | ${r.client.sent} / ${r.server.sent} | ${us(r.client.ms, cd)} | ${us(r.server.ms, sd)} | ${us(cost.sideMs(r.client), cd)} / ${us(cost.sideMs(r.server), sd)} | ${((r.mb * 8) / cpuS).toFixed(0)} |`,
    );
  }
  console.log(`\npacket protection, same run (${suiteName}, default backend, µs per packet; crypto.bench.ts packetProtectionCost)`);
  console.log('| packet | seal + HP | HP + open | both |');
  console.log('|---:|---:|---:|---:|');
  for (let i = 0; i < cost.sizes.length; i++) {
    const pr = cost.protect[i]! / 1000;
    const un = cost.unprotect[i]! / 1000;
    console.log(`| ${cost.sizes[i]} B | ${pr.toFixed(1)} | ${un.toFixed(1)} | ${(pr + un).toFixed(1)} |`);
  }
  console.log("(µs per datagram sent or received on that side; crypto estimated from each side's datagram counts and mean sizes.)");
}
