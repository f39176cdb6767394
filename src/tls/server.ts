// L3: the TLS 1.3 server state machine for QUIC (RFC 8446 §4; RFC 9001 §4, §8). Picks the first
// client key share it supports (skipping X25519MLKEM768, GREASE and other unknown groups) or asks
// for one with HelloRetryRequest (with a MAC'd cookie a stateless server could check, §4.2.2);
// resumes self-contained tickets (psk_dhe_ke only) and decides 0-RTT (RFC 8446 §4.2.10, §8;
// RFC 9001 §4.6); optionally requests and verifies client certificates (§4.3.2).
//
// States: wait-ch (→ HRR → wait-ch2) → [wait-client-cert → wait-client-cv] → wait-finished → connected.
import { cipherSuiteParams, type CipherSuiteParams } from '../crypto/aead.js';
import { generateKeyShare, isSupportedKeyExchangeGroup, SUPPORTED_KEY_EXCHANGE_GROUPS } from '../crypto/ecdh.js';
import { hash, hmac } from '../crypto/hkdf.js';
import type { RandomSource } from '../crypto/random.js';
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import type { TrustStore } from '../pki/verify.js';
import { parseCertificate } from '../pki/x509.js';
import { EMPTY, Reader, concat, constantTimeEqual, BufferUnderflow } from '../util/bytes.js';
import { AlertDescription, TlsAlert } from './wire/alert.js';
import { ByteBuilder } from './wire/builder.js';
import { HRR_RANDOM, ExtensionType, HandshakeType, ProtocolVersion, PskKeyExchangeMode, QUIC_MAX_EARLY_DATA } from './wire/constants.js';
import {
  type Extension,
  type KeyShareEntry,
  type OfferedPsks,
  decodeAlpn,
  decodeCertificateAuthorities,
  decodeCookie,
  decodeEmpty,
  decodeKeyShareCH,
  decodeNamedGroupList,
  decodeOfferedPsks,
  decodePskModes,
  decodeServerName,
  decodeSignatureSchemeList,
  decodeSupportedVersionsCH,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareSH,
  encodeU16,
  encodeU16List,
  encodeU32,
} from './wire/extensions.js';
import type { HandshakeMessage } from './wire/handshake.js';
import {
  decodeClientHello,
  encodeCertificateRequest,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeNewSessionTicket,
  encodeServerHello,
} from './wire/messages.js';
import type { AntiReplayStore } from './anti-replay.js';
import {
  DEFAULT_SIGNATURE_SCHEMES,
  decodePeerCertificate,
  ownCertificateMessages,
  selectCertificate,
  verifyPeerCertificateVerify,
  verifyPeerChain,
  type CertifiedKey,
} from './certificates.js';
import { DEFAULT_CIPHER_SUITES } from './client.js';
import { TlsEngine, suiteParams } from './engine.js';
import { TlsStateError } from './errors.js';
import { KeySchedule, checkPeerFinished, finishedVerifyData, resumptionPsk } from './key-schedule.js';
import { KeyLogLabel, type KeyLogger } from './keylog.js';
import {
  MAX_TICKET_LIFETIME_SECONDS,
  decodeTicketState,
  encodeTicketState,
  type TicketKeyring,
  type TicketState,
} from './session-ticket.js';
import { Transcript } from './transcript.js';
import { EncryptionLevel, type HandshakeInfo } from './types.js';

export interface SessionTicketOptions {
  /** Seals and opens tickets; share one keyring between all connections (and processes) of a server. */
  keyring: TicketKeyring;
  /** ticket_lifetime in seconds (default: the keyring's ticket lifetime, at most 7 days). */
  lifetimeSeconds?: number;
  /** Tickets sent when the handshake completes (default 1; 0 = only on sendSessionTicket()). */
  count?: number;
  /** Default opaque bytes stored in tickets (e.g. the transport parameters 0-RTT depends on). */
  appData?: Uint8Array;
}

export interface EarlyDataContext {
  readonly alpn: string;
  readonly serverName: string;
  /** The appData stored in the ticket when it was issued. */
  readonly appData: Uint8Array;
  /** The client's view of the ticket age (ms). */
  readonly ticketAgeMs: number;
  /** The quic_transport_parameters of this ClientHello (RFC 9001 §4.6.2 comparisons). */
  readonly clientTransportParameters: Uint8Array;
}

