// L4: the public shapes of the sans-IO QUIC connection (the lead's contract, /work/notes/CONNECTION-SPEC.md):
// paths, send results, events, errors, stats and qlog events. Plain objects with a `type`
// discriminant (DESIGN §2); errors carry a stable `errCode` string (DESIGN §5).

/** Where a datagram came from or goes to. Addresses are opaque strings to the connection. */
export interface PathInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress?: string;
  localPort?: number;
}

/** One datagram written by Connection.send(). */
export interface SendInfo {
  /** Bytes written at the start of the caller's buffer. */
  length: number;
  /** Destination (the active path, or a path being validated / answered). */
  to: PathInfo;
  /** Pacing (RFC 9002 §7.7): ms; ≤ now means send at once. */
  releaseTime: number;
}

/**
 * Randomness the connection draws from (CIDs, reset tokens, PATH_CHALLENGE data, TLS randoms).
 * Either src/crypto/random.ts's RandomSource (`fillRandom`) or any object with `fill(out)`.
 */
export type RandomSource = { fillRandom(out: Uint8Array): Uint8Array } | { fill(out: Uint8Array): void };

/** A connection ID this endpoint issues, with its stateless reset token (RFC 9000 §5.1, §10.3). */
export interface IssuedCid {
  cid: Uint8Array;
  /** 16 bytes. */
  resetToken: Uint8Array;
}

/** Pluggable CID source (the endpoint encodes e.g. a worker index into it). */
export interface CidGenerator {
  /** Length of every CID generated (1..20). */
  readonly length: number;
  generate(): IssuedCid;
  /**
   * Optional (additive): called when the peer retired one of the CIDs this generator issued
   * (RETIRE_CONNECTION_ID, RFC 9000 §19.16), so the endpoint drops it from its routing table at once.
   */
  retire?(cid: Uint8Array): void;
}

export type ConnectionState = 'handshaking' | 'established' | 'closing' | 'draining' | 'closed';

export type ConnectionErrorKind = 'transport' | 'application' | 'idle' | 'reset' | 'version' | 'local';

export interface ConnectionError {
  kind: ConnectionErrorKind;
  /** Transport or application error code (0 for idle/reset/version). */
  code: number;
  reason: string;
  /** The offending frame type of a transport error, when known. */
  frameType?: number;
  /** True when the peer closed (or reset) the connection. */
  remote: boolean;
  /** Stable code (survives structured clone): ERR_QUIC_TRANSPORT_ERROR, ERR_QUIC_APPLICATION_ERROR, … */
  errCode: string;
}

export type ConnectionEvent =
  | { type: 'handshake-completed'; alpn: string; earlyDataAccepted: boolean; resumed: boolean }
  | { type: 'handshake-confirmed' }
  | { type: 'stream-opened'; id: number; bidirectional: boolean }
  | { type: 'stream-readable'; id: number }
  | { type: 'stream-writable'; id: number }
  | { type: 'stream-reset'; id: number; code: number; finalSize: number }
  | { type: 'stream-stop-sending'; id: number; code: number }
  /** Additive: both directions of the stream are finished and its state was released. */
  | { type: 'stream-closed'; id: number }
  | { type: 'streams-available'; bidirectional: boolean }
  | { type: 'datagram'; data: Uint8Array }
  | { type: 'datagram-acked'; id: number }
  | { type: 'datagram-lost'; id: number }
  | { type: 'session-ticket'; ticket: Uint8Array }
  | { type: 'new-token'; token: Uint8Array }
  | { type: 'cid-issued'; cid: Uint8Array }
  | { type: 'cid-retired'; cid: Uint8Array }
  | { type: 'path-validated'; path: PathInfo }
  | { type: 'path-migrated'; path: PathInfo }
  | { type: 'key-updated'; phase: number }
  /** Additive: the server switched to a compatible version (RFC 9368) or the client followed it. */
  | { type: 'version-negotiated'; version: number }
  | { type: 'closed'; error: ConnectionError };

/** A qlog event (draft-ietf-quic-qlog-quic-events) as a plain object; the JSON-SEQ writer is L7's. */
export interface QlogEvent {
  /** ms, the connection's clock. */
  time: number;
  /** "category:event", e.g. "transport:packet_sent". */
  name: string;
  data: Record<string, unknown>;
}

export interface ConnectionStats {
  rtt: { latest: number; smoothed: number; min: number; variance: number };
  cwnd: number;
  ssthresh: number;
  bytesInFlight: number;
  /** UDP payload bytes. */
  bytesSent: number;
  bytesReceived: number;
  datagramsSent: number;
  datagramsReceived: number;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  bytesLost: number;
  spuriousLosses: number;
  ptoCount: number;
  congestionEvents: number;
  persistentCongestions: number;
  /** Undecryptable/malformed/duplicate packets dropped, by reason. */
  packetsDropped: number;
  dropped: Record<string, number>;
  streamsOpenedLocal: number;
  streamsOpenedRemote: number;
  keyUpdates: number;
  pathValidations: number;
  datagramFramesSent: number;
  datagramFramesReceived: number;
  datagramFramesDropped: number;
  /** ms from creation to handshake completion; -1 before. */
  handshakeDuration: number;
}
