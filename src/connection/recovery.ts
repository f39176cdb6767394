// L4: glue between the connection and loss recovery (RFC 9002): ACK frames into the loss
// detector (§5 RTT, §6.1 loss, App. A.7), acknowledged / lost packets back to the frames they
// carried (RFC 9000 §13.3 retransmission of information), PTO probes (RFC 9002 §6.2.4) with
// CRYPTO retransmission, key discard (§6.4), 0-RTT rejection and Retry (RFC 9002 §6.3).
import type { AckFrame } from '../codec/frames.js';
import { TimeoutKind, type AckResult } from '../transport/loss-detection.js';
import type { PacketList } from '../transport/sent-packets.js';
import { PacketList as PacketListClass } from '../transport/sent-packets.js';
import type { SentRecord } from './sent-record.js';
import type { ConnState } from './state.js';

const scratchList = new PacketListClass();
/** Scratch for the loss detector's outstanding tokens (PTO probes). */
const scratchTokens: unknown[] = [];

function releaseAcked(st: ConnState, rec: SentRecord): void {
  const space = st.spaces[rec.space]!;
  if (rec.ackLargest >= 0) space.onAckAcked(rec.ackLargest);
  const c = rec.crypto;
  if (c.length > 0 && !space.discarded) for (let i = 0; i < c.length; i += 2) space.cryptoSend.onAck(c[i]!, c[i + 1]!, false);
  const s = rec.streams;
  for (let i = 0; i < s.length; i += 4) st.streams.onStreamFrameAcked(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]! === 1);
  const ctrls = rec.controls;
  for (let i = 0; i < ctrls.length; i++) st.streams.onControlFrameAcked(ctrls[i]!);
  const dg = rec.datagrams;
  for (let i = 0; i < dg.length; i++) st.emit({ type: 'datagram-acked', id: dg[i]! });
  st.pool.release(rec);
}

/** Re-queue what a lost (or discarded-but-still-needed) packet carried. */
export function requeueRecord(st: ConnState, rec: SentRecord, reportDatagrams: boolean): void {
  const space = st.spaces[rec.space]!;
  const c = rec.crypto;
  if (c.length > 0 && !space.discarded) for (let i = 0; i < c.length; i += 2) space.cryptoSend.onLost(c[i]!, c[i + 1]!, false);
  const s = rec.streams;
  for (let i = 0; i < s.length; i += 4) st.streams.onStreamFrameLost(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]! === 1);
  const ctrls = rec.controls;
  for (let i = 0; i < ctrls.length; i++) st.streams.onControlFrameLost(ctrls[i]!);
  for (let i = 0; i < rec.newCids.length; i++) st.localCids.onNewCidLost(rec.newCids[i]!);
  for (let i = 0; i < rec.retireCids.length; i++) st.peerCids.onRetireLost(rec.retireCids[i]!);
  if (rec.handshakeDone) st.handshakeDonePending = true;
  if (rec.newToken !== null && st.newTokenPending === null) st.newTokenPending = rec.newToken;
  if (reportDatagrams) for (let i = 0; i < rec.datagrams.length; i++) st.emit({ type: 'datagram-lost', id: rec.datagrams[i]! });
}

function releaseLost(st: ConnState, rec: SentRecord): void {
  requeueRecord(st, rec, true);
  st.pool.release(rec);
}

function processLost(st: ConnState, lost: PacketList, now: number): void {
  for (let i = 0; i < lost.length; i++) {
    const rec = lost.token[i] as SentRecord | undefined;
    if (st.qlog.enabled) {
      st.qlog.emit(now, 'recovery:packet_lost', {
        header: { packet_type: rec === undefined ? 'unknown' : spaceName(rec.space), packet_number: lost.pn[i] },
        trigger: 'reordering_threshold',
      });
    }
    if (rec !== undefined) releaseLost(st, rec);
  }
}

function spaceName(space: number): string {
  return space === 0 ? 'initial' : space === 1 ? 'handshake' : '1RTT';
}

