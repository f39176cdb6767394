// L4: the packet builder — one UDP datagram per call with coalesced Initial, Handshake, 0-RTT and
// 1-RTT packets (RFC 9000 §12.2), the last packet padded when the datagram must reach 1200 bytes
// (§14.1: every client datagram with an Initial, every datagram with an ack-eliciting Initial,
// §8.2.1 path probes), the anti-amplification limit (§8.1), congestion control and pacing
// (RFC 9002 §7, §7.7: ACK-only packets are not congestion controlled), PTO probes (§6.2.4),
// ACK frames (RFC 9000 §13.2), frame priorities, packet protection (RFC 9001 §5), and the
// client's Initial-key discard on its first Handshake packet (RFC 9001 §4.9.1).
import {
  ackRangesFromSet,
  encodeAck,
  encodeApplicationClose,
  encodeConnectionClose,
  encodeCryptoHeader,
  encodeDataBlocked,
  encodeDatagram,
  encodeHandshakeDone,
  encodeMaxData,
  encodeMaxStreamData,
  encodeMaxStreams,
  encodeNewConnectionId,
  encodeNewToken,
  encodePathChallenge,
  encodePathResponse,
  encodePing,
  encodeResetStream,
  encodeRetireConnectionId,
  encodeStopSending,
  encodeStreamDataBlocked,
  encodeStreamHeader,
  encodeStreamsBlocked,
  sizeApplicationClose,
  sizeConnectionClose,
  sizeDatagram,
  sizeNewConnectionId,
  sizeNewToken,
  sizeRetireConnectionId,
} from '../codec/frames.js';
import { TransportErrorCode } from '../codec/errors.js';
import { encodeLongHeader, encodeShortHeader, longHeaderSize, patchLength, shortHeaderSize } from '../codec/header.js';
import { packetNumberLength } from '../codec/packet-number.js';
import { PacketType } from '../codec/version.js';
import type { PacketProtection } from '../crypto/packet-protection.js';
import { StreamFrameType as SFT, newControlFrameInfo, type ControlFrameInfo } from '../transport/stream-map.js';
import { toHex, type Writer } from '../util/bytes.js';
import { finishClose } from './close.js';
import type { Path } from './paths.js';
import { packetTypeName } from './qlog.js';
import { discardSpace, refillProbe } from './recovery.js';
import type { SentRecord } from './sent-record.js';
import { MAX_ACK_RANGES, type PacketSpace } from './spaces.js';
import type { ConnState } from './state.js';
import type { SendInfo } from './types.js';

const AEAD_TAG = 16;
/**
 * Pacing horizon (ms): datagrams may be handed out this far ahead of their release time. Beyond it
 * send() holds back congestion-controlled data and arms the pacing timer instead, so that queued
 * datagrams never wait long and an unpaced ACK can never overtake paced data (no self-reordering).
 */
export const PACING_HORIZON = 1;
/** The smallest datagram worth building (a short header, a few frame bytes and the tag). */
const MIN_DATAGRAM = 40;
/** ACK-only packets in a row before one carries a PING so the peer acknowledges (RFC 9000 §13.2.1). */
const ACK_ONLY_PING_EVERY = 20;
const LEVEL_INITIAL = 0;
const LEVEL_HANDSHAKE = 1;
const LEVEL_ZERO_RTT = 2;
const LEVEL_ONE_RTT = 3;

/** A packet written but not yet sealed (the last one may still get padding). */
interface Pending {
  level: number;
  space: number;
  type: PacketType;
  keys: PacketProtection;
  headerOffset: number;
  pnOffset: number;
  pnLen: number;
  pn: number;
  payloadStart: number;
  payloadEnd: number;
  long: boolean;
  /** Size of the Length field of a long header (2 or 4). */
  lfs: number;
  rec: SentRecord;
  ackEliciting: boolean;
  padded: boolean;
  /** A DPLPMTUD probe (RFC 9000 §14.4): its loss is not congestion. */
  pmtuProbe: boolean;
  size: number;
}

function newPending(): Pending {
  return {
    level: 0,
    space: 0,
    type: PacketType.Initial,
    keys: null as unknown as PacketProtection,
    headerOffset: 0,
    pnOffset: 0,
    pnLen: 0,
    pn: 0,
    payloadStart: 0,
    payloadEnd: 0,
    long: false,
    lfs: 2,
    rec: null as unknown as SentRecord,
    ackEliciting: false,
    padded: false,
    pmtuProbe: false,
    size: 0,
  };
}

const pendings: Pending[] = [newPending(), newPending(), newPending(), newPending()];
const sentInfo = { pn: 0, size: 0, ackEliciting: false, inFlight: false, zeroRtt: false, pmtuProbe: false, token: null as unknown };

