// L6: what HTTP/3 (RFC 9114 §6) needs from a QUIC connection — a structural subset of the sans-IO
// Connection's public surface (/work/notes/CONNECTION-SPEC.md, src/connection/index.ts), so the real
// Connection satisfies it and tests can drive H3 over an in-memory fake. Nothing here imports the
// connection: HTTP/3 stays on the public surface only (DESIGN §1).
//
// Stream IDs follow RFC 9000 §2.1: bit 0 = initiator (0 client, 1 server), bit 1 = direction
// (0 bidirectional, 1 unidirectional).

/** The QUIC connection operations the HTTP/3 layer calls. */
export interface H3Transport {
  /** Open a stream; null when the peer's MAX_STREAMS blocks it ('streams-available' follows). */
  openStream(bidirectional: boolean): number | null;
  /** Queue bytes on a stream; returns how many were accepted (backpressure: 'stream-writable' follows). */
  streamWrite(id: number, data: Uint8Array, fin?: boolean): number;
  /**
   * Optional: streamWrite of bytes handed over for good — the transport may keep `data` by
   * reference instead of copying it (the caller never changes it afterwards).
   */
  streamWriteOwned?(id: number, data: Uint8Array, fin?: boolean): number;
  /** Send FIN after the bytes already accepted. */
  streamFinish(id: number): void;
  /**
   * Pull received bytes; `fin` once everything up to the FIN has been read. A transport may report
   * a peer reset here too (`fin` with `resetCode` ≥ 0); a read that reports it completes the stream.
   */
  streamRead(id: number, out: Uint8Array): { bytes: number; fin: boolean; resetCode?: number };
  /** RESET_STREAM (RFC 9000 §19.4). */
  streamReset(id: number, code: number): void;
  /** STOP_SENDING (RFC 9000 §19.5); the stream's received data is discarded. */
  streamStopSending(id: number, code: number): void;
  /** RFC 9218 scheduling hook: urgency 0 (first) .. 7, incremental round-robin within an urgency. */
  streamSetPriority(id: number, urgency: number, incremental: boolean): void;
  /** RFC 9221 DATAGRAM; returns an id, or null when too big or not negotiated. */
  sendDatagram(data: Uint8Array): number | null;
  /** Largest DATAGRAM payload the peer accepts (0: not negotiated). */
  readonly maxDatagramSize: number;
  /** CONNECTION_CLOSE; HTTP/3 always closes with application error codes. */
  close(code: number, reason?: string, application?: boolean): void;
  /**
   * Optional: the connection state. 'closing' / 'draining' / 'closed' tell HTTP/3 the connection is
   * over before the 'closed' event (which follows the draining period).
   */
  readonly state?: string;
  /** Optional: why it ended, once it has (the connection's ConnectionError). */
  readonly error?: H3TransportCloseInfo | null;
}

/** How a transport reports the end of the connection (the connection's ConnectionError). */
export interface H3TransportCloseInfo {
  kind: string;
  code: number;
  reason: string;
  remote: boolean;
  frameType?: number;
  errCode?: string;
}

/**
 * The transport events HTTP/3 acts on (a subset of the connection's ConnectionEvent). The driver
 * passes every connection event to H3Connection.handleTransportEvent(); other types are ignored.
 */
export type H3TransportEvent =
  /** `earlyDataAccepted`: the server accepted our 0-RTT (client; the connection's event carries it). */
  | { type: 'handshake-completed'; earlyDataAccepted?: boolean }
  | { type: 'stream-opened'; id: number; bidirectional: boolean }
  | { type: 'stream-readable'; id: number }
  | { type: 'stream-writable'; id: number }
  | { type: 'stream-reset'; id: number; code: number; finalSize?: number }
  | { type: 'stream-stop-sending'; id: number; code: number }
  | { type: 'streams-available'; bidirectional: boolean }
  /** Both directions finished and acknowledged: a graceful shutdown closes only after these. */
  | { type: 'stream-closed'; id: number }
  | { type: 'datagram'; data: Uint8Array }
  | { type: 'closed'; error: H3TransportCloseInfo };

/** Randomness for GREASE (RFC 9114 §7.2.4.1, §7.2.8, §6.2.3); src/crypto/random.ts's RandomSource fits. */
export interface H3Random {
  uint32(): number;
}

/** RFC 9000 §2.1 stream ID helpers (modulo, not bit operations: IDs go up to 2^62). */
export function isBidi(id: number): boolean {
  return id % 4 < 2;
}

export function isClientInitiated(id: number): boolean {
  return id % 2 === 0;
}

/** A request stream: client-initiated bidirectional (RFC 9114 §6.1). */
export function isRequestStreamId(id: number): boolean {
  return id % 4 === 0;
}