/** An ACK frame arrived in `space` (throws TransportError for ACKs of unsent packets). */
export function onAckFrame(st: ConnState, space: number, f: AckFrame, now: number): void {
  const ranges = f.ranges;
  // ACK Delay: µs scaled by the peer's exponent (RFC 9000 §19.3); Initial/Handshake use the default.
  const exp = space === 2 ? st.peerAckDelayExponent : 3;
  const ackDelayMs = (f.ackDelay * 2 ** exp) / 1000;
  const r: AckResult = st.ld.onAckReceived(space, ranges, ackDelayMs, now, f.ecn ? f : null, f.rangeCount);
  if (r.ignored) return;
  const acked = r.acked;
  let largestAcked = -1;
  for (let i = 0; i < acked.length; i++) {
    const pn = acked.pn[i]!;
    if (pn > largestAcked) largestAcked = pn;
    const rec = acked.token[i] as SentRecord | undefined;
    if (rec !== undefined) releaseAcked(st, rec);
  }
  if (st.pmtud !== null && space === 2) {
    st.pmtud.onPacketsAcked(acked, now);
    st.pmtud.onPacketsLost(r.lost, now);
    st.applyMtu();
  }
  processLost(st, r.lost, now);
  if (space === 2 && largestAcked >= 0) {
    st.oneRtt?.onAcked(largestAcked);
    // RFC 9001 §4.1.2: a client MAY treat an acknowledged 1-RTT packet as handshake confirmation.
    if (!st.isServer && !st.handshakeConfirmed && st.handshakeComplete && st.oneRtt !== null && largestAcked >= st.oneRtt.firstSentPnInPhase) {
      confirmHandshake(st, now);
    }
  }
  metrics(st, now);
}

export function metrics(st: ConnState, now: number): void {
  if (!st.qlog.enabled) return;
  const rtt = st.ld.rtt;
  st.qlog.metrics(now, {
    min_rtt: rtt.minRtt,
    smoothed_rtt: rtt.smoothedRtt,
    latest_rtt: rtt.latestRtt,
    rtt_variance: rtt.rttvar,
    congestion_window: st.ld.cc.congestionWindow,
    bytes_in_flight: st.ld.cc.bytesInFlight,
    pto_count: st.ld.ptoCount,
  });
}

/** The loss detection timer fired (RFC 9002 App. A.9). */
export function onLossTimer(st: ConnState, now: number): void {
  const r = st.ld.onLossDetectionTimeout(now);
  if (r.kind === TimeoutKind.LOSS) {
    if (st.pmtud !== null && r.space === 2) {
      st.pmtud.onPacketsLost(r.lost, now);
      st.applyMtu();
    }
    processLost(st, r.lost, now);
  } else if (r.kind === TimeoutKind.PTO) {
    const space = r.space;
    st.probes[space] = Math.max(st.probes[space]!, r.probes);
    // RFC 9002 §6.2.4: probe with data; CRYPTO data still unacknowledged is re-sent in the probe.
    retransmitInflightCrypto(st, space);
    if (!r.antiDeadlock) {
      // SHOULD also probe other spaces with ack-eliciting packets in flight.
      for (let s = 0; s < 2; s++) {
        if (s !== space && st.ld.hasAckElicitingInFlight(s) && !st.spaces[s]!.discarded) {
          st.probes[s] = Math.max(st.probes[s]!, 1);
          retransmitInflightCrypto(st, s);
        }
      }
    }
    if (space === 2) retransmitOldestAppData(st);
    if (st.qlog.enabled) st.qlog.emit(now, 'recovery:loss_timer_updated', { event_type: 'expired', timer_type: 'pto', packet_number_space: spaceName(space) });
  }
  metrics(st, now);
}

function retransmitInflightCrypto(st: ConnState, space: number): void {
  const sp = st.spaces[space]!;
  if (sp.discarded) return;
  const n = st.ld.outstandingTokens(space, scratchTokens);
  for (let k = 0; k < n; k++) {
    const c = (scratchTokens[k] as SentRecord).crypto;
    for (let i = 0; i < c.length; i += 2) sp.cryptoSend.onLost(c[i]!, c[i + 1]!, false);
  }
  scratchTokens.length = 0;
}

