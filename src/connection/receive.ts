// L4: the receive path — RFC 9000 §12.2 (coalesced packets, DCID of the first packet), §5.2
// (matching packets to the connection), §7.2 (the server's SCID becomes the client's DCID),
// §17.2.1 / §6.2 (Version Negotiation at the client), §17.2.5.2 (Retry at the client), §10.3.1
// (detecting a stateless reset), §8.1 (counting bytes for anti-amplification), §9.3 (migration),
// §13.2.1 (ACK bookkeeping); RFC 9001 §5.4–§5.7 (header protection, decrypting in place, buffering
// packets whose keys are not ready), §6 (key phases), §6.6 (integrity limit), §4.9.1 (the server
// drops Initial keys on its first Handshake packet), §17.2 reserved bits (PROTOCOL_VIOLATION).
import { BufferUnderflow } from '../util/bytes.js';
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { PacketKind } from '../codec/frames.js';
import { HeaderError, decodePacketHeader, keyPhaseBit, reservedBitsValid, type PacketHeader } from '../codec/header.js';
import { PacketType } from '../codec/version.js';
import { initialProtection } from '../crypto/initial.js';
import type { PacketProtection } from '../crypto/packet-protection.js';
import { verifyRetryIntegrity } from '../crypto/retry.js';
import { equal, toHex } from '../util/bytes.js';
import { closeInternal, closeLocally, closeWithTransportError, enterDraining, makeError, versionFailure } from './close.js';
import { PacketContext, processFrames } from './frames-in.js';
import { migrateTo, pathFor } from './migration.js';
import type { Path } from './paths.js';
import { packetTypeName } from './qlog.js';
import { discardSpace, onRetryRecovery } from './recovery.js';
import type { ConnState } from './state.js';
import { compatible, switchVersion } from './tls-driver.js';
import type { PathInfo } from './types.js';

/** Packets kept while their keys are missing (RFC 9001 §5.7). */
const MAX_BUFFERED = 16;

const ctx = new PacketContext();

export function receiveDatagram(st: ConnState, dg: Uint8Array, from: PathInfo, now: number): void {
  st.now = now;
  if (st.state === 'closed' || st.state === 'draining') {
    st.drop(st.state);
    return;
  }
  st.counters.datagramsReceived++;
  st.counters.bytesReceived += dg.length;
  const path = pathFor(st, from);
  path.bytesReceived += dg.length;
  path.lastReceived = now;
  if (st.state === 'closing') {
    // RFC 9000 §10.2.1: answer with CONNECTION_CLOSE, at a falling rate.
    if (++st.closeRecv >= st.closeRecvThreshold) {
      st.closeRecv = 0;
      st.closeRecvThreshold *= 2;
      st.closeSendPending = true;
    }
    return;
  }
  try {
    processDatagram(st, dg, path, now);
    for (let rounds = 0; st.keysUnlocked && st.buffered.length > 0 && rounds < 4; rounds++) {
      st.keysUnlocked = false;
      const list = st.buffered.splice(0);
      for (const b of list) {
        if (st.state !== 'handshaking' && st.state !== 'established') break;
        processDatagram(st, b.data, pathFor(st, b.from), now);
      }
    }
    st.keysUnlocked = false;
  } catch (e) {
    if (e instanceof TransportError) closeWithTransportError(st, e, now);
    else closeInternal(st, e, now);
  }
  if (st.isServer && !st.path.validated) st.ld.setAmplificationLimited(st.path.amplificationBudget() === 0, now);
}

function processDatagram(st: ConnState, dg: Uint8Array, path: Path, now: number): void {
  const hdr = st.hdr;
  let off = 0;
  let firstDcid: Uint8Array | null = null;
  while (off < dg.length) {
    try {
      decodePacketHeader(dg, off, dg.length, st.localCids.cidLength, hdr);
    } catch (e) {
      if (!(e instanceof HeaderError || e instanceof BufferUnderflow)) throw e;
      st.drop(e instanceof HeaderError ? `header-${e.reason}` : 'header-truncated');
      if (off === 0) checkStatelessReset(st, dg, now);
      return;
    }
    const end = hdr.packetEnd;
    if (firstDcid === null) firstDcid = hdr.dcid;
    else if (!equal(hdr.dcid, firstDcid)) {
      // RFC 9000 §12.2: a coalesced packet with another DCID is ignored.
      st.drop('coalesced-dcid');
      off = end;
      continue;
    }
    processPacket(st, dg, hdr, path, now);
    if (st.state !== 'handshaking' && st.state !== 'established') return;
    off = end;
  }
}

