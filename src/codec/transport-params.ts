// L1: QUIC transport parameters — RFC 9000 §7.4 (duplicates), §18 (encoding), §18.1 (reserved
// GREASE ids 31·N+27), §18.2 (definitions, defaults, limits, server-only parameters), §4.6
// (stream counts ≤ 2^60); RFC 9221 §3 (max_datagram_frame_size 0x20); RFC 9368 §5–§6
// (version_information 0x11).
//
// Decoding is a cold path (once per connection): values are copied out of the input, defaults
// of §18.2 are filled in, and every failure — truncation, a duplicate, an out-of-range or
// malformed value, a server-only parameter from a client — is TransportError(
// TRANSPORT_PARAMETER_ERROR). Unknown and reserved parameters are ignored.
//
// Number policy (DESIGN §7.4): integer parameters are limits and saturate at 2^53−1, except the
// stream counts, where a value above 2^60 is an error (§4.6). Parameter ids above 2^53−1 are
// unknown by definition and skipped without duplicate tracking.
//
// Presence rules that depend on the handshake (§7.3: initial_source_connection_id from both,
// original_destination_connection_id / retry_source_connection_id from the server and their
// values) are the connection's to check; this codec reports null for absent CIDs.

import { BufferUnderflow, Reader, type Writer, varintSize } from '../util/bytes.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { readStreamCount } from './frames/internal.js';

export const TransportParameterId = {
  ORIGINAL_DESTINATION_CONNECTION_ID: 0x00,
  MAX_IDLE_TIMEOUT: 0x01,
  STATELESS_RESET_TOKEN: 0x02,
  MAX_UDP_PAYLOAD_SIZE: 0x03,
  INITIAL_MAX_DATA: 0x04,
  INITIAL_MAX_STREAM_DATA_BIDI_LOCAL: 0x05,
  INITIAL_MAX_STREAM_DATA_BIDI_REMOTE: 0x06,
  INITIAL_MAX_STREAM_DATA_UNI: 0x07,
  INITIAL_MAX_STREAMS_BIDI: 0x08,
  INITIAL_MAX_STREAMS_UNI: 0x09,
  ACK_DELAY_EXPONENT: 0x0a,
  MAX_ACK_DELAY: 0x0b,
  DISABLE_ACTIVE_MIGRATION: 0x0c,
  PREFERRED_ADDRESS: 0x0d,
  ACTIVE_CONNECTION_ID_LIMIT: 0x0e,
  INITIAL_SOURCE_CONNECTION_ID: 0x0f,
  RETRY_SOURCE_CONNECTION_ID: 0x10,
  /** RFC 9368 §10.1 */
  VERSION_INFORMATION: 0x11,
  /** RFC 9221 §3 */
  MAX_DATAGRAM_FRAME_SIZE: 0x20,
} as const;

/** RFC 9000 §18.2 limits and defaults. */
export const TransportParameterLimits = {
  MIN_UDP_PAYLOAD_SIZE: 1200,
  DEFAULT_MAX_UDP_PAYLOAD_SIZE: 65527,
  MAX_ACK_DELAY_EXPONENT: 20,
  DEFAULT_ACK_DELAY_EXPONENT: 3,
  /** max_ack_delay must be < 2^14 ms. */
  MAX_ACK_DELAY_LIMIT: 1 << 14,
  DEFAULT_MAX_ACK_DELAY: 25,
  MIN_ACTIVE_CONNECTION_ID_LIMIT: 2,
  DEFAULT_ACTIVE_CONNECTION_ID_LIMIT: 2,
  MAX_STREAMS: 2 ** 60,
  MAX_CID_LENGTH: 20,
  STATELESS_RESET_TOKEN_LENGTH: 16,
} as const;

export type TransportParameterSender = 'client' | 'server';

/** preferred_address (RFC 9000 §18.2, Figure 22). An all-zero address and port = family not offered. */
export interface PreferredAddress {
  ipv4Address: Uint8Array; // 4 bytes, network order
  ipv4Port: number;
  ipv6Address: Uint8Array; // 16 bytes, network order
  ipv6Port: number;
  connectionId: Uint8Array; // 1..20 bytes, sequence number 1
  statelessResetToken: Uint8Array; // 16 bytes
}

