// L4: driving the TLS handshake over QUIC (RFC 9001 §4): CRYPTO bytes per encryption level into
// src/tls, handshake bytes out into the CRYPTO streams, secrets into packet protection (§5.1) at
// the negotiated version's labels (RFC 9369 §3.3.2), transport parameters (RFC 9000 §7.3–§7.4,
// §18) with authentication of the connection IDs, version_information (RFC 9368 §5–§6) and the
// server's compatible version switch, 0-RTT (RFC 9001 §4.6, §4.9.3) with remembered parameters
// (RFC 9000 §7.4.1) carried in session tickets, and handshake completion / confirmation
// (RFC 9001 §4.1.1–§4.1.2).
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  greaseTransportParameterId,
  sizeTransportParameters,
  type TransportParameters,
} from '../codec/transport-params.js';
import { isSupportedVersion, versionName } from '../codec/version.js';
import { initialProtection } from '../crypto/initial.js';
import { PacketProtection } from '../crypto/packet-protection.js';
import { loadPrivateKey, type SigningKey } from '../crypto/sign.js';
import { pemDecode } from '../pki/pem.js';
import { toTransportError } from '../tls/alerts.js';
import { certifiedKeyFromPem, type CertifiedKey } from '../tls/certificates.js';
import { TlsClient, type TlsClientOptions } from '../tls/client.js';
import { TlsServer, type EarlyDataContext, type TlsServerOptions } from '../tls/server.js';
import { decodeClientSession, encodeClientSession, type ClientSession, type TicketKeyring } from '../tls/session-ticket.js';
import type { AntiReplay } from '../tls/anti-replay.js';
import type { StreamLimits } from '../transport/stream-map.js';
import { EncryptionLevel, type HandshakeInfo, type TlsEvent } from '../tls/types.js';
import { TlsAlert } from '../tls/wire/alert.js';
import { ExtensionType, HandshakeType } from '../tls/wire/constants.js';
import { decodeClientHello } from '../tls/wire/messages.js';
import { EMPTY, equal, toHex, Writer } from '../util/bytes.js';
import { OneRttKeys } from './keys.js';
import type { ConnectionOptions } from './options.js';
import { qlogParameters } from './qlog.js';
import { confirmHandshake, discardSpace, onZeroRttRejected } from './recovery.js';
import type { ConnState } from './state.js';

/** Prepared TLS configuration, checked when the connection is created (TypeErrors name options). */
export interface TlsConfig {
  certificates?: CertifiedKey[];
  ca?: readonly Uint8Array[];
  session?: ClientSession;
}

export function prepareTls(o: ConnectionOptions): TlsConfig {
  const cfg: TlsConfig = {};
  if (o.role === 'server') {
    if (o.certificate === undefined || o.privateKey === undefined) {
      throw new TypeError('options.certificate and options.privateKey: required for a server');
    }
    cfg.certificates = [loadCertifiedKey(o.certificate, o.privateKey, 'options.certificate')];
    if (o.enableEarlyData && (o.ticketKeys === undefined || o.antiReplay === undefined)) {
      throw new TypeError('options.ticketKeys and options.antiReplay: required for 0-RTT on a server');
    }
    if (o.ticketKeys !== undefined && typeof (o.ticketKeys as TicketKeyring).seal !== 'function') {
      throw new TypeError('options.ticketKeys: expected a TicketKeyring');
    }
    if (o.antiReplay !== undefined && typeof (o.antiReplay as AntiReplay).check !== 'function') {
      throw new TypeError('options.antiReplay: expected an AntiReplay');
    }
  } else if (o.session !== undefined) {
    cfg.session = decodeClientSession(o.session);
  }
  if (o.ca !== undefined) {
    if (typeof o.ca === 'string') cfg.ca = pemDecode(o.ca, 'CERTIFICATE');
    else if (Array.isArray(o.ca)) cfg.ca = o.ca;
    else throw new TypeError('options.ca: expected PEM text or an array of DER certificates');
  }
  return cfg;
}