export interface EarlyDataOptions {
  /** Remembers used tickets / ClientHellos (share one per server process, or across processes/threads). */
  antiReplay: AntiReplayStore;
  /** Allowed difference between the client's ticket age and the server's (ms, default 10 000). */
  ageToleranceMs?: number;
  /** Last word, e.g. QUIC comparing remembered transport parameters (RFC 9001 §4.6.2). */
  accept?: (ctx: EarlyDataContext) => boolean;
}

export interface TlsServerOptions {
  /** Certificates (leaf key types may differ); or a function of the SNI returning them. */
  certificates: readonly CertifiedKey[] | ((serverName: string | undefined) => readonly CertifiedKey[]);
  /** Supported protocols in server preference order, or a chooser over the client's list. */
  alpn: readonly string[] | ((offered: readonly string[]) => string | undefined);
  /** Our quic_transport_parameters extension body. */
  transportParameters: Uint8Array;
  random: RandomSource;
  /** Server preference order (default AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305). */
  cipherSuites?: readonly number[];
  /** Groups accepted (default X25519, P-256, P-384); HRR picks by the client's order among these. */
  groups?: readonly number[];
  /** Client certificates: 'request' asks, 'require' also fails with certificate_required if none. */
  clientAuth?: 'none' | 'request' | 'require';
  /** Trust anchors for client certificates (default Node's roots). */
  clientCa?: readonly Uint8Array[] | TrustStore;
  /** Schemes listed in CertificateRequest.signature_algorithms. */
  clientSignatureAlgorithms?: readonly number[];
  sessionTickets?: SessionTicketOptions;
  /** Accept 0-RTT (requires sessionTickets: tickets are then issued with max_early_data 0xffffffff). */
  earlyData?: EarlyDataOptions;
  /** HMAC key for HelloRetryRequest cookies (default: random per connection). */
  cookieKey?: Uint8Array;
  keylog?: KeyLogger;
  maxMessageSize?: number;
}

type ServerState = 'wait-ch' | 'wait-ch2' | 'wait-client-cert' | 'wait-client-cv' | 'wait-finished' | 'connected';

const COOKIE_VERSION = 1;
const COOKIE_MAC_LENGTH = 32;

/**
 * HRR cookie (RFC 8446 §4.2.2): version, suite, group, Hash(ClientHello1), HMAC-SHA256 over them.
 * Carries what a stateless server needs to rebuild the transcript.
 */
export function makeHrrCookie(key: Uint8Array, suite: number, group: number, ch1Hash: Uint8Array): Uint8Array {
  const b = new ByteBuilder(96);
  b.u8(COOKIE_VERSION).u16(suite).u16(group).u8Bytes(ch1Hash);
  const body = b.finish();
  const out = new Uint8Array(body.length + COOKIE_MAC_LENGTH);
  out.set(body, 0);
  out.set(hmac('sha256', key, body), body.length);
  return out;
}

/** The cookie's content if its MAC verifies, else null. */
export function openHrrCookie(key: Uint8Array, cookie: Uint8Array): { suite: number; group: number; ch1Hash: Uint8Array } | null {
  if (cookie.length <= COOKIE_MAC_LENGTH) return null;
  const body = cookie.subarray(0, cookie.length - COOKIE_MAC_LENGTH);
  if (!constantTimeEqual(hmac('sha256', key, body), cookie.subarray(body.length))) return null;
  const r = new Reader(body);
  try {
    if (r.u8() !== COOKIE_VERSION) return null;
    const suite = r.u16();
    const group = r.u16();
    const ch1Hash = r.u8Bytes();
    if (r.pos !== r.end) return null;
    return { suite, group, ch1Hash };
  } catch (e) {
    if (e instanceof BufferUnderflow) return null;
    throw e;
  }
}

interface ParsedClientHello {
  sni: string | undefined;
  groups: number[] | undefined;
  shares: KeyShareEntry[] | undefined;
  sigAlgs: number[] | undefined;
  alpn: string[] | undefined;
  tp: Uint8Array | undefined;
  pskModes: number[] | undefined;
  earlyData: boolean;
  cookie: Uint8Array | undefined;
  psks: OfferedPsks | undefined;
}

/** Ticket appData travels as opaque<0..2^16-1> inside the sealed ticket state. */
function checkAppData(data: unknown, what: string): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (data.length > 0xffff) throw new RangeError(`${what}: ${data.length} bytes, at most 65535`);
}

/** Is the DER certificate inside its validity period at `now`? (Unparsable: no.) */
function withinValidity(der: Uint8Array, now: number): boolean {
  let c: { notBefore: number; notAfter: number };
  try {
    c = parseCertificate(der);
  } catch {
    return false;
  }
  return now >= c.notBefore && now <= c.notAfter;
}

