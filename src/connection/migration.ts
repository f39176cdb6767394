// L4: which path a datagram belongs to, and the server's reaction to a client's new address —
// RFC 9000 §9.3 (respond to the highest-numbered non-probing packet from a new address: NAT
// rebinding), §8.2 (validate it with PATH_CHALLENGE), §8.1 (3× amplification limit on the new path
// meanwhile), §9.4 (reset congestion control and RTT unless only the port changed), §9.3.2 (fall
// back to the old path if validation fails), §8.2.4 (give up after ~3×PTO).
import { MAX_CHALLENGES, MAX_PROBED_PATHS, Path } from './paths.js';
import type { ConnState } from './state.js';
import type { PathInfo } from './types.js';

/** The Path record for a datagram's address (created as a probe path when new). */
export function pathFor(st: ConnState, from: PathInfo): Path {
  if (st.path.info.remoteAddress === '' && st.path.info.remotePort === 0) {
    st.path = new Path(from, st.path.validated);
    return st.path;
  }
  if (st.path.matches(from)) return st.path;
  if (st.prevPath !== null && st.prevPath.matches(from)) return st.prevPath;
  for (const p of st.probePaths) if (p.matches(from)) return p;
  const p = new Path(from, false);
  if (st.probePaths.length >= MAX_PROBED_PATHS) st.probePaths.shift();
  st.probePaths.push(p);
  return p;
}

/** Start (or restart) validation of `p`. */
export function startValidation(st: ConnState, p: Path, now: number): void {
  p.challenge = st.o.rng.bytes(8);
  p.challengePending = true;
  p.challengesSent = 0;
  p.challengeStart = now;
  p.challengeDeadline = now + challengeInterval(st);
}

function challengeInterval(st: ConnState): number {
  // RFC 9000 §8.2.4: the whole attempt spans about 3×PTO (using the larger of both paths' PTOs).
  return Math.max(st.ld.ptoPeriod(), 2 * st.o.initialRtt);
}

/** Server: the client's highest-numbered non-probing packet came from `p` (RFC 9000 §9.3). */
export function migrateTo(st: ConnState, p: Path, now: number): void {
  if (p === st.path) return;
  const i = st.probePaths.indexOf(p);
  if (i >= 0) st.probePaths.splice(i, 1);
  const old = st.path;
  const addressChanged = old.info.remoteAddress !== p.info.remoteAddress;
  if (p === st.prevPath) {
    st.prevPath = old.validated ? old : null;
  } else {
    st.prevPath = old.validated ? old : st.prevPath;
  }
  st.path = p;
  if (!p.validated) startValidation(st, p, now);
  if (addressChanged) {
    // §9.4: congestion state and RTT belong to the old path.
    st.ld.cc.reset();
    st.ld.ecn.resetForNewPath(false);
    st.pathRttReset = true;
  }
  st.pacer.reset();
  if (st.pmtud !== null) {
    // RFC 9000 §14.2.1 / §9: a new path starts again at the base PLPMTU.
    st.pmtud.resetForNewPath();
    st.applyMtu();
    if (p.validated) st.pmtud.enable(now);
  }
  if (!p.validated) st.ld.setAmplificationLimited(p.amplificationBudget() === 0, now);
  st.emit({ type: 'path-migrated', path: { ...p.info } });
  if (st.qlog.enabled) {
    st.qlog.emit(now, 'connectivity:connection_id_updated', { owner: 'remote' });
    st.qlog.emit(now, 'connectivity:path_assigned', { path_remote: { ...p.info } });
  }
}

/** Path validation timers (challenge retransmission, abandonment). */
export function onPathTimers(st: ConnState, now: number): void {
  if (nextPathTimeout(st) > now) return;
  const all: Path[] = [st.path, ...st.probePaths];
  for (const p of all) {
    if (p.challenge === null || now < p.challengeDeadline) continue;
    if (p.challengesSent < MAX_CHALLENGES) {
      p.challengePending = true;
      p.challengeDeadline = now + challengeInterval(st);
      continue;
    }
    // Validation failed (§8.2.4).
    p.challenge = null;
    p.challengePending = false;
    p.challengeDeadline = Infinity;
    if (p === st.path && st.prevPath !== null && st.prevPath.validated) {
      // §9.3.2: return to the last validated path.
      st.path = st.prevPath;
      st.prevPath = null;
      st.emit({ type: 'path-migrated', path: { ...st.path.info } });
    }
  }
}

export function nextPathTimeout(st: ConnState): number {
  let t = Infinity;
  if (st.path.challenge !== null && st.path.challengeDeadline < t) t = st.path.challengeDeadline;
  for (const p of st.probePaths) if (p.challenge !== null && p.challengeDeadline < t) t = p.challengeDeadline;
  return t;
}
