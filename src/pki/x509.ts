// L3: X.509 v3 certificate parsing (RFC 5280 §4.1 structure, §4.2.1 standard extensions),
// algorithm identifiers of RFC 5758 §3.2 (ECDSA), RFC 8410 §3 (Ed25519), RFC 4055 §3 and §5
// (RSASSA-PSS, PKCS#1 v1.5), and SubjectPublicKeyInfo of RFC 5480 §2 / RFC 3279 §2.3.1.
// Parsing is strict DER (see asn1.ts); any malformation is CertificateError bad_certificate (42).
// Semantic checks (dates, constraints, names, signatures) belong to verify.ts.
import type { CertSignatureAlgorithm } from '../crypto/sign.js';
import { DerReader, Tag, ctx, decodeBitString, decodeIa5, decodeString, checkInteger } from './asn1.js';
import { malformed } from './errors.js';
import { equal, toHex } from '../util/bytes.js';

export { CertificateError, CertAlert } from './errors.js';

/** Object identifiers used here (RFC 5280 §4.2.1, RFC 5480, RFC 8410, RFC 4055, RFC 5758). */
export const OID = {
  // extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  // extended key usages (RFC 5280 §4.2.1.12)
  anyExtendedKeyUsage: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  // public keys
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  // signatures
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  md5WithRsa: '1.2.840.113549.1.1.4',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  mgf1: '1.2.840.113549.1.1.8',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // attribute types (RFC 5280 Appendix A.1, RFC 4519)
  commonName: '2.5.4.3',
} as const;

const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export interface AttributeTypeAndValue {
  readonly oid: string;
  /** Short name (CN, O, OU, C, …) or the OID when unknown. */
  readonly type: string;
  /** The value as text (RFC 4514 "#hex" for non-string values). */
  readonly value: string;
  /** The value's ASN.1 tag (e.g. 0x0c UTF8String, 0x13 PrintableString). */
  readonly tag: number;
}

/** A distinguished name (RFC 5280 §4.1.2.4), RDNs in encoding order (most general first). */
export interface Name {
  readonly rdns: readonly (readonly AttributeTypeAndValue[])[];
}

/** Subject alternative names (RFC 5280 §4.2.1.6). */
export interface SubjectAltNames {
  readonly dns: readonly string[];
  /** 4-byte IPv4 or 16-byte IPv6 addresses. */
  readonly ip: readonly Uint8Array[];
  readonly email: readonly string[];
  readonly uri: readonly string[];
  /** Count of otherName, x400Address, directoryName, ediPartyName, registeredID entries. */
  readonly other: number;
}

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLen: number | undefined;
}

/** keyUsage bit numbers (RFC 5280 §4.2.1.3); `extensions.keyUsage` has bit (1 << n) set for each. */
export const KeyUsage = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

/** A subtree of a name constraint (RFC 5280 §4.2.1.10) for the forms we enforce. */
export interface NameConstraints {
  readonly permittedDns: readonly string[];
  readonly excludedDns: readonly string[];
  /** Address and mask, both 4 or both 16 bytes. */
  readonly permittedIp: readonly { addr: Uint8Array; mask: Uint8Array }[];
  readonly excludedIp: readonly { addr: Uint8Array; mask: Uint8Array }[];
  /** True if subtrees of other forms (directoryName, rfc822Name, URI, …) were present: not enforced. */
  readonly hasUnsupportedForms: boolean;
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** extnValue contents (the DER inside the OCTET STRING). */
  readonly value: Uint8Array;
  /** True if this module parses the extension and verify.ts enforces it. */
  readonly handled: boolean;
}

export interface Extensions {
  readonly subjectAltNames: SubjectAltNames | undefined;
  readonly basicConstraints: BasicConstraints | undefined;
  /** Bit mask of KeyUsage bits, or undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** Extended key usage OIDs, or undefined when absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly authorityKeyId: Uint8Array | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  readonly certificatePolicies: readonly string[] | undefined;
  readonly all: readonly Extension[];
  /** OIDs of critical extensions we do not process (verification rejects them: RFC 5280 §4.2). */
  readonly unhandledCritical: readonly string[];
}

export interface SignatureAlgorithm {
  readonly oid: string;
  /** e.g. 'ecdsa-with-SHA256', 'sha256WithRSAEncryption', 'RSASSA-PSS', 'Ed25519', or the OID. */
  readonly name: string;
  /** How to verify it, or null when unsupported (SHA-1, MD5, unknown: unsupported_certificate). */
  readonly verifier: CertSignatureAlgorithm | null;
}

