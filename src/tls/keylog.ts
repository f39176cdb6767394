// L3: NSS key log lines (the SSLKEYLOGFILE format read by Wireshark): "<LABEL> <client_random hex>
// <secret hex>" for the TLS 1.3 labels; QUIC uses the same labels for its traffic secrets.
import { toHex } from '../util/bytes.js';

export const KeyLogLabel = {
  clientEarly: 'CLIENT_EARLY_TRAFFIC_SECRET',
  clientHandshake: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  serverHandshake: 'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  clientTraffic0: 'CLIENT_TRAFFIC_SECRET_0',
  serverTraffic0: 'SERVER_TRAFFIC_SECRET_0',
  exporter: 'EXPORTER_SECRET',
} as const;

export type KeyLogger = (line: string) => void;

export function keyLogLine(label: string, clientRandom: Uint8Array, secret: Uint8Array): string {
  return `${label} ${toHex(clientRandom)} ${toHex(secret)}`;
}
