// L3: the TLS 1.3 client state machine for QUIC (RFC 8446 §4 handshake, §4.1.4 HelloRetryRequest,
// §4.2.11 PSK resumption with psk_dhe_ke, §4.2.10 early data; RFC 9001 §4 carrying TLS in QUIC,
// §8 QUIC-specific rules: ALPN required, quic_transport_parameters, no EndOfEarlyData, no
// middlebox compatibility mode). No record layer: bytes in and out per encryption level.
//
// States: start → wait-sh (→ HRR → wait-sh) → wait-ee → [wait-cert-cr → wait-cert → wait-cv]
//         → wait-finished → connected (NewSessionTicket accepted at the Application level).
import { cipherSuiteParams, type CipherSuiteParams } from '../crypto/aead.js';
import { generateKeyShare, isSupportedKeyExchangeGroup, SUPPORTED_KEY_EXCHANGE_GROUPS, type KeyShare } from '../crypto/ecdh.js';
import type { RandomSource } from '../crypto/random.js';
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { concat, equal } from '../util/bytes.js';
import { AlertDescription, TlsAlert } from './wire/alert.js';
import {
  CipherSuite,
  DOWNGRADE_TLS11,
  DOWNGRADE_TLS12,
  ExtensionType,
  HandshakeType,
  ProtocolVersion,
  PskKeyExchangeMode,
  QUIC_MAX_EARLY_DATA,
} from './wire/constants.js';
import {
  type Extension,
  decodeAlpn,
  decodeCertificateAuthorities,
  decodeCookie,
  decodeEmpty,
  decodeKeyShareHRR,
  decodeKeyShareSH,
  decodeMaxEarlyData,
  decodeNamedGroupList,
  decodeSelectedIdentity,
  decodeSignatureSchemeList,
  decodeSupportedVersionsSH,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareCH,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSupportedVersionsCH,
  encodeU16List,
  findExtension,
} from './wire/extensions.js';
import type { HandshakeMessage } from './wire/handshake.js';
import {
  decodeCertificateRequest,
  decodeEncryptedExtensions,
  decodeKeyUpdate,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeClientHello,
  encodeFinished,
  isHelloRetryRequest,
  type ClientHello,
  type ServerHello,
} from './wire/messages.js';
import {
  DEFAULT_CERT_SIGNATURE_SCHEMES,
  DEFAULT_SIGNATURE_SCHEMES,
  decodePeerCertificate,
  ownCertificateMessages,
  verifyPeerCertificateVerify,
  verifyPeerChain,
  type CertifiedKey,
} from './certificates.js';
import { TlsEngine, suiteParams } from './engine.js';
import { TlsStateError } from './errors.js';
import { KeySchedule, checkPeerFinished, finishedVerifyData, resumptionPsk } from './key-schedule.js';
import { KeyLogLabel, type KeyLogger } from './keylog.js';
import { MAX_TICKET_LIFETIME_SECONDS, type ClientSession } from './session-ticket.js';
import { Transcript } from './transcript.js';
import { EncryptionLevel, type HandshakeInfo } from './types.js';
import type { TrustStore } from '../pki/verify.js';
import { parseIpLiteral } from '../pki/hostname.js';

export const DEFAULT_CIPHER_SUITES: readonly number[] = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
];

export interface TlsClientOptions {
  /** Protocols offered (RFC 9001 §8.1: QUIC requires ALPN). At least one. */
  alpn: readonly string[];
  /** Our quic_transport_parameters extension body (encoded by the QUIC layer). */
  transportParameters: Uint8Array;
  /** Randomness (ClientHello.random, key shares, ticket-age obfuscation is server-side). */
  random: RandomSource;
  /**
   * SNI (RFC 6066 §3) and, unless `verifyName` is given, the name the server certificate must match.
   * A DNS name or an IP literal; an IP literal is matched but never sent as SNI.
   */
  serverName?: string;
  /**
   * The DNS name or IP literal the server certificate must match (RFC 6125 §6.4, RFC 5280 §4.2.1.6);
   * default `serverName`. Lets a caller verify the host it connected to while sending no SNI.
   */
  verifyName?: string;
  /**
   * Refuse (TypeError) to build a verifying client that has no name to check the certificate
   * against (neither `verifyName` nor `serverName`). Default true; false lets a verifying client
   * without a name check the chain but no name (for callers that authenticate the server otherwise).
   */
  requireVerifyName?: boolean;
  cipherSuites?: readonly number[];
  /** supported_groups, preferred first (default X25519, P-256, P-384). */
  groups?: readonly number[];
  /** Groups to send key shares for (default: the first of `groups`). */
  keyShareGroups?: readonly number[];
  /** CertificateVerify schemes offered (signature_algorithms). */
  signatureAlgorithms?: readonly number[];
  /** Schemes accepted in certificate signatures (signature_algorithms_cert). */
  certificateSignatureAlgorithms?: readonly number[];
  /** Trust anchors (DER) or a TrustStore; default Node's bundled roots. */
  ca?: readonly Uint8Array[] | TrustStore;
  /** false: skip chain and name validation (tests, tools). The CertificateVerify is still checked. */
  rejectUnauthorized?: boolean;
  /** Same as rejectUnauthorized: false. */
  insecure?: boolean;
  /** Client certificate for servers that request one. */
  certificate?: CertifiedKey;
  /** A session from an earlier 'session-ticket' event to resume. */
  session?: ClientSession;
  /** Offer 0-RTT when `session` allows it (maxEarlyData 0xffffffff, same ALPN available). */
  earlyData?: boolean;
  keylog?: KeyLogger;
  maxMessageSize?: number;
  /** Extra ClientHello extensions (tests, GREASE); never pre_shared_key. Appended before pre_shared_key. */
  extraExtensions?: readonly Extension[];
  /**
   * Rewrite the ClientHello before it is sent (tests and interop experiments: GREASE values, foreign
   * key shares). Applied before the PSK binder is computed; pre_shared_key must stay last.
   */
  mutateClientHello?: (ch: ClientHello) => ClientHello;
}

