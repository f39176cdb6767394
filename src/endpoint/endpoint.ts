// L5: the sans-IO QUIC endpoint — everything that happens before (and around) a connection.
// RFC 8999 §5 (routing on the version-invariant header), RFC 9000 §5.2 (matching packets to
// connections; §5.2.2 server handling of unknown CIDs), §6 (Version Negotiation), §7.2 (client
// Initial DCID ≥ 8 bytes), §8.1 (address validation: Retry, NEW_TOKEN, §8.1.3 invalid tokens),
// §10.3 (stateless reset: sending, §10.3.1 detection hand-off, §10.3.3 looping/rate limits),
// §14.1 (Initial datagrams ≥ 1200 bytes), §17.2.1 / §17.2.5 (VN and Retry packets).
//
// The endpoint owns the routing table (connection ID → connection): every CID our connections issue
// (registered as the connection's CID generator hands it out, removed on retirement or close) plus,
// for a server, the client-chosen Initial DCIDs until the handshake completes. It never reads a clock
// or global randomness (DESIGN §2): `now` and a RandomSource are inputs. Packets it sends itself
// (VN, Retry, stateless reset, INVALID_TOKEN close) queue up and the driver pulls them with
// sendEndpointPacket(); connections are driven by the driver directly (send/onTimeout) or through
// the endpoint's helpers (onTimeout, nextTimeout, connections()).
//
// Driver loop (what L7 and test/support/network.ts do):
//   for each datagram: conn = endpoint.handle(datagram, from, now)
//   for each connection (or just the ones touched): send(out, now) until null → socket; then
//     endpoint.touch(conn) (prunes retired CIDs, releases Initial DCIDs, removes closed connections)
//   endpoint.sendEndpointPacket(out) until null → socket (VN, Retry, resets, refusals)
//   endpoint.poll() until undefined ('connection', 'connection-closed'); conn.pollEvent() per connection
//   timer: endpoint.nextTimeout(); when due, endpoint.onTimeout(now), then send as above.
import { BufferUnderflow } from '../util/bytes.js';
import {
  HeaderError,
  PacketHeader,
  createInvariantHeader,
  decodePacketHeader,
  parseInvariantHeader,
} from '../codec/header.js';
import { PacketType, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, VERSION_NEGOTIATION, isSupportedVersion } from '../codec/version.js';
import { TransportErrorCode } from '../codec/errors.js';
import { Connection, type CidGenerator, type ConnectionOptions, type ConnectionState, type IssuedCid, type PathInfo, type SendInfo } from '../connection/index.js';
import { RandomCidGenerator, cidKey, fillRandom, type ConnectionIdGenerator, type EndpointRandom } from './cid.js';
import { AddressTokens, TokenKind, type TokenOptions } from './tokens.js';
import {
  MIN_STATELESS_RESET_LENGTH,
  RateLimiter,
  STATELESS_RESET_KEY_LENGTH,
  statelessResetSize,
  statelessResetToken,
  writeStatelessReset,
} from './stateless-reset.js';
import { buildInitialClose, buildRetry, buildVersionNegotiation, disposeInitial, openInitial } from './packets.js';
import { createEndpointStats, type DropReason, type EndpointStats } from './stats.js';

/** Smallest datagram that may carry a client Initial, and that we answer with VN (RFC 9000 §14.1). */
export const MIN_INITIAL_DATAGRAM = 1200;
/** RFC 9000 §7.2: a client's first Initial DCID is at least 8 bytes. */
export const MIN_INITIAL_DCID_LENGTH = 8;

/** What the endpoint needs of a connection (src/connection's Connection satisfies it). */
export interface EndpointConnection {
  receive(datagram: Uint8Array, from: PathInfo, now: number): void;
  send(out: Uint8Array, now: number): SendInfo | null;
  nextTimeout(): number;
  onTimeout(now: number): void;
  readonly state: ConnectionState;
  /** If present, the active CIDs we issued (the endpoint reconciles its table against it). */
  readonly localCids?: readonly Uint8Array[];
  /** If present, how many CIDs are active (lets reconcile() skip building `localCids`). */
  readonly localCidCount?: number;
  /** If present, RFC 9000 §10.3.1 check of a datagram that no CID routes: true when it reset the connection. */
  handleStatelessReset?(datagram: Uint8Array, now: number): boolean;
}

/** Creates connections (the default builds src/connection's Connection). Tests inject their own. */
export type ConnectionFactory<C extends EndpointConnection> = (options: ConnectionOptions, now: number) => C;

