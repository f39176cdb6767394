// L4: Connection — one QUIC connection as a sans-IO state machine (DESIGN §2; RFC 9000, 9001, 9002,
// 9221, 9368, 9369). Datagrams in (`receive`), datagrams out (`send`), one timer (`nextTimeout` /
// `onTimeout`), events pulled with `pollEvent`, streams pulled with `streamRead`. No clock, no
// sockets, no global randomness: `now` (ms) and `options.rng` come from the caller.
// The protocol logic lives in the sibling modules; this file is the contract's surface
// (/work/notes/CONNECTION-SPEC.md) with argument checking.
import { decodePacketHeader, PacketHeader } from '../codec/header.js';
import { PacketType, isSupportedVersion } from '../codec/version.js';
import type { TransportParameters } from '../codec/transport-params.js';
import { READ_END, READ_RESET } from '../transport/stream-map.js';
import { StreamUsageError, isLocallyInitiated, isUni, streamIndex, streamType } from '../transport/stream-id.js';
import { closeInternal, closeLocally, enterDraining, makeError } from './close.js';
import { flushAuxEvents, noteOpened } from './events.js';
import { resolveOptions, type ConnectionOptions } from './options.js';
import { Path, validatePathInfo } from './paths.js';
import { receiveDatagram } from './receive.js';
import { buildDatagram } from './send.js';
import { ConnState } from './state.js';
import { checkKeyUpdate, initiateKeyUpdate, nextTimeout, onTimeout } from './timers.js';
import { prepareTls, startClientTls } from './tls-driver.js';
import { qlogParameters } from './qlog.js';
import type { ConnectionError, ConnectionEvent, ConnectionState, ConnectionStats, PathInfo, SendInfo } from './types.js';
import { toHex } from '../util/bytes.js';

/**
 * Kept for API stability; not thrown: calls on a closing or closed connection are no-ops
 * (openStream → null, streamWrite → -1, sendDatagram → null).
 */
export class ConnectionClosedError extends Error {
  readonly code = 'ERR_QUIC_CONNECTION_CLOSED';
  constructor(what: string) {
    super(`${what}: the connection is closed`);
    this.name = 'ConnectionClosedError';
  }
}

function checkNow(now: unknown): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError(`now: expected a finite number of ms, got ${String(now)}`);
}