function loadCertifiedKey(cert: string | readonly Uint8Array[], key: unknown, name: string): CertifiedKey {
  if (typeof cert === 'string') {
    if (typeof key === 'string') return certifiedKeyFromPem(cert, key);
    return certifiedKeyFromPem(cert, key as SigningKey);
  }
  if (!Array.isArray(cert) || cert.length === 0 || !cert.every((c) => c instanceof Uint8Array)) {
    throw new TypeError(`${name}: expected PEM text or a non-empty array of DER certificates`);
  }
  const k = typeof key === 'string' || key instanceof Uint8Array ? loadPrivateKey(key) : (key as SigningKey);
  return { chain: [...cert], key: k };
}

// ---------------------------------------------------------------------------------------------
// Transport parameters

/** Our transport parameters (RFC 9000 §18.2), built when the TLS handshake starts. */
export function buildLocalParams(st: ConnState): TransportParameters {
  const t = st.o.transport;
  const p = defaultTransportParameters();
  p.maxIdleTimeout = t.maxIdleTimeout;
  p.maxUdpPayloadSize = t.maxUdpPayloadSize;
  p.initialMaxData = t.initialMaxData;
  p.initialMaxStreamDataBidiLocal = t.initialMaxStreamDataBidiLocal;
  p.initialMaxStreamDataBidiRemote = t.initialMaxStreamDataBidiRemote;
  p.initialMaxStreamDataUni = t.initialMaxStreamDataUni;
  p.initialMaxStreamsBidi = t.initialMaxStreamsBidi;
  p.initialMaxStreamsUni = t.initialMaxStreamsUni;
  p.ackDelayExponent = t.ackDelayExponent;
  p.maxAckDelay = t.maxAckDelay;
  p.disableActiveMigration = t.disableActiveMigration;
  p.activeConnectionIdLimit = t.activeConnectionIdLimit;
  p.maxDatagramFrameSize = t.maxDatagramFrameSize;
  p.initialSourceConnectionId = st.localCids.initial.cid;
  if (st.isServer) {
    p.originalDestinationConnectionId = st.originalDcid;
    p.retrySourceConnectionId = st.retrySourceCid;
    if (st.localCids.cidLength > 0) p.statelessResetToken = st.localCids.initial.resetToken;
  }
  // RFC 9368 §5: Chosen Version = the version in use; Available Versions = what we would accept.
  p.versionInformation = { chosenVersion: st.version, availableVersions: [...st.o.versions] };
  return p;
}

function encodeParams(st: ConnState, p: TransportParameters): Uint8Array {
  // RFC 9000 §18.1: one reserved parameter so peers keep ignoring unknown ones.
  const grease = { id: greaseTransportParameterId(st.o.rng.u32() % 64), value: st.o.rng.bytes(st.o.rng.u32() % 8) };
  const out = new Uint8Array(sizeTransportParameters(p, { grease }));
  encodeTransportParameters(new Writer(out), p, { grease });
  return out;
}

function tpError(reason: string): TransportError {
  return new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason);
}

/** RFC 9000 §7.3 CID authentication and RFC 9368 §4 version checks. Throws TransportError. */
function validatePeerParams(st: ConnState, p: TransportParameters): void {
  const scid = st.peerCids.entries.find((e) => e.seq === 0)?.cid ?? st.peerCids.active.cid;
  if (p.initialSourceConnectionId === null || !equal(p.initialSourceConnectionId, scid)) {
    throw tpError('initial_source_connection_id does not match the Source Connection ID');
  }
  if (!st.isServer) {
    if (p.originalDestinationConnectionId === null || !equal(p.originalDestinationConnectionId, st.originalDcid)) {
      throw tpError('original_destination_connection_id does not match');
    }
    if (st.retryReceived) {
      if (p.retrySourceConnectionId === null || !equal(p.retrySourceConnectionId, st.retrySourceCid!)) {
        throw tpError('retry_source_connection_id missing or wrong after a Retry');
      }
    } else if (p.retrySourceConnectionId !== null) {
      throw tpError('retry_source_connection_id without a Retry');
    }
    const vi = p.versionInformation;
    if (vi !== null) {
      if (vi.chosenVersion !== st.version) {
        throw new TransportError(TransportErrorCode.VERSION_NEGOTIATION_ERROR, `server chose ${versionName(vi.chosenVersion)} but speaks ${versionName(st.version)}`);
      }
    } else if (st.version !== st.originalVersion) {
      throw new TransportError(TransportErrorCode.VERSION_NEGOTIATION_ERROR, 'version changed without version_information');
    }
  } else {
    const vi = p.versionInformation;
    if (vi !== null && vi.chosenVersion !== st.originalVersion) {
      // RFC 9368 §4: the client's Chosen Version must be the version of its first Initial.
      throw new TransportError(TransportErrorCode.VERSION_NEGOTIATION_ERROR, `client chose ${versionName(vi.chosenVersion)} in a ${versionName(st.originalVersion)} Initial`);
    }
  }
}