function illegal(reason: string): TlsAlert {
  return new TlsAlert(AlertDescription.illegal_parameter, reason);
}

export class TlsServer extends TlsEngine {
  private state: ServerState = 'wait-ch';
  private readonly opts: TlsServerOptions;
  private readonly random: RandomSource;
  private readonly suites: readonly number[];
  private readonly groups: readonly number[];
  private readonly clientSigAlgs: readonly number[];
  private readonly clientAuth: 'none' | 'request' | 'require';
  private readonly cookieKey: Uint8Array;

  private transcript = new Transcript();
  private hrr: { suite: number; group: number; cookie: Uint8Array } | undefined;
  private suite: CipherSuiteParams | undefined;
  private ks: KeySchedule | undefined;
  private group = 0;
  private sni: string | undefined;
  private alpn = '';
  private resumed = false;
  private earlyDataAccepted = false;
  private clientHsSecret: Uint8Array | undefined;
  private clientAppSecret: Uint8Array | undefined;
  private resumptionSecret: Uint8Array | undefined;
  private peerChain: Uint8Array[] = [];
  private peerSpki: Uint8Array | undefined;
  private peerScheme = 0;
  private ticketCounter = 0;
  private info: HandshakeInfo | undefined;

  constructor(opts: TlsServerOptions) {
    super(true, opts?.keylog, opts?.maxMessageSize);
    if (!opts || typeof opts !== 'object') throw new TypeError('options: expected an object');
    if (!(typeof opts.certificates === 'function' || (Array.isArray(opts.certificates) && opts.certificates.length > 0))) {
      throw new TypeError('options.certificates: expected a non-empty array of { chain, key } or a function');
    }
    if (!(typeof opts.alpn === 'function' || (Array.isArray(opts.alpn) && opts.alpn.length > 0))) {
      throw new TypeError('options.alpn: expected a non-empty array of protocol names or a function');
    }
    if (!(opts.transportParameters instanceof Uint8Array)) throw new TypeError('options.transportParameters: expected a Uint8Array');
    if (typeof opts.random?.randomBytes !== 'function') throw new TypeError('options.random: expected a RandomSource');
    if (opts.earlyData && !opts.sessionTickets) throw new TypeError('options.earlyData: requires options.sessionTickets');
    const lifetime = opts.sessionTickets?.lifetimeSeconds;
    if (lifetime !== undefined && !(Number.isInteger(lifetime) && lifetime > 0 && lifetime <= MAX_TICKET_LIFETIME_SECONDS)) {
      throw new RangeError('options.sessionTickets.lifetimeSeconds: an integer in 1..604800');
    }
    if (opts.sessionTickets?.appData !== undefined) checkAppData(opts.sessionTickets.appData, 'options.sessionTickets.appData');
    this.opts = opts;
    this.random = opts.random;
    this.suites = (opts.cipherSuites ?? DEFAULT_CIPHER_SUITES).slice();
    for (const s of this.suites) if (!cipherSuiteParams(s)) throw new RangeError(`options.cipherSuites: unsupported 0x${s.toString(16)}`);
    this.groups = (opts.groups ?? SUPPORTED_KEY_EXCHANGE_GROUPS).slice();
    for (const g of this.groups) if (!isSupportedKeyExchangeGroup(g)) throw new RangeError(`options.groups: unsupported 0x${g.toString(16)}`);
    this.clientSigAlgs = (opts.clientSignatureAlgorithms ?? DEFAULT_SIGNATURE_SCHEMES).slice();
    this.clientAuth = opts.clientAuth ?? 'none';
    this.cookieKey = opts.cookieKey ?? this.random.randomBytes(32);
  }

  /** Summary once 'handshake-complete' was emitted. */
  get handshakeInfo(): HandshakeInfo | undefined {
    return this.info;
  }

  /** The SNI of the ClientHello (once one was processed). */
  get serverName(): string | undefined {
    return this.sni;
  }

  protected expects(type: number): boolean {
    switch (this.state) {
      case 'wait-ch':
      case 'wait-ch2':
        return type === HandshakeType.client_hello;
      case 'wait-client-cert':
        return type === HandshakeType.certificate;
      case 'wait-client-cv':
        return type === HandshakeType.certificate_verify;
      case 'wait-finished':
        return type === HandshakeType.finished;
      default:
        return false; // RFC 9001 §6: no KeyUpdate; nothing follows the client Finished
    }
  }