/** Application PTO without new data: re-send the oldest in-flight packet's frames (RFC 9002 §6.2.4). */
function retransmitOldestAppData(st: ConnState): void {
  if (st.streams.hasPendingStreamData()) return;
  // The oldest few in flight suffice: one of them almost always carries data.
  const n = st.ld.outstandingTokens(2, scratchTokens, 64);
  for (let k = 0; k < n; k++) {
    const rec = scratchTokens[k] as SentRecord;
    const s = rec.streams;
    const c = rec.crypto;
    if (s.length === 0 && c.length === 0 && !rec.handshakeDone) continue;
    for (let i = 0; i < s.length; i += 4) st.streams.onStreamFrameLost(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]! === 1);
    for (let i = 0; i < c.length; i += 2) st.spaces[2].cryptoSend.onLost(c[i]!, c[i + 1]!, false);
    if (rec.handshakeDone) st.handshakeDonePending = true;
    break;
  }
  scratchTokens.length = 0;
}

/**
 * A PTO probe is about to be built in `space` (RFC 9002 §6.2.4: probes SHOULD carry data). When
 * nothing new is queued there, queue the oldest unacknowledged data again — every CRYPTO frame in
 * flight at Initial/Handshake, the oldest STREAM/CRYPTO/HANDSHAKE_DONE packet's frames in the
 * Application space — so that EACH probe datagram of a PTO round carries it, not only the first
 * (a PING-only second probe is worthless when the first one is lost).
 */
export function refillProbe(st: ConnState, space: number): void {
  const sp = st.spaces[space]!;
  if (sp.discarded || sp.cryptoSend.wantsToSend) return;
  if (space < 2) retransmitInflightCrypto(st, space);
  else if (!st.handshakeDonePending) retransmitOldestAppData(st);
}

/** Discard Initial or Handshake keys and everything in flight there (RFC 9001 §4.9, RFC 9002 §6.4). */
export function discardSpace(st: ConnState, space: 0 | 1, now: number): void {
  const sp = st.spaces[space];
  if (sp.discarded) return;
  scratchList.clear();
  st.ld.discardSpace(space, now, scratchList);
  for (let i = 0; i < scratchList.length; i++) {
    const rec = scratchList.token[i] as SentRecord | undefined;
    if (rec !== undefined) st.pool.release(rec);
  }
  scratchList.clear();
  st.probes[space] = 0;
  sp.discard();
  if (space === 0 && st.initialOpenOld !== null) {
    st.initialOpenOld.discard();
    st.initialOpenOld = null;
  }
  for (let i = st.buffered.length - 1; i >= 0; i--) if (st.buffered[i]!.level === space) st.buffered.splice(i, 1);
  if (st.qlog.enabled) {
    st.qlog.emit(now, 'security:key_discarded', { key_type: `server_${space === 0 ? 'initial' : 'handshake'}_secret` });
    st.qlog.emit(now, 'security:key_discarded', { key_type: `client_${space === 0 ? 'initial' : 'handshake'}_secret` });
  }
}

/** 0-RTT was rejected (RFC 9001 §4.6.2, RFC 9002 §6.4): its data goes again in 1-RTT packets. */
export function onZeroRttRejected(st: ConnState, now: number): void {
  scratchList.clear();
  st.ld.discardZeroRtt(now, scratchList);
  for (let i = 0; i < scratchList.length; i++) {
    const rec = scratchList.token[i] as SentRecord | undefined;
    if (rec === undefined) continue;
    requeueRecord(st, rec, true);
    st.pool.release(rec);
  }
  scratchList.clear();
}

/** Client received a Retry (RFC 9002 §6.3): Initial (and 0-RTT) data is sent again. */
export function onRetryRecovery(st: ConnState, now: number): void {
  scratchList.clear();
  st.ld.onRetry(now, scratchList);
  for (let i = 0; i < scratchList.length; i++) {
    const rec = scratchList.token[i] as SentRecord | undefined;
    if (rec === undefined) continue;
    requeueRecord(st, rec, false);
    st.pool.release(rec);
  }
  scratchList.clear();
}

/**
 * The handshake is confirmed (RFC 9001 §4.1.2: server at completion, client on HANDSHAKE_DONE):
 * App-space PTO starts, Handshake keys go (§4.9.2), the server owes HANDSHAKE_DONE.
 */
export function confirmHandshake(st: ConnState, now: number): void {
  if (st.handshakeConfirmed) return;
  st.handshakeConfirmed = true;
  st.ld.onHandshakeConfirmed(now);
  if (!st.isServer) st.ld.onPeerAddressValidated(now);
  discardSpace(st, 1, now);
  if (st.isServer) st.handshakeDonePending = true;
  st.pmtud?.enable(now);
  st.emit({ type: 'handshake-confirmed' });
}
