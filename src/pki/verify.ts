// L3: certificate path building and validation for TLS peers — RFC 5280 §6.1 (basic path
// validation: signatures, validity, basicConstraints/pathLen §4.2.1.9, keyUsage §4.2.1.3, name
// constraints §4.2.1.10 for DNS/IP, unknown critical extensions §4.2), RFC 5280 §4.2.1.12 (EKU by
// purpose), RFC 6125 §6.4 / RFC 5280 §4.2.1.6 (server identity via SAN, see hostname.ts), with the
// TLS alert of RFC 8446 §6.2 on every failure.
//
// Alert choices (RFC 8446 leaves room; we follow OpenSSL's ssl_x509err2alert where the brief does
// not decide): malformed / bad certificate signature / name-constraint violation → bad_certificate
// (42); unsupported signature or key algorithm, unknown critical extension, EKU or keyUsage not
// allowing the purpose → unsupported_certificate (43); expired or not yet valid →
// certificate_expired (45); host name mismatch → certificate_unknown (46) (BoringSSL/OpenSSL send
// handshake_failure, many stacks bad_certificate; 46 says "this certificate is not acceptable for
// you" without claiming it is malformed); no path to a trust anchor, an issuer that is not a CA
// (CA:FALSE, keyUsage without keyCertSign) or pathLen exceeded → unknown_ca (48).
// CertificateVerify failures (decrypt_error, 51) are the handshake's to report.
// Trust anchors (RFC 5280 §6.1.1 d) are not checked for unknown critical extensions; their
// validity, basicConstraints (when present), pathLen, keyUsage and EKU are enforced like Go does.
// Every certificate the peer sends must parse, even unused extras (as Go's crypto/tls).
import { verifyCertificateSignature, publicKeyFromSpki, MIN_RSA_BITS, type PublicKey } from '../crypto/sign.js';
import { equal } from '../util/bytes.js';
import { CertAlert, CertificateError } from './errors.js';
import { parseCertificate, KeyUsage, OID, nameToString, type Certificate } from './x509.js';
import { parsedDefaultTrustAnchors } from './roots.js';
import {
  matchDnsName,
  matchIp,
  normalizeDnsName,
  parseIpLiteral,
  dnsWithinSubtree,
  dnsMayIntersectSubtree,
  ipWithinSubtree,
} from './hostname.js';

export { CertificateError, CertAlert } from './errors.js';

/** A parsed, indexed set of trust anchors (make once with createTrustStore and reuse). */
export interface TrustStore {
  readonly certs: readonly Certificate[];
  /** Anchors whose subject DN bytes equal `nameDer`. */
  bySubject(nameDer: Uint8Array): readonly Certificate[];
  /** True if a certificate with exactly these DER bytes is an anchor. */
  contains(der: Uint8Array): boolean;
}

export interface VerifyOptions {
  /** DER trust anchors (or a TrustStore); default: Node's bundled roots. */
  ca?: Uint8Array[] | readonly Uint8Array[] | TrustStore;
  /** DNS name or IP literal (v4, v6, v6 in brackets) to match against SAN; omitted = no name check. */
  hostname?: string;
  /** ms since the epoch (sans-IO: passed in). */
  now: number;
  /** Which extKeyUsage the leaf must allow: serverAuth or clientAuth (RFC 5280 §4.2.1.12). */
  purpose: 'server' | 'client';
}

/** Most intermediates a path may hold (leaf and anchor not counted). */
export const MAX_INTERMEDIATES = 8;
/** Most certificates accepted in a peer's chain. */
export const MAX_CHAIN_LENGTH = 16;
/** Most signature checks one verification may spend (bounds path building on hostile input). */
const SIGNATURE_BUDGET = 64;

function keyOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 4096)));
  return s;
}

