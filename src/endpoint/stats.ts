// L5: endpoint counters (DESIGN §3: the protocol core exposes plain `stats` objects; L7 maps them to
// metrics). Every datagram the endpoint refuses is counted under exactly one drop reason.

export const DROP_REASONS = [
  /** A zero-length datagram. */
  'empty',
  /** Too small to be a QUIC packet (short header < 21 bytes or shorter than our CID length, RFC 9000 §10.3). */
  'short_packet',
  /** The header does not parse (truncated invariants, fixed bit, CID > 20 bytes, …). */
  'bad_header',
  /** Unknown version in a datagram < 1200 bytes: no Version Negotiation (RFC 9000 §6.1, §14.1). */
  'unknown_version_small',
  /** Unknown version that a client endpoint (or a VN-disabled server) cannot answer. */
  'unknown_version',
  /** A Version Negotiation packet for no connection of ours (never answered, RFC 9000 §6.1). */
  'version_negotiation',
  /** A short header (or non-Initial long header) for a connection ID we do not know. */
  'unknown_cid',
  /** An unknown-CID packet too small to answer with a smaller stateless reset (RFC 9000 §10.3.3). */
  'reset_too_small',
  /** A stateless reset was due but the rate limit said no. */
  'reset_rate_limited',
  /** A datagram carrying a new Initial with < 1200 bytes (RFC 9000 §14.1 MUST discard). */
  'initial_too_small',
  /** A client's first Initial with a DCID shorter than 8 bytes (RFC 9000 §7.2). */
  'initial_dcid_too_short',
  /** A new Initial that does not decrypt with the Initial keys of its DCID. */
  'initial_undecryptable',
  /** An Initial reached a client-only endpoint. */
  'not_server',
  /** An Initial with an invalid Retry token (answered with INVALID_TOKEN when it decrypts). */
  'invalid_token',
  /** Refused at the connection limit (answered with CONNECTION_REFUSED). */
  'connection_limit',
  /** A 0-RTT packet before its Initial could not be buffered. */
  'zero_rtt_unbuffered',
  /** The endpoint's outgoing packet queue (VN/Retry/reset) was full. */
  'queue_full',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export interface EndpointStats {
  datagramsReceived: number;
  bytesReceived: number;
  /** Datagrams handed to a connection. */
  datagramsRouted: number;
  /** Datagrams refused, by reason (sum of `dropped`). */
  datagramsDropped: number;
  dropped: Record<DropReason, number>;
  /** Server connections created from Initials. */
  connectionsAccepted: number;
  /** Client connections created with connect(). */
  connectionsOpened: number;
  /** Connections removed after reaching 'closed'. */
  connectionsClosed: number;
  /** Connections currently in the table. */
  connectionsActive: number;
  versionNegotiationSent: number;
  retrySent: number;
  statelessResetSent: number;
  /** INVALID_TOKEN CONNECTION_CLOSE packets sent in reply to a bad Retry token (RFC 9000 §8.1.2). */
  invalidTokenCloseSent: number;
  /** CONNECTION_REFUSED CONNECTION_CLOSE packets sent at the connection limit (RFC 9000 §5.2.2). */
  refusedCloseSent: number;
  /** Stateless resets from peers that a connection recognised (RFC 9000 §10.3.1). */
  statelessResetReceived: number;
  tokens: {
    retryAccepted: number;
    retryRejected: number;
    newTokenAccepted: number;
    /** Invalid, expired or replayed NEW_TOKEN tokens (treated as no token, RFC 9000 §8.1.3). */
    newTokenRejected: number;
    /** Tokens of a kind we never issue (treated as no token). */
    unknownRejected: number;
    newTokenMinted: number;
  };
  /** 0-RTT datagrams held until their Initial arrived, and those replayed into the new connection. */
  zeroRttBuffered: number;
  zeroRttReplayed: number;
}

export function createEndpointStats(): EndpointStats {
  const dropped = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) dropped[r] = 0;
  return {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsRouted: 0,
    datagramsDropped: 0,
    dropped,
    connectionsAccepted: 0,
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectionsActive: 0,
    versionNegotiationSent: 0,
    retrySent: 0,
    statelessResetSent: 0,
    invalidTokenCloseSent: 0,
    refusedCloseSent: 0,
    statelessResetReceived: 0,
    tokens: {
      retryAccepted: 0,
      retryRejected: 0,
      newTokenAccepted: 0,
      newTokenRejected: 0,
      unknownRejected: 0,
      newTokenMinted: 0,
    },
    zeroRttBuffered: 0,
    zeroRttReplayed: 0,
  };
}