function streamLimitsOf(p: TransportParameters): StreamLimits {
  return {
    initialMaxData: p.initialMaxData,
    initialMaxStreamDataBidiLocal: p.initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote: p.initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni: p.initialMaxStreamDataUni,
    initialMaxStreamsBidi: p.initialMaxStreamsBidi,
    initialMaxStreamsUni: p.initialMaxStreamsUni,
  };
}

function applyPeerParams(st: ConnState, p: TransportParameters, now: number): void {
  st.peerParams = p;
  const limits = streamLimitsOf(p);
  // RFC 9000 §7.4.1: while 0-RTT packets may still go out they use the remembered limits only;
  // the new ones apply with the 1-RTT keys (or at once when 0-RTT was rejected).
  if (!st.isServer && st.zeroRttSeal !== null && !st.earlyDataRejected) st.deferredPeerLimits = limits;
  else st.streams.setPeerLimits(limits);
  st.ld.setMaxAckDelay(p.maxAckDelay);
  st.peerAckDelayExponent = p.ackDelayExponent;
  st.localCids.limit = Math.min(p.activeConnectionIdLimit, 8);
  if (!st.isServer && p.statelessResetToken !== null) st.peerCids.setInitialResetToken(p.statelessResetToken);
  // RFC 9000 §10.1: the effective idle timeout is the minimum of both advertised values.
  const local = st.o.transport.maxIdleTimeout;
  const peer = p.maxIdleTimeout;
  const eff = local > 0 && peer > 0 ? Math.min(local, peer) : local > 0 ? local : peer;
  st.idleTimeout = eff > 0 ? eff : Infinity;
  st.idleDeadline = st.idleTimeout === Infinity ? Infinity : now + Math.max(st.idleTimeout, st.pto3());
  st.pmtud?.setPeerMaxUdpPayloadSize(p.maxUdpPayloadSize);
  const mds = st.maxDatagramSize();
  if (mds !== st.ld.cc.maxDatagramSize) {
    st.ld.cc.setMaxDatagramSize(mds);
    st.pacer.setMaxDatagramSize(mds);
  }
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:parameters_set', qlogParameters('remote', p));
}

function onPeerParams(st: ConnState, data: Uint8Array, now: number): void {
  const p = decodeTransportParameters(data, st.isServer ? 'client' : 'server');
  validatePeerParams(st, p);
  applyPeerParams(st, p, now);
}

/** Client: limits remembered from the session's server parameters, for 0-RTT (RFC 9000 §7.4.1). */
function applyRememberedParams(st: ConnState, session: ClientSession): void {
  let p: TransportParameters;
  try {
    p = decodeTransportParameters(session.transportParameters, 'server');
  } catch {
    return;
  }
  st.rememberedParams = p;
  st.streams.setPeerLimits(streamLimitsOf(p));
}

/** Apply the server's stream limits held back while 0-RTT was possible. */
function applyDeferredLimits(st: ConnState): void {
  const l = st.deferredPeerLimits;
  if (l === null) return;
  st.deferredPeerLimits = null;
  st.streams.setPeerLimits(l);
}

