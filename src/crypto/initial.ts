// L2a: Initial packet secrets and keys (RFC 9001 §5.2; RFC 9369 §3.3.1 and the provisional v2 draft
// for their salts; labels per version, RFC 9369 §3.3.2). Initial packets always use
// AEAD_AES_128_GCM with SHA-256 (TLS_AES_128_GCM_SHA256).
import { MAX_CID_LENGTH, requireVersionInfo } from '../codec/version.js';
import { CipherSuite, type CryptoBackend } from './aead.js';
import { defaultBackend } from './backend.js';
import { hkdfExpandLabel, hkdfExtract } from './hkdf.js';
import { PacketProtection } from './packet-protection.js';

export interface InitialSecrets {
  /** HKDF-Extract(initial_salt, client DCID). */
  initial: Uint8Array;
  /** HKDF-Expand-Label(initial, "client in", "", 32): protects client → server Initials. */
  client: Uint8Array;
  /** HKDF-Expand-Label(initial, "server in", "", 32): protects server → client Initials. */
  server: Uint8Array;
}

/**
 * Initial secrets from the Destination Connection ID of the client's first Initial (or the SCID of
 * a Retry the client followed) — RFC 9001 §5.2.
 */
export function initialSecrets(version: number, clientDcid: Uint8Array): InitialSecrets {
  const info = requireVersionInfo(version);
  if (clientDcid.length > MAX_CID_LENGTH) throw new RangeError(`clientDcid: longer than ${MAX_CID_LENGTH} bytes`);
  const initial = hkdfExtract('sha256', info.initialSalt, clientDcid);
  const none = new Uint8Array(0);
  return {
    initial,
    client: hkdfExpandLabel('sha256', initial, 'client in', none, 32),
    server: hkdfExpandLabel('sha256', initial, 'server in', none, 32),
  };
}

/** Initial packet protection for one endpoint: `seal` for what it sends, `open` for what it receives. */
export interface InitialProtection {
  seal: PacketProtection;
  open: PacketProtection;
}

export function initialProtection(
  version: number,
  clientDcid: Uint8Array,
  isServer: boolean,
  backend: CryptoBackend = defaultBackend,
): InitialProtection {
  const s = initialSecrets(version, clientDcid);
  const suite = CipherSuite.TLS_AES_128_GCM_SHA256;
  const client = new PacketProtection(suite, s.client, version, backend);
  const server = new PacketProtection(suite, s.server, version, backend);
  s.initial.fill(0);
  s.client.fill(0);
  s.server.fill(0);
  return isServer ? { seal: server, open: client } : { seal: client, open: server };
}
