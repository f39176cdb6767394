// L4: connection options — validation (TypeError/RangeError naming the option), defaults, and the
// local transport parameters (RFC 9000 §18.2, RFC 9221 §3, RFC 9368 §5) derived from them.
import { MAX_CID_LENGTH, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, isSupportedVersion } from '../codec/version.js';
import { TransportParameterLimits as L } from '../codec/transport-params.js';
import type { CidGenerator, IssuedCid, PathInfo, QlogEvent, RandomSource } from './types.js';

/** The datagram size every path must carry (RFC 9000 §14): the sans-IO core's default. */
export const DEFAULT_MAX_DATAGRAM_SIZE = 1200;
/** A 1500-byte Ethernet MTU minus the IPv6 (40) and UDP (8) headers: `pmtud: true` searches up to it. */
export const ETHERNET_MAX_DATAGRAM_SIZE = 1452;

/** Transport parameters an application may set (camelCase, RFC 9000 §18.2 names). */
export interface LocalTransportParams {
  /** ms; 0 = no idle timeout from our side. Default 30 000. */
  maxIdleTimeout: number;
  /** Largest UDP payload we accept. Default 65527 (not sent). */
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** ms. */
  maxAckDelay: number;
  activeConnectionIdLimit: number;
  disableActiveMigration: boolean;
  /** 0 = DATAGRAM frames not accepted (RFC 9221). */
  maxDatagramFrameSize: number;
}

export const DEFAULT_TRANSPORT_PARAMS: Readonly<LocalTransportParams> = {
  maxIdleTimeout: 30_000,
  maxUdpPayloadSize: L.DEFAULT_MAX_UDP_PAYLOAD_SIZE,
  initialMaxData: 4 << 20,
  initialMaxStreamDataBidiLocal: 1 << 20,
  initialMaxStreamDataBidiRemote: 1 << 20,
  initialMaxStreamDataUni: 1 << 20,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 100,
  ackDelayExponent: L.DEFAULT_ACK_DELAY_EXPONENT,
  maxAckDelay: L.DEFAULT_MAX_ACK_DELAY,
  activeConnectionIdLimit: 4,
  disableActiveMigration: false,
  maxDatagramFrameSize: 0,
};

/** Largest options.ticketAppData: the sealed ticket (with our transport parameters) stays well under 64 KiB. */
export const MAX_TICKET_APP_DATA = 16384;

/** TLS settings passed through to src/tls (client or server state machine). */
export interface TlsOptions {
  /** Server (or client certificate): PEM chain (leaf first) or DER certificates. */
  certificate?: string | readonly Uint8Array[];
  /** PEM (PKCS#8/SEC1) private key of the leaf, or a loaded signing key object from src/crypto/sign.ts. */
  privateKey?: unknown;
  /** Client: trust anchors (DER list or PEM text); default Node's bundled roots. */
  ca?: string | readonly Uint8Array[];
  /** Client: verify the server chain and name (default true). */
  rejectUnauthorized?: boolean;
  /**
   * Client: the DNS name or IP literal the server certificate must match (default serverName, else
   * remote.remoteAddress). Never sent as SNI: lets a client send no SNI and still check the name.
   */
  verifyName?: string;
  /** Server: ask for (and verify against `ca`) a client certificate. */
  requestClientCertificate?: boolean;
  /** Client: a session blob from an earlier 'session-ticket' event, to resume. */
  session?: Uint8Array;
  /** Client: send 0-RTT data when resuming; server: accept 0-RTT. Default false / false. */
  enableEarlyData?: boolean;
  /** Server: a TicketKeyring (src/tls/session-ticket.ts) for session tickets; none = no tickets. */
  ticketKeys?: unknown;
  /** Server: an AntiReplay (src/tls/anti-replay.ts) store for 0-RTT. */
  antiReplay?: unknown;
  /**
   * Server: application bytes sealed into every session ticket next to our transport parameters
   * (e.g. the HTTP/3 SETTINGS, RFC 9114 §7.2.4.2); at most MAX_TICKET_APP_DATA bytes.
   */
  ticketAppData?: Uint8Array;
  /**
   * Server: veto 0-RTT given the ticketAppData the ticket carries (the ticket's transport parameters
   * are checked first, RFC 9001 §4.6.2). Tickets issued without ticketAppData pass an empty array.
   */
  acceptEarlyData?: (ticketAppData: Uint8Array) => boolean;
  /** NSS key log lines (SSLKEYLOGFILE format). */
  keylog?: (line: string) => void;
  /** Extra options handed to the TLS state machine unchanged. */
  tlsExtra?: Record<string, unknown>;
}