function checkCode(name: string, code: unknown): void {
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${name}: expected a non-negative integer error code, got ${String(code)}`);
  }
}

function checkStreamId(id: unknown): void {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new RangeError(`id: expected a stream ID, got ${String(id)}`);
}

/** Result of streamRead. `fin`: everything up to the FIN was read (or the stream was reset: see `resetCode`). */
export interface StreamReadResult {
  bytes: number;
  fin: boolean;
  /** The peer's RESET_STREAM code, -1 when not reset. */
  resetCode: number;
}

const states = new WeakMap<Connection, ConnState>();

export class Connection {
  private readonly st: ConnState;

  /** Client: ready to send its first Initial. Server: created by the endpoint for a client's Initial. */
  constructor(options: ConnectionOptions, now: number) {
    checkNow(now);
    const o = resolveOptions(options);
    const cfg = prepareTls(options);
    if (options.remote !== undefined) validatePathInfo('options.remote', options.remote);
    else if (!o.isServer) throw new TypeError('options.remote: required for a client connection');
    const st = new ConnState(o, now);
    this.st = st;
    states.set(this, st);
    st.tlsCfg = cfg;
    if (options.remote !== undefined) st.path = new Path(options.remote, st.path.validated);
    if (st.qlog.enabled) {
      st.qlog.emit(now, 'connectivity:connection_started', {
        role: o.isServer ? 'server' : 'client',
        version: o.version.toString(16),
        scid: toHex(st.localCids.initial.cid),
        dcid: toHex(o.isServer ? new Uint8Array(0) : st.initialDcid),
        dst_ip: st.path.info.remoteAddress,
        dst_port: st.path.info.remotePort,
      });
    }
    if (!o.isServer) startClientTls(st, cfg, now);
    else if (st.localParams !== null && st.qlog.enabled) st.qlog.emit(now, 'transport:parameters_set', qlogParameters('local', st.localParams));
  }

  // ------------------------------------------------------------------ I/O

  /** A datagram from the network (decrypted in place). Never throws for peer input. */
  receive(datagram: Uint8Array, from: PathInfo, now: number): void {
    if (!(datagram instanceof Uint8Array)) throw new TypeError('datagram: expected a Uint8Array');
    validatePathInfo('from', from);
    checkNow(now);
    const st = this.st;
    receiveDatagram(st, datagram, from, now);
    flushAuxEvents(st);
  }

  /** Write one datagram (coalesced packets) into `out`; null when nothing is to be sent now. */
  send(out: Uint8Array, now: number): SendInfo | null {
    if (!(out instanceof Uint8Array)) throw new TypeError('out: expected a Uint8Array');
    checkNow(now);
    const st = this.st;
    let r: SendInfo | null = null;
    try {
      r = buildDatagram(st, out, now);
      if (r !== null) checkKeyUpdate(st, now);
    } catch (e) {
      closeInternal(st, e, now);
      r = null;
    }
    flushAuxEvents(st);
    return r;
  }

  /**
   * RFC 9000 §10.3.1 for a datagram no CID routed (endpoint use): true when it ends in a stateless
   * reset token of ours, which puts the connection into draining.
   */
  handleStatelessReset(datagram: Uint8Array, now: number): boolean {
    if (!(datagram instanceof Uint8Array)) throw new TypeError('datagram: expected a Uint8Array');
    checkNow(now);
    const st = this.st;
    if (st.state !== 'handshaking' && st.state !== 'established' && st.state !== 'closing') return false;
    if (datagram.length < 21 || (datagram[0]! & 0x80) !== 0 || !st.peerCids.isStatelessReset(datagram)) return false;
    enterDraining(st, makeError('reset', 0, 'stateless reset', true), now);
    flushAuxEvents(st);
    return true;
  }

  /** Absolute time (ms) of the next timer, Infinity when none. */
  nextTimeout(): number {
    return nextTimeout(this.st);
  }

  onTimeout(now: number): void {
    checkNow(now);
    onTimeout(this.st, now);
    flushAuxEvents(this.st);
  }

  pollEvent(): ConnectionEvent | undefined {
    const st = this.st;
    flushAuxEvents(st);
    if (st.eventHead >= st.events.length) {
      if (st.eventHead !== 0) {
        st.events.length = 0;
        st.eventHead = 0;
      }
      return undefined;
    }
    const e = st.events[st.eventHead]!;
    st.events[st.eventHead++] = undefined as unknown as ConnectionEvent;
    return e;
  }

  // ------------------------------------------------------------------ streams

  /**
   * True when `id` names a stream that existed and was already closed and released (calls on it are
   * no-ops); throws StreamUsageError (a RangeError) for an ID never opened by either side.
   */
  private released(id: number): boolean {
    if (this.st.streams.get(id) !== undefined) return false;
    if (streamIndex(id) < this.st.openedStreams[streamType(id)]!) return true;
    throw new StreamUsageError(id, 'no such stream (never opened)');
  }

  /**
   * The connection can take new work. A peer may close at any moment, so calls racing with that are
   * not errors: they become no-ops (openStream → null, streamWrite → -1, sendDatagram → null).
   */
  private get open(): boolean {
    const s = this.st.state;
    return s === 'handshaking' || s === 'established';
  }

  /**
   * Open a stream; null when the peer's MAX_STREAMS is reached ('streams-available' follows) or the
   * connection is closing/closed.
   */
  openStream(bidirectional: boolean): number | null {
    if (typeof bidirectional !== 'boolean') throw new TypeError('bidirectional: expected a boolean');
    if (!this.open) return null;
    const id = this.st.streams.open(bidirectional);
    if (id !== null) {
      this.st.counters.streamsOpenedLocal++;
      noteOpened(this.st, id);
    }
    return id;
  }

  /**
   * Queue bytes (copied) on a stream; returns how many were accepted (backpressure: the rest waits
   * for 'stream-writable'), or -1 when our sending side was reset (e.g. after STOP_SENDING).
   */
  streamWrite(id: number, data: Uint8Array, fin = false): number {
    checkStreamId(id);
    if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
    if (this.released(id) || !this.open) return -1;
    const s = this.st.streams.get(id);
    const room = s?.send?.writable ?? data.length;
    const n = data.length < room ? data.length : room;
    const copy = n === 0 ? data.subarray(0, 0) : data.slice(0, n);
    const w = this.st.streams.write(id, copy, fin && n === data.length);
    // Only the copied part reached the stream map: note the backpressure so 'stream-writable' follows.
    if (w >= 0 && w < data.length && s !== undefined) s.writeBlocked = true;
    return w;
  }

  /**
   * streamWrite for bytes the caller hands over: they are queued by reference, not copied, so the
   * caller must never change `data` afterwards (HTTP/3 frames built for this one write).
   */
  streamWriteOwned(id: number, data: Uint8Array, fin = false): number {
    checkStreamId(id);
    if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
    if (this.released(id) || !this.open) return -1;
    const s = this.st.streams.get(id);
    const w = this.st.streams.write(id, data, fin);
    if (w >= 0 && w < data.length && s !== undefined) s.writeBlocked = true;
    return w;
  }

  /** Send FIN after the queued data. */
  streamFinish(id: number): void {
    checkStreamId(id);
    if (this.released(id) || !this.open) return;
    this.st.streams.finish(id);
  }

  /** Copy readable bytes into `out`. `fin` once every byte up to the FIN was read (or on reset). */
  streamRead(id: number, out: Uint8Array): StreamReadResult {
    checkStreamId(id);
    if (!(out instanceof Uint8Array)) throw new TypeError('out: expected a Uint8Array');
    const streams = this.st.streams;
    if (this.released(id)) return { bytes: 0, fin: true, resetCode: -1 };
    const s = streams.get(id);
    if (s !== undefined && s.recv === null) throw new StreamUsageError(id, 'send-only stream');
    const n = streams.read(id, out);
    if (n === READ_END) return { bytes: 0, fin: true, resetCode: -1 };
    if (n === READ_RESET) return { bytes: 0, fin: true, resetCode: s?.recv?.resetCode ?? 0 };
    const r = s?.recv;
    if (r !== null && r !== undefined && r.finalSize >= 0 && r.readOffset === r.finalSize && r.readable === 0) {
      // Everything was read: observe the end now so the stream can be released.
      streams.read(id, out, out.length);
      flushAuxEvents(this.st);
      return { bytes: n, fin: true, resetCode: -1 };
    }
    return { bytes: n, fin: false, resetCode: -1 };
  }

  /** Abandon sending with RESET_STREAM(code). */
  streamReset(id: number, code: number): void {
    checkStreamId(id);
    checkCode('code', code);
    if (this.st.state !== 'established' && this.st.state !== 'handshaking') return;
    if (this.released(id)) return;
    this.st.streams.resetStream(id, code);
  }

  /** Stop reading: discard data and send STOP_SENDING(code). */
  streamStopSending(id: number, code: number): void {
    checkStreamId(id);
    checkCode('code', code);
    if (this.st.state !== 'established' && this.st.state !== 'handshaking') return;
    if (this.released(id)) return;
    this.st.streams.stopSending(id, code);
  }

  /** RFC 9218 priority hook: urgency 0..7 (0 first), incremental = round robin within a level. */
  streamSetPriority(id: number, urgency: number, incremental: boolean): void {
    checkStreamId(id);
    if (typeof urgency !== 'number' || !Number.isInteger(urgency) || urgency < 0 || urgency > 7) throw new RangeError('urgency: expected an integer 0..7');
    if (typeof incremental !== 'boolean') throw new TypeError('incremental: expected a boolean');
    if (this.released(id)) return;
    this.st.streams.setPriority(id, urgency, incremental);
  }

  /** True when the stream exists (not yet fully closed and released). */
  hasStream(id: number): boolean {
    return this.st.streams.get(id) !== undefined;
  }

  /** Whether `id` names a stream this endpoint opens (client-/server-initiated by role). */
  isLocalStream(id: number): boolean {
    return isLocallyInitiated(id, !this.st.isServer);
  }

  /** Whether `id` is a unidirectional stream. */
  static isUnidirectional(id: number): boolean {
    return isUni(id);
  }

  // ------------------------------------------------------------------ datagrams (RFC 9221)

  /**
   * Queue a DATAGRAM frame (copied). Returns its id for 'datagram-acked'/'datagram-lost' events, or
   * null when the peer does not accept datagrams or `data` exceeds maxDatagramSize. When the queue
   * is full the oldest queued datagram is dropped and reported lost.
   */
  sendDatagram(data: Uint8Array): number | null {
    if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
    if (!this.open) return null;
    const st = this.st;
    if (data.length > this.maxDatagramSize) return null;
    const q = st.dgramQueue;
    if (q.length >= st.o.datagramSendQueue) {
      const dropped = q.shift()!;
      st.counters.datagramFramesDropped++;
      st.emit({ type: 'datagram-lost', id: dropped.id });
    }
    const id = st.nextDatagramId++;
    q.push({ id, data: data.slice() });
    return id;
  }

  /** Largest DATAGRAM payload we can send now; 0 when the peer did not negotiate DATAGRAM. */
  get maxDatagramSize(): number {
    const st = this.st;
    const peer = st.peerParams?.maxDatagramFrameSize ?? st.rememberedParams?.maxDatagramFrameSize ?? 0;
    if (peer === 0) return 0;
    // Frame: type + 2-byte length; packet: short header (1 + DCID + 4-byte PN) and the AEAD tag.
    const packetRoom = st.maxDatagramSize() - 1 - st.peerCids.active.cid.length - 4 - 16 - 1 - 2;
    return Math.max(0, Math.min(peer - 3, packetRoom));
  }

  // ------------------------------------------------------------------ control

  /**
   * Close the connection (RFC 9000 §10.2): CONNECTION_CLOSE with `code` (an application error by
   * default, 0x1d; `application` false sends a transport error, 0x1c), then the closing period.
   * `now` (additive, optional): the current time; default the time of the last call that passed one.
   */
  close(code = 0, reason = '', application = true, now?: number): void {
    checkCode('code', code);
    if (typeof reason !== 'string') throw new TypeError('reason: expected a string');
    if (now !== undefined) checkNow(now);
    const st = this.st;
    if (now !== undefined && now > st.now) st.now = now;
    closeLocally(st, application, code, reason, 0, application ? 'application' : 'transport', st.now);
    flushAuxEvents(st);
  }

  /** Initiate a key update (RFC 9001 §6). False when not allowed yet (handshake unconfirmed, update pending). */
  updateKeys(): boolean {
    return initiateKeyUpdate(this.st, this.st.now);
  }

  /** Switch to another CID the peer issued and retire the current one. False when none is spare. */
  rotatePeerCid(): boolean {
    const ok = this.st.peerCids.rotate();
    return ok;
  }

  // ------------------------------------------------------------------ state

  get state(): ConnectionState {
    return this.st.state;
  }

  get isServer(): boolean {
    return this.st.isServer;
  }

  get handshakeComplete(): boolean {
    return this.st.handshakeComplete;
  }

  get handshakeConfirmed(): boolean {
    return this.st.handshakeConfirmed;
  }

  /** Negotiated ALPN ('' before the handshake completes). */
  get alpn(): string {
    return this.st.alpn;
  }

  get resumed(): boolean {
    return this.st.resumed;
  }

  get earlyDataAccepted(): boolean {
    return this.st.earlyDataAccepted;
  }

  /** The QUIC version in use (after compatible version negotiation). */
  get version(): number {
    return this.st.version;
  }

  /** The peer's transport parameters, null until received. */
  get peerTransportParams(): TransportParameters | null {
    return this.st.peerParams;
  }

  /** Our active connection IDs (the endpoint routes short headers by these). */
  get localCids(): Uint8Array[] {
    return this.st.localCids.activeCids();
  }

  /** How many of our CIDs are active (localCids.length without building the array). */
  get localCidCount(): number {
    return this.st.localCids.activeCount();
  }

  /** Our CID of sequence 0 (the SCID of our long-header packets). */
  get sourceCid(): Uint8Array {
    return this.st.localCids.initial.cid;
  }

  /** The DCID of the client's first Initial (client-chosen; the endpoint routes Initials/0-RTT by it). */
  get originalDcid(): Uint8Array {
    return this.st.originalDcid;
  }

  /** The DCID we currently send to. */
  get peerCid(): Uint8Array {
    return this.st.peerCids.active.cid;
  }

  /** The active path. */
  get path(): PathInfo {
    return { ...this.st.path.info };
  }

  /** The error that closed (or is closing) the connection, null while open. */
  get error(): ConnectionError | null {
    return this.st.error;
  }

  get stats(): ConnectionStats {
    const st = this.st;
    const ld = st.ld;
    const c = st.counters;
    return {
      rtt: { latest: ld.rtt.latestRtt, smoothed: ld.rtt.smoothedRtt, min: ld.rtt.minRtt, variance: ld.rtt.rttvar },
      cwnd: ld.cc.congestionWindow,
      ssthresh: ld.cc.ssthresh,
      bytesInFlight: ld.cc.bytesInFlight,
      bytesSent: c.bytesSent,
      bytesReceived: c.bytesReceived,
      datagramsSent: c.datagramsSent,
      datagramsReceived: c.datagramsReceived,
      packetsSent: ld.stats.packetsSent,
      packetsReceived: c.packetsReceived,
      packetsLost: ld.stats.packetsLost,
      bytesLost: ld.stats.bytesLost,
      spuriousLosses: ld.stats.spuriousLosses,
      ptoCount: ld.stats.ptoCount,
      congestionEvents: ld.stats.congestionEvents,
      persistentCongestions: ld.stats.persistentCongestions,
      packetsDropped: c.packetsDropped,
      dropped: { ...st.dropped },
      streamsOpenedLocal: c.streamsOpenedLocal,
      streamsOpenedRemote: c.streamsOpenedRemote,
      keyUpdates: c.keyUpdates,
      pathValidations: c.pathValidations,
      datagramFramesSent: c.datagramFramesSent,
      datagramFramesReceived: c.datagramFramesReceived,
      datagramFramesDropped: c.datagramFramesDropped,
      handshakeDuration: st.handshakeCompletedAt < 0 ? -1 : st.handshakeCompletedAt - st.createdAt,
    };
  }
}

/** Internal state of a connection (tests and the in-repo endpoint only; not a stable API). */
export function connectionInternals(c: Connection): ConnState {
  const st = states.get(c);
  if (st === undefined) throw new TypeError('not a Connection');
  return st;
}

/** What the endpoint needs to know about a client's first Initial datagram. */
export interface InitialInfo {
  version: number;
  /** DCID chosen by the client (the server's Initial keys derive from it). */
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array;
}

const scratchHeader = new PacketHeader();

/** Parse the first packet of a datagram as a client Initial of a supported version; null otherwise. */
export function parseInitial(datagram: Uint8Array): InitialInfo | null {
  try {
    const h = decodePacketHeader(datagram, 0, datagram.length, 0, scratchHeader);
    if (!h.long || h.type !== PacketType.Initial || !isSupportedVersion(h.version)) return null;
    return { version: h.version, dcid: h.dcid.slice(), scid: h.scid.slice(), token: h.token.slice() };
  } catch {
    return null;
  }
}

/**
 * Create the server connection for a client's first Initial datagram and process it. `options`
 * carries the server settings (certificate, alpn, transport, rng, cidGenerator…) plus what the
 * endpoint knows: `originalDcid`/`retrySourceCid` after a Retry, `addressValidated` for a valid
 * token. Returns null when the datagram does not start with a supported Initial.
 */
export function createServerConnection(
  options: Omit<ConnectionOptions, 'role' | 'version' | 'initialDcid'>,
  datagram: Uint8Array,
  from: PathInfo,
  now: number,
): Connection | null {
  const info = parseInitial(datagram);
  if (info === null) return null;
  const conn = new Connection({ ...options, role: 'server', version: info.version, initialDcid: info.dcid, remote: from }, now);
  conn.receive(datagram, from, now);
  return conn;
}