/** What the builder may put into the datagram being built. */
interface Budget {
  /** Ack-eliciting, congestion-controlled frames allowed. */
  cc: boolean;
  /** Probes owed: the packet of this space must be ack-eliciting even beyond the window. */
  now: number;
  path: Path;
  /** Initial packets may carry ack-eliciting frames (the datagram can reach 1200 bytes). */
  initialAckEliciting: boolean;
}

const budget: Budget = { cc: false, now: 0, path: null as unknown as Path, initialAckEliciting: true };

/** Build one datagram into `out`; null when there is nothing to send now. */
export function buildDatagram(st: ConnState, out: Uint8Array, now: number): SendInfo | null {
  st.now = now;
  if (st.state === 'closed' || st.state === 'draining') return null;
  if (st.state === 'closing') return buildClose(st, out, now);
  const probe = buildProbeResponse(st, out, now);
  if (probe !== null) return probe;
  const mtuProbe = buildPmtuProbe(st, out, now);
  if (mtuProbe !== null) return mtuProbe;

  const path = st.path;
  if (path.info.remoteAddress === '' && path.info.remotePort === 0) return null;
  const amp = path.amplificationBudget();
  let limit = Math.min(out.length, st.maxDatagramSize());
  if (amp < limit) limit = amp;
  if (limit < MIN_DATAGRAM) {
    if (st.isServer && !path.validated) st.ld.setAmplificationLimited(true, now);
    return null;
  }
  const probing = st.probes[0]! + st.probes[1]! + st.probes[2]! > 0;
  const window = st.ld.cc.availableWindow();
  budget.cc = probing || window >= Math.min(limit, st.ld.cc.maxDatagramSize);
  budget.now = now;
  budget.path = path;
  budget.initialAckEliciting = limit >= 1200;
  if (!probing && budget.cc && window < limit) limit = window;
  if (!probing && budget.cc) {
    // RFC 9002 §7.7: pace ack-eliciting packets; ACKs still go out meanwhile.
    const t = st.pacer.releaseTime(now, limit, st.ld.cc.congestionWindow, st.ld.rtt.smoothedRtt);
    if (t > now + PACING_HORIZON) {
      budget.cc = false;
      st.pacingWakeup = t - PACING_HORIZON;
    }
  }

  const w = st.writer;
  w.reset(out, 0, limit);
  let count = 0;
  let padTo = 0;
  for (let level = LEVEL_INITIAL; level <= LEVEL_ONE_RTT; level++) {
    if (w.remaining < MIN_DATAGRAM) break;
    const p = pendings[count]!;
    if (!writePacket(st, level, w, p, now)) continue;
    if (count > 0) seal(st, pendings[count - 1]!, out, 0, 0);
    count++;
    if (p.type === PacketType.Initial && (!st.isServer || p.ackEliciting)) padTo = 1200;
    if (p.padded) padTo = Math.max(padTo, Math.min(1200, limit));
  }
  if (count === 0) {
    if (!budget.cc && st.ld.cc.bytesInFlight > 0) st.ld.cc.appLimited = false;
    return null;
  }
  const last = pendings[count - 1]!;
  const end = seal(st, last, out, 0, Math.min(padTo, limit));
  return finishDatagram(st, pendings, count, end, path, now, !probing);
}

