// L7: options of listen() / connect() — validated up front (TypeError for a wrong type, RangeError
// for a value out of range, both naming the option) and turned into the sans-IO core's options.
// Certificates, keys and CAs are PEM text, PEM/DER Buffers, or file paths (anything that is not
// PEM text is read as a file).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions, LocalTransportParams } from '../connection/index.js';
import type { TicketKeyring } from '../tls/session-ticket.js';
import { ETHERNET_MAX_DATAGRAM_SIZE, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT } from '../connection/index.js';

export type PemInput = string | Buffer | Uint8Array;

/** Transport settings shared by clients and servers (friendly names over RFC 9000 §18.2). */
export interface TransportOptions {
  /** ALPN protocols in preference order (required), e.g. ['h3'] or ['my-proto']. */
  alpn?: string | string[];
  /** ms without packets before the connection closes silently (default 30 000; 0 = none). */
  idleTimeout?: number;
  /** ms between PINGs that keep an idle connection alive (default 0 = off). */
  keepAlive?: number;
  /** Concurrent bidirectional / unidirectional streams the peer may open (default 100 / 100). */
  maxStreamsBidi?: number;
  maxStreamsUni?: number;
  /** Connection-level receive window, bytes (default 4 MiB; auto-tuned upwards by the core). */
  maxData?: number;
  /** Per-stream receive window, bytes (default 1 MiB). */
  maxStreamData?: number;
  /** Accept QUIC DATAGRAM frames (RFC 9221): true = up to 65 535 bytes, or a byte limit (default off). */
  datagrams?: boolean | number;
  /** Bounded queue of datagrams waiting to be sent; the oldest is dropped (reported 'lost'). Default 64. */
  datagramQueue?: number;
  congestionControl?: 'cubic' | 'newreno';
  /** UDP payload size datagrams start at (default 1200, which every QUIC path carries, RFC 9000 §14). */
  maxDatagramSize?: number;
  /**
   * DPLPMTUD (RFC 8899, RFC 9000 §14.3): once the handshake is confirmed, probe for larger
   * datagrams up to this UDP payload size — true (default) = 1452 (a 1500-byte Ethernet MTU less
   * IPv6 and UDP headers), a number for another ceiling (e.g. 65527 on loopback), false = stay at
   * maxDatagramSize. Probes are PING + PADDING; a black hole falls back to 1200.
   */
  pmtud?: boolean | number;
  /** Key log: a file name, a function taking NSS key log lines, or false. Default $SSLKEYLOGFILE. */
  keylog?: string | ((line: string) => void) | false;
  /** qlog: a directory (one JSON-SEQ file per connection), or false. Default $QLOGDIR. */
  qlog?: string | false;
  /** SO_RCVBUF / SO_SNDBUF requests (default 4 MiB each). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Extra raw transport parameters for the core (advanced). */
  transport?: Partial<LocalTransportParams>;
}

export interface ServerOptions extends TransportOptions {
  /** Address to bind: an IP literal, a host name, or 'localhost' (127.0.0.1 and ::1). Default 'localhost'. */
  host?: string;
  /** UDP port (default 0: the OS picks; see server.address()). */
  port?: number;
  /** Certificate chain (leaf first): PEM text, PEM/DER Buffer(s) or a file path. Required. */
  cert?: PemInput | PemInput[];
  /** Private key of the leaf: PEM text, PEM/DER Buffer or a file path. Required. */
  key?: PemInput;
  /** Trust anchors for client certificates (with requestCert). */
  ca?: PemInput | PemInput[];
  /** Ask clients for a certificate and verify it against `ca`. */
  requestCert?: boolean;
  /** Address validation with Retry (RFC 9000 §8.1.2): true/'always', false/'never' (default), or above N concurrent handshakes. */
  retry?: boolean | 'always' | 'never' | { whenHandshakesExceed: number };
  /** Issue session tickets for resumption (default true). */
  sessionTickets?: boolean;
  /**
   * The TicketKeyring (src/tls/session-ticket.ts) that seals and opens session tickets (default: a
   * new one per listen()). Share one, or one built from another's exportKeys(), so that tickets
   * stay valid across servers, processes or restarts (as node:tls's `ticketKeys`).
   */
  ticketKeys?: TicketKeyring;
  /** Accept 0-RTT from resuming clients (default false; replay protection by single-use tickets). */
  enableEarlyData?: boolean;
  /** Most concurrent connections (default 10 000). */
  maxConnections?: number;
  /** QUIC versions accepted, in preference order (default [v1, v2, v2draft]). */
  versions?: number[];
}

