// L4: qlog events after draft-ietf-quic-qlog-quic-events / draft-ietf-quic-qlog-main-schema:
// connectivity:connection_started, connectivity:connection_state_updated, transport:packet_sent,
// transport:packet_received (with frames), transport:packet_dropped, transport:parameters_set,
// recovery:packet_lost, recovery:metrics_updated, security:key_updated. Plain objects handed to
// options.qlog; nothing is built when no sink is set.
import { type Frame, FrameType, frameTypeName } from '../codec/frames.js';
import type { TransportParameters } from '../codec/transport-params.js';
import { toHex } from '../util/bytes.js';
import type { QlogEvent } from './types.js';

export class Qlog {
  readonly sink: ((e: QlogEvent) => void) | undefined;
  readonly enabled: boolean;
  private lastMetrics = '';

  constructor(sink: ((e: QlogEvent) => void) | undefined) {
    this.sink = sink;
    this.enabled = sink !== undefined;
  }

  emit(time: number, name: string, data: Record<string, unknown>): void {
    if (this.sink === undefined) return;
    try {
      this.sink({ time, name, data });
    } catch {
      // A failing sink must never break the connection.
    }
  }

  /** recovery:metrics_updated, only when a value changed. */
  metrics(time: number, m: { min_rtt: number; smoothed_rtt: number; latest_rtt: number; rtt_variance: number; congestion_window: number; bytes_in_flight: number; pto_count: number }): void {
    if (this.sink === undefined) return;
    const key = `${m.min_rtt}|${m.smoothed_rtt}|${m.latest_rtt}|${m.congestion_window}|${m.bytes_in_flight}|${m.pto_count}`;
    if (key === this.lastMetrics) return;
    this.lastMetrics = key;
    this.emit(time, 'recovery:metrics_updated', m);
  }
}

const QLOG_PACKET_TYPES = ['initial', '0RTT', 'handshake', 'retry', '1RTT', 'version_negotiation'];

/** qlog PacketType name of a codec PacketType. */
export function packetTypeName(type: number): string {
  return QLOG_PACKET_TYPES[type] ?? 'unknown';
}

/** A qlog QuicFrame object for a decoded frame (cold path: only with a sink). */
export function qlogFrame(f: Frame): Record<string, unknown> {
  switch (f.kind) {
    case FrameType.PADDING:
      return { frame_type: 'padding', length: f.length };
    case FrameType.PING:
      return { frame_type: 'ping' };
    case FrameType.ACK: {
      const ranges: number[][] = [];
      for (let i = f.rangeCount - 1; i >= 0; i--) ranges.push([f.ranges[2 * i]!, f.ranges[2 * i + 1]!]);
      return { frame_type: 'ack', ack_delay: f.ackDelay, acked_ranges: ranges };
    }
    case FrameType.RESET_STREAM:
      return { frame_type: 'reset_stream', stream_id: f.streamId, error_code: f.errorCode, final_size: f.finalSize };
    case FrameType.STOP_SENDING:
      return { frame_type: 'stop_sending', stream_id: f.streamId, error_code: f.errorCode };
    case FrameType.CRYPTO:
      return { frame_type: 'crypto', offset: f.offset, length: f.data.length };
    case FrameType.NEW_TOKEN:
      return { frame_type: 'new_token', token: { raw: { length: f.token.length } } };
    case FrameType.STREAM:
      return { frame_type: 'stream', stream_id: f.streamId, offset: f.offset, length: f.data.length, fin: f.fin };
    case FrameType.MAX_DATA:
      return { frame_type: 'max_data', maximum: f.maximum };
    case FrameType.MAX_STREAM_DATA:
      return { frame_type: 'max_stream_data', stream_id: f.streamId, maximum: f.maximum };
    case FrameType.MAX_STREAMS_BIDI:
      return { frame_type: 'max_streams', stream_type: f.bidi ? 'bidirectional' : 'unidirectional', maximum: f.maximum };
    case FrameType.DATA_BLOCKED:
      return { frame_type: 'data_blocked', limit: f.limit };
    case FrameType.STREAM_DATA_BLOCKED:
      return { frame_type: 'stream_data_blocked', stream_id: f.streamId, limit: f.limit };
    case FrameType.STREAMS_BLOCKED_BIDI:
      return { frame_type: 'streams_blocked', stream_type: f.bidi ? 'bidirectional' : 'unidirectional', limit: f.limit };
    case FrameType.NEW_CONNECTION_ID:
      return { frame_type: 'new_connection_id', sequence_number: f.sequence, retire_prior_to: f.retirePriorTo, connection_id: toHex(f.connectionId) };
    case FrameType.RETIRE_CONNECTION_ID:
      return { frame_type: 'retire_connection_id', sequence_number: f.sequence };
    case FrameType.PATH_CHALLENGE:
      return { frame_type: 'path_challenge', data: toHex(f.data) };
    case FrameType.PATH_RESPONSE:
      return { frame_type: 'path_response', data: toHex(f.data) };
    case FrameType.CONNECTION_CLOSE:
      return {
        frame_type: 'connection_close',
        error_space: f.app ? 'application' : 'transport',
        error_code: f.errorCode,
        trigger_frame_type: f.frameType,
        reason: new TextDecoder().decode(f.reason),
      };
    case FrameType.HANDSHAKE_DONE:
      return { frame_type: 'handshake_done' };
    case FrameType.DATAGRAM:
      return { frame_type: 'datagram', length: f.data.length };
    default:
      return { frame_type: frameTypeName((f as Frame).type) };
  }
}

export function qlogParameters(owner: 'local' | 'remote', p: TransportParameters): Record<string, unknown> {
  const d: Record<string, unknown> = {
    owner,
    max_idle_timeout: p.maxIdleTimeout,
    max_udp_payload_size: p.maxUdpPayloadSize,
    ack_delay_exponent: p.ackDelayExponent,
    max_ack_delay: p.maxAckDelay,
    active_connection_id_limit: p.activeConnectionIdLimit,
    initial_max_data: p.initialMaxData,
    initial_max_stream_data_bidi_local: p.initialMaxStreamDataBidiLocal,
    initial_max_stream_data_bidi_remote: p.initialMaxStreamDataBidiRemote,
    initial_max_stream_data_uni: p.initialMaxStreamDataUni,
    initial_max_streams_bidi: p.initialMaxStreamsBidi,
    initial_max_streams_uni: p.initialMaxStreamsUni,
    disable_active_migration: p.disableActiveMigration,
    max_datagram_frame_size: p.maxDatagramFrameSize,
  };
  if (p.originalDestinationConnectionId !== null) d.original_destination_connection_id = toHex(p.originalDestinationConnectionId);
  if (p.initialSourceConnectionId !== null) d.initial_source_connection_id = toHex(p.initialSourceConnectionId);
  if (p.retrySourceConnectionId !== null) d.retry_source_connection_id = toHex(p.retrySourceConnectionId);
  if (p.statelessResetToken !== null) d.stateless_reset_token = toHex(p.statelessResetToken);
  if (p.versionInformation !== null) d.version_information = { chosen_version: p.versionInformation.chosenVersion, available_versions: p.versionInformation.availableVersions };
  return d;
}
