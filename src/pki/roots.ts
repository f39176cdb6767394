// L3: the default trust anchors — Node's bundled Mozilla root list (via src/crypto/roots.ts),
// decoded from PEM and parsed once, on first use. RFC 5280 §6.1.1 (d): trust anchor information.
import { bundledRootCertificates } from '../crypto/roots.js';
import { pemDecode } from './pem.js';
import { parseCertificate, type Certificate } from './x509.js';

let anchorsDer: Uint8Array[] | undefined;
let parsed: { certs: Certificate[]; failures: { index: number; error: string }[] } | undefined;

/** DER of every bundled root certificate (decoded once; callers must not mutate the arrays). */
export function defaultTrustAnchors(): readonly Uint8Array[] {
  if (!anchorsDer) {
    const out: Uint8Array[] = [];
    for (const pem of bundledRootCertificates()) out.push(...pemDecode(pem, 'CERTIFICATE'));
    anchorsDer = out;
  }
  return anchorsDer;
}

/**
 * The bundled roots parsed (once). A root that fails to parse is left out and reported in
 * `failures` (none do on Node 20.20; test/pki/roots.test.ts keeps it that way).
 */
export function parsedDefaultTrustAnchors(): { readonly certs: readonly Certificate[]; readonly failures: readonly { index: number; error: string }[] } {
  if (!parsed) {
    const certs: Certificate[] = [];
    const failures: { index: number; error: string }[] = [];
    defaultTrustAnchors().forEach((der, index) => {
      try {
        certs.push(parseCertificate(der));
      } catch (e) {
        failures.push({ index, error: (e as Error).message });
      }
    });
    parsed = { certs, failures };
  }
  return parsed;
}