/** version_information (RFC 9368 §5). */
export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

export interface TransportParameters {
  /** Server only. null = absent. */
  originalDestinationConnectionId: Uint8Array | null;
  /** Milliseconds; 0 = no idle timeout from this endpoint. */
  maxIdleTimeout: number;
  /** Server only, 16 bytes. */
  statelessResetToken: Uint8Array | null;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** Milliseconds. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  /** Server only. */
  preferredAddress: PreferredAddress | null;
  activeConnectionIdLimit: number;
  /** May be zero-length; null = absent. */
  initialSourceConnectionId: Uint8Array | null;
  /** Server only. */
  retrySourceConnectionId: Uint8Array | null;
  versionInformation: VersionInformation | null;
  /** 0 = DATAGRAM not supported (RFC 9221 §3). */
  maxDatagramFrameSize: number;
}

/** A fresh parameter set holding the RFC 9000 §18.2 defaults (what absence means). */
export function defaultTransportParameters(): TransportParameters {
  return {
    originalDestinationConnectionId: null,
    maxIdleTimeout: 0,
    statelessResetToken: null,
    maxUdpPayloadSize: TransportParameterLimits.DEFAULT_MAX_UDP_PAYLOAD_SIZE,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: TransportParameterLimits.DEFAULT_ACK_DELAY_EXPONENT,
    maxAckDelay: TransportParameterLimits.DEFAULT_MAX_ACK_DELAY,
    disableActiveMigration: false,
    preferredAddress: null,
    activeConnectionIdLimit: TransportParameterLimits.DEFAULT_ACTIVE_CONNECTION_ID_LIMIT,
    initialSourceConnectionId: null,
    retrySourceConnectionId: null,
    versionInformation: null,
    maxDatagramFrameSize: 0,
  };
}

/** Reserved ids 31·N + 27 "exercise the requirement that unknown transport parameters be ignored" (§18.1). */
export function isReservedTransportParameterId(id: number): boolean {
  return Number.isInteger(id) && id >= 27 && (id - 27) % 31 === 0;
}

/** The N-th reserved (GREASE) id, 31·N + 27; N comes from the caller's RNG (sans-IO). */
export function greaseTransportParameterId(n: number): number {
  const id = 31 * n + 27;
  if (!(Number.isInteger(n) && n >= 0 && id <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`GREASE index must be an integer with 31*n+27 <= 2^53-1, got ${n}`);
  }
  return id;
}

function tpError(reason: string): TransportError {
  return new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason, 0);
}

const SERVER_ONLY_MASK =
  (1 << TransportParameterId.ORIGINAL_DESTINATION_CONNECTION_ID) |
  (1 << TransportParameterId.STATELESS_RESET_TOKEN) |
  (1 << TransportParameterId.PREFERRED_ADDRESS) |
  (1 << TransportParameterId.RETRY_SOURCE_CONNECTION_ID);

const TWO21 = 0x20_0000;

