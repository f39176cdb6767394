// L3: the handshake transcript (RFC 8446 §4.4.1): the concatenation of handshake messages as
// sent, hashed with the suite's hash once it is known. After a HelloRetryRequest, ClientHello1 is
// replaced by the synthetic message_hash message (type 254, length Hash.length, Hash(ClientHello1)).
// Messages are kept and hashed on demand: a handshake takes about six hashes of a few kilobytes,
// which costs less than keeping incremental hash states in sync.
import { type HashName, hash } from '../crypto/hkdf.js';
import { HandshakeType } from './wire/constants.js';

export class Transcript {
  private readonly parts: Uint8Array[] = [];

  get messageCount(): number {
    return this.parts.length;
  }

  add(message: Uint8Array): void {
    this.parts.push(message);
  }

  /** Transcript-Hash of everything added so far. */
  hash(h: HashName): Uint8Array {
    return hash(h, ...this.parts);
  }

  /** Transcript-Hash of everything so far followed by `extra` (e.g. a truncated ClientHello). */
  hashWith(h: HashName, extra: Uint8Array): Uint8Array {
    return hash(h, ...this.parts, extra);
  }

  /** Replace ClientHello1 (the only message so far) by message_hash (RFC 8446 §4.4.1). */
  replaceClientHelloWithMessageHash(h: HashName): void {
    if (this.parts.length !== 1) throw new Error('Transcript: message_hash expects exactly ClientHello1');
    const digest = hash(h, this.parts[0]!);
    const mh = new Uint8Array(4 + digest.length);
    mh[0] = HandshakeType.message_hash;
    mh[3] = digest.length;
    mh.set(digest, 4);
    this.parts[0] = mh;
  }
}