/**
 * RFC 9000 §7.4.1: a server that accepts 0-RTT MUST NOT lower the limits the client may already
 * have used; RFC 9221 §3: nor max_datagram_frame_size. The client closes with PROTOCOL_VIOLATION.
 */
function checkAcceptedLimits(st: ConnState): void {
  const old = st.rememberedParams;
  const p = st.peerParams;
  if (old === null || p === null) return;
  const fields = [
    'activeConnectionIdLimit',
    'initialMaxData',
    'initialMaxStreamDataBidiLocal',
    'initialMaxStreamDataBidiRemote',
    'initialMaxStreamDataUni',
    'initialMaxStreamsBidi',
    'initialMaxStreamsUni',
    'maxDatagramFrameSize',
  ] as const;
  for (const f of fields) {
    if (p[f] < old[f]) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `0-RTT accepted but ${f} lowered from ${old[f]} to ${p[f]}`);
    }
  }
}

/**
 * The server rejected 0-RTT (RFC 9001 §4.6.2): every 0-RTT packet is lost, the streams start over
 * (their data goes again in 1-RTT packets under the server's new limits, which may be lower than
 * the remembered ones, RFC 9000 §7.4.1), and the remembered parameters no longer apply.
 */
function onEarlyDataRejected(st: ConnState, now: number): void {
  st.earlyDataRejected = true;
  onZeroRttRejected(st, now);
  st.zeroRttSeal?.discard();
  st.zeroRttSeal = null;
  st.rememberedParams = null;
  st.streams.onEarlyDataRejected();
  if (st.deferredPeerLimits !== null) applyDeferredLimits(st);
  else if (st.peerParams !== null) st.streams.setPeerLimits(streamLimitsOf(st.peerParams));
}

/**
 * Server: what our tickets carry as TLS appData — u16 length ‖ our transport parameters (RFC 9000
 * §7.4.1: the client remembers them for 0-RTT) ‖ the application's ticketAppData (RFC 9114 §7.2.4.2).
 */
function sealTicketAppData(tp: Uint8Array, app: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + tp.length + app.length);
  out[0] = tp.length >> 8;
  out[1] = tp.length & 0xff;
  out.set(tp, 2);
  out.set(app, 2 + tp.length);
  return out;
}

/**
 * Server: may the 0-RTT of a ticket with this appData be accepted? Our remembered transport
 * parameters must still be honoured, then the application decides on its part. A ticket in an
 * older layout (no length prefix) fails the length or parameter check: 0-RTT is rejected, the
 * resumption itself still works.
 */
function acceptTicketEarlyData(st: ConnState, ctx: EarlyDataContext): boolean {
  const d = ctx.appData;
  if (d.length < 2) return false;
  const n = (d[0]! << 8) | d[1]!;
  if (2 + n > d.length) return false;
  if (!rememberedStillValid(st, d.subarray(2, 2 + n))) return false;
  const veto = st.o.raw.acceptEarlyData;
  if (veto === undefined) return true;
  try {
    return veto(d.subarray(2 + n)) === true;
  } catch {
    return false; // a failing veto rejects 0-RTT; the handshake goes on in 1-RTT
  }
}

/** Server: are the parameters a ticket remembers still honoured (RFC 9001 §4.6.2)? */
function rememberedStillValid(st: ConnState, tp: Uint8Array): boolean {
  let old: TransportParameters;
  try {
    old = decodeTransportParameters(tp, 'server');
  } catch {
    return false;
  }
  const t = st.o.transport;
  return (
    t.initialMaxData >= old.initialMaxData &&
    t.initialMaxStreamDataBidiLocal >= old.initialMaxStreamDataBidiLocal &&
    t.initialMaxStreamDataBidiRemote >= old.initialMaxStreamDataBidiRemote &&
    t.initialMaxStreamDataUni >= old.initialMaxStreamDataUni &&
    t.initialMaxStreamsBidi >= old.initialMaxStreamsBidi &&
    t.initialMaxStreamsUni >= old.initialMaxStreamsUni &&
    t.maxDatagramFrameSize >= old.maxDatagramFrameSize &&
    t.activeConnectionIdLimit >= old.activeConnectionIdLimit
  );
}

