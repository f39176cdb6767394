// L2a: signature keys and operations for TLS 1.3 CertificateVerify (RFC 8446 §4.2.3, §4.4.3)
// and for X.509 certificate signatures (RFC 5280 §4.1.1.2, RFC 5758 §3.2, RFC 8410 §6,
// RFC 4055 §3 / RFC 8017 §8–9). The only place node:crypto's sign/verify/KeyObject serve
// certificates and CertificateVerify (DESIGN §4: node:crypto is 17–36× faster than pure JS).
//
// Two deliberately separate verification paths so the handshake cannot misuse PKCS#1 v1.5:
//   - `sign` / `verify` take a TLS SignatureScheme and refuse rsa_pkcs1_* (RFC 8446 §4.4.3:
//     "RSA signatures MUST use an RSASSA-PSS algorithm"), and bind ECDSA schemes to their curve.
//   - `signCertificate` / `verifyCertificateSignature` take an X.509 signature algorithm
//     descriptor (parsed from an AlgorithmIdentifier by src/pki/x509.ts) and do allow PKCS#1 v1.5.
import {
  KeyObject,
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';

/** TLS 1.3 SignatureScheme code points (RFC 8446 §4.2.3). */
export const SignatureScheme = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  ed25519: 0x0807,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
} as const;

export type SigningKeyKind = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa';

/** A private key usable for CertificateVerify and certificate signing. Only this module can make one. */
export interface SigningKey {
  readonly kind: SigningKeyKind;
  /** TLS 1.3 CertificateVerify schemes this key can produce, preferred first. */
  readonly schemes: readonly number[];
  /** The matching public key as SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7). */
  readonly spki: Uint8Array;
  /** RSA modulus size in bits (0 for EC and Ed25519 keys). */
  readonly bits: number;
}

/** Schemes a TLS 1.3 CertificateVerify may use (everything above except rsa_pkcs1_*). */
export const TLS13_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.ecdsa_secp521r1_sha512,
  SignatureScheme.ed25519,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
  SignatureScheme.rsa_pss_pss_sha256,
  SignatureScheme.rsa_pss_pss_sha384,
  SignatureScheme.rsa_pss_pss_sha512,
];

/** Smallest RSA modulus accepted for signing or verifying (CA/Browser Forum baseline). */
export const MIN_RSA_BITS = 2048;

type Hash = 'sha256' | 'sha384' | 'sha512';

const HASH_LEN: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

interface SchemeInfo {
  type: 'ecdsa' | 'ed25519' | 'rsa-pss-rsae' | 'rsa-pss-pss';
  hash: Hash | null;
  curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
}

// TLS 1.3 CertificateVerify schemes only; rsa_pkcs1_* is intentionally absent.
const TLS_SCHEMES = new Map<number, SchemeInfo>([
  [0x0403, { type: 'ecdsa', hash: 'sha256', curve: 'prime256v1' }],
  [0x0503, { type: 'ecdsa', hash: 'sha384', curve: 'secp384r1' }],
  [0x0603, { type: 'ecdsa', hash: 'sha512', curve: 'secp521r1' }],
  [0x0807, { type: 'ed25519', hash: null }],
  [0x0804, { type: 'rsa-pss-rsae', hash: 'sha256' }],
  [0x0805, { type: 'rsa-pss-rsae', hash: 'sha384' }],
  [0x0806, { type: 'rsa-pss-rsae', hash: 'sha512' }],
  [0x0809, { type: 'rsa-pss-pss', hash: 'sha256' }],
  [0x080a, { type: 'rsa-pss-pss', hash: 'sha384' }],
  [0x080b, { type: 'rsa-pss-pss', hash: 'sha512' }],
]);

