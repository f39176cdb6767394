// L4: frames received in one decrypted packet — RFC 9000 §12.4 (permitted per packet type, via the
// FrameParser), §19 (each frame's semantics and errors), §13.2 (ack-eliciting), §9.1 (probing
// frames, for migration), §10.2.2 (CONNECTION_CLOSE → draining), RFC 9001 §4.1.2 (HANDSHAKE_DONE),
// RFC 9221 §4–§5 (DATAGRAM).
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { type Frame, FrameType, type PacketKind, isAckEliciting, isProbing } from '../codec/frames.js';
import { equal, fromUtf8 } from '../util/bytes.js';
import { enterDraining, makeError } from './close.js';
import type { Path } from './paths.js';
import { qlogFrame } from './qlog.js';
import { confirmHandshake, onAckFrame } from './recovery.js';
import type { ConnState } from './state.js';
import { feedCrypto } from './tls-driver.js';

/** Per packet: what the receive path learns from its frames. Reused. */
export class PacketContext {
  space = 0;
  kind: PacketKind = 1;
  dcid: Uint8Array = new Uint8Array(0);
  path: Path | null = null;
  ackEliciting = false;
  /** Contains a frame other than PATH_CHALLENGE/RESPONSE, NEW_CONNECTION_ID, PADDING (§9.1). */
  nonProbing = false;
  qlogFrames: Record<string, unknown>[] | null = null;
}

/** Most PATH_RESPONSEs owed on one path (newest kept). */
const MAX_RESPONSES = 4;

/**
 * Process every frame of a decrypted payload, dg[start, end). Throws TransportError on violations (the caller
 * closes the connection with it).
 */
export function processFrames(st: ConnState, dg: Uint8Array, start: number, end: number, ctx: PacketContext, now: number): void {
  const parser = st.parser;
  // The whole datagram with offsets: no payload view per packet, and the reader's DataView is
  // only rebuilt when the datagram buffer changes.
  parser.reset(dg, ctx.kind, start, end);
  for (let f = parser.next(); f !== null; f = parser.next()) {
    if (ctx.qlogFrames !== null) ctx.qlogFrames.push(qlogFrame(f));
    const t = f.type;
    if (!ctx.ackEliciting && isAckEliciting(t)) ctx.ackEliciting = true;
    if (!ctx.nonProbing && !isProbing(t)) ctx.nonProbing = true;
    handleFrame(st, f, ctx, now);
    if (st.state === 'draining' || st.state === 'closed') return;
  }
}