export interface Certificate {
  /** The whole certificate (a private copy of the input); every other byte field is a view into it. */
  readonly der: Uint8Array;
  /** The signed TBSCertificate encoding (RFC 5280 §4.1.1.1). */
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  /** serialNumber INTEGER contents (two's complement). */
  readonly serial: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** 'ec-p256' | 'ec-p384' | 'ec-p521' | 'ed25519' | 'ed448' | 'rsa' | 'rsa-pss' | 'ec:<curve oid>' | '<oid>'. */
  readonly publicKeyAlgorithm: string;
  /** RSA modulus bits, EC field bits (256/384/521), 255 for Ed25519, 448 for Ed448, 0 if unknown. */
  readonly publicKeyBits: number;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly extensions: Extensions;
  /** issuer and subject DNs are byte-identical (RFC 5280 §6.1: self-issued). */
  readonly selfIssued: boolean;
}

// ---------------------------------------------------------------------------------------------

function parseName(r: DerReader): Name {
  const rdns: AttributeTypeAndValue[][] = [];
  while (!r.done) {
    const set = r.sequence(Tag.SET, 'RelativeDistinguishedName');
    const rdn: AttributeTypeAndValue[] = [];
    while (!set.done) {
      const atv = set.sequence(Tag.SEQUENCE, 'AttributeTypeAndValue');
      const oid = atv.oid();
      const tag = atv.next();
      const raw = atv.buf.subarray(atv.valueStart, atv.valueEnd);
      const full = atv.buf.subarray(atv.elemStart, atv.valueEnd);
      atv.finish('AttributeTypeAndValue');
      const text = decodeString(tag, raw);
      rdn.push({ oid, type: ATTR_NAMES[oid] ?? oid, value: text ?? '#' + toHex(full), tag });
    }
    if (rdn.length === 0) throw malformed('empty RelativeDistinguishedName');
    rdns.push(rdn);
  }
  return { rdns };
}

