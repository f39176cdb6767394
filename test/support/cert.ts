// Test support: certificates generated once per process (EC P-256 via src/pki/self-signed.ts), valid
// around the virtual clock's epoch so runs do not depend on the wall clock.
import { generateSelfSigned, type SelfSigned } from '../../src/pki/self-signed.js';

/** The virtual clock starts here (2025-01-01T00:00:00Z): certificates below are valid for 14 days from it. */
export const VIRTUAL_EPOCH = Date.UTC(2025, 0, 1);

let plain: SelfSigned | undefined;
let large: SelfSigned | undefined;

/** A self-signed certificate for localhost / 127.0.0.1 / ::1 / quiver.test, generated once per process. */
export function testCertificate(): SelfSigned {
  plain ??= generateSelfSigned({ now: VIRTUAL_EPOCH, hosts: ['quiver.test', 'localhost', '127.0.0.1', '::1'] });
  return plain;
}

/**
 * A certificate of several kilobytes (hundreds of SAN names), so the server's first flight is far
 * more than 3× a 1200-byte client Initial (interop "amplificationlimit").
 */
export function largeCertificate(): SelfSigned {
  if (large === undefined) {
    const hosts = ['quiver.test', 'localhost'];
    for (let i = 0; hosts.length < 300; i++) hosts.push(`host-${i.toString().padStart(4, '0')}.amplification.quiver.test`);
    large = generateSelfSigned({ now: VIRTUAL_EPOCH, hosts });
  }
  return large;
}