/** True if `scheme` may appear in a TLS 1.3 CertificateVerify (RFC 8446 §4.4.3). */
export function isTls13SignatureScheme(scheme: number): boolean {
  return TLS_SCHEMES.has(scheme);
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// The KeyObject behind each SigningKey lives here, out of reach of callers.
const KEYS = new WeakMap<SigningKey, KeyObject>();

class NodeSigningKey implements SigningKey {
  readonly kind: SigningKeyKind;
  readonly schemes: readonly number[];
  readonly spki: Uint8Array;
  readonly bits: number;
  constructor(kind: SigningKeyKind, schemes: readonly number[], spki: Uint8Array, bits: number) {
    this.kind = kind;
    this.schemes = Object.freeze(schemes.slice());
    this.spki = spki;
    this.bits = bits;
  }
}

function keyObjectOf(key: SigningKey, arg = 'key'): KeyObject {
  const k = KEYS.get(key);
  if (!k) throw new TypeError(`${arg}: not a SigningKey from loadPrivateKey/generateSigningKey`);
  return k;
}

function pssFits(bits: number, hash: Hash): boolean {
  // RFC 8017 §9.1.1: emLen >= hLen + sLen + 2 with sLen = hLen.
  return Math.ceil((bits - 1) / 8) >= 2 * HASH_LEN[hash] + 2;
}

function wrapKeyObject(k: KeyObject): SigningKey {
  if (k.type !== 'private') throw new TypeError('key: not a private key');
  const t = k.asymmetricKeyType;
  const d = k.asymmetricKeyDetails ?? {};
  let kind: SigningKeyKind;
  let schemes: number[];
  let bits = 0;
  if (t === 'ec') {
    if (d.namedCurve === 'prime256v1') {
      kind = 'ec-p256';
      schemes = [SignatureScheme.ecdsa_secp256r1_sha256];
    } else if (d.namedCurve === 'secp384r1') {
      kind = 'ec-p384';
      schemes = [SignatureScheme.ecdsa_secp384r1_sha384];
    } else {
      throw new TypeError(`key: unsupported EC curve ${String(d.namedCurve)} (P-256 or P-384)`);
    }
  } else if (t === 'ed25519') {
    kind = 'ed25519';
    schemes = [SignatureScheme.ed25519];
  } else if (t === 'rsa' || t === 'rsa-pss') {
    kind = 'rsa';
    bits = d.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new TypeError(`key: RSA key of ${bits} bits is below the ${MIN_RSA_BITS}-bit minimum`);
    const all: [number, Hash][] =
      t === 'rsa'
        ? [
            [SignatureScheme.rsa_pss_rsae_sha256, 'sha256'],
            [SignatureScheme.rsa_pss_rsae_sha384, 'sha384'],
            [SignatureScheme.rsa_pss_rsae_sha512, 'sha512'],
          ]
        : [
            [SignatureScheme.rsa_pss_pss_sha256, 'sha256'],
            [SignatureScheme.rsa_pss_pss_sha384, 'sha384'],
            [SignatureScheme.rsa_pss_pss_sha512, 'sha512'],
          ];
    // An RSASSA-PSS key may be restricted to one hash (RFC 4055 §3.1): honour it.
    const only = t === 'rsa-pss' ? d.hashAlgorithm : undefined;
    schemes = all.filter(([, h]) => pssFits(bits, h) && (only === undefined || only === h)).map(([s]) => s);
    if (schemes.length === 0) throw new TypeError('key: RSA-PSS key parameters allow no TLS 1.3 scheme');
  } else {
    throw new TypeError(`key: unsupported key type ${String(t)}`);
  }
  const spki = u8(createPublicKey(k).export({ format: 'der', type: 'spki' }));
  const key = new NodeSigningKey(kind, schemes, spki, bits);
  KEYS.set(key, k);
  return key;
}

const PEM_KEY_RE = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----([\s\S]*?)-----END \1-----/;

function decodeBase64Strict(body: string): Buffer {
  const clean = body.replace(/[\t\n\r ]+/g, '');
  if (clean.length === 0 || clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(clean)) {
    throw new TypeError('key: malformed base64 in PEM private key');
  }
  return Buffer.from(clean, 'base64');
}

/**
 * Load a private key: PEM (PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY";
 * other PEM blocks such as certificates or EC PARAMETERS in the same text are skipped) or DER
 * (PKCS#8, then SEC1, then PKCS#1). Supported: EC P-256/P-384, Ed25519, RSA ≥ 2048 bits
 * (rsaEncryption or RSASSA-PSS). Throws TypeError on anything else.
 */
export function loadPrivateKey(pemOrDer: string | Uint8Array): SigningKey {
  let k: KeyObject | undefined;
  if (typeof pemOrDer === 'string') {
    const m = PEM_KEY_RE.exec(pemOrDer);
    if (!m) throw new TypeError('key: no PRIVATE KEY / EC PRIVATE KEY / RSA PRIVATE KEY PEM block found');
    const label = m[1]!;
    if (label === 'ENCRYPTED PRIVATE KEY') throw new TypeError('key: encrypted private keys are not supported');
    if (/^[A-Za-z-]+:/m.test(m[2]!)) throw new TypeError('key: PEM headers (legacy encryption) are not supported');
    const der = decodeBase64Strict(m[2]!);
    const type = label === 'PRIVATE KEY' ? 'pkcs8' : label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs1';
    try {
      k = createPrivateKey({ key: der, format: 'der', type });
    } catch (e) {
      throw new TypeError(`key: cannot parse ${label}: ${(e as Error).message}`);
    }
  } else if (pemOrDer instanceof Uint8Array) {
    const der = Buffer.from(pemOrDer.buffer, pemOrDer.byteOffset, pemOrDer.byteLength);
    for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
      try {
        k = createPrivateKey({ key: der, format: 'der', type });
        break;
      } catch {
        // try the next encoding
      }
    }
    if (!k) throw new TypeError('key: DER is not a PKCS#8, SEC1 or PKCS#1 private key');
  } else {
    throw new TypeError('pemOrDer: expected a string or Uint8Array');
  }
  return wrapKeyObject(k);
}