type ClientState = 'start' | 'wait-sh' | 'wait-ee' | 'wait-cert-cr' | 'wait-cert' | 'wait-cv' | 'wait-finished' | 'connected';

/**
 * TypeError unless `name` (option `what`) is a usable server identity: an IP literal
 * (pki parseIpLiteral) or a name without ':' (which only IPv6 literals contain), '/' or whitespace.
 */
function checkIdentity(name: unknown, what: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${what}: expected a non-empty DNS name or IP literal`);
  if (parseIpLiteral(name) === null && /[:/\s]/.test(name)) {
    throw new TypeError(`${what}: ${JSON.stringify(name)} is neither a DNS name nor an IP literal`);
  }
}

/** Extensions a ServerHello may carry (RFC 8446 §4.2 table). */
const SH_ALLOWED = new Set<number>([ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key]);
const HRR_ALLOWED = new Set<number>([ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie]);
/** Known extensions that must not appear in EncryptedExtensions (→ illegal_parameter). */
const NOT_IN_EE = new Set<number>([
  ExtensionType.supported_versions,
  ExtensionType.key_share,
  ExtensionType.pre_shared_key,
  ExtensionType.psk_key_exchange_modes,
  ExtensionType.cookie,
  ExtensionType.signature_algorithms,
  ExtensionType.signature_algorithms_cert,
  ExtensionType.certificate_authorities,
  ExtensionType.post_handshake_auth,
  ExtensionType.padding,
]);

export class TlsClient extends TlsEngine {
  private state: ClientState = 'start';
  private readonly opts: TlsClientOptions;
  private readonly random: RandomSource;
  private readonly suites: readonly number[];
  private readonly groups: readonly number[];
  private readonly sigAlgs: readonly number[];
  private readonly certSigAlgs: readonly number[];
  private readonly alpnList: readonly string[];
  /** options.serverName as given (SNI unless an IP literal). */
  private readonly sni: string | undefined;
  /** What SNI carries: serverName unless it is an IP literal (RFC 6066 §3). */
  private readonly sniSent: string | undefined;
  /** The name the server certificate must match (undefined only when not required, see options). */
  private readonly verifyName: string | undefined;
  /** Server certificates are verified (not rejectUnauthorized: false / insecure). */
  private readonly verifying: boolean;
  private readonly pendingShareGroups: number[];

  private transcript = new Transcript();
  private keyShares: KeyShare[] = [];
  private chRandom: Uint8Array | undefined;
  private cookie: Uint8Array | undefined;
  private hrrSuite: number | undefined;
  private offeredExtTypes = new Set<number>();
  /** The session offered in the ClientHello (if any) and whether 0-RTT was offered with it. */
  private offeredSession: ClientSession | undefined;
  private earlyDataOffered = false;
  private earlyDataAccepted = false;

  private suite: CipherSuiteParams | undefined;
  private ks: KeySchedule | undefined;
  private resumed = false;
  private group = 0;
  private clientHsSecret: Uint8Array | undefined;
  private serverHsSecret: Uint8Array | undefined;
  private resumptionSecret: Uint8Array | undefined;
  private certRequest: { context: Uint8Array; schemes: number[] } | undefined;
  private peerChain: Uint8Array[] = [];
  private peerSpki: Uint8Array | undefined;
  private peerScheme = 0;
  private negotiatedAlpn = '';
  private peerTransportParameters: Uint8Array | undefined;
  private info: HandshakeInfo | undefined;

  constructor(opts: TlsClientOptions) {
    super(false, opts?.keylog, opts?.maxMessageSize);
    if (!opts || typeof opts !== 'object') throw new TypeError('options: expected an object');
    if (!Array.isArray(opts.alpn) || opts.alpn.length === 0 || opts.alpn.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 255)) {
      throw new TypeError('options.alpn: expected a non-empty array of protocol names (1..255 chars)');
    }
    if (!(opts.transportParameters instanceof Uint8Array)) throw new TypeError('options.transportParameters: expected a Uint8Array');
    if (typeof opts.random?.randomBytes !== 'function') throw new TypeError('options.random: expected a RandomSource');
    if (opts.serverName !== undefined) checkIdentity(opts.serverName, 'options.serverName');
    if (opts.verifyName !== undefined) checkIdentity(opts.verifyName, 'options.verifyName');
    const verifying = !(opts.rejectUnauthorized === false || opts.insecure === true);
    if (verifying && opts.requireVerifyName !== false && opts.verifyName === undefined && opts.serverName === undefined) {
      throw new TypeError('options.serverName: a name to verify the server certificate against is required unless rejectUnauthorized is false');
    }
    this.opts = opts;
    this.random = opts.random;
    this.alpnList = opts.alpn.slice();
    this.suites = checkList(opts.cipherSuites ?? DEFAULT_CIPHER_SUITES, 'options.cipherSuites', (s) => cipherSuiteParams(s) !== undefined);
    this.groups = checkList(opts.groups ?? SUPPORTED_KEY_EXCHANGE_GROUPS, 'options.groups', isSupportedKeyExchangeGroup);
    this.sigAlgs = checkList(opts.signatureAlgorithms ?? DEFAULT_SIGNATURE_SCHEMES, 'options.signatureAlgorithms', () => true);
    this.certSigAlgs = checkList(opts.certificateSignatureAlgorithms ?? DEFAULT_CERT_SIGNATURE_SCHEMES, 'options.certificateSignatureAlgorithms', () => true);
    const shareGroups = opts.keyShareGroups ?? [this.groups[0]!];
    for (const g of shareGroups) {
      if (!this.groups.includes(g)) throw new RangeError(`options.keyShareGroups: 0x${g.toString(16)} is not in options.groups`);
    }
    this.sni = opts.serverName;
    this.sniSent = opts.serverName !== undefined && parseIpLiteral(opts.serverName) === null ? opts.serverName : undefined;
    this.verifyName = opts.verifyName ?? opts.serverName;
    this.verifying = verifying;
    this.pendingShareGroups = shareGroups.slice();
  }

  /** Summary once 'handshake-complete' was emitted. */
  get handshakeInfo(): HandshakeInfo | undefined {
    return this.info;
  }

  /** Build and emit the ClientHello (Initial level); with a 0-RTT session also the early write secret. */
  start(now: number): void {
    if (this.state !== 'start') throw new TlsStateError('TlsClient.start: already started');
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now: expected a finite number (ms)');
    this.chRandom = this.random.randomBytes(32);
    this.clientRandom = this.chRandom;
    this.keyShares = this.pendingShareGroups.map((g) => generateKeyShare(g, (n) => this.random.randomBytes(n)));
    const session = this.usableSession(now);
    this.offeredSession = session;
    this.earlyDataOffered = !!session && this.opts.earlyData === true && session.maxEarlyData === QUIC_MAX_EARLY_DATA && this.alpnList.includes(session.alpn);
    const ch = this.buildClientHello(now);
    this.transcript.add(ch);
    this.emitData(EncryptionLevel.Initial, ch);
    if (this.earlyDataOffered && session) {
      const ks = new KeySchedule(suiteParams(session.suite).hash, session.psk);
      const secret = ks.clientEarlyTrafficSecret(this.transcript.hash(ks.hash));
      this.emitSecret(EncryptionLevel.EarlyData, 'write', secret, suiteParams(session.suite), KeyLogLabel.clientEarly);
    }
    this.state = 'wait-sh';
  }

  private usableSession(now: number): ClientSession | undefined {
    const s = this.opts.session;
    if (!s) return undefined;
    // A session skips the certificate check: only resume it for the identity it was verified for.
    if (s.serverName !== (this.verifyName ?? '')) return undefined;
    // Nor one whose server was never authenticated, to a client that requires authentication.
    if (s.unverified === true && this.verifying) return undefined;
    if (now < s.receivedAt || now >= s.receivedAt + s.lifetime * 1000) return undefined;
    if (!this.suites.includes(s.suite)) return undefined;
    return s;
  }

  private buildClientHello(now: number): Uint8Array {
    const exts: Extension[] = [];
    if (this.sniSent !== undefined) exts.push({ type: ExtensionType.server_name, data: encodeServerName(this.sniSent) });
    exts.push({ type: ExtensionType.supported_groups, data: encodeU16List(this.groups) });
    exts.push({ type: ExtensionType.signature_algorithms, data: encodeU16List(this.sigAlgs) });
    exts.push({ type: ExtensionType.signature_algorithms_cert, data: encodeU16List(this.certSigAlgs) });
    exts.push({ type: ExtensionType.application_layer_protocol_negotiation, data: encodeAlpn(this.alpnList) });
    exts.push({ type: ExtensionType.supported_versions, data: encodeSupportedVersionsCH([ProtocolVersion.TLS13]) });
    exts.push({ type: ExtensionType.key_share, data: encodeKeyShareCH(this.keyShares.map((k) => ({ group: k.group, keyExchange: k.publicKey }))) });
    exts.push({ type: ExtensionType.psk_key_exchange_modes, data: encodePskModes([PskKeyExchangeMode.psk_dhe_ke]) });
    if (this.cookie) exts.push({ type: ExtensionType.cookie, data: encodeCookie(this.cookie) });
    exts.push({ type: ExtensionType.quic_transport_parameters, data: this.opts.transportParameters });
    for (const e of this.opts.extraExtensions ?? []) exts.push(e);
    if (this.earlyDataOffered && !this.cookie && this.hrrSuite === undefined) exts.push({ type: ExtensionType.early_data, data: new Uint8Array(0) });

    const session = this.offeredSession;
    let hashLen = 0;
    if (session) {
      const hl = suiteParams(session.suite).hashLength;
      hashLen = hl;
      const age = ((now - session.receivedAt + session.ageAdd) >>> 0);
      exts.push({
        type: ExtensionType.pre_shared_key,
        data: encodeOfferedPsks([{ identity: session.ticket, obfuscatedTicketAge: age }], [new Uint8Array(hl)]),
      });
    }
    let hello: ClientHello = {
      legacyVersion: ProtocolVersion.TLS12,
      random: this.chRandom!,
      sessionId: new Uint8Array(0), // RFC 9001 §8.4: no middlebox compatibility mode
      cipherSuites: this.suites.slice(),
      compressionMethods: Uint8Array.of(0),
      extensions: exts,
    };
    if (this.opts.mutateClientHello) hello = this.opts.mutateClientHello(hello);
    this.offeredExtTypes = new Set(hello.extensions.map((e) => e.type));
    const msg = encodeClientHello(hello);
    if (session) {
      // RFC 8446 §4.2.11.2: the binder covers the ClientHello up to (not including) the binders list.
      const h = suiteParams(session.suite).hash;
      const truncated = msg.subarray(0, msg.length - (2 + 1 + hashLen));
      const binderKey = new KeySchedule(h, session.psk).binderKey();
      const binder = finishedVerifyData(h, binderKey, this.transcript.hashWith(h, truncated));
      msg.set(binder, msg.length - hashLen);
    }
    return msg;
  }

  protected expects(type: number): boolean {
    switch (this.state) {
      case 'wait-sh':
        return type === HandshakeType.server_hello;
      case 'wait-ee':
        return type === HandshakeType.encrypted_extensions;
      case 'wait-cert-cr':
        return type === HandshakeType.certificate || type === HandshakeType.certificate_request;
      case 'wait-cert':
        return type === HandshakeType.certificate;
      case 'wait-cv':
        return type === HandshakeType.certificate_verify;
      case 'wait-finished':
        return type === HandshakeType.finished;
      case 'connected':
        // KeyUpdate and CertificateRequest are decoded to give their specific errors.
        return type === HandshakeType.new_session_ticket || type === HandshakeType.key_update || type === HandshakeType.certificate_request;
      default:
        return false;
    }
  }

  protected handle(level: EncryptionLevel, msg: HandshakeMessage, now: number): void {
    switch (this.state) {
      case 'wait-sh':
        if (msg.type !== HandshakeType.server_hello) this.unexpected(`expected ServerHello, got type ${msg.type}`);
        return this.onServerHello(msg, now);
      case 'wait-ee':
        if (msg.type !== HandshakeType.encrypted_extensions) this.unexpected(`expected EncryptedExtensions, got type ${msg.type}`);
        return this.onEncryptedExtensions(msg);
      case 'wait-cert-cr':
        if (msg.type === HandshakeType.certificate_request) return this.onCertificateRequest(msg);
        if (msg.type !== HandshakeType.certificate) this.unexpected(`expected Certificate or CertificateRequest, got type ${msg.type}`);
        return this.onCertificate(msg, now);
      case 'wait-cert':
        if (msg.type !== HandshakeType.certificate) this.unexpected(`expected Certificate, got type ${msg.type}`);
        return this.onCertificate(msg, now);
      case 'wait-cv':
        if (msg.type !== HandshakeType.certificate_verify) this.unexpected(`expected CertificateVerify, got type ${msg.type}`);
        return this.onCertificateVerify(msg);
      case 'wait-finished':
        if (msg.type !== HandshakeType.finished) this.unexpected(`expected Finished, got type ${msg.type}`);
        return this.onFinished(msg);
      case 'connected':
        return this.onPostHandshake(msg, now);
      default:
        this.unexpected(`handshake message before start()`);
    }
    void level;
  }

  // --- ServerHello / HelloRetryRequest ---------------------------------------------------------

  private onServerHello(msg: HandshakeMessage, now: number): void {
    const sh = decodeServerHello(msg.body);
    if (isHelloRetryRequest(sh)) return this.onHelloRetryRequest(sh, msg, now);
    const versionExt = findExtension(sh.extensions, ExtensionType.supported_versions);
    this.checkVersion(sh, versionExt);
    if (!equal(sh.sessionIdEcho, new Uint8Array(0))) throw illegal('ServerHello: legacy_session_id_echo differs from ours (empty)');
    if (sh.compressionMethod !== 0) throw illegal('ServerHello: non-null compression method');
    if (!this.suites.includes(sh.cipherSuite)) throw illegal(`ServerHello: cipher suite 0x${sh.cipherSuite.toString(16)} was not offered`);
    if (this.hrrSuite !== undefined && sh.cipherSuite !== this.hrrSuite) throw illegal('ServerHello: cipher suite differs from HelloRetryRequest');
    this.checkResponseExtensions(sh.extensions, SH_ALLOWED, 'ServerHello');
    const suite = suiteParams(sh.cipherSuite);

    const ksData = findExtension(sh.extensions, ExtensionType.key_share);
    if (!ksData) throw new TlsAlert(AlertDescription.missing_extension, 'ServerHello: no key_share (psk_ke is not offered)');
    const serverShare = decodeKeyShareSH(ksData);
    const mine = this.keyShares.find((k) => k.group === serverShare.group);
    if (!mine) throw illegal(`ServerHello: key_share for group 0x${serverShare.group.toString(16)} we did not send`);

    let ks: KeySchedule;
    const pskData = findExtension(sh.extensions, ExtensionType.pre_shared_key);
    if (pskData) {
      const session = this.offeredSession;
      if (!session) throw new TlsAlert(AlertDescription.unsupported_extension, 'ServerHello: pre_shared_key was not offered');
      const idx = decodeSelectedIdentity(pskData);
      if (idx !== 0) throw illegal(`ServerHello: selected_identity ${idx} out of range`);
      if (suiteParams(session.suite).hash !== suite.hash) throw illegal('ServerHello: PSK selected with a cipher suite of another hash');
      ks = new KeySchedule(suite.hash, session.psk);
      this.resumed = true;
    } else {
      ks = new KeySchedule(suite.hash);
    }
    const shared = mine.deriveSecret(serverShare.keyExchange);
    if (!shared) throw illegal('ServerHello: invalid key_share public value');
    this.transcript.add(msg.raw);
    this.suite = suite;
    this.ks = ks;
    this.group = mine.group;
    this.keyShares = [];
    ks.deriveHandshakeSecret(shared);
    const hh = this.transcript.hash(suite.hash);
    this.clientHsSecret = ks.clientHandshakeTrafficSecret(hh);
    this.serverHsSecret = ks.serverHandshakeTrafficSecret(hh);
    this.emitSecret(EncryptionLevel.Handshake, 'read', this.serverHsSecret, suite, KeyLogLabel.serverHandshake);
    this.emitSecret(EncryptionLevel.Handshake, 'write', this.clientHsSecret, suite, KeyLogLabel.clientHandshake);
    this.state = 'wait-ee';
    this.readLevel = EncryptionLevel.Handshake;
  }

  /** RFC 8446 §4.1.3: version negotiation and downgrade protection. */
  private checkVersion(sh: ServerHello, versionExt: Uint8Array | undefined): void {
    const tail = sh.random.subarray(24);
    if (!versionExt) {
      if (equal(tail, DOWNGRADE_TLS12) || equal(tail, DOWNGRADE_TLS11)) {
        throw illegal('ServerHello: downgrade sentinel (server chose TLS 1.2 or older)');
      }
      throw new TlsAlert(AlertDescription.protocol_version, `ServerHello: no supported_versions (legacy_version 0x${sh.legacyVersion.toString(16)}); TLS 1.3 is required`);
    }
    const v = decodeSupportedVersionsSH(versionExt);
    if (v !== ProtocolVersion.TLS13) throw illegal(`ServerHello: selected version 0x${v.toString(16)} was not offered`);
    if (sh.legacyVersion !== ProtocolVersion.TLS12) throw illegal('ServerHello: legacy_version is not 0x0303');
  }

  private onHelloRetryRequest(hrr: ServerHello, msg: HandshakeMessage, now: number): void {
    if (this.hrrSuite !== undefined) this.unexpected('a second HelloRetryRequest');
    const versionExt = findExtension(hrr.extensions, ExtensionType.supported_versions);
    this.checkVersion(hrr, versionExt);
    if (hrr.sessionIdEcho.length !== 0) throw illegal('HelloRetryRequest: legacy_session_id_echo differs from ours (empty)');
    if (hrr.compressionMethod !== 0) throw illegal('HelloRetryRequest: non-null compression method');
    if (!this.suites.includes(hrr.cipherSuite)) throw illegal(`HelloRetryRequest: cipher suite 0x${hrr.cipherSuite.toString(16)} was not offered`);
    this.checkResponseExtensions(hrr.extensions, HRR_ALLOWED, 'HelloRetryRequest');
    const suite = suiteParams(hrr.cipherSuite);
    const ksData = findExtension(hrr.extensions, ExtensionType.key_share);
    const cookieData = findExtension(hrr.extensions, ExtensionType.cookie);
    let newGroup: number | undefined;
    if (ksData) {
      newGroup = decodeKeyShareHRR(ksData);
      if (!this.groups.includes(newGroup)) throw illegal(`HelloRetryRequest: group 0x${newGroup.toString(16)} was not offered`);
      if (this.keyShares.some((k) => k.group === newGroup)) throw illegal('HelloRetryRequest: asks for a group we already sent a share for');
    }
    const cookie = cookieData ? decodeCookie(cookieData) : undefined;
    if (newGroup === undefined && !cookie) throw illegal('HelloRetryRequest would not change the ClientHello');

    // RFC 8446 §4.4.1: ClientHello1 becomes message_hash; then HRR, then ClientHello2.
    this.transcript.replaceClientHelloWithMessageHash(suite.hash);
    this.transcript.add(msg.raw);
    this.hrrSuite = hrr.cipherSuite;
    this.cookie = cookie?.slice();
    if (newGroup !== undefined) this.keyShares = [generateKeyShare(newGroup, (n) => this.random.randomBytes(n))];
    // No 0-RTT after HRR (RFC 8446 §4.2.10); keep the PSK only if its hash matches the new suite.
    if (this.earlyDataOffered) {
      this.earlyDataOffered = false;
      this.emit({ type: 'early-data', accepted: false });
    }
    if (this.offeredSession && suiteParams(this.offeredSession.suite).hash !== suite.hash) this.offeredSession = undefined;
    const ch2 = this.buildClientHello(now);
    this.transcript.add(ch2);
    this.emitData(EncryptionLevel.Initial, ch2);
  }

  /** Extensions in a server response must be allowed for it and must answer something we sent. */
  private checkResponseExtensions(exts: readonly Extension[], allowed: ReadonlySet<number>, what: string): void {
    for (const e of exts) {
      if (allowed.has(e.type)) {
        if (e.type !== ExtensionType.cookie && !this.offeredExtTypes.has(e.type)) {
          throw new TlsAlert(AlertDescription.unsupported_extension, `${what}: extension ${e.type} was not offered`);
        }
        continue;
      }
      if (this.offeredExtTypes.has(e.type)) throw illegal(`${what}: extension ${e.type} is not allowed here`);
      throw new TlsAlert(AlertDescription.unsupported_extension, `${what}: unsolicited extension ${e.type}`);
    }
  }

  // --- EncryptedExtensions ----------------------------------------------------------------------

  private onEncryptedExtensions(msg: HandshakeMessage): void {
    const ee = decodeEncryptedExtensions(msg.body);
    let alpn: string | undefined;
    let tp: Uint8Array | undefined;
    let earlyData = false;
    for (const e of ee.extensions) {
      if (NOT_IN_EE.has(e.type)) throw illegal(`EncryptedExtensions: extension ${e.type} is not allowed here`);
      if (!this.offeredExtTypes.has(e.type)) throw new TlsAlert(AlertDescription.unsupported_extension, `EncryptedExtensions: unsolicited extension ${e.type}`);
      switch (e.type) {
        case ExtensionType.server_name:
          decodeEmpty(e.data, 'server_name');
          break;
        case ExtensionType.supported_groups:
          decodeNamedGroupList(e.data); // the server's preferences: informational
          break;
        case ExtensionType.application_layer_protocol_negotiation: {
          const list = decodeAlpn(e.data);
          if (list.length !== 1) throw new TlsAlert(AlertDescription.decode_error, 'ALPN: the server must select exactly one protocol');
          if (!this.alpnList.includes(list[0]!)) {
            throw new TlsAlert(AlertDescription.no_application_protocol, `ALPN: server selected ${JSON.stringify(list[0])} which was not offered`);
          }
          alpn = list[0];
          break;
        }
        case ExtensionType.quic_transport_parameters:
          tp = e.data.slice();
          break;
        case ExtensionType.early_data:
          decodeEmpty(e.data, 'early_data');
          if (!this.earlyDataOffered) throw new TlsAlert(AlertDescription.unsupported_extension, 'EncryptedExtensions: early_data was not offered');
          earlyData = true;
          break;
        default:
          break; // an extension we sent via extraExtensions: no semantics here
      }
    }
    if (alpn === undefined) throw new TlsAlert(AlertDescription.no_application_protocol, 'EncryptedExtensions: no ALPN (RFC 9001 §8.1)');
    if (tp === undefined) throw new TlsAlert(AlertDescription.missing_extension, 'EncryptedExtensions: no quic_transport_parameters (RFC 9001 §8.2)');
    if (earlyData) {
      if (!this.resumed) throw illegal('EncryptedExtensions: early_data accepted without the PSK');
      const s = this.offeredSession!;
      if (this.suite!.id !== s.suite || alpn !== s.alpn) throw illegal('EncryptedExtensions: early_data accepted with a different suite or ALPN');
    }
    this.transcript.add(msg.raw);
    this.negotiatedAlpn = alpn;
    this.peerTransportParameters = tp;
    this.emit({ type: 'transport-parameters', data: tp });
    if (this.earlyDataOffered) {
      this.earlyDataAccepted = earlyData;
      this.emit({ type: 'early-data', accepted: earlyData });
    }
    this.state = this.resumed ? 'wait-finished' : 'wait-cert-cr';
  }

  // --- server authentication ---------------------------------------------------------------------

  private onCertificateRequest(msg: HandshakeMessage): void {
    const cr = decodeCertificateRequest(msg.body);
    if (cr.context.length !== 0) throw illegal('CertificateRequest: non-empty context in the main handshake');
    const sa = findExtension(cr.extensions, ExtensionType.signature_algorithms);
    if (!sa) throw new TlsAlert(AlertDescription.missing_extension, 'CertificateRequest: no signature_algorithms');
    const schemes = decodeSignatureSchemeList(sa);
    const sac = findExtension(cr.extensions, ExtensionType.signature_algorithms_cert);
    if (sac) decodeSignatureSchemeList(sac, 'signature_algorithms_cert');
    const cas = findExtension(cr.extensions, ExtensionType.certificate_authorities);
    if (cas) decodeCertificateAuthorities(cas);
    // Other extensions (oid_filters, unknown ones) are ignored (RFC 8446 §4.3.2).
    this.transcript.add(msg.raw);
    this.certRequest = { context: cr.context.slice(), schemes };
    this.state = 'wait-cert';
  }

  private onCertificate(msg: HandshakeMessage, now: number): void {
    const chain = decodePeerCertificate(msg.body, 'server');
    if (chain.length === 0) throw new TlsAlert(AlertDescription.decode_error, 'Certificate: the server sent no certificate');
    this.peerSpki = verifyPeerChain(chain, {
      ca: this.opts.ca,
      hostname: this.verifyName,
      now,
      purpose: 'server',
      insecure: !this.verifying,
    });
    this.peerChain = chain;
    this.transcript.add(msg.raw);
    this.state = 'wait-cv';
  }

  private onCertificateVerify(msg: HandshakeMessage): void {
    this.peerScheme = verifyPeerCertificateVerify(msg.body, this.peerSpki!, this.sigAlgs, true, this.transcript.hash(this.suite!.hash));
    this.transcript.add(msg.raw);
    this.state = 'wait-finished';
  }

  // --- Finished and the client's flight ----------------------------------------------------------

  private onFinished(msg: HandshakeMessage): void {
    const suite = this.suite!;
    const ks = this.ks!;
    checkPeerFinished(suite.hash, this.serverHsSecret!, this.transcript.hash(suite.hash), msg.body, 'server');
    this.transcript.add(msg.raw);
    const appHash = this.transcript.hash(suite.hash);
    ks.deriveMasterSecret();
    const cap = ks.clientApplicationTrafficSecret(appHash);
    const sap = ks.serverApplicationTrafficSecret(appHash);

    const flight: Uint8Array[] = [];
    if (this.certRequest) {
      const mine = this.opts.certificate;
      const scheme = mine ? this.certRequest.schemes.find((s) => mine.key.schemes.includes(s)) : undefined;
      if (mine && scheme !== undefined) {
        flight.push(...ownCertificateMessages(this.transcript, suite.hash, this.certRequest.context, mine, scheme, false));
      } else {
        // RFC 8446 §4.4.2: no suitable certificate → an empty Certificate message.
        const certMsg = encodeCertificate({ context: this.certRequest.context, entries: [] });
        this.transcript.add(certMsg);
        flight.push(certMsg);
      }
    }
    const fin = encodeFinished(finishedVerifyData(suite.hash, this.clientHsSecret!, this.transcript.hash(suite.hash)));
    this.transcript.add(fin);
    flight.push(fin);
    this.resumptionSecret = ks.resumptionMasterSecret(this.transcript.hash(suite.hash));

    this.emitData(EncryptionLevel.Handshake, concat(...flight));
    this.emitSecret(EncryptionLevel.Application, 'read', sap, suite, KeyLogLabel.serverTraffic0);
    this.emitSecret(EncryptionLevel.Application, 'write', cap, suite, KeyLogLabel.clientTraffic0);
    this.info = {
      alpn: this.negotiatedAlpn,
      suite,
      group: this.group,
      resumed: this.resumed,
      earlyDataAccepted: this.earlyDataAccepted,
      serverName: this.sni ?? '',
      peerCertificates: this.peerChain,
      peerSignatureScheme: this.peerScheme,
    };
    this.emit({ type: 'handshake-complete', info: this.info });
    // DESIGN §7.9: the stage secrets are no longer needed (the traffic secrets went to QUIC).
    ks.wipe();
    this.clientHsSecret = this.serverHsSecret = undefined;
    this.state = 'connected';
    this.readLevel = EncryptionLevel.Application;
  }

  // --- after the handshake -------------------------------------------------------------------------

  private onPostHandshake(msg: HandshakeMessage, now: number): void {
    switch (msg.type) {
      case HandshakeType.new_session_ticket:
        return this.onNewSessionTicket(msg, now);
      case HandshakeType.key_update:
        decodeKeyUpdate(msg.body);
        // RFC 9001 §6: QUIC has its own key update; a TLS KeyUpdate is a protocol error.
        this.unexpected('KeyUpdate is not used with QUIC');
        break;
      case HandshakeType.certificate_request:
        // RFC 9001 §4.4: no post-handshake client authentication.
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'post-handshake CertificateRequest');
      default:
        this.unexpected(`handshake message type ${msg.type} after the handshake`);
    }
  }

  private onNewSessionTicket(msg: HandshakeMessage, now: number): void {
    const nst = decodeNewSessionTicket(msg.body);
    if (nst.lifetime > MAX_TICKET_LIFETIME_SECONDS) throw illegal(`NewSessionTicket: lifetime ${nst.lifetime} s exceeds 7 days`);
    let maxEarlyData = 0;
    const ed = findExtension(nst.extensions, ExtensionType.early_data);
    if (ed) {
      maxEarlyData = decodeMaxEarlyData(ed);
      if (maxEarlyData !== QUIC_MAX_EARLY_DATA) {
        // RFC 9001 §4.6.1
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `NewSessionTicket: max_early_data_size ${maxEarlyData} is not 0xffffffff`);
      }
    }
    if (nst.lifetime === 0) return; // RFC 8446 §4.6.1: discard immediately
    const suite = this.suite!;
    // Authenticated now: by our certificate check, or by resuming a session that was.
    const authenticated = this.resumed ? this.offeredSession!.unverified !== true : this.verifying;
    const session: ClientSession = {
      ticket: nst.ticket.slice(),
      psk: resumptionPsk(suite.hash, this.resumptionSecret!, nst.nonce),
      suite: suite.id,
      ageAdd: nst.ageAdd,
      receivedAt: now,
      lifetime: nst.lifetime,
      maxEarlyData,
      alpn: this.negotiatedAlpn,
      serverName: this.verifyName ?? '',
      transportParameters: this.peerTransportParameters!,
      ...(authenticated ? {} : { unverified: true as const }),
    };
    this.emit({ type: 'session-ticket', session });
  }
}

function illegal(reason: string): TlsAlert {
  return new TlsAlert(AlertDescription.illegal_parameter, reason);
}

function checkList(list: readonly number[], name: string, ok: (v: number) => boolean): readonly number[] {
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${name}: expected a non-empty array`);
  for (const v of list) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff || !ok(v)) throw new RangeError(`${name}: unsupported value ${String(v)}`);
  }
  return list.slice();
}
