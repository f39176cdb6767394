// L4: ending a connection — RFC 9000 §10.1 (idle timeout), §10.2 (immediate close: closing and
// draining periods of 3×PTO, §10.2.1 rate-limited CONNECTION_CLOSE while closing, §10.2.2 draining
// after a peer's CONNECTION_CLOSE, §10.2.3 application errors before the handshake is confirmed),
// §10.3 (stateless reset: draining without a word), RFC 9368 / RFC 9000 §6 (version failures).
import { type TransportError, TransportErrorCode, transportErrorName } from '../codec/errors.js';
import { utf8 } from '../util/bytes.js';
import { flushAuxEvents } from './events.js';
import type { ConnState } from './state.js';
import type { ConnectionError, ConnectionErrorKind } from './types.js';

/** Longest reason phrase we send (it must fit a small packet). */
const MAX_REASON = 120;

const ERR_CODES: Record<ConnectionErrorKind, string> = {
  transport: 'ERR_QUIC_TRANSPORT_ERROR',
  application: 'ERR_QUIC_APPLICATION_ERROR',
  idle: 'ERR_QUIC_IDLE_TIMEOUT',
  reset: 'ERR_QUIC_STATELESS_RESET',
  version: 'ERR_QUIC_VERSION_NEGOTIATION',
  local: 'ERR_QUIC_INTERNAL',
};

export function makeError(kind: ConnectionErrorKind, code: number, reason: string, remote: boolean, frameType?: number): ConnectionError {
  const e: ConnectionError = { kind, code, reason, remote, errCode: ERR_CODES[kind] };
  if (frameType !== undefined) e.frameType = frameType;
  return e;
}

function reasonBytes(reason: string): Uint8Array {
  let b = utf8(reason);
  if (b.length > MAX_REASON) b = b.subarray(0, MAX_REASON);
  return b;
}

/** Nothing was exchanged yet: no peer can be waiting for a CONNECTION_CLOSE. */
function nothingSent(st: ConnState): boolean {
  return st.counters.datagramsSent === 0 && !st.receivedAny;
}

/**
 * Close locally (RFC 9000 §10.2): remember the error, send CONNECTION_CLOSE at the next send(),
 * and stay in the closing period for 3×PTO. `app` selects frame 0x1d (application error).
 */
export function closeLocally(st: ConnState, app: boolean, code: number, reason: string, frameType: number, kind: ConnectionErrorKind, now: number): void {
  if (st.state === 'closing' || st.state === 'draining' || st.state === 'closed') return;
  st.error = makeError(kind, code, reason, false, app ? undefined : frameType);
  st.closeFrame = { app, code, frameType: app ? 0 : frameType, reason: reasonBytes(reason) };
  if (st.qlog.enabled) {
    st.qlog.emit(now, 'connectivity:connection_closed', { owner: 'local', [app ? 'application_code' : 'connection_code']: code, reason });
  }
  if (nothingSent(st)) {
    finishClose(st, now);
    return;
  }
  st.setState('closing');
  st.closeSendPending = true;
  st.closeDeadline = now + st.pto3();
  dropSendState(st);
}

/** A TransportError raised while processing peer input (or by TLS): close with its code. */
export function closeWithTransportError(st: ConnState, e: TransportError, now: number): void {
  closeLocally(st, false, e.errorCode, e.reason || transportErrorName(e.errorCode), e.frameType, 'transport', now);
}

/** Something of ours failed: INTERNAL_ERROR (kind 'local'). */
export function closeInternal(st: ConnState, err: unknown, now: number): void {
  st.internalError ??= err;
  const msg = err instanceof Error ? err.message : String(err);
  closeLocally(st, false, TransportErrorCode.INTERNAL_ERROR, `internal error: ${msg}`, 0, 'local', now);
}

/** The peer's CONNECTION_CLOSE (RFC 9000 §10.2.2): draining, no more sending. */
export function enterDraining(st: ConnState, error: ConnectionError, now: number): void {
  if (st.state === 'draining' || st.state === 'closed') return;
  if (st.error === null) st.error = error;
  if (st.qlog.enabled) {
    st.qlog.emit(now, 'connectivity:connection_closed', {
      owner: error.remote ? 'remote' : 'local',
      trigger: error.kind === 'reset' ? 'stateless_reset' : undefined,
      [error.kind === 'application' ? 'application_code' : 'connection_code']: error.code,
      reason: error.reason,
    });
  }
  st.setState('draining');
  st.closeSendPending = false;
  st.closeDeadline = now + st.pto3();
  dropSendState(st);
}

/** Idle timeout (RFC 9000 §10.1): the connection is silently closed and its state discarded. */
export function idleTimeout(st: ConnState, now: number): void {
  if (st.state === 'closed') return;
  if (st.error === null || st.state !== 'closing') st.error = makeError('idle', 0, 'idle timeout', false);
  if (st.qlog.enabled) st.qlog.emit(now, 'connectivity:connection_closed', { owner: 'local', trigger: 'idle_timeout' });
  finishClose(st, now);
}

/** Version negotiation failed (RFC 9000 §6.2): no common version. */
export function versionFailure(st: ConnState, offered: number[], now: number): void {
  st.error = makeError('version', 0, `no common QUIC version (server offers ${offered.map((v) => '0x' + v.toString(16)).join(', ')})`, true);
  finishClose(st, now);
}

/** Terminal: keys dropped, 'closed' event emitted once. */
export function finishClose(st: ConnState, now: number): void {
  if (st.state === 'closed') return;
  st.setState('closed');
  st.closeDeadline = Infinity;
  st.idleDeadline = Infinity;
  st.keepAliveDeadline = Infinity;
  st.closeSendPending = false;
  for (const s of st.spaces) if (!s.discarded) s.discard();
  st.oneRtt?.discardAll();
  st.oneRtt = null;
  st.zeroRttSeal?.discard();
  st.zeroRttOpen?.discard();
  st.zeroRttSeal = null;
  st.zeroRttOpen = null;
  st.initialOpenOld?.discard();
  st.initialOpenOld = null;
  st.buffered.length = 0;
  if (!st.closedEmitted) {
    st.closedEmitted = true;
    flushAuxEvents(st);
    st.emit({ type: 'closed', error: st.error ?? makeError('local', 0, 'closed', false) });
  }
  void now;
}

/** Nothing but CONNECTION_CLOSE is sent after closing starts. */
function dropSendState(st: ConnState): void {
  st.dgramQueue.length = 0;
  st.pingPending = false;
  st.probes[0] = st.probes[1] = st.probes[2] = 0;
  st.buffered.length = 0;
}