// ---------------------------------------------------------------------------------------------
// Starting the handshake

export function startClientTls(st: ConnState, cfg: TlsConfig, now: number): void {
  const o = st.o.raw;
  const local = buildLocalParams(st);
  st.localParams = local;
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:parameters_set', qlogParameters('local', local));
  const opts: TlsClientOptions = {
    alpn: st.o.alpn,
    transportParameters: encodeParams(st, local),
    random: st.o.rng,
  };
  const sni = st.o.serverName !== undefined && st.o.serverName.length > 0 ? st.o.serverName : undefined;
  if (sni !== undefined) opts.serverName = sni;
  // Never verify without a name: an empty/absent serverName means "no SNI", not "no name check".
  // The fallback is the address we dial (an IP literal: matched against iPAddress SANs, never SNI).
  const verifyName = o.verifyName ?? sni ?? remoteIdentity(o.remote?.remoteAddress);
  if (verifyName !== undefined) opts.verifyName = verifyName;
  if (cfg.ca !== undefined) opts.ca = cfg.ca;
  if (o.rejectUnauthorized === false) opts.rejectUnauthorized = false;
  if (o.certificate !== undefined && o.privateKey !== undefined) opts.certificate = loadCertifiedKey(o.certificate, o.privateKey, 'options.certificate');
  if (cfg.session !== undefined) {
    opts.session = cfg.session;
    st.session = cfg.session;
  }
  if (o.enableEarlyData === true) opts.earlyData = true;
  if (o.keylog !== undefined) opts.keylog = o.keylog;
  Object.assign(opts, o.tlsExtra ?? {});
  const tls = new TlsClient(opts);
  st.tls = tls;
  tls.start(now);
  drainTls(st, now);
  if (st.earlyDataOffered && st.session !== undefined) applyRememberedParams(st, st.session);
}

/** The remote address as a certificate identity: no IPv6 zone ("fe80::1%eth0"), none when empty. */
function remoteIdentity(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const bare = address.replace(/%.*$/, '');
  return bare.length > 0 ? bare : undefined;
}

/**
 * Server: the TLS state machine starts once the whole ClientHello is buffered, so that a
 * compatible version switch (RFC 9368 §2.3) can be decided from its version_information before
 * our parameters (which name the chosen version) are fixed. Returns false while waiting.
 */
function startServerTls(st: ConnState, cfg: TlsConfig, now: number): boolean {
  const cr = st.spaces[0].cryptoRecv;
  if (cr.readable < 4) return false;
  const v = cr.peek();
  const len = (v[1]! << 16) | (v[2]! << 8) | v[3]!;
  if (v[0] === HandshakeType.client_hello && len <= 0x10000) {
    if (v.length < 4 + len) return false;
    maybeSwitchVersion(st, v.subarray(4, 4 + len), now);
  }
  const o = st.o.raw;
  const local = buildLocalParams(st);
  st.localParams = local;
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:parameters_set', qlogParameters('local', local));
  const tpBytes = encodeParams(st, local);
  const opts: TlsServerOptions = {
    certificates: cfg.certificates!,
    alpn: st.o.alpn,
    transportParameters: tpBytes,
    random: st.o.rng,
  };
  if (o.requestClientCertificate === true) {
    opts.clientAuth = 'request';
    if (cfg.ca !== undefined) opts.clientCa = cfg.ca;
  }
  if (o.ticketKeys !== undefined) {
    opts.sessionTickets = { keyring: o.ticketKeys as TicketKeyring, appData: sealTicketAppData(tpBytes, o.ticketAppData ?? EMPTY) };
    if (o.enableEarlyData === true && o.antiReplay !== undefined) {
      opts.earlyData = { antiReplay: o.antiReplay as AntiReplay, accept: (ctx) => acceptTicketEarlyData(st, ctx) };
    }
  }
  if (o.keylog !== undefined) opts.keylog = o.keylog;
  Object.assign(opts, o.tlsExtra ?? {});
  st.tls = new TlsServer(opts);
  return true;
}

