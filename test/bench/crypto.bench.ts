// Packet protection costs (RFC 9001 §5.3 AEAD, §5.4 header protection): ns per 1200- and 1450-byte
// packet for seal, open and the header protection mask, node:crypto and @noble/JS side by side, for
// AES-128-GCM, ChaCha20-Poly1305 and AES-256-GCM; then the full PacketProtection.protect/unprotect
// with the default backend. Ratios are what to read on a shared machine; absolute times drift.
import { performance } from 'node:perf_hooks';
import type { AeadAlgorithm, Aead, HeaderProtection } from '../../src/crypto/aead.js';
import { NodeAead } from '../../src/crypto/aead-node.js';
import { NobleAead } from '../../src/crypto/aead-noble.js';
import {
  JsAesHeaderProtection,
  JsChaChaHeaderProtection,
  NobleAesHeaderProtection,
  NodeAesHeaderProtection,
  NodeChaChaHeaderProtection,
} from '../../src/crypto/header-protection.js';
import { CipherSuite } from '../../src/crypto/aead.js';
import { PacketProtection } from '../../src/crypto/packet-protection.js';
import { Writer } from '../../src/util/bytes.js';
import { encodeShortHeader } from '../../src/codec/header.js';
import { QUIC_V1 } from '../../src/codec/version.js';

const BUDGET_MS = 150;

/** Mean ns per call of `fn`, measured for about BUDGET_MS after a short warm-up. */
function measure(fn: () => void): number {
  const warmEnd = performance.now() + 20;
  while (performance.now() < warmEnd) for (let i = 0; i < 10; i++) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  let batch = 4;
  while (now - start < BUDGET_MS) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    now = performance.now();
    if (batch < 1024) batch *= 2;
  }
  return ((now - start) * 1e6) / calls;
}