/** Read a parameter id; -1 for ids above 2^53−1 (unknown, skipped). */
function readId(r: Reader): number {
  const start = r.pos;
  const id = r.varint();
  if (r.pos - start === 8) {
    const b = r.buf;
    const hi = (b[start]! & 0x3f) * 0x100_0000 + ((b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!);
    if (hi >= TWO21) return -1;
  }
  return id;
}

/** The value must be exactly one varint. */
function intValue(v: Reader, name: string): number {
  const x = v.varint();
  if (v.pos !== v.end) throw tpError(`${name}: value is not a single varint`);
  return x;
}

function cidValue(v: Reader, name: string): Uint8Array {
  if (v.remaining > TransportParameterLimits.MAX_CID_LENGTH) throw tpError(`${name}: longer than 20 bytes`);
  return v.rest().slice();
}

function decodePreferredAddress(v: Reader): PreferredAddress {
  const ipv4Address = v.bytes(4).slice();
  const ipv4Port = v.u16();
  const ipv6Address = v.bytes(16).slice();
  const ipv6Port = v.u16();
  const cidLength = v.u8();
  // §18.2: "a server MUST NOT include a zero-length connection ID in this transport parameter".
  if (cidLength === 0 || cidLength > TransportParameterLimits.MAX_CID_LENGTH) {
    throw tpError(`preferred_address: connection ID length ${cidLength}`);
  }
  const connectionId = v.bytes(cidLength).slice();
  const statelessResetToken = v.bytes(16).slice();
  if (v.pos !== v.end) throw tpError('preferred_address: trailing bytes');
  return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
}

function decodeVersionInformation(v: Reader, from: TransportParameterSender): VersionInformation {
  // RFC 9368 §6: too short, a length not divisible by four, a zero Chosen or Available Version,
  // and (at a server) a Chosen Version missing from Available Versions are parsing failures.
  const len = v.remaining;
  if (len < 4 || len % 4 !== 0) throw tpError(`version_information: length ${len}`);
  const chosenVersion = v.u32();
  if (chosenVersion === 0) throw tpError('version_information: chosen version 0');
  const availableVersions: number[] = [];
  let chosenListed = false;
  while (v.pos < v.end) {
    const ver = v.u32();
    if (ver === 0) throw tpError('version_information: available version 0');
    if (ver === chosenVersion) chosenListed = true;
    availableVersions.push(ver);
  }
  if (from === 'client' && !chosenListed) {
    throw tpError('version_information: client chosen version not in available versions');
  }
  return { chosenVersion, availableVersions };
}

/**
 * Decode the quic_transport_parameters extension body sent by `from`. Returns a complete
 * parameter set with §18.2 defaults for absent parameters. Throws only
 * TransportError(TRANSPORT_PARAMETER_ERROR) on bad input.
 */
export function decodeTransportParameters(buf: Uint8Array, from: TransportParameterSender): TransportParameters {
  if (from !== 'client' && from !== 'server') throw new TypeError(`from must be 'client' or 'server', got ${String(from)}`);
  const p = defaultTransportParameters();
  const r = new Reader(buf);
  const v = new Reader(buf);
  let seenKnown = 0; // bit per id < 0x20, plus bit 31 for max_datagram_frame_size
  let seenOther: Set<number> | null = null;
  const Id = TransportParameterId;
  const L = TransportParameterLimits;
  try {
    while (r.pos < r.end) {
      const id = readId(r);
      const len = r.varint();
      r.need(len);
      const start = r.pos;
      r.pos += len;
      v.reset(buf, start, start + len);
      // §7.4: "An endpoint SHOULD treat receipt of duplicate transport parameters as a
      // connection error of type TRANSPORT_PARAMETER_ERROR" — applied to every id we can track.
      if (id < 0) continue;
      if (id < 0x1f || id === Id.MAX_DATAGRAM_FRAME_SIZE) {
        const bit = id === Id.MAX_DATAGRAM_FRAME_SIZE ? 1 << 31 : 1 << id;
        if ((seenKnown & bit) !== 0) throw tpError(`duplicate transport parameter 0x${id.toString(16)}`);
        seenKnown |= bit;
      } else {
        seenOther ??= new Set<number>();
        if (seenOther.has(id)) throw tpError(`duplicate transport parameter 0x${id.toString(16)}`);
        seenOther.add(id);
      }
      if (from === 'client' && id < 0x1f && (SERVER_ONLY_MASK & (1 << id)) !== 0) {
        // §18.2: "A server MUST treat receipt of any of these transport parameters as a
        // connection error of type TRANSPORT_PARAMETER_ERROR."
        throw tpError(`server-only transport parameter 0x${id.toString(16)} sent by a client`);
      }
      switch (id) {
        case Id.ORIGINAL_DESTINATION_CONNECTION_ID:
          p.originalDestinationConnectionId = cidValue(v, 'original_destination_connection_id');
          break;
        case Id.MAX_IDLE_TIMEOUT:
          p.maxIdleTimeout = intValue(v, 'max_idle_timeout');
          break;
        case Id.STATELESS_RESET_TOKEN:
          if (len !== L.STATELESS_RESET_TOKEN_LENGTH) throw tpError(`stateless_reset_token: length ${len}`);
          p.statelessResetToken = v.rest().slice();
          break;
        case Id.MAX_UDP_PAYLOAD_SIZE: {
          const x = intValue(v, 'max_udp_payload_size');
          if (x < L.MIN_UDP_PAYLOAD_SIZE) throw tpError(`max_udp_payload_size ${x} < 1200`);
          p.maxUdpPayloadSize = x;
          break;
        }
        case Id.INITIAL_MAX_DATA:
          p.initialMaxData = intValue(v, 'initial_max_data');
          break;
        case Id.INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
          p.initialMaxStreamDataBidiLocal = intValue(v, 'initial_max_stream_data_bidi_local');
          break;
        case Id.INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
          p.initialMaxStreamDataBidiRemote = intValue(v, 'initial_max_stream_data_bidi_remote');
          break;
        case Id.INITIAL_MAX_STREAM_DATA_UNI:
          p.initialMaxStreamDataUni = intValue(v, 'initial_max_stream_data_uni');
          break;
        case Id.INITIAL_MAX_STREAMS_BIDI:
        case Id.INITIAL_MAX_STREAMS_UNI: {
          const x = readStreamCount(v);
          if (v.pos !== v.end) throw tpError('initial_max_streams: value is not a single varint');
          // §4.6: a stream limit above 2^60 received in a transport parameter is
          // TRANSPORT_PARAMETER_ERROR.
          if (x < 0) throw tpError('initial_max_streams above 2^60');
          if (id === Id.INITIAL_MAX_STREAMS_BIDI) p.initialMaxStreamsBidi = x;
          else p.initialMaxStreamsUni = x;
          break;
        }
        case Id.ACK_DELAY_EXPONENT: {
          const x = intValue(v, 'ack_delay_exponent');
          if (x > L.MAX_ACK_DELAY_EXPONENT) throw tpError(`ack_delay_exponent ${x} > 20`);
          p.ackDelayExponent = x;
          break;
        }
        case Id.MAX_ACK_DELAY: {
          const x = intValue(v, 'max_ack_delay');
          if (x >= L.MAX_ACK_DELAY_LIMIT) throw tpError(`max_ack_delay ${x} >= 2^14`);
          p.maxAckDelay = x;
          break;
        }
        case Id.DISABLE_ACTIVE_MIGRATION:
          if (len !== 0) throw tpError('disable_active_migration: non-empty value');
          p.disableActiveMigration = true;
          break;
        case Id.PREFERRED_ADDRESS:
          p.preferredAddress = decodePreferredAddress(v);
          break;
        case Id.ACTIVE_CONNECTION_ID_LIMIT: {
          const x = intValue(v, 'active_connection_id_limit');
          if (x < L.MIN_ACTIVE_CONNECTION_ID_LIMIT) throw tpError(`active_connection_id_limit ${x} < 2`);
          p.activeConnectionIdLimit = x;
          break;
        }
        case Id.INITIAL_SOURCE_CONNECTION_ID:
          p.initialSourceConnectionId = cidValue(v, 'initial_source_connection_id');
          break;
        case Id.RETRY_SOURCE_CONNECTION_ID:
          p.retrySourceConnectionId = cidValue(v, 'retry_source_connection_id');
          break;
        case Id.VERSION_INFORMATION:
          p.versionInformation = decodeVersionInformation(v, from);
          break;
        case Id.MAX_DATAGRAM_FRAME_SIZE:
          p.maxDatagramFrameSize = intValue(v, 'max_datagram_frame_size');
          break;
        default:
          // Unknown, private (e.g. google_connection_options 0x3128) or reserved 31·N+27: ignored.
          break;
      }
    }
  } catch (e) {
    if (e instanceof TransportError) throw e;
    if (e instanceof BufferUnderflow) throw tpError('truncated transport parameter');
    throw e;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Encoding

export interface EncodeTransportParametersOptions {
  /** Emit one reserved parameter (RFC 9000 §18.1) with this id (31·N+27) and value, first. */
  grease?: { id: number; value: Uint8Array };
}

function checkInt(name: string, x: number, min = 0, max = Number.MAX_SAFE_INTEGER): void {
  if (!(Number.isInteger(x) && x >= min && x <= max)) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${x}`);
  }
}

function checkCid(name: string, cid: Uint8Array | null, min = 0): void {
  if (cid !== null && (cid.length < min || cid.length > TransportParameterLimits.MAX_CID_LENGTH)) {
    throw new RangeError(`${name} length must be ${min}..20, got ${cid.length}`);
  }
}

function checkParameters(p: TransportParameters): void {
  const L = TransportParameterLimits;
  checkCid('originalDestinationConnectionId', p.originalDestinationConnectionId);
  checkCid('initialSourceConnectionId', p.initialSourceConnectionId);
  checkCid('retrySourceConnectionId', p.retrySourceConnectionId);
  if (p.statelessResetToken !== null && p.statelessResetToken.length !== 16) {
    throw new RangeError(`statelessResetToken must be 16 bytes, got ${p.statelessResetToken.length}`);
  }
  checkInt('maxIdleTimeout', p.maxIdleTimeout);
  checkInt('maxUdpPayloadSize', p.maxUdpPayloadSize, L.MIN_UDP_PAYLOAD_SIZE);
  checkInt('initialMaxData', p.initialMaxData);
  checkInt('initialMaxStreamDataBidiLocal', p.initialMaxStreamDataBidiLocal);
  checkInt('initialMaxStreamDataBidiRemote', p.initialMaxStreamDataBidiRemote);
  checkInt('initialMaxStreamDataUni', p.initialMaxStreamDataUni);
  checkInt('initialMaxStreamsBidi', p.initialMaxStreamsBidi);
  checkInt('initialMaxStreamsUni', p.initialMaxStreamsUni);
  checkInt('ackDelayExponent', p.ackDelayExponent, 0, L.MAX_ACK_DELAY_EXPONENT);
  checkInt('maxAckDelay', p.maxAckDelay, 0, L.MAX_ACK_DELAY_LIMIT - 1);
  checkInt('activeConnectionIdLimit', p.activeConnectionIdLimit, L.MIN_ACTIVE_CONNECTION_ID_LIMIT);
  checkInt('maxDatagramFrameSize', p.maxDatagramFrameSize);
  const pa = p.preferredAddress;
  if (pa !== null) {
    if (pa.ipv4Address.length !== 4) throw new RangeError('preferredAddress.ipv4Address must be 4 bytes');
    if (pa.ipv6Address.length !== 16) throw new RangeError('preferredAddress.ipv6Address must be 16 bytes');
    checkInt('preferredAddress.ipv4Port', pa.ipv4Port, 0, 0xffff);
    checkInt('preferredAddress.ipv6Port', pa.ipv6Port, 0, 0xffff);
    checkCid('preferredAddress.connectionId', pa.connectionId, 1);
    if (pa.statelessResetToken.length !== 16) throw new RangeError('preferredAddress.statelessResetToken must be 16 bytes');
  }
  const vi = p.versionInformation;
  if (vi !== null) {
    checkInt('versionInformation.chosenVersion', vi.chosenVersion, 1, 0xffff_ffff);
    for (const ver of vi.availableVersions) checkInt('versionInformation.availableVersions[]', ver, 1, 0xffff_ffff);
  }
}

/** Visit each parameter to emit, in id order, as (id, value length, writer-or-null). */
function forEachParameter(
  p: TransportParameters,
  emit: (id: number, len: number, write: ((w: Writer) => void) | null, int: number) => void,
): void {
  const Id = TransportParameterId;
  const L = TransportParameterLimits;
  const bytes = (id: number, b: Uint8Array | null): void => {
    if (b !== null) emit(id, b.length, (w) => w.bytes(b), -1);
  };
  const int = (id: number, x: number, dflt: number): void => {
    if (x !== dflt) emit(id, varintSize(x), null, x);
  };
  bytes(Id.ORIGINAL_DESTINATION_CONNECTION_ID, p.originalDestinationConnectionId);
  int(Id.MAX_IDLE_TIMEOUT, p.maxIdleTimeout, 0);
  bytes(Id.STATELESS_RESET_TOKEN, p.statelessResetToken);
  int(Id.MAX_UDP_PAYLOAD_SIZE, p.maxUdpPayloadSize, L.DEFAULT_MAX_UDP_PAYLOAD_SIZE);
  int(Id.INITIAL_MAX_DATA, p.initialMaxData, 0);
  int(Id.INITIAL_MAX_STREAM_DATA_BIDI_LOCAL, p.initialMaxStreamDataBidiLocal, 0);
  int(Id.INITIAL_MAX_STREAM_DATA_BIDI_REMOTE, p.initialMaxStreamDataBidiRemote, 0);
  int(Id.INITIAL_MAX_STREAM_DATA_UNI, p.initialMaxStreamDataUni, 0);
  int(Id.INITIAL_MAX_STREAMS_BIDI, p.initialMaxStreamsBidi, 0);
  int(Id.INITIAL_MAX_STREAMS_UNI, p.initialMaxStreamsUni, 0);
  int(Id.ACK_DELAY_EXPONENT, p.ackDelayExponent, L.DEFAULT_ACK_DELAY_EXPONENT);
  int(Id.MAX_ACK_DELAY, p.maxAckDelay, L.DEFAULT_MAX_ACK_DELAY);
  if (p.disableActiveMigration) emit(Id.DISABLE_ACTIVE_MIGRATION, 0, null, -1);
  const pa = p.preferredAddress;
  if (pa !== null) {
    emit(Id.PREFERRED_ADDRESS, 4 + 2 + 16 + 2 + 1 + pa.connectionId.length + 16, (w) => {
      w.bytes(pa.ipv4Address);
      w.u16(pa.ipv4Port);
      w.bytes(pa.ipv6Address);
      w.u16(pa.ipv6Port);
      w.u8(pa.connectionId.length);
      w.bytes(pa.connectionId);
      w.bytes(pa.statelessResetToken);
    }, -1);
  }
  int(Id.ACTIVE_CONNECTION_ID_LIMIT, p.activeConnectionIdLimit, L.DEFAULT_ACTIVE_CONNECTION_ID_LIMIT);
  bytes(Id.INITIAL_SOURCE_CONNECTION_ID, p.initialSourceConnectionId);
  bytes(Id.RETRY_SOURCE_CONNECTION_ID, p.retrySourceConnectionId);
  const vi = p.versionInformation;
  if (vi !== null) {
    emit(Id.VERSION_INFORMATION, 4 + 4 * vi.availableVersions.length, (w) => {
      w.u32(vi.chosenVersion);
      for (const ver of vi.availableVersions) w.u32(ver);
    }, -1);
  }
  int(Id.MAX_DATAGRAM_FRAME_SIZE, p.maxDatagramFrameSize, 0);
}

function checkGrease(options: EncodeTransportParametersOptions | undefined): { id: number; value: Uint8Array } | null {
  const g = options?.grease;
  if (g === undefined) return null;
  if (!isReservedTransportParameterId(g.id) || g.id > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`grease.id must be a reserved id 31*N+27, got ${g.id}`);
  }
  return g;
}

/**
 * Size of the encoding. Parameters equal to their §18.2 default are omitted; byte-string
 * parameters are emitted when non-null (initial_source_connection_id may be empty).
 */
export function sizeTransportParameters(p: TransportParameters, options?: EncodeTransportParametersOptions): number {
  checkParameters(p);
  const g = checkGrease(options);
  let n = g === null ? 0 : varintSize(g.id) + varintSize(g.value.length) + g.value.length;
  forEachParameter(p, (id, len) => {
    n += varintSize(id) + varintSize(len) + len;
  });
  return n;
}

/** Encode the quic_transport_parameters extension body into `w`; returns bytes written. */
export function encodeTransportParameters(
  w: Writer,
  p: TransportParameters,
  options?: EncodeTransportParametersOptions,
): number {
  const size = sizeTransportParameters(p, options);
  w.need(size);
  const start = w.pos;
  const g = checkGrease(options);
  if (g !== null) {
    w.varint(g.id);
    w.varint(g.value.length);
    w.bytes(g.value);
  }
  forEachParameter(p, (id, len, write, int) => {
    w.varint(id);
    w.varint(len);
    if (write !== null) write(w);
    else if (int >= 0) w.varint(int);
  });
  return w.pos - start;
}
