// L3: what the TLS handshake hands to QUIC (RFC 9001 §4.1): handshake bytes per encryption level,
// secrets as each level becomes available, the peer's transport parameters, and milestones.
import type { CipherSuiteParams } from '../crypto/aead.js';
import type { ClientSession } from './session-ticket.js';

/** QUIC encryption levels (RFC 9001 §4). Handshake bytes travel at Initial, Handshake and Application. */
export const EncryptionLevel = {
  Initial: 0,
  EarlyData: 1,
  Handshake: 2,
  Application: 3,
} as const;
export type EncryptionLevel = (typeof EncryptionLevel)[keyof typeof EncryptionLevel];

/** Summary of a completed handshake. */
export interface HandshakeInfo {
  readonly alpn: string;
  readonly suite: CipherSuiteParams;
  /** The (EC)DHE group used. */
  readonly group: number;
  /** A PSK from a session ticket was accepted. */
  readonly resumed: boolean;
  /** 0-RTT was offered and accepted. */
  readonly earlyDataAccepted: boolean;
  /** The SNI the client sent (server side) or asked for (client side); '' if none. */
  readonly serverName: string;
  /** The peer's chain as received (leaf first); on resumption the server has the client leaf from the ticket only. */
  readonly peerCertificates: readonly Uint8Array[];
  /** The scheme of the peer's CertificateVerify, 0 when the peer did not authenticate with a certificate. */
  readonly peerSignatureScheme: number;
}

export type TlsEvent =
  /** Handshake bytes to send in CRYPTO frames at `level`, in order. */
  | { readonly type: 'handshake-data'; readonly level: EncryptionLevel; readonly data: Uint8Array }
  /**
   * A traffic secret for `level`: 'write' protects what this endpoint sends, 'read' what it receives.
   * `suite` says which AEAD/hash the QUIC packet keys use (RFC 9001 §5.1).
   */
  | {
      readonly type: 'secret';
      readonly level: EncryptionLevel;
      readonly direction: 'read' | 'write';
      readonly secret: Uint8Array;
      readonly suite: CipherSuiteParams;
    }
  /** The peer's quic_transport_parameters extension body (not yet authenticated until completion). */
  | { readonly type: 'transport-parameters'; readonly data: Uint8Array }
  /** 0-RTT verdict: the client learns it from EncryptedExtensions, the server decides on ClientHello. */
  | { readonly type: 'early-data'; readonly accepted: boolean }
  /** RFC 9001 §4.1.1: the handshake is complete (client: Finished sent; server: client Finished verified). */
  | { readonly type: 'handshake-complete'; readonly info: HandshakeInfo }
  /** Client only: a NewSessionTicket turned into a resumable session to store. */
  | { readonly type: 'session-ticket'; readonly session: ClientSession };
