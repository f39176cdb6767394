// L3: certificate handling for the handshake (RFC 8446 §4.4.2 Certificate, §4.4.3 CertificateVerify,
// §4.2.3 signature_algorithms): choosing a server certificate and signature scheme, verifying a peer
// chain through src/pki (RFC 5280 path validation, RFC 6125 names) and its CertificateVerify.
// Every certificate failure becomes a TlsAlert carrying the PKI's alert.
import { SignatureScheme, loadPrivateKey, sign, verify, type SigningKey } from '../crypto/sign.js';
import { CertificateError } from '../pki/errors.js';
import { pemDecode } from '../pki/pem.js';
import { verifyChain, type TrustStore } from '../pki/verify.js';
import { parseCertificate } from '../pki/x509.js';
import { AlertDescription, TlsAlert } from './wire/alert.js';
import { decodeCertificate, decodeCertificateVerify, encodeCertificate, encodeCertificateVerify } from './wire/messages.js';
import { certificateVerifyContent } from './key-schedule.js';
import type { Transcript } from './transcript.js';
import type { HashName } from '../crypto/hkdf.js';

/** A certificate chain (leaf first, DER) and the leaf's private key. */
export interface CertifiedKey {
  readonly chain: readonly Uint8Array[];
  readonly key: SigningKey;
}

/** Load a chain and key from PEM text (the chain may hold several CERTIFICATE blocks, leaf first). */
export function certifiedKeyFromPem(certPem: string, keyPem: string | SigningKey): CertifiedKey {
  const chain = pemDecode(certPem, 'CERTIFICATE');
  if (chain.length === 0) throw new TypeError('certPem: no CERTIFICATE block found');
  const key = typeof keyPem === 'string' ? loadPrivateKey(keyPem) : keyPem;
  return { chain, key };
}

/** CertificateVerify schemes a client offers by default, preferred first. */
export const DEFAULT_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
  SignatureScheme.rsa_pss_pss_sha256,
  SignatureScheme.rsa_pss_pss_sha384,
  SignatureScheme.rsa_pss_pss_sha512,
];

/** Schemes accepted in certificates (signature_algorithms_cert, RFC 8446 §4.2.3): PKCS#1 allowed here. */
export const DEFAULT_CERT_SIGNATURE_SCHEMES: readonly number[] = [
  ...DEFAULT_SIGNATURE_SCHEMES,
  SignatureScheme.ecdsa_secp521r1_sha512,
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
];

/**
 * The first certificate whose key can sign with a scheme the peer offered, and that scheme
 * (peer's preference order: "the best scheme the client offered"). Undefined if none fits.
 */
export function selectCertificate(
  certs: readonly CertifiedKey[],
  peerSchemes: readonly number[],
): { cert: CertifiedKey; scheme: number } | undefined {
  for (const cert of certs) {
    for (const s of peerSchemes) if (cert.key.schemes.includes(s)) return { cert, scheme: s };
  }
  return undefined;
}

/** Sign a CertificateVerify for `server` (true) or client over `transcriptHash`. */
export function signCertificateVerify(key: SigningKey, scheme: number, server: boolean, transcriptHash: Uint8Array): Uint8Array {
  return sign(key, scheme, certificateVerifyContent(server, transcriptHash));
}

function asAlert(e: unknown): TlsAlert {
  if (e instanceof TlsAlert) return e;
  if (e instanceof CertificateError) return new TlsAlert(e.alert, e.message);
  return new TlsAlert(AlertDescription.bad_certificate, `certificate: ${(e as Error)?.message ?? String(e)}`);
}

export interface PeerChainCheck {
  /** Trust anchors (DER or a TrustStore); default: Node's bundled roots. */
  ca?: readonly Uint8Array[] | TrustStore | undefined;
  /** Server name or IP to match (server certificates); undefined = no name check. */
  hostname?: string | undefined;
  now: number;
  purpose: 'server' | 'client';
  /** Skip path and name validation; the leaf key still has to parse (its CertificateVerify is checked). */
  insecure?: boolean;
}

/** Validate a peer chain (leaf first) and return the leaf's SubjectPublicKeyInfo. Throws TlsAlert. */
export function verifyPeerChain(chain: readonly Uint8Array[], check: PeerChainCheck): Uint8Array {
  try {
    if (check.insecure) return parseCertificate(chain[0]!).spki;
    const leaf = verifyChain(chain, {
      ca: check.ca as Uint8Array[] | TrustStore | undefined,
      hostname: check.hostname,
      now: check.now,
      purpose: check.purpose,
    });
    return leaf.spki;
  } catch (e) {
    throw asAlert(e);
  }
}

/**
 * The chain (leaf first, copied out of the message) of a peer's Certificate message body
 * (RFC 8446 §4.4.2). The certificate_request_context must be empty — the server's always is, and
 * ours in the main handshake is too — else illegal_parameter; an entry carrying extensions answers
 * nothing we asked for: unsupported_extension. The chain may be empty; the caller decides.
 */
export function decodePeerCertificate(body: Uint8Array, who: string): Uint8Array[] {
  const c = decodeCertificate(body);
  if (c.context.length !== 0) throw new TlsAlert(AlertDescription.illegal_parameter, `${who} Certificate: non-empty certificate_request_context`);
  for (const e of c.entries) {
    if (e.extensions.length !== 0) {
      throw new TlsAlert(AlertDescription.unsupported_extension, `${who} Certificate: entry extension ${e.extensions[0]!.type} was not requested`);
    }
  }
  return c.entries.map((e) => e.data.slice());
}

/**
 * Our Certificate and CertificateVerify messages (RFC 8446 §4.4.2, §4.4.3), each added to
 * `transcript` as it is built (the signature covers the transcript through Certificate).
 */
export function ownCertificateMessages(
  transcript: Transcript,
  h: HashName,
  context: Uint8Array,
  cert: CertifiedKey,
  scheme: number,
  server: boolean,
): [Uint8Array, Uint8Array] {
  const certMsg = encodeCertificate({ context, entries: cert.chain.map((d) => ({ data: d, extensions: [] })) });
  transcript.add(certMsg);
  const signature = signCertificateVerify(cert.key, scheme, server, transcript.hash(h));
  const cvMsg = encodeCertificateVerify({ scheme, signature });
  transcript.add(cvMsg);
  return [certMsg, cvMsg];
}

/**
 * A peer's CertificateVerify message body checked with checkCertificateVerify; returns its scheme.
 */
export function verifyPeerCertificateVerify(
  body: Uint8Array,
  spki: Uint8Array,
  offered: readonly number[],
  server: boolean,
  transcriptHash: Uint8Array,
): number {
  const cv = decodeCertificateVerify(body);
  checkCertificateVerify(spki, offered, cv.scheme, cv.signature, server, transcriptHash);
  return cv.scheme;
}

/**
 * Check a peer's CertificateVerify (RFC 8446 §4.4.3): the scheme must be one we offered
 * (illegal_parameter otherwise) and the signature must verify (decrypt_error otherwise).
 */
export function checkCertificateVerify(
  spki: Uint8Array,
  offered: readonly number[],
  scheme: number,
  signature: Uint8Array,
  server: boolean,
  transcriptHash: Uint8Array,
): void {
  if (!offered.includes(scheme)) {
    throw new TlsAlert(AlertDescription.illegal_parameter, `CertificateVerify: scheme 0x${scheme.toString(16)} was not offered`);
  }
  if (!verify(spki, scheme, certificateVerifyContent(server, transcriptHash), signature)) {
    throw new TlsAlert(AlertDescription.decrypt_error, 'CertificateVerify: signature does not verify');
  }
}