export interface ClientOptions extends TransportOptions {
  /**
   * SNI and, unless `verifyName` is set, the name the certificate must match (default: the host
   * connected to). '' sends no SNI; the certificate is then still checked against the host.
   */
  servername?: string;
  /** The DNS name or IP literal the certificate must match (default: `servername`, else the host); never sent. */
  verifyName?: string;
  /** Trust anchors: PEM text, PEM/DER Buffer(s) or a file path (default: Node's bundled roots). */
  ca?: PemInput | PemInput[];
  /** Verify the server's certificate chain and name (default true). */
  rejectUnauthorized?: boolean;
  /** Client certificate and key (when the server asks). */
  cert?: PemInput | PemInput[];
  key?: PemInput;
  /** A session ticket from an earlier session ('session-ticket' event) to resume. */
  session?: Uint8Array;
  /** Send 0-RTT data when resuming (default false). */
  enableEarlyData?: boolean;
  /** A NEW_TOKEN from an earlier session ('new-token' event): skips address validation. */
  token?: Uint8Array;
  /** QUIC version of the first Initial (default v1). */
  version?: number;
  /**
   * An unsupported version (e.g. a reserved 0x?a?a?a?a) to put on the first flight, soliciting
   * Version Negotiation (RFC 9000 §6.3); the handshake then continues in `version` if the server
   * offers it.
   */
  probeVersion?: number;
  /** Local address to bind (default: the wildcard of the server's family). */
  localAddress?: string;
  localPort?: number;
}

function isPemText(s: string): boolean {
  return s.includes('-----BEGIN ');
}

function toText(name: string, v: PemInput): { pem: string } | { der: Uint8Array } {
  if (typeof v === 'string') {
    if (isPemText(v)) return { pem: v };
    if (v.length === 0) throw new TypeError(`${name}: expected PEM text, a Buffer or a file path, got an empty string`);
    let data: Buffer;
    try {
      data = readFileSync(v);
    } catch (e) {
      throw new TypeError(`${name}: cannot read file ${JSON.stringify(v)}: ${(e as Error).message}`);
    }
    const text = data.toString('latin1');
    return isPemText(text) ? { pem: text } : { der: new Uint8Array(data) };
  }
  if (v instanceof Uint8Array) {
    const text = Buffer.from(v.buffer, v.byteOffset, Math.min(v.length, 64)).toString('latin1');
    if (text.includes('-----BEGIN')) return { pem: Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1') };
    return { der: new Uint8Array(v) };
  }
  throw new TypeError(`${name}: expected PEM text, a Buffer or a file path`);
}

/** Certificates (chain or anchors) → PEM text or DER list, as the core takes them. */
export function loadCertificates(name: string, v: PemInput | PemInput[]): string | Uint8Array[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new TypeError(`${name}: expected at least one certificate`);
  const parts = list.map((x, i) => toText(Array.isArray(v) ? `${name}[${i}]` : name, x));
  if (parts.every((p) => 'pem' in p)) return parts.map((p) => (p as { pem: string }).pem).join('\n');
  if (parts.every((p) => 'der' in p)) return parts.map((p) => (p as { der: Uint8Array }).der);
  throw new TypeError(`${name}: mix of PEM and DER certificates`);
}

/** A private key → PEM text or DER bytes. */
export function loadKey(name: string, v: PemInput): string | Uint8Array {
  const p = toText(name, v);
  return 'pem' in p ? p.pem : p.der;
}

export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: expected an integer, got ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${name}: must be in ${min}..${max}, got ${v}`);
  return v;
}

export function checkBool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(v)}`);
  return v;
}