/** Generate a fresh key (cold path: certificate generation, tests). RSA keys are 2048-bit by default. */
export function generateSigningKey(kind: SigningKeyKind, opts: { rsaBits?: number } = {}): SigningKey {
  switch (kind) {
    case 'ec-p256':
      return wrapKeyObject(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    case 'ec-p384':
      return wrapKeyObject(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey);
    case 'ed25519':
      return wrapKeyObject(generateKeyPairSync('ed25519').privateKey);
    case 'rsa': {
      const bits = opts.rsaBits ?? 2048;
      if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > 8192) {
        throw new RangeError(`opts.rsaBits: expected an integer in [${MIN_RSA_BITS}, 8192], got ${bits}`);
      }
      return wrapKeyObject(generateKeyPairSync('rsa', { modulusLength: bits }).privateKey);
    }
    default:
      throw new TypeError(`kind: unsupported key kind ${String(kind)}`);
  }
}

/** The key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). */
export function exportPrivateKeyPem(key: SigningKey): string {
  return keyObjectOf(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The key as PKCS#8 DER. */
export function exportPrivateKeyDer(key: SigningKey): Uint8Array {
  return u8(keyObjectOf(key).export({ format: 'der', type: 'pkcs8' }));
}

/** Cryptographically secure random bytes for cold-path generation (certificate serials). */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError(`n: expected 0..65536, got ${n}`);
  return u8(nodeRandomBytes(n));
}

/**
 * Sign `data` for a TLS 1.3 CertificateVerify (RFC 8446 §4.4.3): ECDSA signatures are DER
 * (ECDSA-Sig-Value), RSA uses RSASSA-PSS with salt length = hash length.
 * RangeError if `scheme` is not one of `key.schemes` (this includes every rsa_pkcs1_* scheme).
 */
export function sign(key: SigningKey, scheme: number, data: Uint8Array): Uint8Array {
  const k = keyObjectOf(key);
  if (!key.schemes.includes(scheme)) {
    const name = typeof scheme === 'number' ? `0x${scheme.toString(16).padStart(4, '0')}` : String(scheme);
    throw new RangeError(`scheme: ${name} cannot be used with a ${key.kind} key in TLS 1.3`);
  }
  const info = TLS_SCHEMES.get(scheme)!;
  switch (info.type) {
    case 'ecdsa':
      return u8(nodeSign(info.hash!, data, { key: k, dsaEncoding: 'der' }));
    case 'ed25519':
      return u8(nodeSign(null, data, k));
    default:
      return u8(
        nodeSign(info.hash!, data, {
          key: k,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: HASH_LEN[info.hash!],
        }),
      );
  }
}

/** A parsed public key, reusable across verifications (createPublicKey costs ~10 µs). */
export interface PublicKey {
  readonly type: 'ec' | 'ed25519' | 'ed448' | 'rsa' | 'rsa-pss' | 'other';
  /** 'prime256v1' | 'secp384r1' | 'secp521r1' for EC keys. */
  readonly curve: string | undefined;
  /** RSA modulus size in bits, 0 otherwise. */
  readonly bits: number;
}

const PUBLIC_KEYS = new WeakMap<PublicKey, KeyObject>();

// createPublicKey on SPKI DER goes through OpenSSL 3's generic decoder chain and costs 150–330 µs
// here; the same keys as JWK (Ed25519, P-256) or PKCS#1 DER (RSA) import in 2–80 µs. Known SPKI
// shapes take those routes; everything else falls back to SPKI DER. Parsed keys are also cached,
// since the same intermediates, roots and server keys recur across handshakes.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const SPKI_P256 = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const RSA_ALG_ID = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const CACHE_MAX = 128;
const spkiCache = new Map<string, PublicKey | null>();

function startsWith(b: Buffer, prefix: Buffer): boolean {
  return b.length >= prefix.length && b.subarray(0, prefix.length).equals(prefix);
}

/** Header of one DER element at `at` (definite, minimal length); null if malformed. */
function tlv(b: Buffer, at: number, end: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > end) return null;
  const tag = b[at]!;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || p + n > end || b[p] === 0) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
    if (len < 0x80) return null;
  }
  return p + len <= end ? { tag, start: p, end: p + len } : null;
}

