// L1: TLS 1.3 handshake message bodies (RFC 8446 §4.1.2 ClientHello, §4.1.3 ServerHello,
// §4.1.4 HelloRetryRequest, §4.3.1 EncryptedExtensions, §4.3.2 CertificateRequest,
// §4.4.2 Certificate, §4.4.3 CertificateVerify, §4.4.4 Finished, §4.6.1 NewSessionTicket,
// §4.6.3 KeyUpdate). Decoders take the body (after the 4-byte handshake header), consume all of it
// and raise only TlsAlert; encoders return a complete framed message (header + body).
import { Reader, equal } from '../../util/bytes.js';
import { decodeError } from './alert.js';
import { ByteBuilder } from './builder.js';
import { HRR_RANDOM, HandshakeType } from './constants.js';
import { type Extension, decodeAll, readExtensions, writeExtensions } from './extensions.js';

function startMessage(type: number): ByteBuilder {
  const b = new ByteBuilder(512);
  b.u8(type).begin(3);
  return b;
}

function endMessage(b: ByteBuilder): Uint8Array {
  b.end();
  return b.finish();
}

/** Extensions are optional in the legacy grammar: an absent block reads as an empty list. */
function readOptionalExtensions(r: Reader): Extension[] {
  if (r.pos === r.end) return [];
  return readExtensions(r);
}

// --- ClientHello (RFC 8446 §4.1.2) -------------------------------------------------------------

export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuites: number[];
  readonly compressionMethods: Uint8Array;
  readonly extensions: Extension[];
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  return decodeAll(body, 'ClientHello', (r) => {
    const legacyVersion = r.u16();
    const random = r.bytes(32);
    const sessionId = r.u8Bytes();
    if (sessionId.length > 32) throw decodeError('ClientHello: legacy_session_id longer than 32 bytes');
    const n = r.u16();
    if (n < 2 || n % 2 !== 0) throw decodeError(`ClientHello: bad cipher_suites length ${n}`);
    r.need(n);
    const cipherSuites: number[] = new Array(n / 2);
    for (let i = 0; i < n / 2; i++) cipherSuites[i] = r.u16();
    const compressionMethods = r.u8Bytes();
    if (compressionMethods.length === 0) throw decodeError('ClientHello: empty legacy_compression_methods');
    const extensions = readOptionalExtensions(r);
    return { legacyVersion, random, sessionId, cipherSuites, compressionMethods, extensions };
  });
}

export function encodeClientHello(ch: ClientHello): Uint8Array {
  const b = startMessage(HandshakeType.client_hello);
  b.u16(ch.legacyVersion).bytes(ch.random).u8Bytes(ch.sessionId);
  b.begin(2);
  for (const s of ch.cipherSuites) b.u16(s);
  b.end();
  b.u8Bytes(ch.compressionMethods);
  writeExtensions(b, ch.extensions);
  return endMessage(b);
}

// --- ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4) -------------------------------

export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: Extension[];
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  return decodeAll(body, 'ServerHello', (r) => {
    const legacyVersion = r.u16();
    const random = r.bytes(32);
    const sessionIdEcho = r.u8Bytes();
    if (sessionIdEcho.length > 32) throw decodeError('ServerHello: legacy_session_id_echo longer than 32 bytes');
    const cipherSuite = r.u16();
    const compressionMethod = r.u8();
    const extensions = readOptionalExtensions(r);
    return { legacyVersion, random, sessionIdEcho, cipherSuite, compressionMethod, extensions };
  });
}

export function encodeServerHello(sh: ServerHello): Uint8Array {
  const b = startMessage(HandshakeType.server_hello);
  b.u16(sh.legacyVersion).bytes(sh.random).u8Bytes(sh.sessionIdEcho).u16(sh.cipherSuite).u8(sh.compressionMethod);
  writeExtensions(b, sh.extensions);
  return endMessage(b);
}

/** A HelloRetryRequest is a ServerHello whose random is the special value (RFC 8446 §4.1.3). */
export function isHelloRetryRequest(sh: ServerHello): boolean {
  return equal(sh.random, HRR_RANDOM);
}

// --- EncryptedExtensions (RFC 8446 §4.3.1) -----------------------------------------------------

export interface EncryptedExtensions {
  readonly extensions: Extension[];
}

export function decodeEncryptedExtensions(body: Uint8Array): EncryptedExtensions {
  return decodeAll(body, 'EncryptedExtensions', (r) => ({ extensions: readExtensions(r) }));
}