function checkStatelessReset(st: ConnState, dg: Uint8Array, now: number): boolean {
  if ((dg[0]! & 0x80) !== 0 || !st.peerCids.isStatelessReset(dg)) return false;
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:packet_received', { header: { packet_type: 'stateless_reset' }, raw: { length: dg.length } });
  enterDraining(st, makeError('reset', 0, 'stateless reset', true), now);
  return true;
}

function buffer(st: ConnState, dg: Uint8Array, hdr: PacketHeader, path: Path, level: number): void {
  if (st.buffered.length >= MAX_BUFFERED) {
    st.drop('buffer-full');
    return;
  }
  st.buffered.push({ data: dg.slice(hdr.headerOffset, hdr.packetEnd), from: { ...path.info }, level });
  st.drop('keys-unavailable-buffered');
}

function processPacket(st: ConnState, dg: Uint8Array, hdr: PacketHeader, path: Path, now: number): void {
  if (hdr.type === PacketType.VersionNegotiation) return onVersionNegotiation(st, hdr, now);
  if (hdr.type === PacketType.Retry) return onRetry(st, dg, hdr, now);

  let switchTo = 0;
  /** Sequence number of our CID the packet was sent to (short headers), -1 otherwise. */
  let dcidSeq = -1;
  if (hdr.long) {
    if (hdr.version !== st.version) {
      const oldOk = st.isServer && hdr.version === st.originalVersion && st.initialOpenOld !== null && hdr.type === PacketType.Initial;
      const zeroRttOld = st.isServer && hdr.version === st.originalVersion && hdr.type === PacketType.ZeroRtt;
      if (!oldOk && !zeroRttOld) {
        // RFC 9368 §2.3: the client follows a compatible version the server switched to.
        if (!st.isServer && hdr.type === PacketType.Initial && !st.peerScidKnown && st.o.versions.includes(hdr.version) && compatible(st.version, hdr.version)) {
          switchTo = hdr.version;
        } else {
          st.drop('version-mismatch');
          return;
        }
      }
    }
    const dcidOk = st.localCids.has(hdr.dcid) || (st.isServer && (equal(hdr.dcid, st.initialDcid) || equal(hdr.dcid, st.originalDcid)));
    if (!dcidOk) {
      st.drop('unknown-dcid');
      return;
    }
    if (st.peerScidKnown && !equal(hdr.scid, st.peerCids.entries.find((e) => e.seq === 0)?.cid ?? hdr.scid)) {
      st.drop('scid-mismatch');
      return;
    }
  } else {
    dcidSeq = st.localCids.activeSeqOf(hdr.dcid);
    if (dcidSeq < 0) {
      if (checkStatelessReset(st, dg, now)) return;
      st.drop('unknown-dcid');
      return;
    }
  }

  let space: 0 | 1 | 2;
  let kind: PacketKind;
  let keys: PacketProtection | null;
  switch (hdr.type) {
    case PacketType.Initial:
      space = 0;
      kind = PacketKind.INITIAL;
      // RFC 9000 §14.1: a server MUST discard an Initial in a datagram smaller than 1200 bytes.
      if (st.isServer && dg.length < 1200) return st.drop('initial-datagram-too-small');
      if (st.spaces[0].discarded) return st.drop('initial-keys-discarded');
      if (!st.isServer && hdr.token.length !== 0) return st.drop('server-initial-token');
      if (switchTo !== 0) {
        const tmp = initialProtection(switchTo, st.initialDcid, false);
        tmp.seal.discard();
        keys = tmp.open;
      } else keys = hdr.version === st.version ? st.spaces[0].open : st.initialOpenOld;
      break;
    case PacketType.ZeroRtt:
      space = 2;
      kind = PacketKind.ZERO_RTT;
      if (!st.isServer) return st.drop('0rtt-at-client');
      keys = st.zeroRttOpen;
      if (keys === null) {
        // The ClientHello (and the 0-RTT decision) may still be on its way.
        if (st.spaces[1].seal === null && st.tls === null) return buffer(st, dg, hdr, path, 2);
        return st.drop('0rtt-rejected');
      }
      break;
    case PacketType.Handshake:
      space = 1;
      kind = PacketKind.HANDSHAKE;
      if (st.spaces[1].discarded) return st.drop('handshake-keys-discarded');
      keys = st.spaces[1].open;
      if (keys === null) return buffer(st, dg, hdr, path, 1);
      break;
    default:
      space = 2;
      kind = PacketKind.ONE_RTT;
      keys = st.oneRtt?.open ?? null;
      if (keys === null) {
        if (checkStatelessReset(st, dg, now)) return;
        if (!st.handshakeComplete) return buffer(st, dg, hdr, path, 3);
        return st.drop('1rtt-keys-unavailable');
      }
      break;
  }
  if (keys === null) return st.drop('keys-unavailable');

  const sp = st.spaces[space];
  const r = keys.removeHeaderProtection(dg, hdr.headerOffset, hdr.pnOffset, hdr.packetEnd, sp.largestRecv);
  if (r === null) {
    if (!hdr.long && checkStatelessReset(st, dg, now)) return;
    return st.drop('too-short');
  }
  let used: PacketProtection | null = keys;
  if (kind === PacketKind.ONE_RTT) {
    used = st.oneRtt!.decrypt(dg, r, keyPhaseBit(r.firstByte));
  } else if (!keys.decryptPayload(dg, r)) {
    used = null;
  }
  if (switchTo !== 0) keys.discard();
  if (used === null) {
    if (kind === PacketKind.ONE_RTT) {
      if (checkStatelessReset(st, dg, now)) return;
      const limit = st.o.aeadIntegrityLimit || keys.suite.integrityLimit;
      if (st.oneRtt!.openFailures >= limit) {
        closeLocally(st, false, TransportErrorCode.AEAD_LIMIT_REACHED, 'AEAD integrity limit reached', 0, 'transport', now);
        return;
      }
    }
    st.drop('decrypt-failed');
    return;
  }
  if (switchTo !== 0) switchVersion(st, switchTo, now);

  // RFC 9000 §17.2, §17.3.1: reserved bits must be zero once protection is removed.
  if (!reservedBitsValid(r.firstByte)) {
    throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits set');
  }
  const pn = r.pn;
  if (sp.isDuplicate(pn)) {
    st.drop('duplicate');
    return;
  }
  if (hdr.long && !st.peerScidKnown && (hdr.type === PacketType.Initial || hdr.type === PacketType.Handshake)) {
    st.peerCids.setInitial(hdr.scid);
    st.peerScidKnown = true;
  }
  st.receivedAny = true;

  ctx.space = space;
  ctx.kind = kind;
  ctx.dcid = hdr.dcid;
  ctx.path = path;
  ctx.ackEliciting = false;
  ctx.nonProbing = false;
  ctx.qlogFrames = st.qlog.enabled ? [] : null;
  const largestBefore = sp.largestRecv;
  processFrames(st, dg, r.payloadOffset, r.payloadOffset + r.payloadLength, ctx, now);
  st.counters.packetsReceived++;
  if (st.qlog.enabled) {
    const header: Record<string, unknown> = { packet_type: packetTypeName(hdr.type), packet_number: pn };
    if (hdr.long) {
      header.dcid = toHex(hdr.dcid);
      header.scid = toHex(hdr.scid);
    } else header.key_phase = keyPhaseBit(r.firstByte);
    st.qlog.emit(now, 'transport:packet_received', { header, raw: { length: hdr.packetEnd - hdr.headerOffset }, frames: ctx.qlogFrames });
  }
  if (st.state === 'draining' || st.state === 'closed') return;
  sp.onPacketReceived(pn, ctx.ackEliciting, now, st.o.transport.maxAckDelay, st.ld.rtt.hasSample ? st.ld.rtt.smoothedRtt : 0);

  // Idle timer restarts on every packet processed (RFC 9000 §10.1).
  st.ackElicitingSentSinceRecv = false;
  st.lastRecvTime = now;
  if (st.idleTimeout !== Infinity) st.idleDeadline = now + Math.max(st.idleTimeout, st.pto3());

  if (kind === PacketKind.ONE_RTT) {
    const k = st.oneRtt!;
    if (k.onDecrypted(used, pn, now, st.pto3())) {
      k.respond(sp.nextPn);
      st.counters.keyUpdates++;
      st.emit({ type: 'key-updated', phase: k.seal.generation });
      if (st.qlog.enabled) st.qlog.emit(now, 'security:key_updated', { key_type: `${st.isServer ? 'server' : 'client'}_1rtt_secret`, trigger: 'remote_update', key_phase: k.seal.generation });
    }
    if (st.isServer && st.zeroRttOpen !== null && st.zeroRttDiscardAt === Infinity) st.zeroRttDiscardAt = now + st.pto3();
    // RFC 9000 §9.3: follow the client's highest-numbered non-probing packet to a new address.
    if (st.isServer && path !== st.path && ctx.nonProbing && pn > largestBefore && st.handshakeConfirmed) {
      // RFC 9000 §9.5: a client that moved on purpose uses a new CID; answer with a new one too.
      if (dcidSeq !== st.peerDcidSeq && st.peerDcidSeq >= 0) st.peerCids.rotate();
      migrateTo(st, path, now);
    }
    if (pn > largestBefore) st.peerDcidSeq = dcidSeq;
  } else if (kind === PacketKind.HANDSHAKE && st.isServer && !st.handshakePacketReceived) {
    // RFC 9000 §8.1: a Handshake packet proves the client's address; RFC 9001 §4.9.1: drop Initial keys.
    st.handshakePacketReceived = true;
    st.path.validated = true;
    st.ld.setAmplificationLimited(false, now);
    discardSpace(st, 0, now);
  }
}