/** Options the endpoint fills in for every connection it creates. */
type EndpointSetOptions =
  | 'role'
  | 'rng'
  | 'cidGenerator'
  | 'cidLength'
  | 'initialDcid'
  | 'originalDcid'
  | 'retrySourceCid'
  | 'localCid'
  | 'addressValidated'
  | 'newTokenMinter'
  | 'remote';

/** Options of every server connection (TLS certificate/key, ALPN, transport parameters, …). */
export type ServerConnectionOptions = Omit<ConnectionOptions, EndpointSetOptions | 'token' | 'version'>;
/** Options of a client connection made with connect(); `token` is a NEW_TOKEN from an earlier connection. */
export type ClientConnectionOptions = Omit<ConnectionOptions, EndpointSetOptions>;

export type RetryPolicy = 'never' | 'always' | { whenHandshakesExceed: number };

export interface EndpointOptions<C extends EndpointConnection = Connection> {
  rng: EndpointRandom;
  /** Accept connections with these options; absent = a client-only endpoint. */
  server?: ServerConnectionOptions;
  /** Decides our connection IDs (default: 8 random bytes). All the same length. */
  cidGenerator?: ConnectionIdGenerator;
  /** Length of the default generator's CIDs (default 8). */
  cidLength?: number;
  /** 32-byte static key of stateless reset tokens (RFC 9000 §10.3.2); default random. Share across restarts/workers. */
  statelessResetKey?: Uint8Array;
  /** 32-byte key of address validation tokens; default random. */
  tokenKey?: Uint8Array;
  retryTokenLifetime?: number;
  newTokenLifetime?: number;
  /** When to answer an Initial without a valid token with Retry (default 'never'). */
  retry?: RetryPolicy;
  /** Server: mint NEW_TOKEN tokens for clients after the handshake (default true). */
  issueNewTokens?: boolean;
  /** Versions we accept, in preference order (default v1, v2, v2draft). The VN list. */
  versions?: readonly number[];
  /** Stateless resets per second (token bucket) and burst (defaults 100/s, 20). 0 = never send. */
  statelessResetRate?: number;
  statelessResetBurst?: number;
  /** Most connections at once (new Initials beyond it are dropped). Default 100 000. */
  maxConnections?: number;
  /** Most VN/Retry/reset packets waiting in the outgoing queue (default 1024). */
  maxQueuedPackets?: number;
  /** Buffer 0-RTT packets that arrive before their Initial (default true). */
  bufferEarlyZeroRtt?: boolean;
  /** Builds connections; default `new Connection(options, now)`. */
  connectionFactory?: ConnectionFactory<C>;
}

export type EndpointEvent<C extends EndpointConnection = Connection> =
  /** A new server connection (its first Initial has been delivered to it). */
  | { type: 'connection'; connection: C; path: PathInfo }
  /** A connection reached 'closed' and left the routing table. */
  | { type: 'connection-closed'; connection: C };

interface QueuedPacket {
  data: Uint8Array;
  to: PathInfo;
}

/** Per-connection routing state. */
class Route<C extends EndpointConnection> {
  conn: C | undefined = undefined;
  readonly isServer: boolean;
  /** Table keys of CIDs we issued for this connection. */
  readonly cidKeys = new Set<string>();
  /** Server: table keys of client-chosen DCIDs (first Initial, post-Retry Initial), until the handshake is done. */
  initialKeys: string[] = [];
  handshaking = true;
  remoteAddress = '';
  remotePort = -1;
  addrKey = '';
  closed = false;
  constructor(isServer: boolean) {
    this.isServer = isServer;
  }
}

interface EarlyPackets {
  datagrams: Array<{ data: Uint8Array; from: PathInfo }>;
  expires: number;
}

const MAX_EARLY_KEYS = 64;
const MAX_EARLY_PER_KEY = 8;
const EARLY_LIFETIME = 1000;

export class Endpoint<C extends EndpointConnection = Connection> {
  readonly stats: EndpointStats = createEndpointStats();
  readonly isServer: boolean;
  readonly cidLength: number;
  readonly versions: readonly number[];
  readonly retryPolicy: RetryPolicy;

  private readonly rng: EndpointRandom;
  private readonly serverOptions: ServerConnectionOptions | undefined;
  private readonly generator: ConnectionIdGenerator;
  private readonly resetKey: Uint8Array;
  private readonly tokens: AddressTokens;
  private readonly resetLimiter: RateLimiter | null;
  private readonly issueNewTokens: boolean;
  private readonly maxConnections: number;
  private readonly maxQueued: number;
  private readonly bufferZeroRtt: boolean;
  private readonly factory: ConnectionFactory<C>;