function finishDatagram(st: ConnState, list: Pending[], count: number, length: number, path: Path, now: number, paced = true): SendInfo {
  let ackEliciting = false;
  let inFlight = false;
  for (let i = 0; i < count; i++) {
    if (list[i]!.ackEliciting) ackEliciting = true;
    if (list[i]!.ackEliciting || list[i]!.padded) inFlight = true;
  }
  let release = now;
  if (inFlight) {
    const cc = st.ld.cc;
    const srtt = st.ld.rtt.smoothedRtt;
    // PTO probes leave at once (RFC 9002 §6.2.4); they still take pacing tokens.
    if (paced) release = st.pacer.releaseTime(now, length, cc.congestionWindow, srtt);
    st.pacer.onPacketSent(release, length, cc.congestionWindow, srtt);
  }
  // Release times never go backwards: a later datagram must not overtake an earlier paced one.
  if (release < st.lastRelease) release = st.lastRelease;
  st.lastRelease = release;
  const sendTime = release > now ? release : now;
  let wroteHandshake = false;
  for (let i = 0; i < count; i++) {
    const p = list[i]!;
    sentInfo.pn = p.pn;
    sentInfo.size = p.size;
    sentInfo.ackEliciting = p.ackEliciting;
    sentInfo.inFlight = p.ackEliciting || p.padded;
    sentInfo.zeroRtt = p.level === LEVEL_ZERO_RTT;
    sentInfo.pmtuProbe = p.pmtuProbe;
    sentInfo.token = p.rec;
    st.ld.onPacketSent(p.space, sentInfo, sendTime);
    if (p.level === LEVEL_HANDSHAKE) wroteHandshake = true;
    if (st.qlog.enabled) logSent(st, p, now);
  }
  st.counters.datagramsSent++;
  st.counters.bytesSent += length;
  path.bytesSent += length;
  if (st.isServer && !path.validated && path.amplificationBudget() < MIN_DATAGRAM) st.ld.setAmplificationLimited(true, now);
  if (ackEliciting) {
    if (!st.ackElicitingSentSinceRecv && st.idleTimeout !== Infinity) st.idleDeadline = now + Math.max(st.idleTimeout, st.pto3());
    st.ackElicitingSentSinceRecv = true;
    if (st.o.keepAliveInterval > 0) st.keepAliveDeadline = now + st.o.keepAliveInterval;
  }
  // RFC 9001 §4.9.1: a client discards Initial keys when it first sends a Handshake packet.
  if (wroteHandshake && !st.isServer && !st.handshakePacketSent) {
    st.handshakePacketSent = true;
    discardSpace(st, 0, now);
  }
  return { length, to: path.info, releaseTime: release };
}

function logSent(st: ConnState, p: Pending, now: number): void {
  const r = p.rec;
  const frames: Record<string, unknown>[] = [];
  if (r.ackLargest >= 0) frames.push({ frame_type: 'ack' });
  for (let i = 0; i < r.crypto.length; i += 2) frames.push({ frame_type: 'crypto', offset: r.crypto[i], length: r.crypto[i + 1] });
  for (let i = 0; i < r.streams.length; i += 4) {
    frames.push({ frame_type: 'stream', stream_id: r.streams[i], offset: r.streams[i + 1], length: r.streams[i + 2], fin: r.streams[i + 3] === 1 });
  }
  for (const c of r.controls) frames.push({ frame_type: controlName(c.frameType) });
  for (const s of r.newCids) frames.push({ frame_type: 'new_connection_id', sequence_number: s });
  for (const s of r.retireCids) frames.push({ frame_type: 'retire_connection_id', sequence_number: s });
  for (let i = 0; i < r.datagrams.length; i++) frames.push({ frame_type: 'datagram' });
  if (r.handshakeDone) frames.push({ frame_type: 'handshake_done' });
  if (r.newToken !== null) frames.push({ frame_type: 'new_token' });
  if (r.ping) frames.push({ frame_type: 'ping' });
  if (r.pathProbe) frames.push({ frame_type: 'path_challenge_or_response' });
  const header: Record<string, unknown> = { packet_type: packetTypeName(p.type), packet_number: p.pn };
  if (p.long) header.scid = toHex(st.localCids.initial.cid);
  header.dcid = toHex(st.peerCids.active.cid);
  st.qlog.emit(now, 'transport:packet_sent', { header, raw: { length: p.size }, frames });
}

function controlName(t: number): string {
  switch (t) {
    case SFT.RESET_STREAM:
      return 'reset_stream';
    case SFT.STOP_SENDING:
      return 'stop_sending';
    case SFT.MAX_DATA:
      return 'max_data';
    case SFT.MAX_STREAM_DATA:
      return 'max_stream_data';
    case SFT.MAX_STREAMS_BIDI:
    case SFT.MAX_STREAMS_UNI:
      return 'max_streams';
    case SFT.DATA_BLOCKED:
      return 'data_blocked';
    case SFT.STREAM_DATA_BLOCKED:
      return 'stream_data_blocked';
    default:
      return 'streams_blocked';
  }
}

// ---------------------------------------------------------------------------------------------
// One packet

function levelKeys(st: ConnState, level: number): PacketProtection | null {
  switch (level) {
    case LEVEL_INITIAL:
      return st.spaces[0].discarded ? null : st.spaces[0].seal;
    case LEVEL_HANDSHAKE:
      return st.spaces[1].discarded ? null : st.spaces[1].seal;
    case LEVEL_ZERO_RTT:
      return st.isServer || st.oneRtt !== null ? null : st.zeroRttSeal;
    default:
      return st.oneRtt?.seal ?? null;
  }
}

function spaceOfLevel(level: number): number {
  return level === LEVEL_INITIAL ? 0 : level === LEVEL_HANDSHAKE ? 1 : 2;
}

