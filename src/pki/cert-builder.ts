// L3: X.509 v3 certificate generation with the DER writer (RFC 5280 §4.1 TBSCertificate, §4.2.1
// extensions; RFC 7093 §2 method 1 key identifiers; RFC 4055 §3.1 RSASSA-PSS parameters), signed
// through src/crypto/sign.ts. Used by self-signed.ts and by tests that need whole chains.
import { hash } from '../crypto/hkdf.js';
import { signCertificate, defaultCertSignatureAlgorithm, type CertSignatureAlgorithm, type SigningKey } from '../crypto/sign.js';
import {
  DerReader,
  Tag,
  derBitString,
  derBoolean,
  derExplicit,
  derInteger,
  derNamedBits,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derUtf8String,
  derIa5String,
} from './asn1.js';
import { parseIpLiteral } from './hostname.js';
import { KeyUsage, OID } from './x509.js';

/** A DN as a string (a single CN) or [type, value] pairs, most general first, e.g. [['O','Quiver'],['CN','x']]. */
export type NameInput = string | readonly (readonly [string, string])[];

const ATTR_OIDS: Record<string, string> = {
  CN: '2.5.4.3',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  serialNumber: '2.5.4.5',
  DC: '0.9.2342.19200300.100.1.25',
};

/** DER Name (RFC 5280 §4.1.2.4): one attribute per RDN; C as PrintableString, the rest UTF8String. */
export function encodeName(name: NameInput): Uint8Array {
  const pairs: readonly (readonly [string, string])[] = typeof name === 'string' ? [['CN', name]] : name;
  const rdns: Uint8Array[] = [];
  for (const [type, value] of pairs) {
    const oid = ATTR_OIDS[type] ?? (/^[0-2](\.\d+)+$/.test(type) ? type : undefined);
    if (!oid) throw new TypeError(`name: unknown attribute type ${JSON.stringify(type)}`);
    const v = oid === '2.5.4.6' || oid === '2.5.4.5' ? derPrintableString(value) : oid === ATTR_OIDS.DC ? derIa5String(value) : derUtf8String(value);
    rdns.push(derSet(derSequence(derOid(oid), v)));
  }
  return derSequence(...rdns);
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits. */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  const r = new DerReader(spki).sequence();
  r.rawOf(Tag.SEQUENCE);
  const { bytes } = r.bitString();
  return hash('sha256', bytes).subarray(0, 20);
}

/** AlgorithmIdentifier DER for a certificate signature algorithm. */
export function encodeSignatureAlgorithm(alg: CertSignatureAlgorithm): Uint8Array {
  switch (alg.type) {
    case 'ecdsa':
      return derSequence(derOid(alg.hash === 'sha256' ? OID.ecdsaWithSha256 : alg.hash === 'sha384' ? OID.ecdsaWithSha384 : OID.ecdsaWithSha512));
    case 'ed25519':
      return derSequence(derOid(OID.ed25519));
    case 'rsa-pkcs1':
      return derSequence(derOid(alg.hash === 'sha256' ? OID.sha256WithRsa : alg.hash === 'sha384' ? OID.sha384WithRsa : OID.sha512WithRsa), derNull());
    case 'rsa-pss': {
      const h = derSequence(derOid(alg.hash === 'sha256' ? OID.sha256 : alg.hash === 'sha384' ? OID.sha384 : OID.sha512), derNull());
      return derSequence(
        derOid(OID.rsassaPss),
        derSequence(derExplicit(0, h), derExplicit(1, derSequence(derOid(OID.mgf1), h)), derExplicit(2, derInteger(alg.saltLength))),
      );
    }
    default:
      throw new TypeError('alg: unsupported certificate signature algorithm');
  }
}

export interface ExtensionInput {
  readonly oid: string;
  readonly critical?: boolean;
  /** extnValue contents (DER of the extension's own structure). */
  readonly value: Uint8Array;
}

export interface CertificateTemplate {
  /** Positive serial number magnitude (≤ 20 bytes, RFC 5280 §4.1.2.2). */
  serial: Uint8Array;
  subject: NameInput;
  /** Default: the subject (self-issued). */
  issuer?: NameInput;
  /** ms since the epoch (whole seconds are encoded). */
  notBefore: number;
  notAfter: number;
  /** The subject's SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  /** Who signs: the issuer's key (the subject's own for self-signed certificates). */
  issuerKey: SigningKey;
  /** Default: ecdsa-with-SHA256/384 for EC keys, Ed25519, sha256WithRSAEncryption. */
  signatureAlgorithm?: CertSignatureAlgorithm;
  /** SAN entries: DNS names and IP literals or raw 4/16-byte addresses. */
  subjectAltNames?: { dns?: readonly string[]; ip?: readonly (string | Uint8Array)[]; critical?: boolean };
  basicConstraints?: { ca: boolean; pathLen?: number; critical?: boolean };
  keyUsage?: { bits: readonly (keyof typeof KeyUsage)[]; critical?: boolean };
  /** EKU OIDs, e.g. [OID.serverAuth]. */
  extKeyUsage?: readonly string[];
  /** true: RFC 7093 method 1 from publicKey. */
  subjectKeyId?: Uint8Array | true;
  /** true: RFC 7093 method 1 from issuerKey's public key. */
  authorityKeyId?: Uint8Array | true;
  nameConstraints?: {
    permittedDns?: readonly string[];
    excludedDns?: readonly string[];
    permittedIp?: readonly { addr: Uint8Array; mask: Uint8Array }[];
    excludedIp?: readonly { addr: Uint8Array; mask: Uint8Array }[];
    critical?: boolean;
  };
  /** Any further extensions, appended as given. */
  extensions?: readonly ExtensionInput[];
}

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? derSequence(derOid(oid), derBoolean(true), derOctetString(value)) : derSequence(derOid(oid), derOctetString(value));
}