export interface ConnectionOptions extends TlsOptions {
  role: 'client' | 'server';
  /** Client: version of the first Initial (default v1). Server: the version of the client's Initial (endpoint sets it). */
  version?: number;
  /**
   * Compatible version negotiation (RFC 9368): client — versions offered in version_information
   * (default: `version` first, then the others we support); server — our preference order; the
   * server switches to the first of these the client also offers (default: the client's version, no switch).
   */
  versions?: readonly number[];
  /**
   * Client: put this unsupported version (typically a reserved 0x?a?a?a?a one) on the first flight's
   * long headers to solicit Version Negotiation (RFC 9000 §6.3). A Version Negotiation packet that
   * lists `version` then makes the client resend its first flight in `version` (as after a Retry);
   * one that does not closes with kind 'version'. Default: off.
   */
  probeVersion?: number;
  alpn: readonly string[];
  /** Client: the server's address (required). Server: the client's address (else learned from the first datagram). */
  remote?: PathInfo;
  /**
   * Client: SNI and (unless verifyName is given) the name the certificate must match. Absent or ''
   * sends no SNI; the certificate is then checked against verifyName, else remote.remoteAddress.
   */
  serverName?: string;
  transport?: Partial<LocalTransportParams>;
  congestionControl?: 'cubic' | 'newreno';
  /** ms between PINGs when otherwise idle; 0 = off (default). */
  keepAliveInterval?: number;
  /** Most DATAGRAM frames queued for sending; the oldest is dropped (and reported lost) beyond it. Default 64. */
  datagramSendQueue?: number;
  qlog?: (event: QlogEvent) => void;
  rng: RandomSource;
  /** Our connection IDs; default: `cidLength` random bytes with random reset tokens. */
  cidGenerator?: CidGenerator;
  /** Length of our CIDs when no generator is given (default 8; 0 = zero-length CIDs). */
  cidLength?: number;
  /** Client: DCID of the first Initial (default 8 random bytes). Server: DCID of the Initial the connection starts from. */
  initialDcid?: Uint8Array;
  /** Server: DCID of the client's very first Initial (differs from initialDcid after a Retry). */
  originalDcid?: Uint8Array;
  /** Server: the SCID of the Retry we sent (sets retry_source_connection_id). */
  retrySourceCid?: Uint8Array;
  /** Server: our first CID (seq 0) when the endpoint chose it; default from the generator. */
  localCid?: IssuedCid;
  /** Client: an address-validation token (NEW_TOKEN) for the first Initial. */
  token?: Uint8Array;
  /** Server: the client's address was validated (Retry / NEW_TOKEN token): no 3× limit. */
  addressValidated?: boolean;
  /** Server: mints NEW_TOKEN tokens for the client's address after the handshake. */
  newTokenMinter?: (path: { remoteAddress: string; remotePort: number }, now: number) => Uint8Array;
  /**
   * UDP payload size we build datagrams at (default DEFAULT_MAX_DATAGRAM_SIZE = 1200, which every
   * QUIC path carries, RFC 9000 §14; capped by the peer's max_udp_payload_size). Set it higher only
   * when the path is known to carry it; otherwise let `pmtud` find the size.
   */
  maxDatagramSize?: number;
  /**
   * DPLPMTUD (RFC 9000 §14.3, RFC 8899): search datagram sizes above maxDatagramSize up to this
   * UDP payload size once the handshake is confirmed (true = ETHERNET_MAX_DATAGRAM_SIZE = 1452,
   * a 1500-byte MTU minus IPv6 and UDP headers). Default off. Probes are PING + PADDING, their loss
   * is no congestion signal, and a black hole falls back to 1200.
   */
  pmtud?: boolean | number;
  /** kInitialRtt (RFC 9002 §6.2.2), ms, default 333. */
  initialRtt?: number;
  /** Initiate a key update after this many packets under one key (default: 90 % of the AEAD confidentiality limit). */
  keyUpdateInterval?: number;
  /** Override the AEAD integrity limit (RFC 9001 §6.6), for tests. */
  aeadIntegrityLimit?: number;
}