  protected handle(_level: EncryptionLevel, msg: HandshakeMessage, now: number): void {
    switch (this.state) {
      case 'wait-ch':
      case 'wait-ch2':
        if (msg.type !== HandshakeType.client_hello) this.unexpected(`expected ClientHello, got type ${msg.type}`);
        return this.onClientHello(msg, now);
      case 'wait-client-cert':
        if (msg.type !== HandshakeType.certificate) this.unexpected(`expected Certificate, got type ${msg.type}`);
        return this.onClientCertificate(msg, now);
      case 'wait-client-cv':
        if (msg.type !== HandshakeType.certificate_verify) this.unexpected(`expected CertificateVerify, got type ${msg.type}`);
        return this.onClientCertificateVerify(msg);
      case 'wait-finished':
        if (msg.type !== HandshakeType.finished) this.unexpected(`expected Finished, got type ${msg.type}`);
        return this.onClientFinished(msg, now);
      default:
        // RFC 9001 §6: no KeyUpdate; the client sends nothing else after Finished.
        this.unexpected(`handshake message type ${msg.type} after the handshake`);
    }
  }

  private parseClientHello(exts: readonly Extension[]): ParsedClientHello {
    const p: ParsedClientHello = {
      sni: undefined,
      groups: undefined,
      shares: undefined,
      sigAlgs: undefined,
      alpn: undefined,
      tp: undefined,
      pskModes: undefined,
      earlyData: false,
      cookie: undefined,
      psks: undefined,
    };
    for (let i = 0; i < exts.length; i++) {
      const e = exts[i]!;
      switch (e.type) {
        case ExtensionType.server_name:
          p.sni = decodeServerName(e.data);
          break;
        case ExtensionType.supported_groups:
          p.groups = decodeNamedGroupList(e.data);
          break;
        case ExtensionType.key_share:
          p.shares = decodeKeyShareCH(e.data);
          break;
        case ExtensionType.signature_algorithms:
          p.sigAlgs = decodeSignatureSchemeList(e.data);
          break;
        case ExtensionType.signature_algorithms_cert:
          decodeSignatureSchemeList(e.data, 'signature_algorithms_cert');
          break;
        case ExtensionType.application_layer_protocol_negotiation:
          p.alpn = decodeAlpn(e.data);
          break;
        case ExtensionType.quic_transport_parameters:
          p.tp = e.data.slice();
          break;
        case ExtensionType.psk_key_exchange_modes:
          p.pskModes = decodePskModes(e.data);
          break;
        case ExtensionType.early_data:
          decodeEmpty(e.data, 'early_data');
          p.earlyData = true;
          break;
        case ExtensionType.cookie:
          p.cookie = decodeCookie(e.data);
          break;
        case ExtensionType.certificate_authorities:
          decodeCertificateAuthorities(e.data);
          break;
        case ExtensionType.pre_shared_key:
          // RFC 8446 §4.2.11: MUST be the last extension.
          if (i !== exts.length - 1) throw illegal('ClientHello: pre_shared_key is not the last extension');
          p.psks = decodeOfferedPsks(e.data);
          break;
        default:
          break; // unknown and GREASE extensions are ignored (RFC 8446 §4.1.2, RFC 8701)
      }
    }
    return p;
  }

  private onClientHello(msg: HandshakeMessage, now: number): void {
    const ch = decodeClientHello(msg.body);
    const svData = ch.extensions.find((e) => e.type === ExtensionType.supported_versions)?.data;
    if (!svData) throw new TlsAlert(AlertDescription.protocol_version, 'ClientHello: no supported_versions (TLS 1.3 is required)');
    if (!decodeSupportedVersionsCH(svData).includes(ProtocolVersion.TLS13)) {
      throw new TlsAlert(AlertDescription.protocol_version, 'ClientHello: TLS 1.3 is not among supported_versions');
    }
    if (ch.legacyVersion < ProtocolVersion.TLS12) throw new TlsAlert(AlertDescription.protocol_version, 'ClientHello: legacy_version below TLS 1.2');
    if (ch.compressionMethods.length !== 1 || ch.compressionMethods[0] !== 0) throw illegal('ClientHello: legacy_compression_methods must be [null]');
    if (ch.sessionId.length !== 0) {
      // RFC 9001 §8.4: no middlebox compatibility mode over QUIC.
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'ClientHello: non-empty legacy_session_id');
    }
    const p = this.parseClientHello(ch.extensions);
    if (!p.tp) throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello: no quic_transport_parameters (RFC 9001 §8.2)');
    if (!p.shares) throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello: no key_share (psk_ke is not supported)');
    if (!p.groups) throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello: key_share without supported_groups');
    if (p.psks && !p.pskModes) throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello: pre_shared_key without psk_key_exchange_modes');
    for (const s of p.shares) {
      if (isSupportedKeyExchangeGroup(s.group) && !p.groups.includes(s.group)) {
        throw illegal(`ClientHello: key_share for group 0x${s.group.toString(16)} not in supported_groups`);
      }
    }