function typeOfLevel(level: number): PacketType {
  return level === LEVEL_INITIAL ? PacketType.Initial : level === LEVEL_HANDSHAKE ? PacketType.Handshake : level === LEVEL_ZERO_RTT ? PacketType.ZeroRtt : PacketType.OneRtt;
}

/** Anything worth a packet at this level now? (Cheap checks before writing a header.) */
function hasContent(st: ConnState, level: number, sp: PacketSpace, now: number): boolean {
  const space = sp.id;
  if (st.probes[space]! > 0) return true;
  if (level === LEVEL_INITIAL || level === LEVEL_HANDSHAKE) {
    if (sp.hasAckToSend) return true;
    if (level === LEVEL_INITIAL && !budget.initialAckEliciting) return false;
    return budget.cc && sp.cryptoSend.wantsToSend;
  }
  if (level === LEVEL_ONE_RTT) {
    if (sp.ackDue(now) && sp.hasAckToSend) return true;
    const p = budget.path;
    if (p.responses.length > 0 || p.challengePending) return true;
  }
  if (!budget.cc) return false;
  if (level === LEVEL_ONE_RTT) {
    if (st.handshakeDonePending || sp.cryptoSend.wantsToSend || st.pingPending) return true;
    if (st.localCids.pending.length > 0 || st.peerCids.retirePending.length > 0 || st.newTokenPending !== null) return true;
  }
  if (st.dgramQueue.length > 0 && (st.peerParams?.maxDatagramFrameSize ?? st.rememberedParams?.maxDatagramFrameSize ?? 0) > 0) return true;
  return st.streams.hasPendingControl() || st.streams.hasPendingStreamData();
}

/**
 * RFC 9000 §6.3: a client soliciting Version Negotiation puts an unsupported version on its long
 * headers (the packet is otherwise built, and protected, as `st.version`; no server can read it).
 */
function writeProbeVersion(buf: Uint8Array, at: number, version: number): void {
  buf[at] = version >>> 24;
  buf[at + 1] = (version >>> 16) & 0xff;
  buf[at + 2] = (version >>> 8) & 0xff;
  buf[at + 3] = version & 0xff;
}

/**
 * Write the header and frames of one packet at `w.pos` (not sealed). Returns false, leaving `w`
 * untouched, when the level has nothing to send or no keys.
 */
