// In-memory QUIC transfer through two sans-IO Connections (issue 5 benchmark): 100 MB client →
// server on one stream and on 8 streams, virtual 10 ms one-way delay, no loss. Reports CPU µs per
// datagram on each side (send + receive + timers of that side), and Mbit/s of payload per CPU
// second of both sides together (they share one thread). The peer in the same run is the pure
// packet-protection cost per 1200-byte packet (seal + header protection, then the reverse) that any
// QUIC stack pays — the floor the connection's per-packet cost sits on.
import { CipherSuite } from '../../src/crypto/aead.js';
import { PacketProtection } from '../../src/crypto/packet-protection.js';
import { QUIC_V1 } from '../../src/codec/version.js';
import type { Connection } from '../../src/connection/index.js';
import { StreamApp } from '../connection/app.js';
import { Pair } from '../connection/pair.js';

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

interface Row {
  name: string;
  mb: number;
  virtualMs: number;
  wallMs: number;
  clientMs: number;
  serverMs: number;
  clientDatagrams: number;
  serverDatagrams: number;
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
    clientMs: cm.ms,
    serverMs: sm.ms,
    clientDatagrams: p.client.stats.datagramsSent - cs0.datagramsSent + (p.client.stats.datagramsReceived - cs0.datagramsReceived),
    serverDatagrams: p.server!.stats.datagramsSent - ss0.datagramsSent + (p.server!.stats.datagramsReceived - ss0.datagramsReceived),
  };
}

/** µs to protect and then unprotect one 1200-byte packet (node:crypto backend). */
function cryptoFloor(n: number): number {
  const secret = new Uint8Array(32).fill(7);
  const seal = new PacketProtection(CipherSuite.TLS_AES_128_GCM_SHA256, secret, QUIC_V1);
  const open = new PacketProtection(CipherSuite.TLS_AES_128_GCM_SHA256, secret, QUIC_V1);
  const pkt = new Uint8Array(1200);
  const hdr = 1 + 8 + 4;
  const payload = 1200 - hdr - 16;
  const t0 = performance.now();
  for (let pn = 0; pn < n; pn++) {
    pkt[0] = 0x43;
    pkt[hdr - 4] = pn >>> 24;
    pkt[hdr - 3] = (pn >>> 16) & 0xff;
    pkt[hdr - 2] = (pn >>> 8) & 0xff;
    pkt[hdr - 1] = pn & 0xff;
    const end = seal.protect(pkt, 0, hdr - 4, 4, pn, payload);
    if (open.unprotect(pkt, 0, hdr - 4, end, pn - 1) === null) throw new Error('crypto floor: open failed');
  }
  return ((performance.now() - t0) * 1000) / n;
}

export async function run(): Promise<void> {
  const floor = cryptoFloor(20_000);
  const rows = [transfer('100 MB, 1 stream', 1, 100 * MB), transfer('100 MB, 8 streams', 8, 100 * MB)];
  console.log('| transfer | virtual s | wall s | client µs/dgram | server µs/dgram | Mbit/s per CPU s | crypto floor µs/pkt (seal+open) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const cpuS = (r.clientMs + r.serverMs) / 1000;
    console.log(
      `| ${r.name} | ${(r.virtualMs / 1000).toFixed(2)} | ${(r.wallMs / 1000).toFixed(2)} | ${((r.clientMs * 1000) / r.clientDatagrams).toFixed(1)} | ${((r.serverMs * 1000) / r.serverDatagrams).toFixed(1)} | ${((r.mb * 8) / cpuS).toFixed(0)} | ${floor.toFixed(1)} |`,
    );
  }
  console.log('(µs per datagram sent or received on that side; the crypto floor is one seal plus one open.)');
}