  private readonly table = new Map<string, Route<C>>();
  private readonly routes = new Map<C, Route<C>>();
  private readonly byAddress = new Map<string, Set<Route<C>>>();
  private readonly early = new Map<string, EarlyPackets>();
  private readonly queue: QueuedPacket[] = [];
  private queueHead = 0;
  private readonly events: EndpointEvent<C>[] = [];
  private eventHead = 0;

  private readonly inv = createInvariantHeader();
  private readonly hdr = new PacketHeader();
  private readonly scratch = new Uint8Array(4);

  constructor(options: EndpointOptions<C>) {
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
    const rng = options.rng;
    if (rng === null || typeof rng !== 'object' || (typeof (rng as { fillRandom?: unknown }).fillRandom !== 'function' && typeof (rng as { fill?: unknown }).fill !== 'function')) {
      throw new TypeError('options.rng: expected a RandomSource (fillRandom(out) or fill(out))');
    }
    this.rng = rng;
    if (options.server !== undefined && (options.server === null || typeof options.server !== 'object')) {
      throw new TypeError('options.server: expected connection options');
    }
    this.serverOptions = options.server;
    this.isServer = options.server !== undefined;
    if (options.cidGenerator !== undefined) {
      const g = options.cidGenerator;
      if (g === null || typeof g !== 'object' || typeof g.generate !== 'function') {
        throw new TypeError('options.cidGenerator: expected { length, generate() }');
      }
      if (!Number.isInteger(g.length) || g.length < 1 || g.length > 20) throw new RangeError('options.cidGenerator.length: expected 1..20');
      if (options.cidLength !== undefined && options.cidLength !== g.length) {
        throw new RangeError('options.cidLength: disagrees with options.cidGenerator.length');
      }
      this.generator = g;
    } else {
      this.generator = new RandomCidGenerator(rng, options.cidLength ?? 8);
    }
    this.cidLength = this.generator.length;
    const key = options.statelessResetKey ?? fillRandom(rng, new Uint8Array(STATELESS_RESET_KEY_LENGTH));
    if (!(key instanceof Uint8Array) || key.length < 16) throw new RangeError('options.statelessResetKey: expected ≥ 16 bytes (32 recommended)');
    this.resetKey = new Uint8Array(key);
    const tokenOptions: TokenOptions = {};
    if (options.tokenKey !== undefined) tokenOptions.key = options.tokenKey;
    if (options.retryTokenLifetime !== undefined) tokenOptions.retryLifetime = options.retryTokenLifetime;
    if (options.newTokenLifetime !== undefined) tokenOptions.newTokenLifetime = options.newTokenLifetime;
    this.tokens = new AddressTokens(rng, tokenOptions);
    const retry = options.retry ?? 'never';
    if (retry !== 'never' && retry !== 'always') {
      if (retry === null || typeof retry !== 'object' || !Number.isInteger(retry.whenHandshakesExceed) || retry.whenHandshakesExceed < 0) {
        throw new TypeError("options.retry: expected 'never', 'always' or { whenHandshakesExceed: n }");
      }
    }
    this.retryPolicy = retry;
    this.issueNewTokens = options.issueNewTokens ?? true;
    const versions = options.versions ?? [QUIC_V1, QUIC_V2, QUIC_V2_DRAFT];
    if (!Array.isArray(versions) || versions.length === 0) throw new TypeError('options.versions: expected a non-empty array');
    for (const v of versions) {
      if (!isSupportedVersion(v)) throw new RangeError(`options.versions: unsupported version 0x${Number(v).toString(16)}`);
    }
    this.versions = [...versions];
    const rate = options.statelessResetRate ?? 100;
    this.resetLimiter = rate > 0 ? new RateLimiter(rate, options.statelessResetBurst ?? 20) : null;
    this.maxConnections = options.maxConnections ?? 100_000;
    if (!Number.isInteger(this.maxConnections) || this.maxConnections < 1) throw new RangeError('options.maxConnections: expected a positive integer');
    this.maxQueued = options.maxQueuedPackets ?? 1024;
    this.bufferZeroRtt = options.bufferEarlyZeroRtt ?? true;
    if (options.connectionFactory !== undefined && typeof options.connectionFactory !== 'function') {
      throw new TypeError('options.connectionFactory: expected a function');
    }
    this.factory = options.connectionFactory ?? defaultFactory<C>();
  }

  // ------------------------------------------------------------------------------------------
  // Receiving

