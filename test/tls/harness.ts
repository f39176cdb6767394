// Test helpers: certificates (a small CA, leaves of every key type), and an in-memory pump that
// carries handshake bytes between a TlsClient and a TlsServer level by level, recording every event.
import { SeededRandom } from '../../src/crypto/random.js';
import { generateSigningKey, type SigningKey, type SigningKeyKind } from '../../src/crypto/sign.js';
import { buildCertificate } from '../../src/pki/cert-builder.js';
import { OID } from '../../src/pki/x509.js';
import { TlsClient, type TlsClientOptions } from '../../src/tls/client.js';
import { TlsServer, type TlsServerOptions } from '../../src/tls/server.js';
import type { CertifiedKey } from '../../src/tls/certificates.js';
import type { TlsEvent } from '../../src/tls/types.js';
import type { TlsEngine } from '../../src/tls/engine.js';

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

let serialCounter = 1;
function serial(): Uint8Array {
  const n = serialCounter++;
  return Uint8Array.of(0x01, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export interface Ca {
  readonly der: Uint8Array;
  readonly key: SigningKey;
  readonly name: string;
}

export function makeCa(name = 'Quiver Test CA', kind: SigningKeyKind = 'ec-p256', now = NOW): Ca {
  const key = generateSigningKey(kind);
  const der = buildCertificate({
    serial: serial(),
    subject: [['CN', name]],
    notBefore: now - 30 * DAY,
    notAfter: now + 365 * DAY,
    publicKey: key.spki,
    issuerKey: key,
    basicConstraints: { ca: true, critical: true },
    keyUsage: { bits: ['keyCertSign', 'cRLSign'], critical: true },
    subjectKeyId: true,
  });
  return { der, key, name };
}

export interface LeafOptions {
  kind?: SigningKeyKind;
  hosts?: string[];
  notBefore?: number;
  notAfter?: number;
  purpose?: 'server' | 'client';
  key?: SigningKey;
  /** Validity is centred on this time (default NOW). */
  now?: number;
}

/** A leaf issued by `ca`, returned as a CertifiedKey (chain = [leaf]; the CA is the anchor). */
export function makeLeaf(ca: Ca, o: LeafOptions = {}): CertifiedKey {
  const key = o.key ?? generateSigningKey(o.kind ?? 'ec-p256');
  const hosts = o.hosts ?? ['localhost', '127.0.0.1'];
  const dns = hosts.filter((h) => !/^[\d.]+$/.test(h) && !h.includes(':'));
  const ip = hosts.filter((h) => /^[\d.]+$/.test(h) || h.includes(':'));
  const der = buildCertificate({
    serial: serial(),
    subject: [['CN', hosts[0] ?? 'client']],
    issuer: [['CN', ca.name]],
    notBefore: o.notBefore ?? (o.now ?? NOW) - DAY,
    notAfter: o.notAfter ?? (o.now ?? NOW) + 30 * DAY,
    publicKey: key.spki,
    issuerKey: ca.key,
    subjectAltNames: { dns, ip },
    basicConstraints: { ca: false, critical: true },
    keyUsage: { bits: ['digitalSignature'], critical: true },
    extKeyUsage: [o.purpose === 'client' ? OID.clientAuth : OID.serverAuth],
    authorityKeyId: true,
  });
  return { chain: [der], key };
}

let sharedCa: Ca | undefined;
const leafCache = new Map<string, CertifiedKey>();

/** One CA for the whole test file, and cached leaves per key kind (RSA generation is slow). */
export function testCa(): Ca {
  sharedCa ??= makeCa();
  return sharedCa;
}

export function testLeaf(kind: SigningKeyKind = 'ec-p256', purpose: 'server' | 'client' = 'server'): CertifiedKey {
  const k = `${kind}/${purpose}`;
  let c = leafCache.get(k);
  if (!c) {
    c = makeLeaf(testCa(), { kind, purpose, hosts: purpose === 'server' ? ['localhost', '127.0.0.1'] : ['client.test'] });
    leafCache.set(k, c);
  }
  return c;
}

export const CLIENT_TP = Uint8Array.of(0x01, 0x04, 0x80, 0x00, 0x75, 0x30); // max_idle_timeout 30000
export const SERVER_TP = Uint8Array.of(0x03, 0x02, 0x45, 0xc0, 0x04, 0x04, 0x80, 0x10, 0x00, 0x00);

export function clientOptions(o: Partial<TlsClientOptions> = {}, seed = 1): TlsClientOptions {
  return {
    alpn: ['h3'],
    transportParameters: CLIENT_TP,
    random: new SeededRandom(seed),
    serverName: 'localhost',
    ca: [testCa().der],
    ...o,
  };
}

export function serverOptions(o: Partial<TlsServerOptions> = {}, seed = 2): TlsServerOptions {
  return {
    certificates: [testLeaf('ec-p256')],
    alpn: ['h3'],
    transportParameters: SERVER_TP,
    random: new SeededRandom(seed),
    ...o,
  };
}

export interface PumpResult {
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  /** Bytes each side sent per level, in order (for inspection and replays). */
  clientSent: { level: number; data: Uint8Array }[];
  serverSent: { level: number; data: Uint8Array }[];
}

/**
 * Drain both engines' events and deliver handshake data to the other side until quiet.
 * `transform` can rewrite (or split) what travels, per direction. Errors propagate.
 */
export function pump(
  client: TlsClient,
  server: TlsServer,
  now = NOW,
  transform?: (from: 'client' | 'server', level: number, data: Uint8Array) => Uint8Array[] | Uint8Array,
  result: PumpResult = { clientEvents: [], serverEvents: [], clientSent: [], serverSent: [] },
): PumpResult {
  for (let rounds = 0; rounds < 50; rounds++) {
    let moved = false;
    for (const [from, to, events, sent] of [
      ['client', server, result.clientEvents, result.clientSent],
      ['server', client, result.serverEvents, result.serverSent],
    ] as const) {
      const src: TlsEngine = from === 'client' ? client : server;
      for (let e = src.pollEvent(); e; e = src.pollEvent()) {
        events.push(e);
        if (e.type !== 'handshake-data') continue;
        sent.push({ level: e.level, data: e.data });
        moved = true;
        const out = transform ? transform(from, e.level, e.data) : e.data;
        for (const chunk of Array.isArray(out) ? out : [out]) (to as TlsEngine).receive(e.level, chunk, now);
      }
    }
    if (!moved) return result;
  }
  throw new Error('pump: no quiescence after 50 rounds');
}

/** Run a whole handshake: start the client, pump. */
export function handshake(
  co: TlsClientOptions,
  so: TlsServerOptions,
  now = NOW,
  transform?: Parameters<typeof pump>[3],
): { client: TlsClient; server: TlsServer; r: PumpResult } {
  const client = new TlsClient(co);
  const server = new TlsServer(so);
  client.start(now);
  const r = pump(client, server, now, transform);
  return { client, server, r };
}

export function events<T extends TlsEvent['type']>(list: TlsEvent[], type: T): Extract<TlsEvent, { type: T }>[] {
  return list.filter((e) => e.type === type) as Extract<TlsEvent, { type: T }>[];
}

/** Split a flight into framed handshake messages. */
export function splitMessages(flight: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o + 4 <= flight.length) {
    const len = (flight[o + 1]! << 16) | (flight[o + 2]! << 8) | flight[o + 3]!;
    out.push(flight.slice(o, o + 4 + len));
    o += 4 + len;
  }
  if (o !== flight.length) throw new Error('splitMessages: trailing bytes');
  return out;
}

export function frameMessage(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = body.length >>> 16;
  out[2] = (body.length >>> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}

/** Replace every message of `type` in a flight by fn(message) (framed in, framed out). */
export function mutateFlight(flight: Uint8Array, type: number, fn: (msg: Uint8Array) => Uint8Array): Uint8Array {
  const parts = splitMessages(flight).map((m) => (m[0] === type ? fn(m) : m));
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
