// L4: the connection's timer table (DESIGN §2) — loss detection / PTO (RFC 9002 §6.2), delayed
// ACK (RFC 9000 §13.2.1, max_ack_delay), idle timeout (§10.1), closing/draining (§10.2), old 1-RTT
// read keys (RFC 9001 §6.4) and 0-RTT keys (§4.9.3), path validation (RFC 9000 §8.2.4) and
// keep-alive PINGs (§10.1.2). nextTimeout() is their minimum; onTimeout() runs what is due.
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { closeInternal, closeLocally, finishClose, idleTimeout } from './close.js';
import { nextPathTimeout, onPathTimers } from './migration.js';
import { onLossTimer } from './recovery.js';
import type { ConnState } from './state.js';

export function nextTimeout(st: ConnState): number {
  if (st.state === 'closed') return Infinity;
  if (st.state === 'closing' || st.state === 'draining') return st.closeDeadline;
  let t = st.ld.getLossDetectionTimer();
  const app = st.spaces[2];
  if (app.ackDeadline < t && app.ackRanges.length > 0) t = app.ackDeadline;
  if (st.idleDeadline < t) t = st.idleDeadline;
  if (st.oneRtt !== null && st.oneRtt.prevDiscardAt < t) t = st.oneRtt.prevDiscardAt;
  if (st.zeroRttDiscardAt < t) t = st.zeroRttDiscardAt;
  if (st.keepAliveDeadline < t) t = st.keepAliveDeadline;
  if (st.pacingWakeup < t) t = st.pacingWakeup;
  if (st.pmtud !== null) {
    const m = st.pmtud.nextTimeout();
    if (m < t) t = m;
  }
  const p = nextPathTimeout(st);
  if (p < t) t = p;
  const s = stallDeadline(st);
  if (s < t) t = s;
  return t;
}

/** PINGs sent into a stalled response before leaving it to the idle timeout. */
const MAX_STALL_PROBES = 4;

/**
 * A stalled response (RFC 9000 §10.1.2, §9.3): stream data was arriving, streams are still open,
 * nothing of ours awaits an ACK, and nothing more came — e.g. a server on a new path after NAT
 * rebinding, out of amplification budget because its packets were lost, while we only sent ACKs.
 * A PING makes the peer answer (and gives it budget); exponential backoff, a few times only.
 */
function stallDeadline(st: ConnState): number {
  if (!st.handshakeConfirmed || st.stallProbes >= MAX_STALL_PROBES || st.lastStreamRecvTime === -Infinity) return Infinity;
  if (st.streams.size === 0 || st.ld.hasAckElicitingInFlight(2)) return Infinity;
  return Math.max(st.lastStreamRecvTime, st.lastRecvTime) + 2 * st.ld.ptoPeriod() * 2 ** st.stallProbes;
}

export function onTimeout(st: ConnState, now: number): void {
  st.now = now;
  if (st.state === 'closed') return;
  if (st.state === 'closing' || st.state === 'draining') {
    if (now >= st.closeDeadline) finishClose(st, now);
    return;
  }
  try {
    if (now >= st.idleDeadline) {
      idleTimeout(st, now);
      return;
    }
    if (now >= st.pacingWakeup) st.pacingWakeup = Infinity;
    // PMTU raise timer: restart the search (the probe goes out with the next send()).
    if (st.pmtud !== null && now >= st.pmtud.nextTimeout()) st.pmtud.nextProbeSize(now);
    if (now >= st.ld.getLossDetectionTimer()) onLossTimer(st, now);
    if (st.oneRtt !== null) st.oneRtt.discardPrevIfDue(now);
    if (now >= st.zeroRttDiscardAt) {
      st.zeroRttOpen?.discard();
      st.zeroRttOpen = null;
      st.zeroRttDiscardAt = Infinity;
    }
    if (now >= st.keepAliveDeadline) {
      st.keepAliveDeadline = Infinity;
      if (st.handshakeComplete) st.pingPending = true;
    }
    onPathTimers(st, now);
    if (now >= stallDeadline(st)) {
      st.stallProbes++;
      st.pingPending = true;
    }
    checkKeyUpdate(st, now);
  } catch (e) {
    if (e instanceof TransportError) closeLocally(st, false, e.errorCode, e.reason, e.frameType, 'transport', now);
    else closeInternal(st, e, now);
  }
}

/**
 * RFC 9001 §6.6: update the keys before the confidentiality limit (or the configured interval);
 * if an update is not possible and the limit is reached, close with AEAD_LIMIT_REACHED.
 */
export function checkKeyUpdate(st: ConnState, now: number): void {
  const k = st.oneRtt;
  if (k === null || k.open === null) return;
  const limit = k.seal.suite.confidentialityLimit;
  const interval = st.o.keyUpdateInterval > 0 ? st.o.keyUpdateInterval : Math.floor(limit * 0.9);
  if (k.seal.sealed < interval) return;
  if (k.canInitiate(st.handshakeConfirmed)) {
    initiateKeyUpdate(st, now);
    return;
  }
  if (k.seal.sealed >= limit) {
    closeLocally(st, false, TransportErrorCode.AEAD_LIMIT_REACHED, 'AEAD confidentiality limit reached', 0, 'transport', now);
  }
}

export function initiateKeyUpdate(st: ConnState, now: number): boolean {
  const k = st.oneRtt;
  if (k === null || !k.canInitiate(st.handshakeConfirmed)) return false;
  k.initiate(st.spaces[2].nextPn);
  st.counters.keyUpdates++;
  st.emit({ type: 'key-updated', phase: k.seal.generation });
  if (st.qlog.enabled) st.qlog.emit(now, 'security:key_updated', { key_type: `${st.isServer ? 'server' : 'client'}_1rtt_secret`, trigger: 'local_update', key_phase: k.seal.generation });
  return true;
}