  /**
   * Handle one received UDP datagram. Routes it to its connection (returned), creates a server
   * connection for a new Initial, or answers/drops it. Never throws for peer input.
   */
  handle(datagram: Uint8Array, from: PathInfo, now: number): C | undefined {
    const st = this.stats;
    st.datagramsReceived++;
    st.bytesReceived += datagram.length;
    if (datagram.length === 0) return this.drop('empty');
    if ((datagram[0]! & 0x80) === 0) return this.handleShort(datagram, from, now);

    let inv;
    try {
      inv = parseInvariantHeader(datagram, this.cidLength, this.inv);
    } catch (e) {
      if (e instanceof BufferUnderflow) return this.drop('bad_header');
      throw e;
    }
    const route = inv.dcid.length <= 20 ? this.table.get(cidKey(inv.dcid)) : undefined;
    if (inv.version === VERSION_NEGOTIATION) {
      // RFC 9000 §6.1: never answer a VN; deliver it to the client connection it names.
      if (route !== undefined && !route.isServer) return this.deliver(route, datagram, from, now);
      return this.drop('version_negotiation');
    }
    if (route !== undefined) {
      // RFC 9000 §14.1: a server discards Initial-carrying datagrams below 1200 bytes, also for known connections.
      if (route.isServer && datagram.length < MIN_INITIAL_DATAGRAM && this.isInitialOf(inv.version, inv.firstByte)) {
        return this.drop('initial_too_small');
      }
      return this.deliver(route, datagram, from, now);
    }
    if (!this.versions.includes(inv.version)) {
      if (!this.isServer) return this.drop('unknown_version');
      // RFC 9000 §6.1, §14.1: only datagrams large enough to be a client's first flight get a VN.
      if (datagram.length < MIN_INITIAL_DATAGRAM) return this.drop('unknown_version_small');
      return this.sendVersionNegotiation(inv.dcid, inv.scid, from);
    }
    if (!this.isServer) return this.drop(this.isInitialOf(inv.version, inv.firstByte) ? 'not_server' : 'unknown_cid');
    return this.handleNewLongHeader(datagram, from, now);
  }

  private isInitialOf(version: number, firstByte: number): boolean {
    if (!isSupportedVersion(version)) return false;
    const typeBits = (firstByte >> 4) & 3;
    return version === QUIC_V1 ? typeBits === 0 : typeBits === 1;
  }

  private handleShort(datagram: Uint8Array, from: PathInfo, now: number): C | undefined {
    const len = datagram.length;
    if (len < 1 + this.cidLength) return this.drop('short_packet');
    const dcid = datagram.subarray(1, 1 + this.cidLength);
    const route = this.table.get(cidKey(dcid));
    if (route !== undefined) return this.deliver(route, datagram, from, now);
    // RFC 9000 §10.3.1: a datagram that no connection claims may be a stateless reset from the peer
    // of a connection on this address (resets carry a random DCID).
    if (len >= MIN_STATELESS_RESET_LENGTH) {
      const claimed = this.offerStatelessReset(datagram, from, now);
      if (claimed !== undefined) return claimed;
    }
    if (len < MIN_STATELESS_RESET_LENGTH) return this.drop('short_packet');
    return this.sendStatelessReset(dcid, len, from, now);
  }

  private offerStatelessReset(datagram: Uint8Array, from: PathInfo, now: number): C | undefined {
    const set = this.byAddress.get(addressKey(from.remoteAddress, from.remotePort));
    if (set === undefined) return undefined;
    for (const route of set) {
      const conn = route.conn;
      if (conn === undefined || route.closed) continue;
      let hit: boolean;
      if (typeof conn.handleStatelessReset === 'function') {
        hit = conn.handleStatelessReset(datagram, now);
      } else {
        const before = conn.state;
        conn.receive(datagram, from, now);
        hit = before !== conn.state && (conn.state === 'draining' || conn.state === 'closed');
      }
      if (hit) {
        this.stats.statelessResetReceived++;
        this.afterActivity(route);
        return conn;
      }
    }
    return undefined;
  }