    // ALPN (RFC 9001 §8.1, RFC 7301 §3.2).
    if (!p.alpn) throw new TlsAlert(AlertDescription.no_application_protocol, 'ClientHello: no ALPN (RFC 9001 §8.1)');
    const chosen = typeof this.opts.alpn === 'function' ? this.opts.alpn(p.alpn) : this.opts.alpn.find((a) => p.alpn!.includes(a));
    if (chosen === undefined || !p.alpn.includes(chosen)) {
      throw new TlsAlert(AlertDescription.no_application_protocol, `no common application protocol (client offered ${JSON.stringify(p.alpn)})`);
    }

    // Cipher suite: server preference among the client's (unknown/GREASE values skipped).
    let suiteId = this.suites.find((s) => ch.cipherSuites.includes(s));
    if (suiteId === undefined) throw new TlsAlert(AlertDescription.handshake_failure, 'no common cipher suite');

    // PSK resumption (psk_dhe_ke only).
    let ticket: { st: TicketState; index: number } | undefined;
    if (p.psks && this.opts.sessionTickets && p.pskModes!.includes(PskKeyExchangeMode.psk_dhe_ke)) {
      for (let i = 0; i < p.psks.identities.length; i++) {
        const st = this.openTicket(p.psks.identities[i]!.identity, now);
        if (!st) continue;
        if (st.serverName !== (p.sni ?? '')) continue;
        if (this.clientAuth === 'require' && st.clientCertificate.length === 0) continue;
        // The ticket vouches for a client identity only while its certificate is valid: else a full
        // handshake verifies whatever the client presents now (RFC 5280 §4.1.2.5, §6.1.3).
        if (st.clientCertificate.length !== 0 && !withinValidity(st.clientCertificate, now)) continue;
        const tSuite = cipherSuiteParams(st.suite)!;
        if (ch.cipherSuites.includes(st.suite) && this.suites.includes(st.suite)) {
          suiteId = st.suite;
        } else if (suiteParams(suiteId).hash !== tSuite.hash) {
          continue;
        }
        ticket = { st, index: i };
        break;
      }
    }
    const suite = suiteParams(suiteId);

    if (this.state === 'wait-ch2') {
      const hrr = this.hrr!;
      if (!p.cookie || !constantTimeEqual(p.cookie, hrr.cookie) || !openHrrCookie(this.cookieKey, p.cookie)) {
        throw illegal('ClientHello after HelloRetryRequest: cookie missing or altered');
      }
      if (suiteId !== hrr.suite) throw illegal('ClientHello after HelloRetryRequest: cipher suite changed');
      if (p.earlyData) throw illegal('ClientHello after HelloRetryRequest: early_data');
      if (p.shares.length !== 1 || p.shares[0]!.group !== hrr.group) throw illegal('ClientHello after HelloRetryRequest: not exactly one key_share for the requested group');
    }

    if (ticket) {
      // RFC 8446 §4.2.11.2: the binder authenticates the PSK; a bad one is fatal.
      const ks = new KeySchedule(suite.hash, ticket.st.psk);
      const truncated = msg.raw.subarray(0, msg.raw.length - p.psks!.bindersLength);
      const expected = finishedVerifyData(suite.hash, ks.binderKey(), this.transcript.hashWith(suite.hash, truncated));
      if (!constantTimeEqual(expected, p.psks!.binders[ticket.index]!)) {
        throw new TlsAlert(AlertDescription.decrypt_error, 'PSK binder does not verify');
      }
      this.ks = ks;
      this.resumed = true;
    } else {
      if (!p.sigAlgs) throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello: no signature_algorithms');
      this.ks = new KeySchedule(suite.hash);
      this.resumed = false;
    }

    // Key share: the first the client sent that we support, in the client's order.
    const share = p.shares.find((s) => this.groups.includes(s.group));
    if (!share) {
      const group = p.groups.find((g) => this.groups.includes(g));
      if (group === undefined) throw new TlsAlert(AlertDescription.handshake_failure, 'no common key exchange group');
      return this.sendHelloRetryRequest(msg, suiteId, group, p.earlyData);
    }

