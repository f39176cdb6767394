// L3: self-signed server certificates generated in code, so the quick start needs no openssl
// binary: EC P-256, X.509 v3 (RFC 5280 §4.1), random positive 128-bit serial (§4.1.2.2), SAN of
// DNS names and IP addresses (§4.2.1.6), basicConstraints CA:FALSE critical (§4.2.1.9), keyUsage
// digitalSignature critical (§4.2.1.3), extKeyUsage serverAuth (§4.2.1.12), subject key identifier
// (RFC 7093 §2 method 1), ecdsa-with-SHA256 (RFC 5758 §3.2). The validity period is at most 14 days
// by default (what Chromium accepts for WebTransport serverCertificateHashes) and starts an hour in
// the past to absorb clock skew.
import { hash } from '../crypto/hkdf.js';
import { exportPrivateKeyPem, generateSigningKey, randomBytes, type SigningKey } from '../crypto/sign.js';
import { buildCertificate, type NameInput } from './cert-builder.js';
import { parseIpLiteral } from './hostname.js';
import { base64Encode, pemEncode } from './pem.js';
import { OID } from './x509.js';

export interface SelfSignedOptions {
  /** DNS names and IP literals for the SAN. Default ['localhost', '127.0.0.1', '::1']. */
  hosts?: string[];
  /** Validity period in days (notAfter − notBefore). Default 14; at most 14 unless allowLongValidity. */
  days?: number;
  /** ms since the epoch (sans-IO: passed in). */
  now: number;
  /** Subject CN; default the first host. */
  commonName?: string;
  /** Use this key instead of generating an EC P-256 key. */
  key?: SigningKey;
  /** Fixed serial (positive magnitude, 1..20 bytes) for reproducible tests; default 16 random bytes. */
  serial?: Uint8Array;
  /** Permit `days` up to 3650 (not accepted by Chromium's serverCertificateHashes). */
  allowLongValidity?: boolean;
}

export interface SelfSigned {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  certDer: Uint8Array;
  key: SigningKey;
  /** base64(SHA-256(SubjectPublicKeyInfo DER)): Chromium's --ignore-certificate-errors-spki-list. */
  spkiSha256Base64: string;
  /** SHA-256 of the certificate DER (WebTransport serverCertificateHashes). */
  certSha256: Uint8Array;
}

const DAY = 86_400_000;
/** How far notBefore lies before `now` (clock skew between peers). */
export const CLOCK_SKEW_MS = 3_600_000;

const DNS_RE = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Generate a self-signed leaf certificate and its key (see the module header for the profile). */
export function generateSelfSigned(opts: SelfSignedOptions): SelfSigned {
  if (!opts || typeof opts.now !== 'number' || !Number.isFinite(opts.now)) throw new TypeError('opts.now: expected ms since the epoch');
  const hosts = opts.hosts ?? ['localhost', '127.0.0.1', '::1'];
  if (!Array.isArray(hosts) || hosts.length === 0) throw new TypeError('opts.hosts: expected a non-empty array');
  const days = opts.days ?? 14;
  const maxDays = opts.allowLongValidity ? 3650 : 14;
  if (typeof days !== 'number' || !(days > 0) || days > maxDays) throw new RangeError(`opts.days: expected 0 < days <= ${maxDays}, got ${days}`);
  const dns: string[] = [];
  const ip: Uint8Array[] = [];
  for (const h of hosts) {
    if (typeof h !== 'string') throw new TypeError('opts.hosts: expected strings');
    const addr = parseIpLiteral(h);
    if (addr) ip.push(addr);
    else if (h.length <= 253 && DNS_RE.test(h)) dns.push(h.toLowerCase().replace(/\.$/, ''));
    else throw new TypeError(`opts.hosts: not a DNS name or IP literal: ${JSON.stringify(h)}`);
  }
  const key = opts.key ?? generateSigningKey('ec-p256');
  let serial = opts.serial ?? randomBytes(16);
  if (!opts.serial) {
    serial = serial.slice();
    serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, exactly 16 bytes, never zero
  }
  const notBefore = Math.floor((opts.now - CLOCK_SKEW_MS) / 1000) * 1000;
  const notAfter = notBefore + Math.round(days * DAY);
  const subject: NameInput = [['CN', opts.commonName ?? hosts[0]!]];
  const certDer = buildCertificate({
    serial,
    subject,
    notBefore,
    notAfter,
    publicKey: key.spki,
    issuerKey: key,
    subjectAltNames: { dns, ip },
    basicConstraints: { ca: false, critical: true },
    keyUsage: { bits: ['digitalSignature'], critical: true },
    extKeyUsage: [OID.serverAuth],
    subjectKeyId: true,
  });
  return {
    certPem: pemEncode(certDer, 'CERTIFICATE'),
    keyPem: exportPrivateKeyPem(key),
    certDer,
    key,
    spkiSha256Base64: base64Encode(hash('sha256', key.spki)),
    certSha256: hash('sha256', certDer),
  };
}