/**
 * Strict shape of SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): SEQUENCE { AlgorithmIdentifier,
 * BIT STRING with zero unused bits }, nothing trailing. OpenSSL's decoders accept trailing bytes and
 * non-zero unused-bit counts; we check first. Returns the AlgorithmIdentifier and key bytes.
 */
function spkiParts(b: Buffer): { alg: Buffer; key: Buffer } {
  const outer = tlv(b, 0, b.length);
  if (!outer || outer.tag !== 0x30 || outer.end !== b.length) throw new TypeError('spki: not exactly one DER SEQUENCE');
  const alg = tlv(b, outer.start, outer.end);
  if (!alg || alg.tag !== 0x30) throw new TypeError('spki: bad AlgorithmIdentifier');
  const bits = tlv(b, alg.end, outer.end);
  if (!bits || bits.tag !== 0x03 || bits.end !== outer.end || bits.end - bits.start < 2 || b[bits.start] !== 0) {
    throw new TypeError('spki: bad subjectPublicKey BIT STRING');
  }
  return { alg: b.subarray(outer.start, alg.end), key: b.subarray(bits.start + 1, bits.end) };
}

function importSpki(b: Buffer): KeyObject {
  const { alg, key } = spkiParts(b);
  if (alg.equals(RSA_ALG_ID)) return createPublicKey({ key, format: 'der', type: 'pkcs1' });
  if (b.length === 44 && startsWith(b, SPKI_ED25519)) {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' });
  }
  if (b.length === 91 && startsWith(b, SPKI_P256)) {
    const x = b.subarray(27, 59).toString('base64url');
    const y = b.subarray(59, 91).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
  }
  return createPublicKey({ key: b, format: 'der', type: 'spki' });
}