const fmt = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${Math.round(ns)} ns`).padStart(10);

function row(cells: string[]): void {
  console.log(cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(11))).join(' '));
}

const ALGS: AeadAlgorithm[] = ['aes-128-gcm', 'chacha20-poly1305', 'aes-256-gcm'];
const SIZES = [1200, 1450];
const AAD_LEN = 22; // a long header's worth of associated data; a short header is ~13

function key(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 29 + 7) & 0xff);
}

function aeadRows(alg: AeadAlgorithm, size: number): void {
  const k = key(alg === 'aes-128-gcm' ? 16 : 32);
  const impls: Aead[] = [new NodeAead(alg, k), new NobleAead(alg, k)];
  const nonce = new Uint8Array(12).fill(1);
  const payload = size - AAD_LEN - 16;
  const buf = new Uint8Array(size).fill(0x42);
  const aad = buf.subarray(0, AAD_LEN);
  const pt = buf.subarray(AAD_LEN, AAD_LEN + payload);
  const sealed = new Uint8Array(payload + 16);
  impls[0]!.seal(nonce, aad, pt, sealed, 0);
  const out = new Uint8Array(payload + 16);
  const seal = impls.map((a) => measure(() => a.seal(nonce, aad, pt, out, 0)));
  const open = impls.map((a) => {
    const ns = measure(() => {
      if (a.open(nonce, aad, sealed, out, 0) < 0) throw new Error('bench: open failed');
    });
    return ns;
  });
  row([`${alg} seal ${size} B`, fmt(seal[0]!), fmt(seal[1]!), `${(seal[1]! / seal[0]!).toFixed(1)}×`]);
  row([`${alg} open ${size} B`, fmt(open[0]!), fmt(open[1]!), `${(open[1]! / open[0]!).toFixed(1)}×`]);
}

function hpRow(label: string, a: HeaderProtection, b: HeaderProtection): void {
  const sample = new Uint8Array(64).map((_, i) => i * 3);
  const mask = new Uint8Array(5);
  let o = 0;
  const na = measure(() => a.mask(sample, (o = (o + 1) & 31), mask));
  const nb = measure(() => b.mask(sample, (o = (o + 1) & 31), mask));
  row([label, fmt(na), fmt(nb), `${(nb / na).toFixed(2)}×`]);
}

/**
 * The header protection mask on the real I/O path runs between packets that sweep ~100 KB of other
 * data through the cache. Wrap two implementations so every call first touches 64 KiB of a larger
 * buffer (the sweep's cost is the same in both columns; compare the difference).
 */
function coldPair(): [HeaderProtection, HeaderProtection] {
  const junk = new Uint8Array(4 << 20);
  let at = 0;
  const sweep = (): void => {
    for (let e = at + 65536; at < e; at += 64) junk[at]!++;
    if (at >= junk.length) at = 0;
  };
  const wrap = (h: HeaderProtection): HeaderProtection => ({
    algorithm: h.algorithm,
    mask: (s, o, m) => {
      sweep();
      h.mask(s, o, m);
    },
    dispose: () => h.dispose(),
  });
  return [wrap(new NobleAesHeaderProtection('aes-128-gcm', key(16))), wrap(new JsAesHeaderProtection('aes-128-gcm', key(16)))];
}

/**
 * ns to protect (seal + header protection) and to unprotect (header protection removed + open) one
 * 1-RTT packet of `size` bytes with the default backend — the per-packet crypto cost every datagram
 * pays once on each side. Exported for connection.bench.ts, which prints it next to its transfers.
 */
export function packetProtectionCost(suite: number, size: number): { protect: number; unprotect: number } {
  const secret = key(suite === CipherSuite.TLS_AES_256_GCM_SHA384 ? 48 : 32);
  const tx = new PacketProtection(suite, secret, QUIC_V1);
  const rx = new PacketProtection(suite, secret, QUIC_V1);
  const dcid = key(8);
  const w = Writer.alloc(size);
  const pnOffset = encodeShortHeader(w, dcid, 1000, 2, 0, 0);
  const payload = size - w.pos - 16;
  w.fill(0x42, payload);
  const template = w.buf.slice();
  const pkt = w.buf;
  const tProtect = measure(() => {
    pkt.set(template);
    tx.protect(pkt, 0, pnOffset, 2, 1000, payload);
  });
  pkt.set(template);
  tx.protect(pkt, 0, pnOffset, 2, 1000, payload);
  const protectedPkt = pkt.slice();
  const tUnprotect = measure(() => {
    pkt.set(protectedPkt);
    if (rx.unprotect(pkt, 0, pnOffset, size, 999) === null) throw new Error('bench: unprotect failed');
  });
  const copy = measure(() => pkt.set(protectedPkt));
  return { protect: tProtect - copy, unprotect: tUnprotect - copy };
}

function packetRows(suite: number, name: string, size: number): void {
  const c = packetProtectionCost(suite, size);
  row([`${name} ${size} B`, fmt(c.protect), fmt(c.unprotect), fmt(c.protect + c.unprotect)]);
}

export async function run(): Promise<void> {
  console.log('AEAD per packet (AAD 22 B, payload = size - 38 B)');
  row(['operation', 'node:crypto', 'noble', 'noble/node']);
  for (const alg of ALGS) for (const size of SIZES) aeadRows(alg, size);

  console.log('\nheader protection mask per packet (16-byte sample → 5-byte mask)');
  row(['implementation', 'node:crypto', 'noble/JS', 'JS/node']);
  hpRow('AES-128-ECB (persistent ctx | xk)', new NodeAesHeaderProtection('aes-128-gcm', key(16)), new NobleAesHeaderProtection('aes-128-gcm', key(16)));
  hpRow('AES-256-ECB (persistent ctx | xk)', new NodeAesHeaderProtection('aes-256-gcm', key(32)), new NobleAesHeaderProtection('aes-256-gcm', key(32)));
  hpRow('AES-128 (ctx | own 4 KiB tables)', new NodeAesHeaderProtection('aes-128-gcm', key(16)), new JsAesHeaderProtection('aes-128-gcm', key(16)));
  hpRow('AES-128 (noble | own), cache cold', ...coldPair());
  hpRow('ChaCha20 (ctx per packet | block)', new NodeChaChaHeaderProtection('chacha20-poly1305', key(32)), new JsChaChaHeaderProtection('chacha20-poly1305', key(32)));

  console.log('\nPacketProtection, default backend (node AEAD + JS header protection), 1-RTT packet');
  row(['suite', 'protect', 'unprotect', 'both']);
  for (const size of SIZES) {
    packetRows(CipherSuite.TLS_AES_128_GCM_SHA256, 'AES-128-GCM', size);
    packetRows(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 'ChaCha20-Poly1305', size);
    packetRows(CipherSuite.TLS_AES_256_GCM_SHA384, 'AES-256-GCM', size);
  }
}