export function encodeEncryptedExtensions(ee: EncryptedExtensions): Uint8Array {
  const b = startMessage(HandshakeType.encrypted_extensions);
  writeExtensions(b, ee.extensions);
  return endMessage(b);
}

// --- CertificateRequest (RFC 8446 §4.3.2) ------------------------------------------------------

export interface CertificateRequest {
  readonly context: Uint8Array;
  readonly extensions: Extension[];
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  return decodeAll(body, 'CertificateRequest', (r) => {
    const context = r.u8Bytes();
    const extensions = readExtensions(r);
    return { context, extensions };
  });
}

export function encodeCertificateRequest(cr: CertificateRequest): Uint8Array {
  const b = startMessage(HandshakeType.certificate_request);
  b.u8Bytes(cr.context);
  writeExtensions(b, cr.extensions);
  return endMessage(b);
}

// --- Certificate (RFC 8446 §4.4.2) -------------------------------------------------------------

export interface CertificateEntry {
  /** X.509 DER (certificate_type X509, the only one negotiated here). */
  readonly data: Uint8Array;
  readonly extensions: Extension[];
}

export interface CertificateMessage {
  readonly context: Uint8Array;
  readonly entries: CertificateEntry[];
}

export function decodeCertificate(body: Uint8Array): CertificateMessage {
  return decodeAll(body, 'Certificate', (r) => {
    const context = r.u8Bytes();
    const n = r.u24();
    r.need(n);
    const end = r.pos + n;
    const entries: CertificateEntry[] = [];
    while (r.pos < end) {
      const data = r.u24Bytes();
      if (data.length === 0) throw decodeError('Certificate: empty cert_data');
      const extensions = readExtensions(r);
      if (r.pos > end) throw decodeError('Certificate: entry overruns certificate_list');
      entries.push({ data, extensions });
    }
    return { context, entries };
  });
}

export function encodeCertificate(c: CertificateMessage): Uint8Array {
  const b = startMessage(HandshakeType.certificate);
  b.u8Bytes(c.context);
  b.begin(3);
  for (const e of c.entries) {
    b.u24Bytes(e.data);
    writeExtensions(b, e.extensions);
  }
  b.end();
  return endMessage(b);
}

// --- CertificateVerify (RFC 8446 §4.4.3) -------------------------------------------------------

export interface CertificateVerify {
  readonly scheme: number;
  readonly signature: Uint8Array;
}

export function decodeCertificateVerify(body: Uint8Array): CertificateVerify {
  return decodeAll(body, 'CertificateVerify', (r) => {
    const scheme = r.u16();
    const signature = r.u16Bytes();
    if (signature.length === 0) throw decodeError('CertificateVerify: empty signature');
    return { scheme, signature };
  });
}

export function encodeCertificateVerify(cv: CertificateVerify): Uint8Array {
  const b = startMessage(HandshakeType.certificate_verify);
  b.u16(cv.scheme).u16Bytes(cv.signature);
  return endMessage(b);
}

// --- Finished (RFC 8446 §4.4.4) ----------------------------------------------------------------

/** verify_data is exactly Hash.length bytes; any other body length is decode_error. */
export function decodeFinished(body: Uint8Array, hashLength: number): Uint8Array {
  if (body.length !== hashLength) throw decodeError(`Finished: ${body.length} bytes, expected ${hashLength}`);
  return body;
}

export function encodeFinished(verifyData: Uint8Array): Uint8Array {
  const b = startMessage(HandshakeType.finished);
  b.bytes(verifyData);
  return endMessage(b);
}

// --- NewSessionTicket (RFC 8446 §4.6.1) --------------------------------------------------------

export interface NewSessionTicket {
  /** Seconds (at most 604800). */
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly nonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: Extension[];
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  return decodeAll(body, 'NewSessionTicket', (r) => {
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const nonce = r.u8Bytes();
    const ticket = r.u16Bytes();
    if (ticket.length === 0) throw decodeError('NewSessionTicket: empty ticket');
    const extensions = readExtensions(r);
    return { lifetime, ageAdd, nonce, ticket, extensions };
  });
}

export function encodeNewSessionTicket(t: NewSessionTicket): Uint8Array {
  const b = startMessage(HandshakeType.new_session_ticket);
  b.u32(t.lifetime).u32(t.ageAdd).u8Bytes(t.nonce).u16Bytes(t.ticket);
  writeExtensions(b, t.extensions);
  return endMessage(b);
}

// --- KeyUpdate (RFC 8446 §4.6.3): decoded only so it can be rejected over QUIC -----------------

export function decodeKeyUpdate(body: Uint8Array): number {
  return decodeAll(body, 'KeyUpdate', (r) => r.u8());
}