function handleFrame(st: ConnState, f: Frame, ctx: PacketContext, now: number): void {
  switch (f.kind) {
    case FrameType.PADDING:
    case FrameType.PING:
      return;
    case FrameType.ACK:
      onAckFrame(st, ctx.space, f, now);
      return;
    case FrameType.CRYPTO: {
      const sp = st.spaces[ctx.space]!;
      sp.cryptoRecv.insert(f.offset, f.data);
      if (sp.cryptoRecv.readable > 0) feedCrypto(st, st.tlsCfg, ctx.space, now);
      return;
    }
    case FrameType.STREAM:
      st.streams.onStreamFrame(f.streamId, f.offset, f.data, f.fin);
      st.lastStreamRecvTime = now;
      st.stallProbes = 0;
      return;
    case FrameType.RESET_STREAM:
      st.streams.onResetStream(f.streamId, f.errorCode, f.finalSize);
      return;
    case FrameType.STOP_SENDING:
      st.streams.onStopSending(f.streamId, f.errorCode);
      return;
    case FrameType.MAX_DATA:
      st.streams.onMaxData(f.maximum);
      return;
    case FrameType.MAX_STREAM_DATA:
      st.streams.onMaxStreamData(f.streamId, f.maximum);
      return;
    case FrameType.MAX_STREAMS_BIDI:
      st.streams.onMaxStreams(f.bidi, f.maximum);
      return;
    case FrameType.DATA_BLOCKED:
      st.streams.onDataBlocked(f.limit);
      return;
    case FrameType.STREAM_DATA_BLOCKED:
      st.streams.onStreamDataBlocked(f.streamId, f.limit);
      return;
    case FrameType.STREAMS_BLOCKED_BIDI:
      st.streams.onStreamsBlocked(f.bidi, f.limit);
      return;
    case FrameType.NEW_TOKEN:
      // §19.7: servers MUST treat receipt as PROTOCOL_VIOLATION; an empty token is FRAME_ENCODING_ERROR.
      if (st.isServer) throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_TOKEN sent by a client', f.type);
      if (f.token.length === 0) throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'empty NEW_TOKEN', f.type);
      st.emit({ type: 'new-token', token: f.token.slice() });
      return;
    case FrameType.NEW_CONNECTION_ID:
      st.peerCids.onNewCid(f.sequence, f.retirePriorTo, f.connectionId, f.statelessResetToken);
      return;
    case FrameType.RETIRE_CONNECTION_ID:
      st.localCids.onRetire(f.sequence, ctx.dcid);
      if (st.handshakeComplete) st.localCids.topUp();
      return;
    case FrameType.PATH_CHALLENGE: {
      const p = ctx.path!;
      if (p.responses.length >= MAX_RESPONSES) p.responses.shift();
      p.responses.push(f.data.slice());
      return;
    }
    case FrameType.PATH_RESPONSE:
      onPathResponse(st, f.data, now);
      return;
    case FrameType.CONNECTION_CLOSE: {
      const reason = fromUtf8(f.reason);
      const err = f.app
        ? makeError('application', f.errorCode, reason, true)
        : makeError('transport', f.errorCode, reason, true, f.frameType);
      enterDraining(st, err, now);
      return;
    }
    case FrameType.HANDSHAKE_DONE:
      // §19.20: a server MUST treat receipt of HANDSHAKE_DONE as PROTOCOL_VIOLATION.
      if (st.isServer) throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE sent by a client', f.type);
      if (st.handshakeComplete) confirmHandshake(st, now);
      return;
    case FrameType.DATAGRAM: {
      // RFC 9221 §3: DATAGRAM without having advertised support, or larger than we allow.
      const max = st.o.transport.maxDatagramFrameSize;
      const size = st.parser.reader.pos - st.parser.frameStart;
      if (max === 0) throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'DATAGRAM frame not negotiated', f.type);
      if (size > max) throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `DATAGRAM frame of ${size} bytes exceeds ${max}`, f.type);
      st.counters.datagramFramesReceived++;
      st.emit({ type: 'datagram', data: f.data.slice() });
      return;
    }
  }
}

/** PATH_RESPONSE (§8.2.2): validates the path whose outstanding challenge it echoes. */
function onPathResponse(st: ConnState, data: Uint8Array, now: number): void {
  const candidates: Path[] = [st.path, ...st.probePaths];
  if (st.prevPath !== null) candidates.push(st.prevPath);
  for (const p of candidates) {
    if (p.challenge === null || !equal(p.challenge, data)) continue;
    p.challenge = null;
    p.challengePending = false;
    p.challengeDeadline = Infinity;
    const firstValidation = !p.validated;
    p.validated = true;
    st.counters.pathValidations++;
    if (p === st.path) {
      st.ld.setAmplificationLimited(false, now);
      if (st.handshakeConfirmed) st.pmtud?.enable(now);
      if (st.prevPath !== null && firstValidation) st.prevPath = null;
      // RFC 9000 §9.4: a fresh RTT estimate from the challenge round trip.
      if (st.pathRttReset) {
        const rtt = now - p.challengeStart;
        if (rtt > 0) st.ld.rtt.reset(rtt);
        st.pathRttReset = false;
      }
    }
    st.emit({ type: 'path-validated', path: { ...p.info } });
    return;
  }
}