/** RFC 9368 §2.3: switch to our most preferred version the client offers, if compatible. */
function maybeSwitchVersion(st: ConnState, body: Uint8Array, now: number): void {
  let vi: { chosenVersion: number; availableVersions: number[] } | null = null;
  try {
    const ch = decodeClientHello(body);
    const ext = ch.extensions.find((e) => e.type === ExtensionType.quic_transport_parameters);
    if (ext === undefined) return;
    vi = decodeTransportParameters(ext.data, 'client').versionInformation;
  } catch {
    return; // the TLS state machine reports the malformed ClientHello properly
  }
  if (vi === null) return;
  for (const v of st.o.versions) {
    if (v === st.version) return;
    if (vi.availableVersions.includes(v) && isSupportedVersion(v) && compatible(st.version, v)) {
      switchVersion(st, v, now);
      return;
    }
  }
}

/** v1, v2 and the provisional v2 are mutually compatible (RFC 9369 §4, RFC 9368 §2.3). */
export function compatible(a: number, b: number): boolean {
  return isSupportedVersion(a) && isSupportedVersion(b);
}

/** Rebuild Initial keys for `v` (same client DCID, new salt and labels). */
export function switchVersion(st: ConnState, v: number, now: number): void {
  const sp = st.spaces[0];
  const keys = initialProtection(v, st.initialDcid, st.isServer);
  sp.seal?.discard();
  if (st.isServer) {
    st.initialOpenOld?.discard();
    st.initialOpenOld = sp.open;
  } else {
    sp.open?.discard();
  }
  sp.seal = keys.seal;
  sp.open = keys.open;
  const old = st.version;
  st.version = v;
  st.emit({ type: 'version-negotiated', version: v });
  if (st.qlog.enabled) st.qlog.emit(now, 'transport:version_information', { chosen_version: v.toString(16), old_version: old.toString(16) });
}

// ---------------------------------------------------------------------------------------------
// CRYPTO in, TLS events out

function levelOfSpace(space: number): EncryptionLevel {
  return space === 0 ? EncryptionLevel.Initial : space === 1 ? EncryptionLevel.Handshake : EncryptionLevel.Application;
}

function spaceOfLevel(level: EncryptionLevel): number {
  return level === EncryptionLevel.Initial ? 0 : level === EncryptionLevel.Handshake ? 1 : 2;
}

/**
 * CRYPTO data arrived in `space`: hand the in-order bytes to TLS and act on its events.
 * Throws TransportError (TLS alerts as CRYPTO_ERROR, RFC 9001 §4.8).
 */
export function feedCrypto(st: ConnState, cfg: TlsConfig, space: number, now: number): void {
  if (st.tls === null) {
    if (!st.isServer || space !== 0) return;
    if (!startServerTls(st, cfg, now)) return;
  }
  const tls = st.tls!;
  const cr = st.spaces[space]!.cryptoRecv;
  const level = levelOfSpace(space);
  while (cr.readable > 0) {
    const v = cr.peek();
    try {
      tls.receive(level, v, now);
    } catch (e) {
      if (e instanceof TlsAlert || e instanceof TransportError) throw toTransportError(e);
      throw e;
    }
    cr.consume(v.length);
    drainTls(st, now);
  }
  drainTls(st, now);
}

export function drainTls(st: ConnState, now: number): void {
  const tls = st.tls;
  if (tls === null) return;
  for (let e: TlsEvent | undefined = tls.pollEvent(); e !== undefined; e = tls.pollEvent()) {
    switch (e.type) {
      case 'handshake-data':
        st.spaces[spaceOfLevel(e.level)]!.cryptoSend.write(e.data);
        break;
      case 'secret':
        installSecret(st, e.level, e.direction, e.secret, e.suite.id, now);
        break;
      case 'transport-parameters':
        onPeerParams(st, e.data, now);
        break;
      case 'early-data':
        if (st.isServer || !st.earlyDataOffered || st.earlyDataRejected) break;
        if (e.accepted) checkAcceptedLimits(st);
        else onEarlyDataRejected(st, now);
        break;
      case 'handshake-complete':
        onHandshakeComplete(st, e.info, now);
        break;
      case 'session-ticket':
        st.emit({ type: 'session-ticket', ticket: encodeClientSession(e.session) });
        break;
    }
  }
}