  private handleNewLongHeader(datagram: Uint8Array, from: PathInfo, now: number): C | undefined {
    const hdr = this.hdr;
    try {
      decodePacketHeader(datagram, 0, datagram.length, this.cidLength, hdr);
    } catch (e) {
      if (e instanceof BufferUnderflow || e instanceof HeaderError) return this.drop('bad_header');
      throw e;
    }
    if (hdr.type === PacketType.ZeroRtt) return this.bufferEarly(datagram, hdr.dcid, from, now);
    if (hdr.type !== PacketType.Initial) return this.drop('unknown_cid');
    if (datagram.length < MIN_INITIAL_DATAGRAM) return this.drop('initial_too_small');

    // RFC 9000 §8.1: tokens.
    let validated = false;
    let odcid: Uint8Array | undefined;
    let retrySourceCid: Uint8Array | undefined;
    const tokens = this.stats.tokens;
    if (hdr.token.length > 0) {
      const r = this.tokens.validate(hdr.token, from.remoteAddress, from.remotePort, hdr.dcid, now);
      if (r.ok) {
        validated = true;
        if (r.kind === TokenKind.Retry) {
          tokens.retryAccepted++;
          odcid = r.odcid;
          retrySourceCid = r.retrySourceCid;
        } else {
          tokens.newTokenAccepted++;
        }
      } else if (r.kind === TokenKind.Retry) {
        // §8.1.2: the client will not accept another Retry. Close with INVALID_TOKEN if the Initial
        // is otherwise valid (decrypts); drop it otherwise.
        tokens.retryRejected++;
        const keys = openInitial(datagram, hdr);
        if (keys !== null) {
          const scid = fillRandom(this.rng, new Uint8Array(this.cidLength));
          const pkt = buildInitialClose(hdr, keys, scid, TransportErrorCode.INVALID_TOKEN);
          disposeInitial(keys);
          if (this.enqueue(pkt, from)) this.stats.invalidTokenCloseSent++;
        }
        return this.drop('invalid_token');
      } else if (r.kind === TokenKind.NewToken) {
        tokens.newTokenRejected++; // §8.1.3: proceed as if there were no token
      } else {
        tokens.unknownRejected++;
      }
    }

    // RFC 9000 §7.2: the client's own first DCID has ≥ 8 bytes (after a Retry it is our CID).
    if (retrySourceCid === undefined && hdr.dcid.length < MIN_INITIAL_DCID_LENGTH) return this.drop('initial_dcid_too_short');
    if (!validated && this.retryWanted()) return this.sendRetry(hdr, from, now);
    const keys = openInitial(datagram, hdr);
    if (keys === null) return this.drop('initial_undecryptable');
    if (this.routes.size >= this.maxConnections) {
      // RFC 9000 §5.2.2: a server refusing a connection SHOULD answer CONNECTION_REFUSED in an Initial.
      const pkt = buildInitialClose(hdr, keys, fillRandom(this.rng, new Uint8Array(this.cidLength)), TransportErrorCode.CONNECTION_REFUSED, 'server busy');
      disposeInitial(keys);
      if (this.enqueue(pkt, from)) this.stats.refusedCloseSent++;
      return this.drop('connection_limit');
    }
    disposeInitial(keys);
    return this.accept(datagram, hdr, from, now, validated, odcid, retrySourceCid);
  }

  private retryWanted(): boolean {
    const p = this.retryPolicy;
    if (p === 'never') return false;
    if (p === 'always') return true;
    return this.handshakesInProgress() > p.whenHandshakesExceed;
  }

  /** Server connections still handshaking. */
  handshakesInProgress(): number {
    let n = 0;
    for (const route of this.routes.values()) {
      if (route.isServer && route.handshaking && !route.closed) {
        if (route.conn !== undefined && route.conn.state !== 'handshaking') route.handshaking = false;
        else n++;
      }
    }
    return n;
  }

  private accept(
    datagram: Uint8Array,
    hdr: PacketHeader,
    from: PathInfo,
    now: number,
    validated: boolean,
    odcid: Uint8Array | undefined,
    retrySourceCid: Uint8Array | undefined,
  ): C | undefined {
    const initialDcid = hdr.dcid.slice();
    const route = new Route<C>(true);
    const generator = this.generatorFor(route);
    const localCid = generator.generate();
    const server = this.serverOptions!;
    const path: PathInfo = { remoteAddress: from.remoteAddress, remotePort: from.remotePort };
    if (from.localAddress !== undefined) path.localAddress = from.localAddress;
    if (from.localPort !== undefined) path.localPort = from.localPort;
    const options: ConnectionOptions = {
      ...server,
      remote: path,
      versions: server.versions ?? this.versions,
      role: 'server',
      version: hdr.version,
      rng: this.rng,
      cidGenerator: generator,
      localCid,
      initialDcid,
      addressValidated: validated,
    };
    if (odcid !== undefined) options.originalDcid = odcid;
    if (retrySourceCid !== undefined) options.retrySourceCid = retrySourceCid;
    if (this.issueNewTokens) {
      options.newTokenMinter = (path, t) => {
        this.stats.tokens.newTokenMinted++;
        return this.tokens.mintNewToken(path.remoteAddress, t);
      };
    }
    let conn: C;
    try {
      conn = this.factory(options, now);
    } catch (e) {
      this.unregister(route);
      throw e;
    }
    route.conn = conn;
    this.routes.set(conn, route);
    const key = cidKey(initialDcid);
    this.table.set(key, route);
    route.initialKeys.push(key);
    this.stats.connectionsAccepted++;
    this.stats.connectionsActive = this.routes.size;
    this.events.push({ type: 'connection', connection: conn, path });
    this.deliver(route, datagram, from, now);
    const early = this.early.get(key);
    if (early !== undefined) {
      this.early.delete(key);
      for (const e of early.datagrams) {
        if (route.closed) break;
        this.stats.zeroRttReplayed++;
        this.deliver(route, e.data, e.from, now);
      }
    }
    return conn;
  }