/** A RandomSource normalised to what the connection and src/tls need (crypto/random.ts's interface). */
export class Rng {
  private readonly fillFn: (out: Uint8Array) => void;
  private readonly scratch = new Uint8Array(4);
  constructor(src: RandomSource) {
    if (src === null || typeof src !== 'object') throw new TypeError('options.rng: expected a RandomSource');
    const s = src as { fillRandom?: (o: Uint8Array) => unknown; fill?: (o: Uint8Array) => unknown };
    if (typeof s.fillRandom === 'function') this.fillFn = (o) => void s.fillRandom!(o);
    else if (typeof s.fill === 'function') this.fillFn = (o) => void s.fill!(o);
    else throw new TypeError('options.rng: expected an object with fillRandom(out) or fill(out)');
  }
  fill(out: Uint8Array): Uint8Array {
    this.fillFn(out);
    return out;
  }
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }
  u32(): number {
    const b = this.fill(this.scratch);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }
  // crypto/random.ts RandomSource, for the TLS state machines.
  fillRandom(out: Uint8Array): Uint8Array {
    return this.fill(out);
  }
  randomBytes(n: number): Uint8Array {
    return this.bytes(n);
  }
  uint32(): number {
    return this.u32();
  }
  below(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 0x1_0000_0000) throw new RangeError(`bound: must be an integer in 1..2^32, got ${bound}`);
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % bound;
    }
  }
}

/** Default CID generator: random CIDs and random reset tokens. */
export class RandomCidGenerator implements CidGenerator {
  readonly length: number;
  private readonly rng: Rng;
  constructor(length: number, rng: Rng) {
    this.length = length;
    this.rng = rng;
  }
  generate(): IssuedCid {
    return { cid: this.rng.bytes(this.length), resetToken: this.rng.bytes(16) };
  }
}