function writePacket(st: ConnState, level: number, w: Writer, p: Pending, now: number): boolean {
  const keys = levelKeys(st, level);
  if (keys === null) return false;
  const space = spaceOfLevel(level);
  const sp = st.spaces[space]!;
  if (!hasContent(st, level, sp, now)) return false;
  const type = typeOfLevel(level);
  const pn = sp.nextPn;
  const pnLen = packetNumberLength(pn, st.ld.largestAckedIn(space));
  const dcid = st.peerCids.active.cid;
  const long = level !== LEVEL_ONE_RTT;
  const token = level === LEVEL_INITIAL && !st.isServer ? st.token : EMPTY_TOKEN;
  const lfs = w.end - w.pos > 16383 ? 4 : 2;
  const hsize = long ? longHeaderSize(type, dcid.length, st.localCids.cidLength, token.length, pnLen, lfs) : shortHeaderSize(dcid.length, pnLen);
  if (w.remaining < hsize + AEAD_TAG + 8) return false;
  const start = w.pos;
  const pnOffset = long
    ? encodeLongHeader(w, type, level === LEVEL_ZERO_RTT ? st.originalVersion : st.version, dcid, st.localCids.initial.cid, token, pn, pnLen, lfs)
    : encodeShortHeader(w, dcid, pn, pnLen, st.oneRtt!.sendPhase, 0);
  if (long && st.probeVersion !== 0) writeProbeVersion(w.buf, start + 1, st.probeVersion);
  const payloadStart = w.pos;
  const end = w.end;
  w.end = end - AEAD_TAG;
  const rec = st.pool.take(space, pn);
  let ackEliciting = false;
  let padded = false;

  // ACK (RFC 9000 §13.2): Initial/Handshake at once; 1-RTT bundled whenever something is new.
  if (level !== LEVEL_ZERO_RTT && sp.hasAckToSend && (level !== LEVEL_ONE_RTT || sp.ackDue(now) || budget.cc)) {
    const largest = writeAck(st, sp, w, now);
    if (largest >= 0) rec.ackLargest = largest;
  }
  if (level === LEVEL_ONE_RTT) {
    const path = budget.path;
    while (path.responses.length > 0 && w.remaining >= 9) {
      encodePathResponse(w, path.responses.shift()!);
      ackEliciting = padded = rec.pathProbe = true;
    }
    if (path.challengePending && path.challenge !== null && w.remaining >= 9) {
      encodePathChallenge(w, path.challenge);
      path.challengePending = false;
      path.challengesSent++;
      ackEliciting = padded = rec.pathProbe = true;
    }
  }
  const initialOk = level !== LEVEL_INITIAL || budget.initialAckEliciting;
  // RFC 9002 §6.2.4: every probe of a PTO round carries the oldest unacknowledged data if nothing new waits.
  if (st.probes[space]! > 0 && initialOk && level !== LEVEL_ZERO_RTT) refillProbe(st, space);
  if (budget.cc && initialOk) {
    if (level === LEVEL_ONE_RTT && st.handshakeDonePending && w.remaining >= 1) {
      encodeHandshakeDone(w);
      st.handshakeDonePending = false;
      rec.handshakeDone = ackEliciting = true;
    }
    if (level !== LEVEL_ZERO_RTT && writeCrypto(sp, w, rec)) ackEliciting = true;
    if (level === LEVEL_ONE_RTT && writeCidFrames(st, w, rec)) ackEliciting = true;
    if (level === LEVEL_ONE_RTT || level === LEVEL_ZERO_RTT) {
      if (writeStreamControl(st, w, rec, now)) ackEliciting = true;
      if (writeDatagrams(st, w, rec)) ackEliciting = true;
      if (writeStreams(st, w, rec)) ackEliciting = true;
    }
  }
  // PING: PTO probe without other ack-eliciting content, keep-alive, or an ACK-only streak.
  const probeOwed = st.probes[space]! > 0 && initialOk;
  const wantPing =
    probeOwed ||
    (level === LEVEL_ONE_RTT && st.pingPending) ||
    (level === LEVEL_ONE_RTT && !ackEliciting && rec.ackLargest >= 0 && st.ackOnlyRun >= ACK_ONLY_PING_EVERY && budget.cc);
  if (wantPing && !ackEliciting && w.remaining >= 1) {
    encodePing(w);
    rec.ping = ackEliciting = true;
  }
  if (probeOwed && ackEliciting) st.probes[space]!--;
  if (level === LEVEL_ONE_RTT && ackEliciting) st.pingPending = false;
  w.end = end;
  if (w.pos === payloadStart) {
    w.pos = start;
    st.pool.release(rec);
    return false;
  }
  if (space === 2) st.ackOnlyRun = ackEliciting ? 0 : st.ackOnlyRun + 1;
  // RFC 9001 §5.4.2: packet number + payload ≥ 4 bytes so the header protection sample exists.
  // Pad here, before the tag is reserved: a coalesced packet may follow right after it.
  const short = 4 - pnLen - (w.pos - payloadStart);
  if (short > 0) w.fill(0, short);
  sp.nextPn = pn + 1;
  p.level = level;
  p.space = space;
  p.type = type;
  p.keys = keys;
  p.headerOffset = start;
  p.pnOffset = pnOffset;
  p.pnLen = pnLen;
  p.pn = pn;
  p.payloadStart = payloadStart;
  p.payloadEnd = w.pos;
  p.long = long;
  p.lfs = lfs;
  p.rec = rec;
  p.ackEliciting = ackEliciting;
  p.padded = padded;
  p.pmtuProbe = false;
  // Reserve the tag so the next packet starts after this one.
  w.pos += AEAD_TAG;
  return true;
}

const EMPTY_TOKEN = new Uint8Array(0);

/**
 * Seal a pending packet; pad it (PADDING frames) so the datagram reaches `padTo` bytes from
 * `datagramStart`. Returns the end offset.
 */
function seal(st: ConnState, p: Pending, buf: Uint8Array, datagramStart: number, padTo: number): number {
  let payloadLen = p.payloadEnd - p.payloadStart;
  let extra = 0;
  const endNow = p.payloadEnd + AEAD_TAG - datagramStart;
  if (padTo > endNow) extra = padTo - endNow;
  // RFC 9001 §5.4.2: packet number + payload ≥ 4 bytes so the header protection sample exists.
  if (p.pnLen + payloadLen + extra < 4) extra = 4 - p.pnLen - payloadLen;
  if (extra > 0) {
    buf.fill(0, p.payloadEnd, p.payloadEnd + extra);
    payloadLen += extra;
    p.padded = true;
  }
  if (p.long) patchLength(buf, p.pnOffset, p.lfs, p.pnLen + payloadLen + AEAD_TAG);
  const end = p.keys.protect(buf, p.headerOffset, p.pnOffset, p.pnLen, p.pn, payloadLen);
  p.size = end - p.headerOffset;
  return end;
}

// ---------------------------------------------------------------------------------------------
// Frames