  private bufferEarly(datagram: Uint8Array, dcid: Uint8Array, from: PathInfo, now: number): C | undefined {
    if (!this.bufferZeroRtt || dcid.length < MIN_INITIAL_DCID_LENGTH) return this.drop('zero_rtt_unbuffered');
    for (const [k, v] of this.early) {
      if (v.expires > now) break;
      this.early.delete(k);
    }
    const key = cidKey(dcid);
    let entry = this.early.get(key);
    if (entry === undefined) {
      if (this.early.size >= MAX_EARLY_KEYS) return this.drop('zero_rtt_unbuffered');
      entry = { datagrams: [], expires: now + EARLY_LIFETIME };
      this.early.set(key, entry);
    }
    if (entry.datagrams.length >= MAX_EARLY_PER_KEY) return this.drop('zero_rtt_unbuffered');
    entry.datagrams.push({ data: datagram.slice(), from: { remoteAddress: from.remoteAddress, remotePort: from.remotePort } });
    this.stats.zeroRttBuffered++;
    return undefined;
  }

  private deliver(route: Route<C>, datagram: Uint8Array, from: PathInfo, now: number): C | undefined {
    const conn = route.conn;
    if (conn === undefined || route.closed) return this.drop('unknown_cid');
    this.stats.datagramsRouted++;
    if (route.remotePort !== from.remotePort || route.remoteAddress !== from.remoteAddress) this.rehome(route, from);
    conn.receive(datagram, from, now);
    this.afterActivity(route);
    return conn;
  }

  /** Track the connection's latest peer address (for stateless reset detection by address). */
  private rehome(route: Route<C>, from: PathInfo): void {
    if (route.addrKey !== '') {
      const set = this.byAddress.get(route.addrKey);
      if (set !== undefined) {
        set.delete(route);
        if (set.size === 0) this.byAddress.delete(route.addrKey);
      }
    }
    route.remoteAddress = from.remoteAddress;
    route.remotePort = from.remotePort;
    route.addrKey = addressKey(from.remoteAddress, from.remotePort);
    let set = this.byAddress.get(route.addrKey);
    if (set === undefined) this.byAddress.set(route.addrKey, (set = new Set()));
    set.add(route);
  }

  /** After a connection ran: release its Initial DCIDs once past the handshake, reconcile CIDs, clean up. */
  private afterActivity(route: Route<C>): void {
    const conn = route.conn;
    if (conn === undefined) return;
    const state = conn.state;
    if (state === 'closed') {
      this.remove(route);
      return;
    }
    if (route.handshaking && state !== 'handshaking') {
      route.handshaking = false;
      this.releaseInitialKeys(route);
    }
  }

  private releaseInitialKeys(route: Route<C>): void {
    for (const k of route.initialKeys) if (this.table.get(k) === route) this.table.delete(k);
    route.initialKeys = [];
  }

  // ------------------------------------------------------------------------------------------
  // Answers without a connection

  private sendVersionNegotiation(dcid: Uint8Array, scid: Uint8Array, from: PathInfo): undefined {
    const pkt = buildVersionNegotiation(dcid, scid, this.versions, this.rng, this.scratch);
    if (this.enqueue(pkt, from)) this.stats.versionNegotiationSent++;
    return undefined;
  }

  private sendRetry(hdr: PacketHeader, from: PathInfo, now: number): undefined {
    const scid = this.freshCid();
    const token = this.tokens.mintRetry(from.remoteAddress, from.remotePort, hdr.dcid, scid, now);
    const pkt = buildRetry(hdr, scid, token, this.rng, this.scratch);
    if (this.enqueue(pkt, from)) this.stats.retrySent++;
    return undefined;
  }