function installSecret(st: ConnState, level: EncryptionLevel, dir: 'read' | 'write', secret: Uint8Array, suite: number, now: number): void {
  switch (level) {
    case EncryptionLevel.Handshake: {
      const pp = new PacketProtection(suite, secret, st.version);
      if (dir === 'write') {
        st.spaces[1].seal = pp;
        st.ld.onHandshakeKeysAvailable(now);
      } else {
        st.spaces[1].open = pp;
        st.keysUnlocked = true;
      }
      break;
    }
    case EncryptionLevel.EarlyData: {
      // 0-RTT uses the version the client started with (RFC 9368 §4).
      const pp = new PacketProtection(suite, secret, st.originalVersion);
      if (dir === 'write') {
        st.zeroRttSeal = pp;
        st.earlyDataOffered = true;
      } else {
        st.zeroRttOpen = pp;
        st.keysUnlocked = true;
      }
      break;
    }
    case EncryptionLevel.Application: {
      const pp = new PacketProtection(suite, secret, st.version);
      if (dir === 'write') {
        st.oneRtt = new OneRttKeys(pp, st.spaces[2].nextPn);
        if (st.pendingOneRttOpen !== null) {
          st.oneRtt.setOpen(st.pendingOneRttOpen);
          st.pendingOneRttOpen = null;
        }
        if (!st.isServer) {
          // RFC 9001 §4.9.3: a client drops 0-RTT keys once 1-RTT keys are installed.
          st.zeroRttSeal?.discard();
          st.zeroRttSeal = null;
          applyDeferredLimits(st);
        }
      } else if (st.oneRtt !== null) {
        st.oneRtt.setOpen(pp);
      } else {
        st.pendingOneRttOpen = pp;
      }
      st.keysUnlocked = true;
      break;
    }
  }
  if (st.qlog.enabled) {
    const who = (dir === 'write') !== st.isServer ? 'client' : 'server';
    const kind = level === EncryptionLevel.Handshake ? 'handshake' : level === EncryptionLevel.EarlyData ? '0rtt' : '1rtt';
    st.qlog.emit(now, 'security:key_updated', { key_type: `${who}_${kind}_secret`, trigger: 'tls' });
  }
}

function onHandshakeComplete(st: ConnState, info: HandshakeInfo, now: number): void {
  if (st.handshakeComplete) return;
  st.handshakeComplete = true;
  st.handshakeCompletedAt = now;
  st.alpn = info.alpn;
  st.resumed = info.resumed;
  st.earlyDataAccepted = info.earlyDataAccepted;
  if (st.peerParams === null) throw tpError('handshake completed without transport parameters');
  if (st.state === 'handshaking') st.setState('established');
  st.emit({ type: 'handshake-completed', alpn: info.alpn, earlyDataAccepted: info.earlyDataAccepted, resumed: info.resumed });
  // Both sides issue their spare CIDs now that 1-RTT keys exist (RFC 9000 §5.1.1).
  st.localCids.topUp();
  if (st.isServer) {
    confirmHandshake(st, now);
    const minter = st.o.raw.newTokenMinter;
    if (minter !== undefined) {
      try {
        st.newTokenPending = minter({ remoteAddress: st.path.info.remoteAddress, remotePort: st.path.info.remotePort }, now);
      } catch {
        st.newTokenPending = null;
      }
    }
  }
  if (st.qlog.enabled) st.qlog.emit(now, 'security:handshake_done', { alpn: info.alpn, resumed: info.resumed, cipher: toHex(Uint8Array.of(info.suite.id >> 8, info.suite.id & 0xff)) });
}

export { discardSpace };