function writeAck(st: ConnState, sp: PacketSpace, w: Writer, now: number): number {
  const ranges = st.ackScratch;
  const count = ackRangesFromSet(sp.ackRanges, ranges, MAX_ACK_RANGES);
  if (count === 0) return -1;
  let delay = 0;
  if (sp.id === 2) {
    const us = Math.max(0, (now - sp.largestRecvTime) * 1000);
    delay = Math.floor(us / 2 ** st.o.transport.ackDelayExponent);
  }
  const n = encodeAck(w, ranges, count, delay, null, w.remaining);
  if (n === 0) return -1;
  sp.onAckSent();
  return ranges[1]!;
}

function writeCrypto(sp: PacketSpace, w: Writer, rec: SentRecord): boolean {
  const cs = sp.cryptoSend;
  let wrote = false;
  const info = cryptoInfo;
  while (cs.wantsToSend && w.remaining > 8) {
    if (!cs.nextFrame(w.remaining, Number.MAX_SAFE_INTEGER, info)) break;
    encodeCryptoHeader(w, info.offset, info.length);
    cs.copyData(info.offset, info.length, w.buf, w.pos);
    w.pos += info.length;
    rec.crypto.push(info.offset, info.length);
    wrote = true;
  }
  return wrote;
}

const cryptoInfo = { streamId: 0, offset: 0, length: 0, fin: false, newBytes: 0 };

function writeCidFrames(st: ConnState, w: Writer, rec: SentRecord): boolean {
  let wrote = false;
  const lc = st.localCids;
  while (lc.pending.length > 0) {
    const e = lc.get(lc.pending[0]!);
    if (e === undefined || e.retired) {
      lc.pending.shift();
      continue;
    }
    if (w.remaining < sizeNewConnectionId(e.seq, 0, e.cid.length)) break;
    encodeNewConnectionId(w, e.seq, 0, e.cid, e.resetToken);
    lc.pending.shift();
    rec.newCids.push(e.seq);
    wrote = true;
  }
  const pc = st.peerCids;
  while (pc.retirePending.length > 0 && w.remaining >= sizeRetireConnectionId(pc.retirePending[0]!)) {
    const seq = pc.retirePending.shift()!;
    encodeRetireConnectionId(w, seq);
    rec.retireCids.push(seq);
    wrote = true;
  }
  const tok = st.newTokenPending;
  if (tok !== null && st.isServer && w.remaining >= sizeNewToken(tok.length)) {
    encodeNewToken(w, tok);
    rec.newToken = tok;
    st.newTokenPending = null;
    wrote = true;
  }
  return wrote;
}

function writeStreamControl(st: ConnState, w: Writer, rec: SentRecord, now: number): boolean {
  const info = st.ctrlInfo;
  let wrote = false;
  const rtt = st.ld.rtt.hasSample ? st.ld.rtt.smoothedRtt : 0;
  while (w.remaining > 2 && st.streams.pollControlFrame(w.remaining, now, rtt, info)) {
    encodeControl(w, info);
    const copy: ControlFrameInfo = newControlFrameInfo();
    copy.frameType = info.frameType;
    copy.streamId = info.streamId;
    copy.errorCode = info.errorCode;
    copy.value = info.value;
    rec.controls.push(copy);
    wrote = true;
  }
  return wrote;
}

function encodeControl(w: Writer, f: ControlFrameInfo): void {
  switch (f.frameType) {
    case SFT.RESET_STREAM:
      encodeResetStream(w, f.streamId, f.errorCode, f.value);
      return;
    case SFT.STOP_SENDING:
      encodeStopSending(w, f.streamId, f.errorCode);
      return;
    case SFT.MAX_DATA:
      encodeMaxData(w, f.value);
      return;
    case SFT.MAX_STREAM_DATA:
      encodeMaxStreamData(w, f.streamId, f.value);
      return;
    case SFT.MAX_STREAMS_BIDI:
    case SFT.MAX_STREAMS_UNI:
      encodeMaxStreams(w, f.frameType === SFT.MAX_STREAMS_BIDI, f.value);
      return;
    case SFT.DATA_BLOCKED:
      encodeDataBlocked(w, f.value);
      return;
    case SFT.STREAM_DATA_BLOCKED:
      encodeStreamDataBlocked(w, f.streamId, f.value);
      return;
    case SFT.STREAMS_BLOCKED_BIDI:
    case SFT.STREAMS_BLOCKED_UNI:
      encodeStreamsBlocked(w, f.frameType === SFT.STREAMS_BLOCKED_BIDI, f.value);
      return;
    default:
      throw new RangeError(`unknown control frame type 0x${f.frameType.toString(16)}`);
  }
}