  private sendStatelessReset(dcid: Uint8Array, triggerLength: number, from: PathInfo, now: number): undefined {
    const size = statelessResetSize(triggerLength, this.rng, this.scratch);
    if (size === 0) {
      this.drop('reset_too_small');
      return undefined;
    }
    if (this.resetLimiter === null || !this.resetLimiter.take(now)) {
      this.drop('reset_rate_limited');
      return undefined;
    }
    const out = new Uint8Array(size);
    writeStatelessReset(out, size, statelessResetToken(this.resetKey, dcid), this.rng);
    if (this.enqueue(out, from)) this.stats.statelessResetSent++;
    // The trigger itself is still a datagram we did not route.
    this.drop('unknown_cid');
    return undefined;
  }

  private enqueue(data: Uint8Array, from: PathInfo): boolean {
    if (this.queue.length - this.queueHead >= this.maxQueued) {
      this.drop('queue_full');
      return false;
    }
    const to: PathInfo = { remoteAddress: from.remoteAddress, remotePort: from.remotePort };
    if (from.localAddress !== undefined) to.localAddress = from.localAddress;
    if (from.localPort !== undefined) to.localPort = from.localPort;
    this.queue.push({ data, to });
    return true;
  }

  private drop(reason: DropReason): undefined {
    this.stats.dropped[reason]++;
    this.stats.datagramsDropped++;
    return undefined;
  }

  /**
   * Copy the next endpoint-generated datagram (VN, Retry, stateless reset, INVALID_TOKEN close) into
   * `out`; null when none is queued. `releaseTime` is 0: send at once.
   */
  sendEndpointPacket(out: Uint8Array): SendInfo | null {
    if (this.queueHead >= this.queue.length) return null;
    const p = this.queue[this.queueHead]!;
    if (p.data.length > out.length) throw new RangeError(`out: needs ${p.data.length} bytes, has ${out.length}`);
    this.queue[this.queueHead++] = undefined as unknown as QueuedPacket;
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
    out.set(p.data, 0);
    return { length: p.data.length, to: p.to, releaseTime: 0 };
  }

  /** Endpoint-generated datagrams waiting for sendEndpointPacket(). */
  get queuedPackets(): number {
    return this.queue.length - this.queueHead;
  }

  // ------------------------------------------------------------------------------------------
  // Connection IDs

  /** A CID not in the table, from the pluggable generator. */
  private freshCid(): Uint8Array {
    for (let attempt = 0; attempt < 16; attempt++) {
      const cid = this.generator.generate();
      if (!(cid instanceof Uint8Array) || cid.length !== this.cidLength) {
        throw new RangeError(`cidGenerator.generate(): expected ${this.cidLength} bytes`);
      }
      if (!this.table.has(cidKey(cid))) return cid;
    }
    throw new RangeError('cidGenerator.generate(): 16 collisions in a row (is it random?)');
  }

  /** The CID generator handed to one connection: registers each CID in the table as it is issued. */
  private generatorFor(route: Route<C>): CidGenerator & { retire(cid: Uint8Array): void } {
    const length = this.cidLength;
    return {
      length,
      generate: (): IssuedCid => {
        const cid = this.freshCid();
        const key = cidKey(cid);
        if (!route.closed) {
          this.table.set(key, route);
          route.cidKeys.add(key);
        }
        return { cid, resetToken: statelessResetToken(this.resetKey, cid) };
      },
      retire: (cid: Uint8Array): void => {
        const key = cidKey(cid);
        if (route.cidKeys.delete(key) && this.table.get(key) === route) this.table.delete(key);
      },
    };
  }

  /** The stateless reset token of one of our CIDs (what a peer learns from NEW_CONNECTION_ID). */
  resetTokenFor(cid: Uint8Array): Uint8Array {
    return statelessResetToken(this.resetKey, cid);
  }

  /** Number of routing-table entries (CIDs and pending Initial DCIDs). */
  get routingEntries(): number {
    return this.table.size;
  }

  /** The connection a DCID routes to, if any. */
  lookup(dcid: Uint8Array): C | undefined {
    const r = this.table.get(cidKey(dcid));
    return r === undefined || r.closed ? undefined : r.conn;
  }