export interface ResolvedOptions {
  readonly isServer: boolean;
  readonly version: number;
  readonly versions: readonly number[];
  /** 0 = no probe; else the unsupported version the first flight carries (RFC 9000 §6.3). */
  readonly probeVersion: number;
  readonly alpn: readonly string[];
  readonly serverName: string | undefined;
  readonly transport: LocalTransportParams;
  readonly congestionControl: 'cubic' | 'newreno';
  readonly keepAliveInterval: number;
  readonly datagramSendQueue: number;
  readonly qlog: ((event: QlogEvent) => void) | undefined;
  readonly rng: Rng;
  readonly cidGenerator: CidGenerator;
  readonly maxDatagramSize: number;
  /** Largest PLPMTU the PMTU search may reach; ≤ maxDatagramSize = disabled. */
  readonly pmtudMax: number;
  readonly initialRtt: number;
  readonly keyUpdateInterval: number;
  readonly aeadIntegrityLimit: number;
  readonly raw: ConnectionOptions;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: expected an integer, got ${String(v)}`);
  if (v < min || v > max) throw new RangeError(`${name}: must be in [${min}, ${max}], got ${v}`);
  return v;
}

function checkCid(name: string, v: unknown, min = 0): void {
  if (!isBytes(v)) throw new TypeError(`${name}: expected a Uint8Array`);
  if (v.length < min || v.length > MAX_CID_LENGTH) throw new RangeError(`${name}: length must be ${min}..${MAX_CID_LENGTH}, got ${v.length}`);
}

const MAX_INT = Number.MAX_SAFE_INTEGER;

function resolveTransport(t: Partial<LocalTransportParams> | undefined): LocalTransportParams {
  if (t !== undefined && (t === null || typeof t !== 'object')) throw new TypeError('options.transport: expected an object');
  const p: LocalTransportParams = { ...DEFAULT_TRANSPORT_PARAMS };
  if (t === undefined) return p;
  for (const k of Object.keys(t) as (keyof LocalTransportParams)[]) {
    if (!(k in DEFAULT_TRANSPORT_PARAMS)) throw new TypeError(`options.transport.${String(k)}: unknown transport parameter`);
    const v = t[k];
    if (v === undefined) continue;
    (p as unknown as Record<string, unknown>)[k] = v;
  }
  const n = 'options.transport.';
  checkInt(n + 'maxIdleTimeout', p.maxIdleTimeout, 0, MAX_INT);
  checkInt(n + 'maxUdpPayloadSize', p.maxUdpPayloadSize, L.MIN_UDP_PAYLOAD_SIZE, L.DEFAULT_MAX_UDP_PAYLOAD_SIZE);
  checkInt(n + 'initialMaxData', p.initialMaxData, 0, MAX_INT);
  checkInt(n + 'initialMaxStreamDataBidiLocal', p.initialMaxStreamDataBidiLocal, 0, MAX_INT);
  checkInt(n + 'initialMaxStreamDataBidiRemote', p.initialMaxStreamDataBidiRemote, 0, MAX_INT);
  checkInt(n + 'initialMaxStreamDataUni', p.initialMaxStreamDataUni, 0, MAX_INT);
  checkInt(n + 'initialMaxStreamsBidi', p.initialMaxStreamsBidi, 0, 2 ** 50);
  checkInt(n + 'initialMaxStreamsUni', p.initialMaxStreamsUni, 0, 2 ** 50);
  checkInt(n + 'ackDelayExponent', p.ackDelayExponent, 0, L.MAX_ACK_DELAY_EXPONENT);
  checkInt(n + 'maxAckDelay', p.maxAckDelay, 0, L.MAX_ACK_DELAY_LIMIT - 1);
  checkInt(n + 'activeConnectionIdLimit', p.activeConnectionIdLimit, L.MIN_ACTIVE_CONNECTION_ID_LIMIT, 64);
  if (typeof p.disableActiveMigration !== 'boolean') throw new TypeError(n + 'disableActiveMigration: expected a boolean');
  checkInt(n + 'maxDatagramFrameSize', p.maxDatagramFrameSize, 0, MAX_INT);
  return p;
}

/** Validate options; TypeError/RangeError name the offending option. */
export function resolveOptions(o: ConnectionOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('options: expected an object');
  if (o.role !== 'client' && o.role !== 'server') throw new TypeError(`options.role: expected 'client' or 'server', got ${String(o.role)}`);
  const isServer = o.role === 'server';
  const version = o.version ?? QUIC_V1;
  if (typeof version !== 'number' || !isSupportedVersion(version)) {
    throw new RangeError(`options.version: unsupported version 0x${Number(version).toString(16)}`);
  }
  let versions: number[];
  if (o.versions !== undefined) {
    if (!Array.isArray(o.versions) || o.versions.length === 0) throw new TypeError('options.versions: expected a non-empty array');
    for (const v of o.versions) {
      if (typeof v !== 'number' || !isSupportedVersion(v)) throw new RangeError(`options.versions: unsupported version 0x${Number(v).toString(16)}`);
    }
    versions = [...o.versions];
    if (!isServer && !versions.includes(version)) versions.unshift(version);
  } else {
    // Server default: keep the client's version (no compatible switch unless asked for).
    versions = isServer ? [version] : [version, ...[QUIC_V1, QUIC_V2, QUIC_V2_DRAFT].filter((v) => v !== version)];
  }
  let probeVersion = 0;
  if (o.probeVersion !== undefined) {
    if (isServer) throw new TypeError('options.probeVersion: a client option');
    probeVersion = checkInt('options.probeVersion', o.probeVersion, 1, 0xffffffff);
    if (isSupportedVersion(probeVersion)) throw new RangeError(`options.probeVersion: 0x${probeVersion.toString(16)} is a supported version (expected an unsupported one, e.g. 0x1a2a3a4a)`);
  }
  if (!Array.isArray(o.alpn) || o.alpn.length === 0) throw new TypeError('options.alpn: expected a non-empty array of protocol names');
  for (const a of o.alpn) {
    if (typeof a !== 'string' || a.length === 0 || a.length > 255) throw new TypeError('options.alpn: each protocol must be a non-empty string of ≤ 255 bytes');
  }
  if (o.serverName !== undefined && typeof o.serverName !== 'string') throw new TypeError('options.serverName: expected a string');
  if (o.verifyName !== undefined && (typeof o.verifyName !== 'string' || o.verifyName === '')) {
    throw new TypeError('options.verifyName: expected a non-empty DNS name or IP literal');
  }
  const transport = resolveTransport(o.transport);
  const cc = o.congestionControl ?? 'cubic';
  if (cc !== 'cubic' && cc !== 'newreno') throw new TypeError(`options.congestionControl: expected 'cubic' or 'newreno', got ${String(cc)}`);
  const keepAliveInterval = o.keepAliveInterval === undefined ? 0 : checkInt('options.keepAliveInterval', o.keepAliveInterval, 0, MAX_INT);
  const datagramSendQueue = o.datagramSendQueue === undefined ? 64 : checkInt('options.datagramSendQueue', o.datagramSendQueue, 1, 1 << 20);
  if (o.qlog !== undefined && typeof o.qlog !== 'function') throw new TypeError('options.qlog: expected a function');
  if (o.keylog !== undefined && typeof o.keylog !== 'function') throw new TypeError('options.keylog: expected a function');
  if (o.newTokenMinter !== undefined && typeof o.newTokenMinter !== 'function') throw new TypeError('options.newTokenMinter: expected a function');
  const rng = new Rng(o.rng);
  let gen: CidGenerator;
  if (o.cidGenerator !== undefined) {
    const g = o.cidGenerator;
    if (g === null || typeof g !== 'object' || typeof g.generate !== 'function') throw new TypeError('options.cidGenerator: expected { length, generate() }');
    checkInt('options.cidGenerator.length', g.length, 0, MAX_CID_LENGTH);
    gen = g;
  } else {
    const len = o.cidLength === undefined ? 8 : checkInt('options.cidLength', o.cidLength, 0, MAX_CID_LENGTH);
    gen = new RandomCidGenerator(len, rng);
  }
  if (o.initialDcid !== undefined) checkCid('options.initialDcid', o.initialDcid, isServer ? 0 : 8);
  if (o.originalDcid !== undefined) checkCid('options.originalDcid', o.originalDcid);
  if (o.retrySourceCid !== undefined) checkCid('options.retrySourceCid', o.retrySourceCid);
  if (o.token !== undefined && !isBytes(o.token)) throw new TypeError('options.token: expected a Uint8Array');
  if (o.localCid !== undefined) {
    if (o.localCid === null || typeof o.localCid !== 'object') throw new TypeError('options.localCid: expected { cid, resetToken }');
    checkCid('options.localCid.cid', o.localCid.cid);
    if (!isBytes(o.localCid.resetToken) || o.localCid.resetToken.length !== 16) throw new RangeError('options.localCid.resetToken: expected 16 bytes');
  }
  if (isServer && o.initialDcid === undefined) throw new TypeError('options.initialDcid: required for a server connection');
  if (o.session !== undefined && !isBytes(o.session)) throw new TypeError('options.session: expected a Uint8Array');
  if (o.ticketAppData !== undefined) {
    if (!isBytes(o.ticketAppData)) throw new TypeError('options.ticketAppData: expected a Uint8Array');
    if (o.ticketAppData.length > MAX_TICKET_APP_DATA) throw new RangeError(`options.ticketAppData: ${o.ticketAppData.length} bytes, at most ${MAX_TICKET_APP_DATA}`);
  }
  if (o.acceptEarlyData !== undefined && typeof o.acceptEarlyData !== 'function') throw new TypeError('options.acceptEarlyData: expected a function (ticketAppData) => boolean');
  const maxDatagramSize =
    o.maxDatagramSize === undefined ? DEFAULT_MAX_DATAGRAM_SIZE : checkInt('options.maxDatagramSize', o.maxDatagramSize, DEFAULT_MAX_DATAGRAM_SIZE, 65527);
  let pmtudMax = 0;
  if (o.pmtud === true) pmtudMax = ETHERNET_MAX_DATAGRAM_SIZE;
  else if (typeof o.pmtud === 'number') pmtudMax = checkInt('options.pmtud', o.pmtud, maxDatagramSize, 65527);
  else if (o.pmtud !== undefined && o.pmtud !== false) throw new TypeError('options.pmtud: expected a boolean or a UDP payload size');
  const initialRtt = o.initialRtt === undefined ? 333 : o.initialRtt;
  if (typeof initialRtt !== 'number' || !(initialRtt > 0) || !Number.isFinite(initialRtt)) throw new RangeError('options.initialRtt: expected a positive number of ms');
  const keyUpdateInterval = o.keyUpdateInterval === undefined ? 0 : checkInt('options.keyUpdateInterval', o.keyUpdateInterval, 16, MAX_INT);
  const aeadIntegrityLimit = o.aeadIntegrityLimit === undefined ? 0 : checkInt('options.aeadIntegrityLimit', o.aeadIntegrityLimit, 1, MAX_INT);
  return {
    isServer,
    version,
    versions,
    probeVersion,
    alpn: [...o.alpn],
    serverName: o.serverName,
    transport,
    congestionControl: cc,
    keepAliveInterval,
    datagramSendQueue,
    qlog: o.qlog,
    rng,
    cidGenerator: gen,
    maxDatagramSize,
    pmtudMax,
    initialRtt,
    keyUpdateInterval,
    aeadIntegrityLimit,
    raw: o,
  };
}

export { QUIC_V1, QUIC_V2, QUIC_V2_DRAFT };