function writeDatagrams(st: ConnState, w: Writer, rec: SentRecord): boolean {
  const q = st.dgramQueue;
  if (q.length === 0) return false;
  const peerMax = st.peerParams?.maxDatagramFrameSize ?? st.rememberedParams?.maxDatagramFrameSize ?? 0;
  if (peerMax === 0) return false;
  let wrote = false;
  // Largest DATAGRAM frame an otherwise empty 1-RTT packet holds (the path MTU may have shrunk).
  const room = st.maxDatagramSize() - 1 - st.peerCids.active.cid.length - 4 - AEAD_TAG;
  while (q.length > 0) {
    const d = q[0]!;
    const size = sizeDatagram(d.data.length, true);
    if (size > room || size > peerMax) {
      q.shift();
      st.counters.datagramFramesDropped++;
      st.emit({ type: 'datagram-lost', id: d.id });
      continue;
    }
    if (size > w.remaining) break;
    encodeDatagram(w, d.data, true);
    q.shift();
    rec.datagrams.push(d.id);
    st.counters.datagramFramesSent++;
    wrote = true;
  }
  return wrote;
}

function writeStreams(st: ConnState, w: Writer, rec: SentRecord): boolean {
  const info = st.streamInfo;
  let wrote = false;
  while (w.remaining > 8 && st.streams.pollStreamFrame(w.remaining, info)) {
    encodeStreamHeader(w, info.streamId, info.offset, info.length, info.fin, true);
    st.streams.copyStreamData(info.streamId, info.offset, info.length, w.buf, w.pos);
    w.pos += info.length;
    rec.streams.push(info.streamId, info.offset, info.length, info.fin ? 1 : 0);
    wrote = true;
  }
  if (!wrote && !st.streams.hasPendingStreamData()) st.ld.cc.appLimited = true;
  else if (wrote) st.ld.cc.appLimited = !st.streams.hasPendingStreamData();
  return wrote;
}

// ---------------------------------------------------------------------------------------------
// PATH_RESPONSE on a path other than the active one (RFC 9000 §8.2.2)