function escapeRdnValue(v: string): string {
  let s = v.replace(/([,+"\\<>;=])/g, '\\$1');
  if (s.startsWith(' ') || s.startsWith('#')) s = '\\' + s;
  if (s.endsWith(' ') && s.length > 1) s = s.slice(0, -1) + '\\ ';
  return s;
}

/** RFC 4514 string form: most specific RDN first, e.g. "CN=example.com,O=Example,C=US". */
export function nameToString(name: Name): string {
  return name.rdns
    .slice()
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${escapeRdnValue(a.value)}`).join('+'))
    .join(',');
}

/** The first commonName value, if any (never used for host name checks; display only). */
export function commonName(name: Name): string | undefined {
  for (const rdn of name.rdns) for (const a of rdn) if (a.oid === OID.commonName) return a.value;
  return undefined;
}

type Hash = 'sha256' | 'sha384' | 'sha512';

const HASH_BY_OID: Record<string, Hash> = { [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };

/** Parameters absent, or NULL (tolerated where RFCs say absent: old encoders emit NULL). */
function absentOrNull(r: DerReader): boolean {
  if (r.done) return true;
  r.null();
  r.finish('AlgorithmIdentifier');
  return true;
}

/** A hash AlgorithmIdentifier inside RSASSA-PSS params; null if not SHA-256/384/512. */
function parseHashAlg(r: DerReader): Hash | null {
  const alg = r.sequence(Tag.SEQUENCE, 'hash AlgorithmIdentifier');
  const oid = alg.oid();
  absentOrNull(alg);
  return HASH_BY_OID[oid] ?? null;
}

/** RSASSA-PSS-params (RFC 4055 §3.1). */
function parsePssParams(r: DerReader): CertSignatureAlgorithm | null {
  const p = r.sequence(Tag.SEQUENCE, 'RSASSA-PSS-params');
  let hash: Hash | null = null; // default sha1: unsupported
  let mgfHash: Hash | null = null;
  let salt = 20;
  let trailer = 1;
  const h = p.optional(ctx(0, true));
  if (h) {
    hash = parseHashAlg(h);
    h.finish('hashAlgorithm');
  }
  const m = p.optional(ctx(1, true));
  if (m) {
    const mgf = m.sequence(Tag.SEQUENCE, 'maskGenAlgorithm');
    const mgfOid = mgf.oid();
    const inner = mgf.done ? null : parseHashAlg(mgf);
    mgf.finish('maskGenAlgorithm');
    m.finish('maskGenAlgorithm');
    mgfHash = mgfOid === OID.mgf1 ? inner : null;
  }
  const s = p.optional(ctx(2, true));
  if (s) {
    salt = s.smallUint();
    s.finish('saltLength');
  }
  const t = p.optional(ctx(3, true));
  if (t) {
    trailer = t.smallUint();
    t.finish('trailerField');
  }
  p.finish('RSASSA-PSS-params');
  r.finish('AlgorithmIdentifier');
  // Node verifies PSS with MGF1 over the signature hash; other combinations are unsupported.
  if (!hash || mgfHash !== hash || trailer !== 1) return null;
  return { type: 'rsa-pss', hash, saltLength: salt };
}

function parseSignatureAlgorithm(r: DerReader): SignatureAlgorithm {
  const alg = r.sequence(Tag.SEQUENCE, 'AlgorithmIdentifier');
  const oid = alg.oid();
  let name: string = oid;
  let verifier: CertSignatureAlgorithm | null = null;
  switch (oid) {
    case OID.ecdsaWithSha256:
    case OID.ecdsaWithSha384:
    case OID.ecdsaWithSha512: {
      const hash = oid === OID.ecdsaWithSha256 ? 'sha256' : oid === OID.ecdsaWithSha384 ? 'sha384' : 'sha512';
      name = `ecdsa-with-${hash.toUpperCase()}`;
      absentOrNull(alg);
      verifier = { type: 'ecdsa', hash };
      break;
    }
    case OID.ed25519:
      name = 'Ed25519';
      alg.finish('Ed25519 AlgorithmIdentifier (RFC 8410 §3: parameters absent)');
      verifier = { type: 'ed25519' };
      break;
    case OID.sha256WithRsa:
    case OID.sha384WithRsa:
    case OID.sha512WithRsa: {
      const hash = oid === OID.sha256WithRsa ? 'sha256' : oid === OID.sha384WithRsa ? 'sha384' : 'sha512';
      name = `${hash}WithRSAEncryption`;
      absentOrNull(alg);
      verifier = { type: 'rsa-pkcs1', hash };
      break;
    }
    case OID.rsassaPss:
      name = 'RSASSA-PSS';
      verifier = parsePssParams(alg);
      break;
    default:
      if (oid === OID.sha1WithRsa) name = 'sha1WithRSAEncryption';
      else if (oid === OID.md5WithRsa) name = 'md5WithRSAEncryption';
      else if (oid === OID.ecdsaWithSha1) name = 'ecdsa-with-SHA1';
      // Parameters of unknown algorithms are skipped (any single element).
      if (!alg.done) alg.raw();
      alg.finish('AlgorithmIdentifier');
  }
  return { oid, name, verifier };
}

function bitLength(mag: Uint8Array): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]!));
}

function parseSpki(spki: Uint8Array): { alg: string; bits: number } {
  const r = new DerReader(spki).sequence(Tag.SEQUENCE, 'SubjectPublicKeyInfo');
  const a = r.sequence(Tag.SEQUENCE, 'AlgorithmIdentifier');
  const oid = a.oid();
  const key = r.bitString();
  r.finish('SubjectPublicKeyInfo');
  switch (oid) {
    case OID.ecPublicKey: {
      if (a.peekTag() !== Tag.OID) {
        // implicitCurve / specifiedCurve: forbidden by RFC 5480 §2.1.1.
        if (!a.done) a.raw();
        a.finish('ECParameters');
        return { alg: 'ec:explicit', bits: 0 };
      }
      const curve = a.oid();
      a.finish('ECParameters');
      if (key.unusedBits !== 0) throw malformed('EC public key with unused bits');
      if (curve === OID.prime256v1) return { alg: 'ec-p256', bits: 256 };
      if (curve === OID.secp384r1) return { alg: 'ec-p384', bits: 384 };
      if (curve === OID.secp521r1) return { alg: 'ec-p521', bits: 521 };
      return { alg: `ec:${curve}`, bits: 0 };
    }
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      if (oid === OID.rsaEncryption) absentOrNull(a);
      else if (!a.done) {
        a.raw();
        a.finish('RSASSA-PSS key parameters');
      }
      if (key.unusedBits !== 0) throw malformed('RSA public key with unused bits');
      const k = new DerReader(key.bytes).sequence(Tag.SEQUENCE, 'RSAPublicKey');
      const n = k.integerBytes();
      const e = k.integerBytes();
      k.finish('RSAPublicKey');
      if (n[0]! & 0x80 || e[0]! & 0x80) throw malformed('negative RSA modulus or exponent');
      return { alg: oid === OID.rsaEncryption ? 'rsa' : 'rsa-pss', bits: bitLength(n) };
    }
    case OID.ed25519:
      a.finish('Ed25519 AlgorithmIdentifier');
      if (key.bytes.length !== 32 || key.unusedBits !== 0) throw malformed('Ed25519 public key is not 32 bytes');
      return { alg: 'ed25519', bits: 255 };
    case OID.ed448:
      a.finish('Ed448 AlgorithmIdentifier');
      return { alg: 'ed448', bits: 448 };
    default:
      if (!a.done) a.raw();
      a.finish('AlgorithmIdentifier');
      return { alg: oid, bits: 0 };
  }
}

// --- extensions (RFC 5280 §4.2.1) ---------------------------------------------------------

function parseGeneralNames(r: DerReader, into: { dns: string[]; ip: Uint8Array[]; email: string[]; uri: string[]; other: number }): void {
  const seq = r.sequence(Tag.SEQUENCE, 'GeneralNames');
  if (seq.done) throw malformed('empty GeneralNames');
  while (!seq.done) {
    const tag = seq.next();
    const v = seq.buf.subarray(seq.valueStart, seq.valueEnd);
    switch (tag) {
      case 0x82:
        into.dns.push(decodeIa5(v));
        break;
      case 0x87:
        if (v.length !== 4 && v.length !== 16) throw malformed('iPAddress is not 4 or 16 bytes');
        into.ip.push(v);
        break;
      case 0x81:
        into.email.push(decodeIa5(v));
        break;
      case 0x86:
        into.uri.push(decodeIa5(v));
        break;
      case 0xa0: // otherName
      case 0xa3: // x400Address
      case 0xa4: // directoryName
      case 0xa5: // ediPartyName
      case 0x88: // registeredID
        into.other++;
        break;
      default:
        throw malformed(`unknown GeneralName tag 0x${tag.toString(16)}`);
    }
  }
}

function parseNameConstraints(v: Uint8Array): NameConstraints {
  const r = new DerReader(v).sequence(Tag.SEQUENCE, 'NameConstraints');
  const out = {
    permittedDns: [] as string[],
    excludedDns: [] as string[],
    permittedIp: [] as { addr: Uint8Array; mask: Uint8Array }[],
    excludedIp: [] as { addr: Uint8Array; mask: Uint8Array }[],
    hasUnsupportedForms: false,
  };
  for (const [n, dns, ip] of [
    [0, out.permittedDns, out.permittedIp],
    [1, out.excludedDns, out.excludedIp],
  ] as const) {
    const subtrees = r.optional(ctx(n, true));
    if (!subtrees) continue;
    if (subtrees.done) throw malformed('empty GeneralSubtrees');
    while (!subtrees.done) {
      const st = subtrees.sequence(Tag.SEQUENCE, 'GeneralSubtree');
      const tag = st.next();
      const base = st.buf.subarray(st.valueStart, st.valueEnd);
      // minimum MUST be 0 (absent) and maximum absent (RFC 5280 §4.2.1.10).
      if (!st.done) throw malformed('GeneralSubtree minimum/maximum present');
      if (tag === 0x82) dns.push(decodeIa5(base).toLowerCase());
      else if (tag === 0x87) {
        if (base.length !== 8 && base.length !== 32) throw malformed('iPAddress constraint is not 8 or 32 bytes');
        const half = base.length / 2;
        ip.push({ addr: base.subarray(0, half), mask: base.subarray(half) });
      } else if (tag === 0x81 || tag === 0x86 || tag === 0xa0 || tag === 0xa3 || tag === 0xa4 || tag === 0xa5 || tag === 0x88) {
        out.hasUnsupportedForms = true;
      } else {
        throw malformed(`unknown GeneralName tag 0x${tag.toString(16)} in NameConstraints`);
      }
    }
  }
  r.finish('NameConstraints');
  return out;
}

interface MutableExtensions {
  subjectAltNames: SubjectAltNames | undefined;
  basicConstraints: BasicConstraints | undefined;
  keyUsage: number | undefined;
  extKeyUsage: string[] | undefined;
  authorityKeyId: Uint8Array | undefined;
  subjectKeyId: Uint8Array | undefined;
  nameConstraints: NameConstraints | undefined;
  certificatePolicies: string[] | undefined;
  all: Extension[];
  unhandledCritical: string[];
}

/** Parse one known extension into `ext`; returns false if the OID is not one we process. */
function parseKnownExtension(oid: string, v: Uint8Array, ext: MutableExtensions): boolean {
  const r = new DerReader(v);
  switch (oid) {
    case OID.subjectAltName: {
      const san = { dns: [] as string[], ip: [] as Uint8Array[], email: [] as string[], uri: [] as string[], other: 0 };
      parseGeneralNames(r, san);
      ext.subjectAltNames = san;
      break;
    }
    case OID.basicConstraints: {
      const s = r.sequence(Tag.SEQUENCE, 'BasicConstraints');
      const ca = s.peekTag() === Tag.BOOLEAN ? s.boolean() : false;
      const pathLen = s.peekTag() === Tag.INTEGER ? s.smallUint() : undefined;
      s.finish('BasicConstraints');
      ext.basicConstraints = { ca, pathLen };
      break;
    }
    case OID.keyUsage: {
      const { bytes } = r.bitString();
      let mask = 0;
      for (let i = 0; i < bytes.length && i < 2; i++) {
        for (let b = 0; b < 8; b++) if (bytes[i]! & (0x80 >> b)) mask |= 1 << (i * 8 + b);
      }
      ext.keyUsage = mask;
      break;
    }
    case OID.extKeyUsage: {
      const s = r.sequence(Tag.SEQUENCE, 'ExtKeyUsageSyntax');
      if (s.done) throw malformed('empty ExtKeyUsageSyntax');
      const list: string[] = [];
      while (!s.done) list.push(s.oid());
      ext.extKeyUsage = list;
      break;
    }
    case OID.subjectKeyIdentifier:
      ext.subjectKeyId = r.octetString();
      break;
    case OID.authorityKeyIdentifier: {
      const s = r.sequence(Tag.SEQUENCE, 'AuthorityKeyIdentifier');
      const kid = s.peekTag() === 0x80 ? s.value(0x80) : undefined;
      if (s.peekTag() === 0xa1) s.raw(); // authorityCertIssuer
      if (s.peekTag() === 0x82) checkInteger(s.value(0x82)); // authorityCertSerialNumber
      s.finish('AuthorityKeyIdentifier');
      ext.authorityKeyId = kid;
      break;
    }
    case OID.nameConstraints:
      ext.nameConstraints = parseNameConstraints(v);
      // Only DNS and IP subtrees are enforced; other forms leave the extension unhandled.
      return !ext.nameConstraints.hasUnsupportedForms;
    case OID.certificatePolicies: {
      const s = r.sequence(Tag.SEQUENCE, 'certificatePolicies');
      if (s.done) throw malformed('empty certificatePolicies');
      const list: string[] = [];
      while (!s.done) {
        const pi = s.sequence(Tag.SEQUENCE, 'PolicyInformation');
        list.push(pi.oid());
        if (!pi.done) pi.sequence(Tag.SEQUENCE, 'policyQualifiers');
        pi.finish('PolicyInformation');
      }
      ext.certificatePolicies = list;
      break;
    }
    default:
      return false;
  }
  r.finish(`extension ${oid}`);
  return true;
}

function emptyExtensions(): MutableExtensions {
  return {
    subjectAltNames: undefined,
    basicConstraints: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    authorityKeyId: undefined,
    subjectKeyId: undefined,
    nameConstraints: undefined,
    certificatePolicies: undefined,
    all: [],
    unhandledCritical: [],
  };
}

function parseExtensions(r: DerReader): MutableExtensions {
  const ext = emptyExtensions();
  const seq = r.sequence(Tag.SEQUENCE, 'Extensions');
  if (seq.done) throw malformed('empty Extensions');
  const seen = new Set<string>();
  while (!seq.done) {
    const e = seq.sequence(Tag.SEQUENCE, 'Extension');
    const oid = e.oid();
    // DER forbids encoding the DEFAULT FALSE, but real CAs do it; accept both.
    const critical = e.peekTag() === Tag.BOOLEAN ? e.boolean() : false;
    const value = e.octetString();
    e.finish('Extension');
    if (seen.has(oid)) throw malformed(`duplicate extension ${oid} (RFC 5280 §4.2)`);
    seen.add(oid);
    const handled = parseKnownExtension(oid, value, ext);
    ext.all.push({ oid, critical, value, handled });
    if (critical && !handled) ext.unhandledCritical.push(oid);
  }
  return ext;
}

/** What a certificate without an extensions field (v1/v2) has: frozen, shared. */
const NO_EXTENSIONS: Extensions = (() => {
  const e = emptyExtensions();
  Object.freeze(e.all);
  Object.freeze(e.unhandledCritical);
  return Object.freeze(e);
})();

/**
 * Parse a DER X.509 certificate (RFC 5280 §4.1). Throws CertificateError (alert 42 bad_certificate)
 * on any malformation, including trailing data and a TBS signature algorithm that differs from the
 * outer one (§4.1.1.2). Unsupported algorithms parse (verification reports them).
 */
export function parseCertificate(der: Uint8Array): Certificate {
  if (!(der instanceof Uint8Array)) throw new TypeError('der: expected a Uint8Array');
  const buf = der.slice();
  const top = new DerReader(buf);
  const cert = top.sequence(Tag.SEQUENCE, 'Certificate');
  top.finish('Certificate');

  const tbs = cert.rawOf(Tag.SEQUENCE, 'TBSCertificate');
  const outerAlgStart = cert.pos;
  const signatureAlgorithm = parseSignatureAlgorithm(cert);
  const outerAlg = buf.subarray(outerAlgStart, cert.pos);
  const sig = cert.bitString();
  cert.finish('Certificate');
  if (sig.unusedBits !== 0) throw malformed('signature BIT STRING with unused bits');

  const t = new DerReader(tbs).sequence(Tag.SEQUENCE, 'TBSCertificate');
  let version = 1;
  const v = t.optional(ctx(0, true));
  if (v) {
    const n = v.smallUint();
    v.finish('version');
    if (n > 2) throw malformed(`unknown version ${n + 1}`);
    version = n + 1;
  }
  const serial = t.integerBytes();
  if (serial.length > 64) throw malformed('serialNumber longer than 64 bytes');
  const innerAlgStart = t.pos;
  t.rawOf(Tag.SEQUENCE, 'signature AlgorithmIdentifier');
  if (!equal(tbs.subarray(innerAlgStart, t.pos), outerAlg)) {
    throw malformed('TBSCertificate.signature differs from signatureAlgorithm (RFC 5280 §4.1.1.2)');
  }
  const issuerDer = t.rawOf(Tag.SEQUENCE, 'issuer Name');
  const issuer = parseName(new DerReader(issuerDer).sequence());
  const validity = t.sequence(Tag.SEQUENCE, 'Validity');
  const notBefore = validity.time();
  const notAfter = validity.time();
  validity.finish('Validity');
  const subjectDer = t.rawOf(Tag.SEQUENCE, 'subject Name');
  const subject = parseName(new DerReader(subjectDer).sequence());
  const spki = t.rawOf(Tag.SEQUENCE, 'SubjectPublicKeyInfo');
  const key = parseSpki(spki);
  for (const [n, what] of [
    [1, 'issuerUniqueID'],
    [2, 'subjectUniqueID'],
  ] as const) {
    if (t.peekTag() === ctx(n, false)) {
      if (version < 2) throw malformed(`${what} in a v1 certificate`);
      decodeBitString(t.value(ctx(n, false), what));
    }
  }
  let extensions: Extensions = NO_EXTENSIONS;
  const e = t.optional(ctx(3, true));
  if (e) {
    if (version !== 3) throw malformed('extensions in a certificate that is not v3');
    extensions = parseExtensions(e);
    e.finish('extensions');
  }
  t.finish('TBSCertificate');

  return {
    der: buf,
    tbs,
    version,
    serial,
    issuer,
    subject,
    issuerDer,
    subjectDer,
    notBefore,
    notAfter,
    spki,
    publicKeyAlgorithm: key.alg,
    publicKeyBits: key.bits,
    signatureAlgorithm,
    signature: sig.bytes,
    extensions,
    selfIssued: equal(issuerDer, subjectDer),
  };
}
