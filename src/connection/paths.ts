// L4: network paths — RFC 9000 §8.1 (anti-amplification: 3× the bytes received before the
// address is validated), §8.2 (path validation with PATH_CHALLENGE / PATH_RESPONSE, §8.2.1 padding
// to 1200, §8.2.4 abandoning after 3×PTO), §9.3 (a peer's new address, NAT rebinding), §9.4 (what
// resets on a new path).
import type { PathInfo } from './types.js';

/** Challenges sent before giving up on a path (spaced by PTO, within §8.2.4's 3×PTO budget). */
export const MAX_CHALLENGES = 3;
/** Paths we answer probes on besides the active one. */
export const MAX_PROBED_PATHS = 4;

export class Path {
  readonly info: PathInfo;
  /** Address validated (Handshake packet received, token, or PATH_RESPONSE): no 3× limit. */
  validated: boolean;
  /** UDP payload bytes received from / sent to this address (anti-amplification, §8.1). */
  bytesReceived = 0;
  bytesSent = 0;
  /** Data of our outstanding PATH_CHALLENGE, null when none. */
  challenge: Uint8Array | null = null;
  /** A PATH_CHALLENGE should go out now. */
  challengePending = false;
  challengesSent = 0;
  /** When to send the next challenge or give up (ms). */
  challengeDeadline = Infinity;
  /** When validation started (RTT seed for the new path). */
  challengeStart = 0;
  /** PATH_RESPONSE data owed on this path (most recent last). */
  readonly responses: Uint8Array[] = [];
  /** When we last received anything on this path. */
  lastReceived = 0;

  constructor(info: PathInfo, validated: boolean) {
    this.info = copyPath(info);
    this.validated = validated;
  }

  /** Bytes we may still send before validation (Infinity when validated). */
  amplificationBudget(): number {
    if (this.validated) return Infinity;
    const b = 3 * this.bytesReceived - this.bytesSent;
    return b > 0 ? b : 0;
  }

  matches(p: PathInfo): boolean {
    return samePath(this.info, p);
  }
}

export function copyPath(p: PathInfo): PathInfo {
  const out: PathInfo = { remoteAddress: p.remoteAddress, remotePort: p.remotePort };
  if (p.localAddress !== undefined) out.localAddress = p.localAddress;
  if (p.localPort !== undefined) out.localPort = p.localPort;
  return out;
}

/** Same 4-tuple (local parts compared only when both sides know them). */
export function samePath(a: PathInfo, b: PathInfo): boolean {
  if (a.remoteAddress !== b.remoteAddress || a.remotePort !== b.remotePort) return false;
  if (a.localAddress !== undefined && b.localAddress !== undefined && a.localAddress !== b.localAddress) return false;
  if (a.localPort !== undefined && b.localPort !== undefined && a.localPort !== b.localPort) return false;
  return true;
}

export function validatePathInfo(name: string, p: PathInfo): void {
  if (p === null || typeof p !== 'object') throw new TypeError(`${name}: expected a PathInfo object`);
  if (typeof p.remoteAddress !== 'string') throw new TypeError(`${name}.remoteAddress: expected a string`);
  if (typeof p.remotePort !== 'number' || !Number.isInteger(p.remotePort) || p.remotePort < 0 || p.remotePort > 65535) {
    throw new RangeError(`${name}.remotePort: expected an integer port`);
  }
}
