// L4: the state of one QUIC connection (RFC 9000 §5–§14), shared by the receive path
// (receive.ts, frames-in.ts), the packet builder (send.ts), recovery glue (recovery.ts), the TLS
// driver (tls-driver.ts) and the timers (timers.ts). Connection (connection.ts) is the facade.
import { FrameParser } from '../codec/frames.js';
import { PacketHeader } from '../codec/header.js';
import type { TransportParameters } from '../codec/transport-params.js';
import { versionInfo } from '../codec/version.js';
import { initialProtection } from '../crypto/initial.js';
import type { PacketProtection } from '../crypto/packet-protection.js';
import type { TlsClient } from '../tls/client.js';
import type { TlsServer } from '../tls/server.js';
import type { ClientSession } from '../tls/session-ticket.js';
import { LossDetection } from '../transport/loss-detection.js';
import { Pacer } from '../transport/pacer.js';
import { Pmtud } from '../transport/pmtud.js';
import { newStreamFrameInfo } from '../transport/send-stream.js';
import { StreamMap, newControlFrameInfo, type StreamLimits } from '../transport/stream-map.js';
import { Writer } from '../util/bytes.js';
import { LocalCids, PeerCids } from './cids.js';
import { OneRttKeys } from './keys.js';
import type { ResolvedOptions } from './options.js';
import type { TlsConfig } from './tls-driver.js';
import { Path } from './paths.js';
import { Qlog } from './qlog.js';
import { SentRecordPool } from './sent-record.js';
import { PacketSpace, SpaceId } from './spaces.js';
import type { ConnectionError, ConnectionEvent, ConnectionState, PathInfo } from './types.js';

/** A CONNECTION_CLOSE to send (RFC 9000 §10.2, §19.19). */
export interface CloseFrame {
  app: boolean;
  code: number;
  frameType: number;
  reason: Uint8Array;
}

/** A packet that arrived before its keys (RFC 9001 §5.7), kept to retry once the keys exist. */
export interface BufferedPacket {
  data: Uint8Array;
  from: PathInfo;
  level: number;
}

export interface QueuedDatagram {
  id: number;
  data: Uint8Array;
}

export class ConnState {
  readonly o: ResolvedOptions;
  readonly isServer: boolean;
  readonly qlog: Qlog;
  readonly createdAt: number;
  now: number;

  /** The version packets are built with (may change once by compatible negotiation, RFC 9368). */
  version: number;
  /** Client: the unsupported version its long headers carry until Version Negotiation (0 = none). */
  probeVersion = 0;
  /** Client: it reacted to a Version Negotiation packet (later ones are dropped, RFC 9368 §2). */
  vnReceived = false;
  /** Client: the version it started with; server: the version of the client's first Initial. */
  readonly originalVersion: number;
  state: ConnectionState = 'handshaking';
  readonly events: ConnectionEvent[] = [];
  eventHead = 0;

  readonly spaces: [PacketSpace, PacketSpace, PacketSpace];
  /** Server after switching versions: read keys for Initials still sent in the original version. */
  initialOpenOld: PacketProtection | null = null;
  zeroRttSeal: PacketProtection | null = null;
  zeroRttOpen: PacketProtection | null = null;
  /** Server: 0-RTT read keys go 3×PTO after the first 1-RTT packet (RFC 9001 §4.9.3). */
  zeroRttDiscardAt = Infinity;
  oneRtt: OneRttKeys | null = null;
  tls: TlsClient | TlsServer | null = null;
  readonly ld: LossDetection;
  readonly pacer: Pacer;
  /** DPLPMTUD (RFC 8899 / RFC 9000 §14.3), null when disabled. */
  readonly pmtud: Pmtud | null;
  /** The PLPMTU in use: the UDP payload size datagrams are built at (before the peer's limit). */
  mtu: number;
  readonly streams: StreamMap;
  readonly localCids: LocalCids;
  readonly peerCids: PeerCids;
  readonly pool = new SentRecordPool();

  // ---- paths (RFC 9000 §8, §9)
  path: Path;
  /** The path before a migration, kept as the fallback while the new one is validated. */
  prevPath: Path | null = null;
  /** Other paths we heard from (probes), where PATH_RESPONSEs are owed. */
  readonly probePaths: Path[] = [];

