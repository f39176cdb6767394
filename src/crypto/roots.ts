// L2a: Node's bundled trust anchors (Mozilla's CA list as compiled into Node), as PEM strings.
// Only the constant list is used from node:tls — Quiver's TLS never uses node:tls itself.
// src/pki/roots.ts (L3) decodes and parses them; the import of node:tls has to live here (DESIGN §1).
import { rootCertificates } from 'node:tls';

/** PEM text of every root certificate bundled with this Node (frozen, ~140 entries). */
export function bundledRootCertificates(): readonly string[] {
  return rootCertificates;
}