function buildProbeResponse(st: ConnState, out: Uint8Array, now: number): SendInfo | null {
  if (st.oneRtt === null) return null;
  for (const p of st.probePaths) {
    if (p.responses.length === 0 && !p.challengePending) continue;
    const amp = p.amplificationBudget();
    const limit = Math.min(out.length, 1200, amp);
    if (limit < MIN_DATAGRAM) {
      p.responses.length = 0;
      continue;
    }
    budget.path = p;
    budget.cc = false;
    budget.now = now;
    budget.initialAckEliciting = false;
    const w = st.writer;
    w.reset(out, 0, limit);
    const pend = pendings[0]!;
    // Only the path frames (and an ACK) go out here: budget.cc is false.
    if (!writePacket(st, LEVEL_ONE_RTT, w, pend, now)) continue;
    const end = seal(st, pend, out, 0, limit);
    return finishDatagram(st, pendings, 1, end, p, now);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// DPLPMTUD probes (RFC 9000 §14.3–§14.4, RFC 8899): PING + PADDING in a datagram of the probe size

function buildPmtuProbe(st: ConnState, out: Uint8Array, now: number): SendInfo | null {
  const pm = st.pmtud;
  if (pm === null || !st.handshakeConfirmed || st.oneRtt === null || !st.path.validated) return null;
  const size = pm.nextProbeSize(now);
  if (size === 0 || size > out.length || st.ld.cc.availableWindow() < size) return null;
  if (st.pacer.releaseTime(now, size, st.ld.cc.congestionWindow, st.ld.rtt.smoothedRtt) > now + PACING_HORIZON) return null;
  const sp = st.spaces[2];
  const pn = sp.nextPn;
  const pnLen = packetNumberLength(pn, st.ld.largestAckedIn(2));
  const dcid = st.peerCids.active.cid;
  const w = st.writer;
  w.reset(out, 0, size);
  const pnOffset = encodeShortHeader(w, dcid, pn, pnLen, st.oneRtt.sendPhase, 0);
  const payloadStart = w.pos;
  encodePing(w);
  w.fill(0, size - AEAD_TAG - w.pos);
  const p = pendings[0]!;
  p.level = LEVEL_ONE_RTT;
  p.space = 2;
  p.type = PacketType.OneRtt;
  p.keys = st.oneRtt.seal;
  p.headerOffset = 0;
  p.pnOffset = pnOffset;
  p.pnLen = pnLen;
  p.pn = pn;
  p.payloadStart = payloadStart;
  p.payloadEnd = w.pos;
  p.long = false;
  p.rec = st.pool.take(2, pn);
  p.rec.ping = true;
  p.ackEliciting = true;
  p.padded = true;
  p.pmtuProbe = true;
  sp.nextPn = pn + 1;
  const end = seal(st, p, out, 0, 0);
  pm.onProbeSent(pn, end);
  return finishDatagram(st, pendings, 1, end, st.path, now);
}

// ---------------------------------------------------------------------------------------------
// CONNECTION_CLOSE (RFC 9000 §10.2.3)

function buildClose(st: ConnState, out: Uint8Array, now: number): SendInfo | null {
  if (!st.closeSendPending || st.closeFrame === null) return null;
  st.closeSendPending = false;
  const path = st.path;
  let limit = Math.min(out.length, st.maxDatagramSize(), path.amplificationBudget());
  if (limit < MIN_DATAGRAM) return null;
  const f = st.closeFrame;
  const w = st.writer;
  w.reset(out, 0, limit);
  let end = 0;
  let wrote = false;
  // Levels to close at: every one we hold keys for (the peer may lack the newer keys, §10.2.3).
  const levels: number[] = [];
  for (let level = LEVEL_INITIAL; level <= LEVEL_ONE_RTT; level++) {
    if (level === LEVEL_ZERO_RTT || levelKeys(st, level) === null) continue;
    // Peers without 1-RTT keys cannot read a 1-RTT close; it goes at the handshake levels then.
    if (level === LEVEL_ONE_RTT && !st.handshakeComplete && levels.length > 0) continue;
    levels.push(level);
  }
  // RFC 9000 §14.1: a client datagram carrying an Initial reaches 1200 bytes (padding in the last packet).
  const padTo = !st.isServer && levels[0] === LEVEL_INITIAL ? Math.min(1200, limit) : 0;
  for (let li = 0; li < levels.length; li++) {
    const level = levels[li]!;
    const keys = levelKeys(st, level)!;
    const space = spaceOfLevel(level);
    const sp = st.spaces[space]!;
    const type = typeOfLevel(level);
    const pn = sp.nextPn;
    const pnLen = packetNumberLength(pn, st.ld.largestAckedIn(space));
    const dcid = st.peerCids.active.cid;
    const long = level !== LEVEL_ONE_RTT;
    const token = level === LEVEL_INITIAL && !st.isServer ? st.token : EMPTY_TOKEN;
    // An application error before 1-RTT becomes APPLICATION_ERROR without details (§10.2.3).
    const app = f.app && level === LEVEL_ONE_RTT;
    const code = f.app && !app ? TransportErrorCode.APPLICATION_ERROR : f.code;
    const reason = f.app && !app ? EMPTY_TOKEN : f.reason;
    const frameSize = app ? sizeApplicationClose(code, reason.length) : sizeConnectionClose(code, f.app ? 0 : f.frameType, reason.length);
    const hsize = long ? longHeaderSize(type, dcid.length, st.localCids.cidLength, token.length, pnLen, 2) : shortHeaderSize(dcid.length, pnLen);
    if (w.remaining < hsize + frameSize + AEAD_TAG + 4) continue;
    const start = w.pos;
    const pnOffset = long ? encodeLongHeader(w, type, st.version, dcid, st.localCids.initial.cid, token, pn, pnLen, 2) : encodeShortHeader(w, dcid, pn, pnLen, st.oneRtt!.sendPhase, 0);
    const payloadStart = w.pos;
    if (app) encodeApplicationClose(w, code, reason);
    else encodeConnectionClose(w, code, f.app ? 0 : f.frameType, reason);
    let payloadLen = w.pos - payloadStart;
    if (pnLen + payloadLen < 4) {
      w.fill(0, 4 - pnLen - payloadLen);
      payloadLen = 4 - pnLen;
    }
    if (li === levels.length - 1 && padTo > w.pos + AEAD_TAG) {
      const extra = padTo - (w.pos + AEAD_TAG);
      w.fill(0, extra);
      payloadLen += extra;
    }
    if (long) patchLength(out, pnOffset, 2, pnLen + payloadLen + AEAD_TAG);
    end = keys.protect(out, start, pnOffset, pnLen, pn, payloadLen);
    w.pos = end;
    sp.nextPn = pn + 1;
    wrote = true;
  }
  if (!wrote) {
    finishClose(st, now);
    return null;
  }
  st.counters.datagramsSent++;
  st.counters.bytesSent += end;
  path.bytesSent += end;
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:packet_sent', { header: { packet_type: 'close' }, raw: { length: end }, frames: [{ frame_type: 'connection_close', error_code: f.code }] });
  return { length: end, to: path.info, releaseTime: now };
}

