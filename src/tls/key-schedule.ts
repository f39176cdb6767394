// L3: the TLS 1.3 key schedule (RFC 8446 §7.1), Finished and PSK binder MACs (§4.4.4, §4.2.11.2),
// resumption PSKs (§4.6.1) and the CertificateVerify signed content (§4.4.3).
// The QUIC layer turns the traffic secrets into packet keys (RFC 9001 §5.1); TLS never encrypts here.
import { type HashName, hash, hashLength, hkdfExpandLabel, hkdfExtract, hmac } from '../crypto/hkdf.js';
import { EMPTY, constantTimeEqual, wipe } from '../util/bytes.js';
import { AlertDescription, TlsAlert } from './wire/alert.js';
import { decodeFinished } from './wire/messages.js';

const EMPTY_HASH: Record<HashName, Uint8Array> = {
  sha256: hash('sha256', EMPTY),
  sha384: hash('sha384', EMPTY),
};

/** Hash("") for the suite's hash (the context of Derive-Secret(., "derived", "")). */
export function emptyHash(h: HashName): Uint8Array {
  return EMPTY_HASH[h];
}

/** Derive-Secret(Secret, Label, Messages) with Messages given as their transcript hash. */
export function deriveSecret(h: HashName, secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
  return hkdfExpandLabel(h, secret, label, transcriptHash, hashLength(h));
}

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length). */
export function finishedKey(h: HashName, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(h, baseKey, 'finished', EMPTY, hashLength(h));
}

/** verify_data = HMAC(finished_key, Transcript-Hash(...)); also the PSK binder (RFC 8446 §4.2.11.2). */
export function finishedVerifyData(h: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  return hmac(h, finishedKey(h, baseKey), transcriptHash);
}

export function verifyFinished(h: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array, received: Uint8Array): boolean {
  return constantTimeEqual(finishedVerifyData(h, baseKey, transcriptHash), received);
}

/**
 * A peer's Finished message body (RFC 8446 §4.4.4): verify_data of exactly Hash.length bytes
 * (decode_error otherwise) equal, compared in constant time, to the HMAC over the transcript
 * (decrypt_error otherwise).
 */
export function checkPeerFinished(h: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array, body: Uint8Array, who: string): void {
  const received = decodeFinished(body, hashLength(h));
  if (!verifyFinished(h, baseKey, transcriptHash, received)) throw new TlsAlert(AlertDescription.decrypt_error, `${who} Finished does not verify`);
}

/** The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length). */
export function resumptionPsk(h: HashName, resumptionMasterSecret: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(h, resumptionMasterSecret, 'resumption', ticketNonce, hashLength(h));
}

const CV_PAD = new Uint8Array(64).fill(0x20);
const CV_SERVER = 'TLS 1.3, server CertificateVerify';
const CV_CLIENT = 'TLS 1.3, client CertificateVerify';

/** The bytes a CertificateVerify signs: 64 spaces, context string, 0x00, transcript hash (RFC 8446 §4.4.3). */
export function certificateVerifyContent(server: boolean, transcriptHash: Uint8Array): Uint8Array {
  const ctx = server ? CV_SERVER : CV_CLIENT;
  const out = new Uint8Array(64 + ctx.length + 1 + transcriptHash.length);
  out.set(CV_PAD, 0);
  for (let i = 0; i < ctx.length; i++) out[64 + i] = ctx.charCodeAt(i);
  out[64 + ctx.length] = 0;
  out.set(transcriptHash, 65 + ctx.length);
  return out;
}

/**
 * One connection's secrets, stage by stage (RFC 8446 §7.1):
 * Early Secret (from the PSK or zeros) → Handshake Secret (with the (EC)DHE secret) → Master Secret.
 */
export class KeySchedule {
  readonly hash: HashName;
  readonly hashLength: number;
  earlySecret: Uint8Array;
  handshakeSecret: Uint8Array | undefined;
  masterSecret: Uint8Array | undefined;

  /** `psk` absent → HKDF-Extract(0, 0...) (a full handshake). */
  constructor(h: HashName, psk?: Uint8Array) {
    this.hash = h;
    this.hashLength = hashLength(h);
    this.earlySecret = hkdfExtract(h, EMPTY, psk ?? new Uint8Array(this.hashLength));
  }

  /** binder_key: "res binder" for resumption PSKs, "ext binder" for external ones. */
  binderKey(external = false): Uint8Array {
    return deriveSecret(this.hash, this.earlySecret, external ? 'ext binder' : 'res binder', EMPTY_HASH[this.hash]);
  }

  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.earlySecret, 'c e traffic', clientHelloHash);
  }

  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.earlySecret, 'e exp master', clientHelloHash);
  }

  /** Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE). */
  deriveHandshakeSecret(sharedSecret: Uint8Array): Uint8Array {
    const salt = deriveSecret(this.hash, this.earlySecret, 'derived', EMPTY_HASH[this.hash]);
    this.handshakeSecret = hkdfExtract(this.hash, salt, sharedSecret);
    return this.handshakeSecret;
  }

  clientHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.requireHandshake(), 'c hs traffic', helloHash);
  }

  serverHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.requireHandshake(), 's hs traffic', helloHash);
  }

  /** Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0). */
  deriveMasterSecret(): Uint8Array {
    const salt = deriveSecret(this.hash, this.requireHandshake(), 'derived', EMPTY_HASH[this.hash]);
    this.masterSecret = hkdfExtract(this.hash, salt, new Uint8Array(this.hashLength));
    return this.masterSecret;
  }

  clientApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.requireMaster(), 'c ap traffic', serverFinishedHash);
  }

  serverApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.requireMaster(), 's ap traffic', serverFinishedHash);
  }

  exporterMasterSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.requireMaster(), 'exp master', serverFinishedHash);
  }

  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.requireMaster(), 'res master', clientFinishedHash);
  }

  /** Zeroise the stage secrets (DESIGN §7.9). */
  wipe(): void {
    wipe(this.earlySecret);
    wipe(this.handshakeSecret);
    wipe(this.masterSecret);
  }

  private requireHandshake(): Uint8Array {
    if (!this.handshakeSecret) throw new Error('KeySchedule: handshake secret not derived yet');
    return this.handshakeSecret;
  }

  private requireMaster(): Uint8Array {
    if (!this.masterSecret) throw new Error('KeySchedule: master secret not derived yet');
    return this.masterSecret;
  }
}