export function checkString(name: string, v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`${name}: expected a string, got ${describe(v)}`);
  return v;
}

export function checkObject(name: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${name}: expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const MAX = Number.MAX_SAFE_INTEGER;

const SHARED_KEYS = [
  'alpn',
  'idleTimeout',
  'keepAlive',
  'maxStreamsBidi',
  'maxStreamsUni',
  'maxData',
  'maxStreamData',
  'datagrams',
  'datagramQueue',
  'congestionControl',
  'maxDatagramSize',
  'pmtud',
  'keylog',
  'qlog',
  'recvBufferSize',
  'sendBufferSize',
  'transport',
];
const SERVER_KEYS = new Set([...SHARED_KEYS, 'host', 'port', 'cert', 'key', 'ca', 'requestCert', 'retry', 'sessionTickets', 'ticketKeys', 'enableEarlyData', 'maxConnections', 'versions']);
const CLIENT_KEYS = new Set([
  ...SHARED_KEYS,
  'servername',
  'verifyName',
  'ca',
  'rejectUnauthorized',
  'cert',
  'key',
  'session',
  'enableEarlyData',
  'token',
  'version',
  'probeVersion',
  'localAddress',
  'localPort',
]);

export function checkAlpn(v: unknown, name = 'options.alpn'): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${name}: expected a protocol name or a non-empty array of them, got ${describe(v)}`);
  for (const a of list) {
    if (typeof a !== 'string' || a.length === 0 || Buffer.byteLength(a) > 255) throw new TypeError(`${name}: each protocol must be a non-empty string of at most 255 bytes`);
  }
  return [...list] as string[];
}

/** Resolved shared settings: the core's partial options plus I/O settings. */
export interface ResolvedTransport {
  core: Partial<ConnectionOptions> & { alpn: string[] };
  keylog: string | ((line: string) => void) | false | undefined;
  qlog: string | false | undefined;
  recvBufferSize: number | undefined;
  sendBufferSize: number | undefined;
  /** The largest datagram the core may build (maxDatagramSize or the PMTUD ceiling): send slot size. */
  largestDatagram: number;
}

function resolveShared(o: Record<string, unknown>, defaultAlpn: string[] | undefined): ResolvedTransport {
  const alpn = o['alpn'] === undefined ? defaultAlpn : checkAlpn(o['alpn']);
  if (alpn === undefined) throw new TypeError('options.alpn: required (the application protocol name(s), e.g. "h3")');
  const transport: Partial<LocalTransportParams> = {};
  if (o['transport'] !== undefined) Object.assign(transport, checkObject('options.transport', o['transport']));
  if (o['idleTimeout'] !== undefined) transport.maxIdleTimeout = checkInt('options.idleTimeout', o['idleTimeout'], 0, MAX);
  if (o['maxStreamsBidi'] !== undefined) transport.initialMaxStreamsBidi = checkInt('options.maxStreamsBidi', o['maxStreamsBidi'], 0, 2 ** 50);
  if (o['maxStreamsUni'] !== undefined) transport.initialMaxStreamsUni = checkInt('options.maxStreamsUni', o['maxStreamsUni'], 0, 2 ** 50);
  if (o['maxData'] !== undefined) transport.initialMaxData = checkInt('options.maxData', o['maxData'], 0, MAX);
  if (o['maxStreamData'] !== undefined) {
    const n = checkInt('options.maxStreamData', o['maxStreamData'], 0, MAX);
    transport.initialMaxStreamDataBidiLocal = n;
    transport.initialMaxStreamDataBidiRemote = n;
    transport.initialMaxStreamDataUni = n;
  }
  if (o['datagrams'] !== undefined) {
    const d = o['datagrams'];
    if (typeof d === 'boolean') transport.maxDatagramFrameSize = d ? 65535 : 0;
    else transport.maxDatagramFrameSize = checkInt('options.datagrams', d, 0, 65535);
  }
  const core: Partial<ConnectionOptions> & { alpn: string[] } = { alpn, transport };
  if (o['keepAlive'] !== undefined) core.keepAliveInterval = checkInt('options.keepAlive', o['keepAlive'], 0, MAX);
  if (o['datagramQueue'] !== undefined) core.datagramSendQueue = checkInt('options.datagramQueue', o['datagramQueue'], 1, 1 << 20);
  if (o['congestionControl'] !== undefined) {
    const cc = o['congestionControl'];
    if (cc !== 'cubic' && cc !== 'newreno') throw new TypeError(`options.congestionControl: expected 'cubic' or 'newreno', got ${describe(cc)}`);
    core.congestionControl = cc;
  }
  const maxDatagramSize = o['maxDatagramSize'] === undefined ? 1200 : checkInt('options.maxDatagramSize', o['maxDatagramSize'], 1200, 65527);
  core.maxDatagramSize = maxDatagramSize;
  const pm = o['pmtud'] ?? true;
  let pmtudMax: number;
  if (pm === true) pmtudMax = Math.max(ETHERNET_MAX_DATAGRAM_SIZE, maxDatagramSize);
  else if (pm === false) pmtudMax = maxDatagramSize;
  else if (typeof pm === 'number') pmtudMax = checkInt('options.pmtud', pm, maxDatagramSize, 65527);
  else throw new TypeError(`options.pmtud: expected a boolean or a UDP payload size, got ${describe(pm)}`);
  if (pmtudMax > maxDatagramSize) core.pmtud = pmtudMax;
  const keylog = o['keylog'];
  if (keylog !== undefined && keylog !== false && typeof keylog !== 'string' && typeof keylog !== 'function') {
    throw new TypeError(`options.keylog: expected a file name, a function or false, got ${describe(keylog)}`);
  }
  const qlog = o['qlog'];
  if (qlog !== undefined && qlog !== false && typeof qlog !== 'string') throw new TypeError(`options.qlog: expected a directory name or false, got ${describe(qlog)}`);
  const rb = o['recvBufferSize'] === undefined ? undefined : checkInt('options.recvBufferSize', o['recvBufferSize'], 65536, 1 << 30);
  const sb = o['sendBufferSize'] === undefined ? undefined : checkInt('options.sendBufferSize', o['sendBufferSize'], 65536, 1 << 30);
  return {
    core,
    keylog: keylog as ResolvedTransport['keylog'],
    qlog: qlog as ResolvedTransport['qlog'],
    recvBufferSize: rb,
    sendBufferSize: sb,
    largestDatagram: Math.max(maxDatagramSize, pmtudMax),
  };
}

function rejectUnknown(o: Record<string, unknown>, allowed: Set<string>, extra: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k) && !extra.includes(k) && o[k] !== undefined) throw new TypeError(`options.${k}: unknown option`);
  }
}

export function checkVersions(name: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new TypeError(`${name}: expected a non-empty array of QUIC versions`);
  for (const x of v) {
    if (x !== QUIC_V1 && x !== QUIC_V2 && x !== QUIC_V2_DRAFT) throw new RangeError(`${name}: unsupported version ${typeof x === 'number' ? '0x' + x.toString(16) : describe(x)}`);
  }
  return [...v] as number[];
}

export interface ResolvedServer extends ResolvedTransport {
  host: string;
  port: number;
  certificate: string | Uint8Array[];
  privateKey: string | Uint8Array;
  ca: string | Uint8Array[] | undefined;
  requestCert: boolean;
  retry: 'never' | 'always' | { whenHandshakesExceed: number };
  sessionTickets: boolean;
  ticketKeys: TicketKeyring | undefined;
  enableEarlyData: boolean;
  maxConnections: number;
  versions: number[] | undefined;
}

/** Validate listen() options. `extra`: keys a wrapping layer (HTTP/3) handles itself. */
export function resolveServerOptions(options: unknown, defaults: { alpn?: string[] } = {}, extra: readonly string[] = []): ResolvedServer {
  const o = checkObject('options', options ?? {});
  rejectUnknown(o, SERVER_KEYS, extra);
  const shared = resolveShared(o, defaults.alpn);
  const host = o['host'] === undefined ? 'localhost' : checkString('options.host', o['host']);
  if (host.length === 0) throw new TypeError('options.host: expected a non-empty host');
  const port = o['port'] === undefined ? 0 : checkInt('options.port', o['port'], 0, 65535);
  if (o['cert'] === undefined) throw new TypeError('options.cert: required (PEM text, a Buffer or a file path)');
  if (o['key'] === undefined) throw new TypeError('options.key: required (PEM text, a Buffer or a file path)');
  const certificate = loadCertificates('options.cert', o['cert'] as PemInput | PemInput[]);
  const privateKey = loadKey('options.key', o['key'] as PemInput);
  const ca = o['ca'] === undefined ? undefined : loadCertificates('options.ca', o['ca'] as PemInput | PemInput[]);
  const requestCert = o['requestCert'] === undefined ? false : checkBool('options.requestCert', o['requestCert']);
  if (requestCert && ca === undefined) throw new TypeError('options.ca: required with requestCert');
  let retry: ResolvedServer['retry'] = 'never';
  const r = o['retry'];
  if (r === true || r === 'always') retry = 'always';
  else if (r === undefined || r === false || r === 'never') retry = 'never';
  else if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
    retry = { whenHandshakesExceed: checkInt('options.retry.whenHandshakesExceed', (r as { whenHandshakesExceed?: unknown }).whenHandshakesExceed, 0, MAX) };
  } else throw new TypeError(`options.retry: expected a boolean, 'always', 'never' or { whenHandshakesExceed }, got ${describe(r)}`);
  const sessionTickets = o['sessionTickets'] === undefined ? true : checkBool('options.sessionTickets', o['sessionTickets']);
  const ticketKeys = o['ticketKeys'] as TicketKeyring | undefined;
  if (ticketKeys !== undefined) {
    const k = ticketKeys as unknown as { seal?: unknown; open?: unknown } | null;
    if (k === null || typeof k !== 'object' || typeof k.seal !== 'function' || typeof k.open !== 'function') {
      throw new TypeError(`options.ticketKeys: expected a TicketKeyring, got ${describe(ticketKeys)}`);
    }
    if (!sessionTickets) throw new TypeError('options.ticketKeys: needs sessionTickets');
  }
  const enableEarlyData = o['enableEarlyData'] === undefined ? false : checkBool('options.enableEarlyData', o['enableEarlyData']);
  if (enableEarlyData && !sessionTickets) throw new TypeError('options.enableEarlyData: needs sessionTickets');
  const maxConnections = o['maxConnections'] === undefined ? 10_000 : checkInt('options.maxConnections', o['maxConnections'], 1, 10_000_000);
  const versions = o['versions'] === undefined ? undefined : checkVersions('options.versions', o['versions']);
  return { ...shared, host, port, certificate, privateKey, ca, requestCert, retry, sessionTickets, ticketKeys, enableEarlyData, maxConnections, versions };
}

export interface ResolvedClient extends ResolvedTransport {
  servername: string | undefined;
  verifyName: string | undefined;
  ca: string | Uint8Array[] | undefined;
  rejectUnauthorized: boolean;
  certificate: string | Uint8Array[] | undefined;
  privateKey: string | Uint8Array | undefined;
  session: Uint8Array | undefined;
  enableEarlyData: boolean;
  token: Uint8Array | undefined;
  version: number | undefined;
  probeVersion: number | undefined;
  localAddress: string | undefined;
  localPort: number;
}

export function resolveClientOptions(options: unknown, defaults: { alpn?: string[] } = {}, extra: readonly string[] = []): ResolvedClient {
  const o = checkObject('options', options ?? {});
  rejectUnknown(o, CLIENT_KEYS, extra);
  const shared = resolveShared(o, defaults.alpn);
  const servername = o['servername'] === undefined ? undefined : checkString('options.servername', o['servername']);
  const verifyName = o['verifyName'] === undefined ? undefined : checkString('options.verifyName', o['verifyName']);
  if (verifyName === '') throw new TypeError('options.verifyName: expected a non-empty DNS name or IP literal');
  const ca = o['ca'] === undefined ? undefined : loadCertificates('options.ca', o['ca'] as PemInput | PemInput[]);
  const rejectUnauthorized = o['rejectUnauthorized'] === undefined ? true : checkBool('options.rejectUnauthorized', o['rejectUnauthorized']);
  const certificate = o['cert'] === undefined ? undefined : loadCertificates('options.cert', o['cert'] as PemInput | PemInput[]);
  const privateKey = o['key'] === undefined ? undefined : loadKey('options.key', o['key'] as PemInput);
  if ((certificate === undefined) !== (privateKey === undefined)) throw new TypeError(`options.${certificate === undefined ? 'cert' : 'key'}: cert and key go together`);
  const session = o['session'];
  if (session !== undefined && !(session instanceof Uint8Array)) throw new TypeError(`options.session: expected a Buffer/Uint8Array ticket, got ${describe(session)}`);
  const enableEarlyData = o['enableEarlyData'] === undefined ? false : checkBool('options.enableEarlyData', o['enableEarlyData']);
  const token = o['token'];
  if (token !== undefined && !(token instanceof Uint8Array)) throw new TypeError(`options.token: expected a Buffer/Uint8Array, got ${describe(token)}`);
  const version = o['version'] === undefined ? undefined : checkVersions('options.version', [o['version']])[0];
  let probeVersion: number | undefined;
  if (o['probeVersion'] !== undefined) {
    probeVersion = checkInt('options.probeVersion', o['probeVersion'], 1, 0xffffffff);
    if (probeVersion === QUIC_V1 || probeVersion === QUIC_V2 || probeVersion === QUIC_V2_DRAFT) {
      throw new RangeError(`options.probeVersion: 0x${probeVersion.toString(16)} is a supported version (expected an unsupported one, e.g. 0x1a2a3a4a)`);
    }
  }
  const localAddress = o['localAddress'] === undefined ? undefined : checkString('options.localAddress', o['localAddress']);
  if (localAddress !== undefined && isIP(localAddress) === 0) throw new TypeError(`options.localAddress: expected an IP literal, got ${describe(localAddress)}`);
  const localPort = o['localPort'] === undefined ? 0 : checkInt('options.localPort', o['localPort'], 0, 65535);
  return {
    ...shared,
    servername,
    verifyName,
    ca,
    rejectUnauthorized,
    certificate,
    privateKey,
    session: session as Uint8Array | undefined,
    enableEarlyData,
    token: token as Uint8Array | undefined,
    version,
    probeVersion,
    localAddress,
    localPort,
  };
}

/** Parse "host:port", "[v6]:port" or a URL-ish authority into host and port. */
export function parseAddress(address: unknown, defaultPort?: number): { host: string; port: number } {
  if (typeof address === 'object' && address !== null && !Array.isArray(address)) {
    const a = address as { host?: unknown; address?: unknown; port?: unknown };
    const host = checkString('address.host', a.host ?? a.address);
    const port = checkInt('address.port', a.port ?? defaultPort, 1, 65535);
    return { host, port };
  }
  const s = checkString('address', address);
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (m) return { host: m[1]!, port: checkInt('address (port)', Number(m[2]), 1, 65535) };
  if (defaultPort !== undefined && s.length > 0) return { host: s.startsWith('[') ? s.slice(1, -1) : s, port: defaultPort };
  throw new TypeError(`address: expected "host:port", "[ipv6]:port" or { host, port }, got ${describe(address)}`);
}