/** Parse SubjectPublicKeyInfo DER; null when malformed or of an unknown type (never throws). Cached. */
export function publicKeyFromSpki(spkiDer: Uint8Array): PublicKey | null {
  if (!(spkiDer instanceof Uint8Array)) return null;
  const b = Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength);
  const id = b.toString('latin1');
  if (spkiCache.has(id)) {
    const hit = spkiCache.get(id)!;
    spkiCache.delete(id); // LRU: move to the back
    spkiCache.set(id, hit);
    return hit;
  }
  let pk: PublicKey | null = null;
  try {
    const k = importSpki(b);
    const t = k.asymmetricKeyType;
    const d = k.asymmetricKeyDetails ?? {};
    const type: PublicKey['type'] =
      t === 'ec' || t === 'ed25519' || t === 'ed448' || t === 'rsa' || t === 'rsa-pss' ? t : 'other';
    pk = Object.freeze({ type, curve: t === 'ec' ? d.namedCurve : undefined, bits: d.modulusLength ?? 0 });
    PUBLIC_KEYS.set(pk, k);
  } catch {
    pk = null;
  }
  spkiCache.set(id, pk);
  if (spkiCache.size > CACHE_MAX) spkiCache.delete(spkiCache.keys().next().value!);
  return pk;
}

function asPublicKey(spki: Uint8Array | PublicKey): { pk: PublicKey; k: KeyObject } | null {
  if (spki instanceof Uint8Array) {
    const pk = publicKeyFromSpki(spki);
    return pk ? { pk, k: PUBLIC_KEYS.get(pk)! } : null;
  }
  const k = spki ? PUBLIC_KEYS.get(spki) : undefined;
  return k ? { pk: spki, k } : null;
}

/**
 * Verify a TLS 1.3 CertificateVerify signature (RFC 8446 §4.4.3) made with `scheme` by the key in
 * `spkiDer` (the leaf's SubjectPublicKeyInfo, or a PublicKey from publicKeyFromSpki).
 * Returns false on any mismatch: unknown or non-TLS-1.3 scheme (every rsa_pkcs1_*), scheme not
 * matching the key type or curve, RSA below MIN_RSA_BITS, malformed key or signature. Never throws
 * for peer data.
 */