  // ---- handshake
  /** DCID the Initial keys derive from (client: first DCID, then a Retry's SCID). */
  initialDcid: Uint8Array;
  /** The DCID of the client's first Initial (original_destination_connection_id). */
  readonly originalDcid: Uint8Array;
  retrySourceCid: Uint8Array | null;
  /** Client: token for Initial packets (Retry or NEW_TOKEN). */
  token: Uint8Array;
  retryReceived = false;
  /** Client: the server's SCID is known (first Initial/Handshake processed). Server: the client's. */
  peerScidKnown = false;
  /** Some packet from the peer was processed (VN / Retry are then ignored). */
  receivedAny = false;
  localParams: TransportParameters | null = null;
  peerParams: TransportParameters | null = null;
  /** Peer's ack_delay_exponent (default 3 until known). */
  peerAckDelayExponent = 3;
  handshakeComplete = false;
  handshakeConfirmed = false;
  handshakeDonePending = false;
  handshakeCompletedAt = -1;
  alpn = '';
  earlyDataAccepted = false;
  resumed = false;
  /** Client: the session it resumes and whether 0-RTT was offered with it. */
  session: ClientSession | undefined = undefined;
  earlyDataOffered = false;
  earlyDataRejected = false;
  /** Server: a Handshake packet was received (Initial keys discarded, address validated). */
  handshakePacketReceived = false;
  /** Client: a Handshake packet was sent (Initial keys discarded). */
  handshakePacketSent = false;
  newTokenPending: Uint8Array | null = null;
  /** Client resuming with 0-RTT: the server parameters remembered from the session (RFC 9000 §7.4.1). */
  rememberedParams: TransportParameters | null = null;
  /**
   * Client with 0-RTT in play: the server's new stream limits, applied once 0-RTT is over (1-RTT
   * keys, or rejection) — 0-RTT packets use only the remembered values (RFC 9000 §7.4.1).
   */
  deferredPeerLimits: StreamLimits | null = null;
  /** Client: 1-RTT read keys that arrived before the write keys. */
  pendingOneRttOpen: PacketProtection | null = null;
  /** New read keys were installed: retry buffered packets. */
  keysUnlocked = false;
  /** Prepared TLS settings (certificates, trust anchors, session). */
  tlsCfg: TlsConfig = {};
  /** After a migration to a new IP address, seed the RTT from the path challenge (RFC 9000 §9.4). */
  pathRttReset = false;

  // ---- closing (RFC 9000 §10)
  closeFrame: CloseFrame | null = null;
  error: ConnectionError | null = null;
  closeDeadline = Infinity;
  /** Send the CONNECTION_CLOSE (again) at the next send(). */
  closeSendPending = false;
  /** Closing period: packets received since the last CONNECTION_CLOSE resend, and the threshold. */
  closeRecv = 0;
  closeRecvThreshold = 1;
  closedEmitted = false;

  // ---- timers
  /** Effective idle timeout (ms), Infinity when neither side set one (RFC 9000 §10.1). */
  idleTimeout = Infinity;
  idleDeadline = Infinity;
  /** An ack-eliciting packet was sent since the last packet was received (idle timer restart rule). */
  ackElicitingSentSinceRecv = false;
  keepAliveDeadline = Infinity;
  pingPending = false;
  /** PTO probes owed per space (RFC 9002 §6.2.4). */
  readonly probes = [0, 0, 0];
  /** When paced data may go again (send() held it back), Infinity when not waiting. */
  pacingWakeup = Infinity;
  /** Release time of the last datagram handed out (monotonic). */
  lastRelease = 0;
  /** Sequence number of our CID the peer used on its highest-numbered 1-RTT packet (-1: none yet). */
  peerDcidSeq = -1;
  /** When the last packet was processed (ms). */
  lastRecvTime = 0;
  /** When STREAM data last arrived (ms), -Infinity before any. */
  lastStreamRecvTime = -Infinity;
  /** Stall probes sent since STREAM data last arrived (backoff exponent; at most MAX_STALL_PROBES). */
  stallProbes = 0;
  /** ACK-only packets sent since the last ack-eliciting one (RFC 9000 §13.2.1: elicit now and then). */
  ackOnlyRun = 0;

  /** Per stream type (RFC 9000 §2.1): how many streams of it were ever opened (by either side). */
  readonly openedStreams = [0, 0, 0, 0];

  // ---- datagrams (RFC 9221)
  readonly dgramQueue: QueuedDatagram[] = [];
  nextDatagramId = 0;

  // ---- undecryptable-yet packets (RFC 9001 §5.7)
  readonly buffered: BufferedPacket[] = [];

  // ---- counters
  readonly counters = {
    bytesSent: 0,
    bytesReceived: 0,
    datagramsSent: 0,
    datagramsReceived: 0,
    packetsReceived: 0,
    packetsDropped: 0,
    streamsOpenedLocal: 0,
    streamsOpenedRemote: 0,
    keyUpdates: 0,
    pathValidations: 0,
    datagramFramesSent: 0,
    datagramFramesReceived: 0,
    datagramFramesDropped: 0,
  };
  readonly dropped: Record<string, number> = {};
  /** An exception from our own code caught in receive()/send() (a bug); kept for tests. */
  internalError: unknown = undefined;

  // ---- scratch (DESIGN §7)
  readonly hdr = new PacketHeader();
  readonly parser = new FrameParser();
  readonly writer = new Writer(new Uint8Array(0));
  readonly ctrlInfo = newControlFrameInfo();
  readonly streamInfo = newStreamFrameInfo();
  readonly ackScratch: number[] = [];