/** RFC 9000 §6.2: a client gives up when the server offers none of the versions it asked for. */
function onVersionNegotiation(st: ConnState, hdr: PacketHeader, now: number): void {
  if (st.isServer || st.receivedAny || st.retryReceived || st.vnReceived) return st.drop('vn-unexpected');
  if (!equal(hdr.dcid, st.localCids.initial.cid) || !equal(hdr.scid, st.initialDcid)) return st.drop('vn-cid-mismatch');
  const versions = hdr.versions();
  if (versions.includes(st.probeVersion !== 0 ? st.probeVersion : st.version)) return st.drop('vn-lists-our-version');
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:packet_received', { header: { packet_type: 'version_negotiation' }, supported_versions: versions.map((v) => v.toString(16)) });
  st.vnReceived = true;
  if (st.probeVersion !== 0) {
    // We solicited this with an unsupported version (RFC 9000 §6.3). When the server offers the
    // version our first flight was built for, resend that flight in it, as after a Retry. No
    // downgrade is possible (RFC 9368 §4): we only ever continue in our own first choice.
    st.probeVersion = 0;
    if (versions.includes(st.version)) return onRetryRecovery(st, now);
  }
  versionFailure(st, versions, now);
}

/** RFC 9000 §17.2.5.2: the client follows one Retry, with a new DCID and the token. */
function onRetry(st: ConnState, dg: Uint8Array, hdr: PacketHeader, now: number): void {
  if (st.isServer || st.retryReceived || st.receivedAny) return st.drop('retry-unexpected');
  if (hdr.version !== st.version || !equal(hdr.dcid, st.localCids.initial.cid)) return st.drop('retry-mismatch');
  if (hdr.token.length === 0) return st.drop('retry-empty-token');
  if (!verifyRetryIntegrity(st.version, st.originalDcid, dg.subarray(hdr.headerOffset, hdr.packetEnd))) return st.drop('retry-integrity');
  st.retryReceived = true;
  st.retrySourceCid = hdr.scid.slice();
  st.token = hdr.token.slice();
  st.initialDcid = hdr.scid.slice();
  st.peerCids.setInitial(hdr.scid);
  const sp = st.spaces[0];
  sp.seal?.discard();
  sp.open?.discard();
  const keys = initialProtection(st.version, st.initialDcid, false);
  sp.seal = keys.seal;
  sp.open = keys.open;
  onRetryRecovery(st, now);
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:packet_received', { header: { packet_type: 'retry', scid: toHex(hdr.scid) }, retry_token: { length: hdr.token.length } });
}