  /**
   * Bring the table in line with a connection's active CIDs (when the connection exposes
   * `localCids`): entries for CIDs it retired go. Called from onTimeout() and nextTimeout() scans.
   */
  private reconcile(route: Route<C>): void {
    const conn = route.conn;
    // Connections that call cidGenerator.retire() keep the counts equal: no array is built then.
    if (conn === undefined || conn.localCidCount === route.cidKeys.size) return;
    const active = conn.localCids;
    if (active === undefined || active.length === route.cidKeys.size) return;
    const keep = new Set<string>();
    for (const c of active) keep.add(cidKey(c));
    for (const k of route.cidKeys) {
      if (!keep.has(k)) {
        route.cidKeys.delete(k);
        if (this.table.get(k) === route) this.table.delete(k);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Clients

  /**
   * Open a client connection to `remote`. Its Initial DCID is 8 random bytes (RFC 9000 §7.2); its
   * own CIDs come from this endpoint's generator and route back through handle().
   */
  connect(remote: PathInfo, options: ClientConnectionOptions, now: number): C {
    if (remote === null || typeof remote !== 'object' || typeof remote.remoteAddress !== 'string' || !Number.isInteger(remote.remotePort)) {
      throw new TypeError('remote: expected { remoteAddress, remotePort }');
    }
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected connection options');
    const route = new Route<C>(false);
    const opts: ConnectionOptions = {
      ...options,
      remote: { ...remote },
      role: 'client',
      rng: this.rng,
      cidGenerator: this.generatorFor(route),
      initialDcid: fillRandom(this.rng, new Uint8Array(MIN_INITIAL_DCID_LENGTH)),
    };
    let conn: C;
    try {
      conn = this.factory(opts, now);
    } catch (e) {
      this.unregister(route);
      throw e;
    }
    route.conn = conn;
    route.handshaking = false; // no client-chosen DCIDs to hold for a client
    this.routes.set(conn, route);
    this.rehome(route, remote);
    this.stats.connectionsOpened++;
    this.stats.connectionsActive = this.routes.size;
    return conn;
  }

  // ------------------------------------------------------------------------------------------
  // Driving and housekeeping

  /** The next endpoint event (new server connection, connection removed), or undefined. */
  poll(): EndpointEvent<C> | undefined {
    if (this.eventHead >= this.events.length) {
      if (this.events.length) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as unknown as EndpointEvent<C>;
    return e;
  }

  /** Connections in the table, in creation order. */
  connections(): IterableIterator<C> {
    return this.routes.keys();
  }

  get connectionCount(): number {
    return this.routes.size;
  }

  /** Earliest timer of any connection (absolute ms; Infinity = none). Also removes closed connections. */
  nextTimeout(): number {
    let t = Infinity;
    for (const route of this.routes.values()) {
      const conn = route.conn!;
      if (conn.state === 'closed') {
        this.remove(route);
        continue;
      }
      const n = conn.nextTimeout();
      if (n < t) t = n;
    }
    return t;
  }

  /** Run due timers of every connection (nextTimeout() ≤ now), then clean up. */
  onTimeout(now: number): void {
    for (const route of this.routes.values()) {
      const conn = route.conn!;
      if (conn.nextTimeout() <= now) conn.onTimeout(now);
      this.reconcile(route);
      this.afterActivity(route);
    }
  }

  /** Tell the endpoint a connection changed state outside handle()/onTimeout() (e.g. after send or close). */
  touch(conn: C): void {
    const route = this.routes.get(conn);
    if (route === undefined) return;
    this.reconcile(route);
    this.afterActivity(route);
  }

  /** Forget a connection now (e.g. the application abandons it); its CIDs stop routing. */
  forget(conn: C): void {
    const route = this.routes.get(conn);
    if (route !== undefined) this.remove(route, false);
  }

  private remove(route: Route<C>, closedEvent = true): void {
    if (route.closed) return;
    this.unregister(route);
    const conn = route.conn;
    if (conn !== undefined && this.routes.delete(conn)) {
      this.stats.connectionsClosed++;
      this.stats.connectionsActive = this.routes.size;
      if (closedEvent) this.events.push({ type: 'connection-closed', connection: conn });
    }
  }

  private unregister(route: Route<C>): void {
    route.closed = true;
    for (const k of route.cidKeys) if (this.table.get(k) === route) this.table.delete(k);
    route.cidKeys.clear();
    this.releaseInitialKeys(route);
    if (route.addrKey !== '') {
      const set = this.byAddress.get(route.addrKey);
      if (set !== undefined) {
        set.delete(route);
        if (set.size === 0) this.byAddress.delete(route.addrKey);
      }
    }
  }
}

function addressKey(address: string, port: number): string {
  return `${address}|${port}`;
}

function defaultFactory<C extends EndpointConnection>(): ConnectionFactory<C> {
  return (options, now) => new Connection(options, now) as unknown as C;
}

export type { PathInfo, SendInfo };