  constructor(o: ResolvedOptions, now: number) {
    this.o = o;
    this.isServer = o.isServer;
    this.qlog = new Qlog(o.qlog);
    this.createdAt = now;
    this.now = now;
    this.version = o.version;
    this.originalVersion = o.version;
    this.probeVersion = o.probeVersion;
    const raw = o.raw;
    this.spaces = [new PacketSpace(SpaceId.Initial), new PacketSpace(SpaceId.Handshake), new PacketSpace(SpaceId.Application)];
    this.localCids = new LocalCids(o.cidGenerator, raw.localCid);
    if (this.isServer) {
      this.initialDcid = raw.initialDcid!.slice();
      this.originalDcid = (raw.originalDcid ?? raw.initialDcid!).slice();
      this.retrySourceCid = raw.retrySourceCid ? raw.retrySourceCid.slice() : null;
      this.token = new Uint8Array(0);
    } else {
      this.initialDcid = raw.initialDcid ? raw.initialDcid.slice() : o.rng.bytes(8);
      this.originalDcid = this.initialDcid;
      this.retrySourceCid = null;
      this.token = raw.token ? raw.token.slice() : new Uint8Array(0);
    }
    // The peer's CID: the client's SCID arrives with its Initial; the server's with its reply.
    this.peerCids = new PeerCids(this.isServer ? new Uint8Array(0) : this.initialDcid, o.transport.activeConnectionIdLimit);
    const keys = initialProtection(this.version, this.initialDcid, this.isServer);
    this.spaces[0].seal = keys.seal;
    this.spaces[0].open = keys.open;
    this.ld = new LossDetection({
      isServer: this.isServer,
      congestionControl: o.congestionControl,
      congestion: { maxDatagramSize: o.maxDatagramSize },
      initialRtt: o.initialRtt,
    });
    this.pacer = new Pacer(o.maxDatagramSize);
    this.mtu = o.maxDatagramSize;
    this.pmtud = o.pmtudMax > o.maxDatagramSize ? new Pmtud({ basePlpmtu: o.maxDatagramSize, maxPlpmtu: o.pmtudMax }) : null;
    const t = o.transport;
    this.streams = new StreamMap({
      isClient: !this.isServer,
      local: {
        initialMaxData: t.initialMaxData,
        initialMaxStreamDataBidiLocal: t.initialMaxStreamDataBidiLocal,
        initialMaxStreamDataBidiRemote: t.initialMaxStreamDataBidiRemote,
        initialMaxStreamDataUni: t.initialMaxStreamDataUni,
        initialMaxStreamsBidi: t.initialMaxStreamsBidi,
        initialMaxStreamsUni: t.initialMaxStreamsUni,
      },
    });
    this.path = new Path({ remoteAddress: '', remotePort: 0 }, !this.isServer || raw.addressValidated === true);
    this.lastRecvTime = now;
    if (t.maxIdleTimeout > 0) {
      this.idleTimeout = t.maxIdleTimeout;
      this.idleDeadline = now + t.maxIdleTimeout;
    }
  }

  get versionName(): string {
    return versionInfo(this.version)?.name ?? String(this.version);
  }

  emit(e: ConnectionEvent): void {
    this.events.push(e);
  }

  drop(reason: string): void {
    this.counters.packetsDropped++;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    if (this.qlog.enabled) this.qlog.emit(this.now, 'transport:packet_dropped', { trigger: reason });
  }

  setState(s: ConnectionState): void {
    if (this.state === s) return;
    const old = this.state;
    this.state = s;
    if (this.qlog.enabled) this.qlog.emit(this.now, 'connectivity:connection_state_updated', { old, new: s });
  }

  /** The PMTU search found a new size (or fell back): rebuild what depends on it. */
  applyMtu(): void {
    if (this.pmtud === null || this.pmtud.plpmtu === this.mtu) return;
    this.mtu = this.pmtud.plpmtu;
    const mds = this.maxDatagramSize();
    this.ld.cc.setMaxDatagramSize(mds);
    this.pacer.setMaxDatagramSize(mds);
    if (this.qlog.enabled) this.qlog.emit(this.now, 'connectivity:mtu_updated', { new: this.mtu, done: this.pmtud.state === 'search_complete' });
  }

  /** 3 × the current PTO (closing/draining periods, key retention; RFC 9000 §10.2, RFC 9001 §4.9). */
  pto3(): number {
    return 3 * this.ld.ptoPeriod();
  }

  /** Largest UDP payload we may build (our setting, the peer's max_udp_payload_size). */
  maxDatagramSize(): number {
    const peer = this.peerParams?.maxUdpPayloadSize ?? 65527;
    return Math.min(this.mtu, peer);
  }
}