class IndexedTrustStore implements TrustStore {
  readonly certs: readonly Certificate[];
  private readonly subjects = new Map<string, Certificate[]>();
  private readonly ders = new Set<string>();
  constructor(certs: readonly Certificate[]) {
    this.certs = certs;
    for (const c of certs) {
      const k = keyOf(c.subjectDer);
      const list = this.subjects.get(k);
      if (list) list.push(c);
      else this.subjects.set(k, [c]);
      this.ders.add(keyOf(c.der));
    }
  }
  bySubject(nameDer: Uint8Array): readonly Certificate[] {
    return this.subjects.get(keyOf(nameDer)) ?? [];
  }
  contains(der: Uint8Array): boolean {
    return this.ders.has(keyOf(der));
  }
}

/** Parse and index trust anchors. TypeError (naming the index) if one does not parse. */
export function createTrustStore(anchors: readonly Uint8Array[]): TrustStore {
  if (!Array.isArray(anchors)) throw new TypeError('anchors: expected an array of DER certificates');
  const certs = anchors.map((der, i) => {
    if (!(der instanceof Uint8Array)) throw new TypeError(`ca[${i}]: expected a Uint8Array (DER)`);
    try {
      return parseCertificate(der);
    } catch (e) {
      throw new TypeError(`ca[${i}]: not a parsable certificate: ${(e as Error).message}`);
    }
  });
  return new IndexedTrustStore(certs);
}

let defaultStore: TrustStore | undefined;

/** Node's bundled roots as a TrustStore (parsed once). */
export function defaultTrustStore(): TrustStore {
  defaultStore ??= new IndexedTrustStore(parsedDefaultTrustAnchors().certs);
  return defaultStore;
}

// The same `ca` array passed again (the usual case: one options object per endpoint) reuses its store.
const storeCache = new WeakMap<object, { items: Uint8Array[]; store: TrustStore }>();

function storeFor(ca: VerifyOptions['ca']): TrustStore {
  if (ca === undefined) return defaultTrustStore();
  if (ca instanceof IndexedTrustStore) return ca;
  if (!Array.isArray(ca)) throw new TypeError('opts.ca: expected an array of DER certificates or a TrustStore');
  const hit = storeCache.get(ca);
  if (hit && hit.items.length === ca.length && hit.items.every((x, i) => x === ca[i])) return hit.store;
  const store = createTrustStore(ca);
  storeCache.set(ca, { items: ca.slice(), store });
  return store;
}

function fail(alert: number, message: string): never {
  throw new CertificateError(alert, message);
}

function describe(c: Certificate): string {
  return nameToString(c.subject) || '(empty subject)';
}

function checkValidity(c: Certificate, now: number, role: string): void {
  if (now < c.notBefore) {
    fail(CertAlert.certificate_expired, `${role} certificate ${describe(c)} is not yet valid (notBefore ${new Date(c.notBefore).toISOString()})`);
  }
  if (now > c.notAfter) {
    fail(CertAlert.certificate_expired, `${role} certificate ${describe(c)} has expired (notAfter ${new Date(c.notAfter).toISOString()})`);
  }
}

function checkCriticalExtensions(c: Certificate, role: string): void {
  if (c.extensions.unhandledCritical.length > 0) {
    fail(CertAlert.unsupported_certificate, `${role} certificate ${describe(c)} has unsupported critical extension(s) ${c.extensions.unhandledCritical.join(', ')}`);
  }
}

function checkEku(c: Certificate, purpose: 'server' | 'client', role: string): void {
  const eku = c.extensions.extKeyUsage;
  if (!eku) return;
  const want = purpose === 'server' ? OID.serverAuth : OID.clientAuth;
  if (!eku.includes(want) && !eku.includes(OID.anyExtendedKeyUsage)) {
    fail(CertAlert.unsupported_certificate, `${role} certificate ${describe(c)}: extKeyUsage does not allow ${purpose === 'server' ? 'serverAuth' : 'clientAuth'}`);
  }
}