function ipBytes(ip: string | Uint8Array): Uint8Array {
  if (ip instanceof Uint8Array) {
    if (ip.length !== 4 && ip.length !== 16) throw new TypeError('subjectAltNames.ip: raw addresses must be 4 or 16 bytes');
    return ip;
  }
  const b = parseIpLiteral(ip);
  if (!b) throw new TypeError(`subjectAltNames.ip: not an IP literal: ${JSON.stringify(ip)}`);
  return b;
}

function subtrees(dns: readonly string[] = [], ip: readonly { addr: Uint8Array; mask: Uint8Array }[] = []): Uint8Array[] {
  return [
    ...dns.map((d) => derSequence(derTlv(0x82, new TextEncoder().encode(d)))),
    ...ip.map((x) => {
      const v = new Uint8Array(x.addr.length * 2);
      v.set(x.addr);
      v.set(x.mask, x.addr.length);
      return derSequence(derTlv(0x87, v));
    }),
  ];
}

/** The DER of the TBSCertificate a template describes (exposed for tests that re-sign or corrupt it). */
export function encodeTbs(t: CertificateTemplate, alg: CertSignatureAlgorithm): Uint8Array {
  if (!(t.serial instanceof Uint8Array) || t.serial.length === 0 || t.serial.length > 20) throw new RangeError('serial: 1..20 bytes');
  if (!(t.publicKey instanceof Uint8Array)) throw new TypeError('publicKey: expected SPKI DER');
  if (!(t.notAfter >= t.notBefore)) throw new RangeError('notAfter: must not be before notBefore');
  const exts: Uint8Array[] = [];
  if (t.subjectAltNames) {
    const names = [
      ...(t.subjectAltNames.dns ?? []).map((d) => {
        if (!/^[\x21-\x7e]+$/.test(d)) throw new TypeError(`subjectAltNames.dns: invalid DNS name ${JSON.stringify(d)}`);
        return derTlv(0x82, new TextEncoder().encode(d));
      }),
      ...(t.subjectAltNames.ip ?? []).map((ip) => derTlv(0x87, ipBytes(ip))),
    ];
    exts.push(ext(OID.subjectAltName, t.subjectAltNames.critical ?? false, derSequence(...names)));
  }
  if (t.basicConstraints) {
    const bc = t.basicConstraints;
    const parts: Uint8Array[] = [];
    if (bc.ca) parts.push(derBoolean(true));
    if (bc.pathLen !== undefined) parts.push(derInteger(bc.pathLen));
    exts.push(ext(OID.basicConstraints, bc.critical ?? true, derSequence(...parts)));
  }
  if (t.keyUsage) {
    exts.push(ext(OID.keyUsage, t.keyUsage.critical ?? true, derNamedBits(t.keyUsage.bits.map((b) => KeyUsage[b]))));
  }
  if (t.extKeyUsage) exts.push(ext(OID.extKeyUsage, false, derSequence(...t.extKeyUsage.map((o) => derOid(o)))));
  if (t.subjectKeyId) {
    exts.push(ext(OID.subjectKeyIdentifier, false, derOctetString(t.subjectKeyId === true ? keyIdentifier(t.publicKey) : t.subjectKeyId)));
  }
  if (t.authorityKeyId) {
    const kid = t.authorityKeyId === true ? keyIdentifier(t.issuerKey.spki) : t.authorityKeyId;
    exts.push(ext(OID.authorityKeyIdentifier, false, derSequence(derTlv(0x80, kid))));
  }
  if (t.nameConstraints) {
    const nc = t.nameConstraints;
    const permitted = subtrees(nc.permittedDns, nc.permittedIp);
    const excluded = subtrees(nc.excludedDns, nc.excludedIp);
    const parts: Uint8Array[] = [];
    if (permitted.length) parts.push(derTlv(0xa0, ...permitted));
    if (excluded.length) parts.push(derTlv(0xa1, ...excluded));
    exts.push(ext(OID.nameConstraints, nc.critical ?? true, derSequence(...parts)));
  }
  for (const e of t.extensions ?? []) exts.push(ext(e.oid, e.critical ?? false, e.value));

  const serial = derInteger(t.serial);
  return derSequence(
    derExplicit(0, derInteger(2)),
    serial,
    encodeSignatureAlgorithm(alg),
    encodeName(t.issuer ?? t.subject),
    derSequence(derTime(t.notBefore), derTime(t.notAfter)),
    encodeName(t.subject),
    t.publicKey,
    ...(exts.length ? [derExplicit(3, derSequence(...exts))] : []),
  );
}

/** Assemble and sign an X.509 v3 certificate; returns its DER. */
export function buildCertificate(t: CertificateTemplate): Uint8Array {
  const alg = t.signatureAlgorithm ?? defaultCertSignatureAlgorithm(t.issuerKey);
  const tbs = encodeTbs(t, alg);
  const sig = signCertificate(t.issuerKey, alg, tbs);
  return derSequence(tbs, encodeSignatureAlgorithm(alg), derBitString(sig));
}