    // Certificate (full handshakes only).
    let cert: { cert: CertifiedKey; scheme: number } | undefined;
    if (!this.resumed) {
      const list = typeof this.opts.certificates === 'function' ? this.opts.certificates(p.sni) : this.opts.certificates;
      cert = selectCertificate(list ?? [], p.sigAlgs!);
      if (!cert) throw new TlsAlert(AlertDescription.handshake_failure, 'no certificate for the offered signature algorithms');
    }

    this.transcript.add(msg.raw);
    this.clientRandom = ch.random.slice();
    this.sni = p.sni;
    this.alpn = chosen;
    this.suite = suite;
    this.emit({ type: 'transport-parameters', data: p.tp });

    // 0-RTT decision (RFC 8446 §4.2.10, §8; RFC 9001 §4.6).
    if (p.earlyData) {
      this.earlyDataAccepted = this.state === 'wait-ch' && ticket !== undefined && this.mayAcceptEarlyData(ticket, p, suiteId, chosen, now);
      this.emit({ type: 'early-data', accepted: this.earlyDataAccepted });
      if (this.earlyDataAccepted) {
        const secret = this.ks.clientEarlyTrafficSecret(this.transcript.hash(suite.hash));
        this.emitSecret(EncryptionLevel.EarlyData, 'read', secret, suite, KeyLogLabel.clientEarly);
      }
    }
    if (ticket?.st.clientCertificate.length) this.peerChain = [ticket.st.clientCertificate];
    this.sendServerFlight(ch.sessionId, share, ticket?.index, cert);
  }

  private openTicket(identity: Uint8Array, now: number): TicketState | null {
    const plain = this.opts.sessionTickets!.keyring.open(identity, now);
    if (!plain) return null;
    const st = decodeTicketState(plain);
    if (!st || !cipherSuiteParams(st.suite)) return null;
    if (now < st.createdAt || now >= st.createdAt + st.lifetime * 1000) return null;
    return st;
  }

  private mayAcceptEarlyData(ticket: { st: TicketState; index: number }, p: ParsedClientHello, suiteId: number, alpn: string, now: number): boolean {
    const ed = this.opts.earlyData;
    const st = ticket.st;
    if (!ed || ticket.index !== 0 || st.maxEarlyData !== QUIC_MAX_EARLY_DATA) return false;
    if (st.suite !== suiteId || st.alpn !== alpn) return false;
    // RFC 8446 §8.3 freshness: the client's ticket age must match the server's view.
    const clientAge = (p.psks!.identities[0]!.obfuscatedTicketAge - st.ageAdd) >>> 0;
    const serverAge = now - st.createdAt;
    const tolerance = ed.ageToleranceMs ?? 10_000;
    if (clientAge >= st.lifetime * 1000 || Math.abs(serverAge - clientAge) > tolerance) return false;
    // A replay of this ClientHello stays fresh while serverAge - clientAge ≤ tolerance, i.e. until:
    const freshUntil = now + tolerance - (serverAge - clientAge);
    if (!ed.antiReplay.check(st.id, st.createdAt + st.lifetime * 1000, p.psks!.binders[0]!, now, freshUntil)) return false;
    if (ed.accept && !ed.accept({ alpn, serverName: st.serverName, appData: st.appData, ticketAgeMs: clientAge, clientTransportParameters: p.tp! })) {
      return false;
    }
    return true;
  }

  private sendHelloRetryRequest(ch1: HandshakeMessage, suiteId: number, group: number, earlyData: boolean): void {
    if (this.state === 'wait-ch2') throw illegal('ClientHello after HelloRetryRequest offers no usable key share');
    const suite = suiteParams(suiteId);
    const cookie = makeHrrCookie(this.cookieKey, suiteId, group, hash(suite.hash, ch1.raw));
    this.transcript.add(ch1.raw);
    this.transcript.replaceClientHelloWithMessageHash(suite.hash);
    const hrr = encodeServerHello({
      legacyVersion: ProtocolVersion.TLS12,
      random: HRR_RANDOM,
      sessionIdEcho: EMPTY,
      cipherSuite: suiteId,
      compressionMethod: 0,
      extensions: [
        { type: ExtensionType.supported_versions, data: encodeU16(ProtocolVersion.TLS13) },
        { type: ExtensionType.key_share, data: encodeU16(group) },
        { type: ExtensionType.cookie, data: encodeCookie(cookie) },
      ],
    });
    this.transcript.add(hrr);
    this.hrr = { suite: suiteId, group, cookie };
    this.ks = undefined;
    this.resumed = false;
    if (earlyData) this.emit({ type: 'early-data', accepted: false });
    this.emitData(EncryptionLevel.Initial, hrr);
    this.state = 'wait-ch2';
  }

  private sendServerFlight(
    sessionId: Uint8Array,
    clientShare: KeyShareEntry,
    pskIndex: number | undefined,
    cert: { cert: CertifiedKey; scheme: number } | undefined,
  ): void {
    const suite = this.suite!;
    const ks = this.ks!;
    const mine = generateKeyShare(clientShare.group, (n) => this.random.randomBytes(n));
    const shared = mine.deriveSecret(clientShare.keyExchange);
    if (!shared) throw illegal('ClientHello: invalid key_share public value');
    this.group = clientShare.group;

    const shExts: Extension[] = [
      { type: ExtensionType.supported_versions, data: encodeU16(ProtocolVersion.TLS13) },
      { type: ExtensionType.key_share, data: encodeKeyShareSH({ group: mine.group, keyExchange: mine.publicKey }) },
    ];
    if (pskIndex !== undefined) shExts.push({ type: ExtensionType.pre_shared_key, data: encodeU16(pskIndex) });
    const sh = encodeServerHello({
      legacyVersion: ProtocolVersion.TLS12,
      random: this.random.randomBytes(32),
      sessionIdEcho: sessionId,
      cipherSuite: suite.id,
      compressionMethod: 0,
      extensions: shExts,
    });
    this.transcript.add(sh);
    this.emitData(EncryptionLevel.Initial, sh);

    ks.deriveHandshakeSecret(shared);
    const hh = this.transcript.hash(suite.hash);
    this.clientHsSecret = ks.clientHandshakeTrafficSecret(hh);
    const shs = ks.serverHandshakeTrafficSecret(hh);
    this.emitSecret(EncryptionLevel.Handshake, 'read', this.clientHsSecret, suite, KeyLogLabel.clientHandshake);
    this.emitSecret(EncryptionLevel.Handshake, 'write', shs, suite, KeyLogLabel.serverHandshake);

    const flight: Uint8Array[] = [];
    const eeExts: Extension[] = [
      { type: ExtensionType.application_layer_protocol_negotiation, data: encodeAlpn([this.alpn]) },
      { type: ExtensionType.quic_transport_parameters, data: this.opts.transportParameters },
    ];
    if (this.earlyDataAccepted) eeExts.push({ type: ExtensionType.early_data, data: EMPTY });
    if (this.sni !== undefined && !this.resumed) eeExts.push({ type: ExtensionType.server_name, data: EMPTY });
    const add = (m: Uint8Array): void => {
      this.transcript.add(m);
      flight.push(m);
    };
    add(encodeEncryptedExtensions({ extensions: eeExts }));
    if (cert) {
      if (this.clientAuth !== 'none') {
        add(
          encodeCertificateRequest({
            context: EMPTY,
            extensions: [{ type: ExtensionType.signature_algorithms, data: encodeU16List(this.clientSigAlgs) }],
          }),
        );
      }
      flight.push(...ownCertificateMessages(this.transcript, suite.hash, EMPTY, cert.cert, cert.scheme, true));
    }
    add(encodeFinished(finishedVerifyData(suite.hash, shs, this.transcript.hash(suite.hash))));
    this.emitData(EncryptionLevel.Handshake, concat(...flight));

    const appHash = this.transcript.hash(suite.hash);
    ks.deriveMasterSecret();
    this.clientAppSecret = ks.clientApplicationTrafficSecret(appHash);
    const sap = ks.serverApplicationTrafficSecret(appHash);
    this.emitSecret(EncryptionLevel.Application, 'write', sap, suite, KeyLogLabel.serverTraffic0);
    this.state = cert && this.clientAuth !== 'none' ? 'wait-client-cert' : 'wait-finished';
    this.readLevel = EncryptionLevel.Handshake;
  }

  private onClientCertificate(msg: HandshakeMessage, now: number): void {
    const chain = decodePeerCertificate(msg.body, 'client');
    if (chain.length === 0) {
      if (this.clientAuth === 'require') throw new TlsAlert(AlertDescription.certificate_required, 'the client sent no certificate');
      this.transcript.add(msg.raw);
      this.state = 'wait-finished';
      return;
    }
    this.peerSpki = verifyPeerChain(chain, { ca: this.opts.clientCa, now, purpose: 'client' });
    this.peerChain = chain;
    this.transcript.add(msg.raw);
    this.state = 'wait-client-cv';
  }

  private onClientCertificateVerify(msg: HandshakeMessage): void {
    this.peerScheme = verifyPeerCertificateVerify(msg.body, this.peerSpki!, this.clientSigAlgs, false, this.transcript.hash(this.suite!.hash));
    this.transcript.add(msg.raw);
    this.state = 'wait-finished';
  }

  private onClientFinished(msg: HandshakeMessage, now: number): void {
    const suite = this.suite!;
    checkPeerFinished(suite.hash, this.clientHsSecret!, this.transcript.hash(suite.hash), msg.body, 'client');
    this.transcript.add(msg.raw);
    this.resumptionSecret = this.ks!.resumptionMasterSecret(this.transcript.hash(suite.hash));
    this.emitSecret(EncryptionLevel.Application, 'read', this.clientAppSecret!, suite, KeyLogLabel.clientTraffic0);
    this.info = {
      alpn: this.alpn,
      suite,
      group: this.group,
      resumed: this.resumed,
      earlyDataAccepted: this.earlyDataAccepted,
      serverName: this.sni ?? '',
      peerCertificates: this.peerChain,
      peerSignatureScheme: this.peerScheme,
    };
    this.emit({ type: 'handshake-complete', info: this.info });
    this.ks!.wipe();
    this.clientHsSecret = this.clientAppSecret = undefined;
    this.state = 'connected';
    this.readLevel = EncryptionLevel.Application;
    const count = this.opts.sessionTickets ? (this.opts.sessionTickets.count ?? 1) : 0;
    // A ticket that cannot fit (a huge client certificate) is simply not issued: no resumption.
    for (let i = 0; i < count; i++) if (!this.issueTicket(now, undefined)) break;
  }

  /**
   * Issue a NewSessionTicket at the Application level (RFC 8446 §4.6.1). `appData` (default
   * sessionTickets.appData) travels sealed in the ticket and comes back in EarlyDataContext.
   */
  sendSessionTicket(now: number, appData?: Uint8Array): void {
    if (this.failure) throw new TlsStateError(`sendSessionTicket: the handshake failed (${this.failure.message})`, { cause: this.failure });
    if (this.state !== 'connected') throw new TlsStateError('sendSessionTicket: the handshake is not complete');
    const cfg = this.opts.sessionTickets;
    if (!cfg) throw new TlsStateError('sendSessionTicket: options.sessionTickets is not configured');
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now: expected a finite number (ms)');
    if (appData !== undefined) checkAppData(appData, 'appData');
    if (!this.issueTicket(now, appData)) {
      throw new RangeError(`appData: the sealed ticket would exceed 65535 bytes (RFC 8446 §4.6.1 ticket<1..2^16-1>)`);
    }
  }

  /** Build, seal and emit one NewSessionTicket; false (nothing emitted) when it would not fit. */
  private issueTicket(now: number, appData: Uint8Array | undefined): boolean {
    const cfg = this.opts.sessionTickets!;
    const suite = this.suite!;
    const lifetime = cfg.lifetimeSeconds ?? Math.min(MAX_TICKET_LIFETIME_SECONDS, Math.floor(cfg.keyring.ticketLifetimeMs / 1000));
    const nonce = new Uint8Array(8);
    let c = ++this.ticketCounter;
    for (let i = 7; i >= 0 && c > 0; i--, c = Math.floor(c / 256)) nonce[i] = c & 0xff;
    const ageAdd = this.random.uint32() >>> 0;
    const maxEarlyData = this.opts.earlyData ? QUIC_MAX_EARLY_DATA : 0;
    const state: TicketState = {
      id: this.random.randomBytes(16),
      suite: suite.id,
      createdAt: now,
      lifetime,
      ageAdd,
      maxEarlyData,
      psk: resumptionPsk(suite.hash, this.resumptionSecret!, nonce),
      alpn: this.alpn,
      serverName: this.sni ?? '',
      appData: appData ?? cfg.appData ?? EMPTY,
      clientCertificate: this.peerChain[0] ?? EMPTY,
    };
    const plain = encodeTicketState(state);
    if (cfg.keyring.sealedLength(plain.length) > 0xffff) {
      this.ticketCounter--;
      return false;
    }
    const ticket = cfg.keyring.seal(plain, now);
    const nst = encodeNewSessionTicket({
      lifetime,
      ageAdd,
      nonce,
      ticket,
      extensions: maxEarlyData ? [{ type: ExtensionType.early_data, data: encodeU32(maxEarlyData) }] : [],
    });
    this.emitData(EncryptionLevel.Application, nst);
    return true;
  }
}