const TLS_LEAF_KEYS = new Set(['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'rsa', 'rsa-pss']);
const ISSUER_KEYS = TLS_LEAF_KEYS;

interface BuildState {
  leaf: Certificate;
  intermediates: Certificate[];
  store: TrustStore;
  now: number;
  purpose: 'server' | 'client';
  budget: number;
  best: CertificateError | undefined;
  weak: CertificateError | undefined;
  keys: Map<Certificate, PublicKey | null>;
}

/** Remember a failed branch. The first specific failure wins over "no issuer found" (weak). */
function record(st: BuildState, e: unknown, weak = false): void {
  if (!(e instanceof CertificateError)) throw e;
  if (weak) st.weak ??= e;
  else st.best ??= e;
}

/** May `issuer` have signed `child`? Throws the reason if not. `below` = non-self-issued intermediates under `issuer`. */
function checkIssuer(st: BuildState, issuer: Certificate, child: Certificate, isAnchor: boolean, below: number): void {
  const role = isAnchor ? 'trust anchor' : 'intermediate';
  if (!ISSUER_KEYS.has(issuer.publicKeyAlgorithm) || ((issuer.publicKeyAlgorithm === 'rsa' || issuer.publicKeyAlgorithm === 'rsa-pss') && issuer.publicKeyBits < MIN_RSA_BITS)) {
    fail(CertAlert.unsupported_certificate, `${role} ${describe(issuer)} has an unsupported public key (${issuer.publicKeyAlgorithm}, ${issuer.publicKeyBits} bits)`);
  }
  const verifier = child.signatureAlgorithm.verifier;
  if (!verifier) fail(CertAlert.unsupported_certificate, `certificate ${describe(child)} uses unsupported signature algorithm ${child.signatureAlgorithm.name}`);
  if (st.budget-- <= 0) fail(CertAlert.unknown_ca, 'no path to a trust anchor within the path-building budget');
  let pk = st.keys.get(issuer);
  if (pk === undefined) {
    pk = publicKeyFromSpki(issuer.spki);
    st.keys.set(issuer, pk);
  }
  if (!pk || !verifyCertificateSignature(pk, verifier, child.tbs, child.signature)) {
    fail(CertAlert.bad_certificate, `bad signature on ${describe(child)} by ${describe(issuer)}`);
  }
  checkValidity(issuer, st.now, role);
  const bc = issuer.extensions.basicConstraints;
  if (isAnchor ? bc !== undefined && !bc.ca : !bc || !bc.ca) {
    fail(CertAlert.unknown_ca, `${role} ${describe(issuer)} is not a CA (basicConstraints CA:TRUE missing)`);
  }
  if (bc && bc.pathLen !== undefined && below > bc.pathLen) {
    fail(CertAlert.unknown_ca, `${role} ${describe(issuer)} pathLenConstraint ${bc.pathLen} exceeded (${below} intermediate(s) below)`);
  }
  const ku = issuer.extensions.keyUsage;
  if (ku !== undefined && !(ku & (1 << KeyUsage.keyCertSign))) {
    fail(CertAlert.unknown_ca, `${role} ${describe(issuer)} keyUsage lacks keyCertSign (not a CA)`);
  }
  if (!isAnchor) checkCriticalExtensions(issuer, role);
  checkEku(issuer, st.purpose, role);
}

function orderCandidates(child: Certificate, list: readonly Certificate[]): Certificate[] {
  const aki = child.extensions.authorityKeyId;
  if (!aki || list.length < 2) return list.slice();
  const score = (c: Certificate): number => {
    const ski = c.extensions.subjectKeyId;
    if (!ski) return 1;
    return equal(ski, aki) ? 0 : 2;
  };
  return list.slice().sort((a, b) => score(a) - score(b));
}

function extend(st: BuildState, path: Certificate[], below: number): Certificate[] | null {
  const cert = path[path.length - 1]!;
  for (const anchor of orderCandidates(cert, st.store.bySubject(cert.issuerDer))) {
    try {
      checkIssuer(st, anchor, cert, true, below);
      return [...path, anchor];
    } catch (e) {
      record(st, e);
    }
  }
  if (path.length - 1 >= MAX_INTERMEDIATES) {
    record(st, new CertificateError(CertAlert.unknown_ca, `no trust anchor within ${MAX_INTERMEDIATES} intermediates`), true);
    return null;
  }
  let found = false;
  for (const cand of orderCandidates(cert, st.intermediates)) {
    if (path.includes(cand)) continue;
    if (!equal(cand.subjectDer, cert.issuerDer)) continue;
    found = true;
    try {
      checkIssuer(st, cand, cert, false, below);
    } catch (e) {
      record(st, e);
      continue;
    }
    path.push(cand);
    const r = extend(st, path, below + (cand.selfIssued ? 0 : 1));
    if (r) return r;
    path.pop();
  }
  if (!found && st.store.bySubject(cert.issuerDer).length === 0) {
    record(st, new CertificateError(CertAlert.unknown_ca, `no issuer found for ${describe(cert)} (issuer ${nameToString(cert.issuer)})`), true);
  }
  return null;
}

/** RFC 5280 §4.2.1.10 for the leaf's SAN dNSName/iPAddress entries against each CA's constraints. */
function checkNameConstraints(path: readonly Certificate[]): void {
  const leaf = path[0]!;
  const san = leaf.extensions.subjectAltNames;
  const dns = san ? san.dns : [];
  const ips = san ? san.ip : [];
  for (let i = 1; i < path.length; i++) {
    const nc = path[i]!.extensions.nameConstraints;
    if (!nc) continue;
    const who = describe(path[i]!);
    for (const name of dns) {
      if (nc.permittedDns.length > 0 && !nc.permittedDns.some((p) => dnsWithinSubtree(name, p))) {
        fail(CertAlert.bad_certificate, `SAN DNS name ${name} is outside the subtrees permitted by ${who}`);
      }
      if (nc.excludedDns.some((x) => dnsMayIntersectSubtree(name, x))) {
        fail(CertAlert.bad_certificate, `SAN DNS name ${name} is in a subtree excluded by ${who}`);
      }
    }
    for (const ip of ips) {
      if (nc.permittedIp.length > 0 && !nc.permittedIp.some((p) => ipWithinSubtree(ip, p.addr, p.mask))) {
        fail(CertAlert.bad_certificate, `SAN IP address is outside the subtrees permitted by ${who}`);
      }
      if (nc.excludedIp.some((x) => ipWithinSubtree(ip, x.addr, x.mask))) {
        fail(CertAlert.bad_certificate, `SAN IP address is in a subtree excluded by ${who}`);
      }
    }
  }
}

/**
 * Does the certificate's SAN cover `hostname`? IP literals match iPAddress entries exactly; DNS
 * names match dNSName entries (RFC 6125 §6.4, left-most whole-label wildcard). The CN is ignored.
 */
export function checkHostname(cert: Certificate, hostname: string): boolean {
  const san = cert.extensions.subjectAltNames;
  if (!san) return false;
  const ip = parseIpLiteral(hostname);
  if (ip) return matchIp(san.ip, ip);
  const host = normalizeDnsName(hostname);
  for (const p of san.dns) if (matchDnsName(p, host)) return true;
  return false;
}

function checkOptions(chainDer: readonly Uint8Array[], opts: VerifyOptions): void {
  if (!Array.isArray(chainDer)) throw new TypeError('chainDer: expected an array of DER certificates');
  if (!opts || typeof opts !== 'object') throw new TypeError('opts: expected VerifyOptions');
  if (typeof opts.now !== 'number' || !Number.isFinite(opts.now)) throw new TypeError('opts.now: expected ms since the epoch');
  if (opts.purpose !== 'server' && opts.purpose !== 'client') throw new TypeError("opts.purpose: expected 'server' or 'client'");
  if (opts.hostname !== undefined && (typeof opts.hostname !== 'string' || opts.hostname === '' || opts.hostname === '.')) {
    throw new TypeError('opts.hostname: expected a non-empty DNS name or IP literal');
  }
}

/**
 * Validate a peer's chain (leaf first; intermediates in any order, extras ignored) and return the
 * whole path leaf → … → trust anchor. Throws CertificateError with the TLS alert (see the header).
 */
export function verifyPath(chainDer: readonly Uint8Array[], opts: VerifyOptions): Certificate[] {
  checkOptions(chainDer, opts);
  if (chainDer.length === 0) fail(CertAlert.bad_certificate, 'empty certificate chain');
  if (chainDer.length > MAX_CHAIN_LENGTH) fail(CertAlert.bad_certificate, `certificate chain longer than ${MAX_CHAIN_LENGTH}`);
  const certs: Certificate[] = [];
  for (let i = 0; i < chainDer.length; i++) {
    const der = chainDer[i];
    if (!(der instanceof Uint8Array)) throw new TypeError(`chainDer[${i}]: expected a Uint8Array`);
    certs.push(parseCertificate(der));
  }
  const store = storeFor(opts.ca);
  const leaf = certs[0]!;
  const now = opts.now;

  checkCriticalExtensions(leaf, 'leaf');
  if (!TLS_LEAF_KEYS.has(leaf.publicKeyAlgorithm) || ((leaf.publicKeyAlgorithm === 'rsa' || leaf.publicKeyAlgorithm === 'rsa-pss') && leaf.publicKeyBits < MIN_RSA_BITS)) {
    fail(CertAlert.unsupported_certificate, `leaf public key ${leaf.publicKeyAlgorithm} (${leaf.publicKeyBits} bits) is not usable with TLS 1.3`);
  }
  checkValidity(leaf, now, 'leaf');

  let path: Certificate[];
  if (store.contains(leaf.der)) {
    // The leaf itself is trusted (e.g. a pinned self-signed certificate): no path to build.
    path = [leaf];
  } else {
    const seen = new Set<string>([keyOf(leaf.der)]);
    const intermediates: Certificate[] = [];
    for (const c of certs.slice(1)) {
      const k = keyOf(c.der);
      if (!seen.has(k)) intermediates.push(c);
      seen.add(k);
    }
    const st: BuildState = { leaf, intermediates, store, now, purpose: opts.purpose, budget: SIGNATURE_BUDGET, best: undefined, weak: undefined, keys: new Map() };
    const found = extend(st, [leaf], 0);
    if (!found) {
      throw st.best ?? st.weak ?? new CertificateError(CertAlert.unknown_ca, `no path from ${describe(leaf)} to a trust anchor`);
    }
    path = found;
  }

  checkNameConstraints(path);
  checkEku(leaf, opts.purpose, 'leaf');
  const ku = leaf.extensions.keyUsage;
  if (ku !== undefined && !(ku & (1 << KeyUsage.digitalSignature))) {
    fail(CertAlert.unsupported_certificate, `leaf certificate ${describe(leaf)}: keyUsage lacks digitalSignature (needed for TLS 1.3 CertificateVerify)`);
  }
  if (opts.hostname !== undefined) {
    if (!leaf.extensions.subjectAltNames) {
      fail(CertAlert.certificate_unknown, `leaf certificate ${describe(leaf)} has no subjectAltName; the CN is not used for ${opts.hostname}`);
    }
    if (!checkHostname(leaf, opts.hostname)) {
      fail(CertAlert.certificate_unknown, `leaf certificate ${describe(leaf)} is not valid for ${opts.hostname}`);
    }
  }
  return path;
}

/** Validate a peer's chain (leaf first) and return the parsed leaf. See verifyPath. */
export function verifyChain(chainDer: Uint8Array[] | readonly Uint8Array[], opts: VerifyOptions): Certificate {
  return verifyPath(chainDer, opts)[0]!;
}