export function verify(spkiDer: Uint8Array | PublicKey, scheme: number, data: Uint8Array, signature: Uint8Array): boolean {
  const info = TLS_SCHEMES.get(scheme);
  if (!info || !(data instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
  const key = asPublicKey(spkiDer);
  if (!key) return false;
  const { pk, k } = key;
  try {
    switch (info.type) {
      case 'ecdsa':
        if (pk.type !== 'ec' || pk.curve !== info.curve) return false;
        return nodeVerify(info.hash!, data, { key: k, dsaEncoding: 'der' }, signature);
      case 'ed25519':
        if (pk.type !== 'ed25519') return false;
        return nodeVerify(null, data, k, signature);
      case 'rsa-pss-rsae':
      case 'rsa-pss-pss':
        if (pk.type !== (info.type === 'rsa-pss-rsae' ? 'rsa' : 'rsa-pss') || pk.bits < MIN_RSA_BITS) return false;
        return nodeVerify(
          info.hash!,
          data,
          { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[info.hash!] },
          signature,
        );
    }
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// X.509 certificate signatures (allow RSA PKCS#1 v1.5; never reachable from the TLS scheme path).

/**
 * A certificate signature algorithm, as decoded from an AlgorithmIdentifier by src/pki/x509.ts:
 * ecdsa-with-SHA256/384/512 (RFC 5758 §3.2), Ed25519 (RFC 8410 §3), sha*WithRSAEncryption
 * (RFC 4055 §5), RSASSA-PSS with explicit parameters (RFC 4055 §3.1; MGF1 with the same hash).
 */
export type CertSignatureAlgorithm =
  | { readonly type: 'ecdsa'; readonly hash: Hash }
  | { readonly type: 'ed25519' }
  | { readonly type: 'rsa-pkcs1'; readonly hash: Hash }
  | { readonly type: 'rsa-pss'; readonly hash: Hash; readonly saltLength: number };

function checkCertAlg(alg: CertSignatureAlgorithm): void {
  if (!alg || typeof alg !== 'object') throw new TypeError('alg: expected a CertSignatureAlgorithm');
  if (alg.type !== 'ed25519' && !(alg.hash in HASH_LEN)) throw new TypeError(`alg.hash: unsupported ${String(alg.hash)}`);
}

/**
 * Verify a certificate's (or CRL's) signature over its TBS bytes with the issuer's key.
 * ECDSA signatures are DER ECDSA-Sig-Value (RFC 5480 / RFC 5758 §3.2). ECDSA accepts P-256, P-384
 * and P-521 issuer keys with any of SHA-256/384/512. Returns false on any mismatch, never throws for
 * peer data.
 */
export function verifyCertificateSignature(
  issuerSpki: Uint8Array | PublicKey,
  alg: CertSignatureAlgorithm,
  tbs: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!alg || typeof alg !== 'object' || !(tbs instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
  const key = asPublicKey(issuerSpki);
  if (!key) return false;
  const { pk, k } = key;
  try {
    switch (alg.type) {
      case 'ecdsa':
        if (pk.type !== 'ec' || !(alg.hash in HASH_LEN)) return false;
        if (pk.curve !== 'prime256v1' && pk.curve !== 'secp384r1' && pk.curve !== 'secp521r1') return false;
        return nodeVerify(alg.hash, tbs, { key: k, dsaEncoding: 'der' }, signature);
      case 'ed25519':
        if (pk.type !== 'ed25519') return false;
        return nodeVerify(null, tbs, k, signature);
      case 'rsa-pkcs1':
        if (pk.type !== 'rsa' || pk.bits < MIN_RSA_BITS || !(alg.hash in HASH_LEN)) return false;
        return nodeVerify(alg.hash, tbs, { key: k, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'rsa-pss':
        if ((pk.type !== 'rsa' && pk.type !== 'rsa-pss') || pk.bits < MIN_RSA_BITS || !(alg.hash in HASH_LEN)) return false;
        if (!Number.isInteger(alg.saltLength) || alg.saltLength < 0) return false;
        return nodeVerify(
          alg.hash,
          tbs,
          { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength },
          signature,
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** The certificate signature algorithm a key signs with by default (cert generation). */
export function defaultCertSignatureAlgorithm(key: SigningKey): CertSignatureAlgorithm {
  switch (key.kind) {
    case 'ec-p256':
      return { type: 'ecdsa', hash: 'sha256' };
    case 'ec-p384':
      return { type: 'ecdsa', hash: 'sha384' };
    case 'ed25519':
      return { type: 'ed25519' };
    case 'rsa':
      return keyObjectOf(key).asymmetricKeyType === 'rsa-pss'
        ? { type: 'rsa-pss', hash: 'sha256', saltLength: 32 }
        : { type: 'rsa-pkcs1', hash: 'sha256' };
  }
}

/** Sign TBS bytes of a certificate being generated (RFC 5280 §4.1.1.3). RangeError on a key/alg mismatch. */
export function signCertificate(key: SigningKey, alg: CertSignatureAlgorithm, tbs: Uint8Array): Uint8Array {
  const k = keyObjectOf(key);
  checkCertAlg(alg);
  const t = k.asymmetricKeyType;
  switch (alg.type) {
    case 'ecdsa':
      if (t !== 'ec') throw new RangeError(`alg: ecdsa needs an EC key, got ${key.kind}`);
      return u8(nodeSign(alg.hash, tbs, { key: k, dsaEncoding: 'der' }));
    case 'ed25519':
      if (t !== 'ed25519') throw new RangeError(`alg: ed25519 needs an Ed25519 key, got ${key.kind}`);
      return u8(nodeSign(null, tbs, k));
    case 'rsa-pkcs1':
      if (t !== 'rsa') throw new RangeError(`alg: rsa-pkcs1 needs an rsaEncryption key, got ${key.kind}`);
      return u8(nodeSign(alg.hash, tbs, { key: k, padding: constants.RSA_PKCS1_PADDING }));
    case 'rsa-pss':
      if (t !== 'rsa' && t !== 'rsa-pss') throw new RangeError(`alg: rsa-pss needs an RSA key, got ${key.kind}`);
      return u8(nodeSign(alg.hash, tbs, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength }));
    default:
      throw new TypeError(`alg.type: unsupported ${String((alg as { type: unknown }).type)}`);
  }
}
