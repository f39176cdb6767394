// QUIC packet protection (RFC 9001 §5.3–§5.5, §6): protect/unprotect round trips for every suite,
// version and backend with long and short headers; packet number recovery; key update (§6.1, the
// header protection key stays); failure sentinels; discarding keys; limits (§6.6); AEAD nonce (§5.3).
import test from 'ava';
import fc from 'fast-check';
import { EMPTY, Writer, fromHex, toHex } from '../../src/util/bytes.js';
import { PacketType, QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS } from '../../src/codec/version.js';
import { decodePacketHeader, encodeLongHeader, encodeShortHeader, keyPhaseBit, patchLength } from '../../src/codec/header.js';
import { packetNumberLength } from '../../src/codec/packet-number.js';
import {
  AES_GCM_CONFIDENTIALITY_LIMIT,
  AES_GCM_INTEGRITY_LIMIT,
  CHACHA20_POLY1305_INTEGRITY_LIMIT,
  CipherSuite,
  cipherSuiteParams,
  computeNonce,
} from '../../src/crypto/aead.js';
import { cryptoBackend, type CryptoBackendName } from '../../src/crypto/backend.js';
import { initialProtection } from '../../src/crypto/initial.js';
import { PacketProtection, derivePacketKeys, nextTrafficSecret } from '../../src/crypto/packet-protection.js';

const SUITES = [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256];
const BACKENDS: CryptoBackendName[] = ['default', 'node', 'noble'];

function secretFor(suite: number, seed: number): Uint8Array {
  return new Uint8Array(cipherSuiteParams(suite)!.hashLength).map((_, i) => (i * 31 + seed) & 0xff);
}

/** Build a 1-RTT packet with `payload`, protect it, return the datagram and where the payload was. */
function shortPacket(p: PacketProtection, dcid: Uint8Array, pn: number, largestAcked: number, payload: Uint8Array): Uint8Array {
  const pnLength = packetNumberLength(pn, largestAcked);
  const w = Writer.alloc(dcid.length + 5 + payload.length + 16);
  const pnOffset = encodeShortHeader(w, dcid, pn, pnLength, p.keyPhase, 1);
  w.bytes(payload);
  const end = p.protect(w.buf, 0, pnOffset, pnLength, pn, payload.length);
  return w.buf.subarray(0, end);
}

for (const suite of SUITES) {
  for (const backend of BACKENDS) {
    test(`suite 0x${suite.toString(16)} ${backend}: short header round trip (random pn, payload, DCID)`, (t) => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SUPPORTED_VERSIONS),
          fc.uint8Array({ minLength: 0, maxLength: 20 }),
          fc.integer({ min: 0, max: 2 ** 40 }),
          fc.integer({ min: 1, max: 5000 }),
          fc.uint8Array({ minLength: 3, maxLength: 1400 }),
          (version, dcid, largestAcked, ahead, payload) => {
            const secret = secretFor(suite, dcid.length);
            const tx = new PacketProtection(suite, secret, version, cryptoBackend(backend));
            const rx = new PacketProtection(suite, secret, version, cryptoBackend(backend));
            const pn = largestAcked + ahead;
            const pkt = shortPacket(tx, dcid, pn, largestAcked, payload).slice();
            const hdr = decodePacketHeader(pkt, 0, pkt.length, dcid.length);
            const r = rx.unprotect(pkt, 0, hdr.pnOffset, hdr.packetEnd, largestAcked);
            t.truthy(r);
            t.is(r!.pn, pn);
            t.is(keyPhaseBit(r!.firstByte), 0);
            t.is(r!.firstByte & 0x20, 0x20, 'spin bit untouched');
            t.is(toHex(pkt.subarray(r!.payloadOffset, r!.payloadOffset + r!.payloadLength)), toHex(payload));
            t.is(tx.sealed, 1);
            t.is(rx.opened, 1);
          },
        ),
        { numRuns: backend === 'noble' ? 40 : 150 },
      );
    });
  }
}

test('long header round trip with a coalesced Handshake after an Initial (each version)', (t) => {
  for (const version of SUPPORTED_VERSIONS) {
    const dcid = fromHex('0011223344556677');
    const client = initialProtection(version, dcid, false);
    const server = initialProtection(version, dcid, true);
    const hs = secretFor(CipherSuite.TLS_AES_256_GCM_SHA384, 9);
    const hsTx = new PacketProtection(CipherSuite.TLS_AES_256_GCM_SHA384, hs, version);
    const hsRx = new PacketProtection(CipherSuite.TLS_AES_256_GCM_SHA384, hs, version);
    const w = Writer.alloc(1500);
    // Initial with a token, pn 0 (1 byte), 4-byte Length field.
    let start = w.pos;
    let pnOffset = encodeLongHeader(w, PacketType.Initial, version, dcid, fromHex('aa'), fromHex('0102030405'), 0, 1, 4);
    w.fill(0x06, 100);
    patchLength(w.buf, pnOffset, 4, 1 + 100 + 16);
    w.pos = client.seal.protect(w.buf, start, pnOffset, 1, 0, 100);
    // Handshake, pn 0x1234 (2 bytes).
    start = w.pos;
    pnOffset = encodeLongHeader(w, PacketType.Handshake, version, dcid, fromHex('aa'), EMPTY, 0x1234, 2, 2);
    w.fill(0x07, 50);
    patchLength(w.buf, pnOffset, 2, 2 + 50 + 16);
    w.pos = hsTx.protect(w.buf, start, pnOffset, 2, 0x1234, 50);
    const dgram = w.written().slice();

    const h1 = decodePacketHeader(dgram, 0, dgram.length, 0);
    t.is(h1.type, PacketType.Initial);
    const r1 = server.open.unprotect(dgram, 0, h1.pnOffset, h1.packetEnd, -1);
    t.truthy(r1);
    t.is(r1!.pn, 0);
    t.is(r1!.payloadLength, 100);
    t.true(dgram.subarray(r1!.payloadOffset, r1!.payloadOffset + 100).every((b) => b === 0x06));
    const h2 = decodePacketHeader(dgram, h1.packetEnd, dgram.length, 0);
    t.is(h2.type, PacketType.Handshake);
    t.is(h2.packetEnd, dgram.length);
    const r2 = hsRx.unprotect(dgram, h2.headerOffset, h2.pnOffset, h2.packetEnd, 0x1200);
    t.truthy(r2);
    t.is(r2!.pn, 0x1234);
    t.is(r2!.headerOffset, h1.packetEnd);
    t.true(dgram.subarray(r2!.payloadOffset, r2!.payloadOffset + 50).every((b) => b === 0x07));
  }
});

test('Initial keys: each side seals what the other opens; wrong version or DCID fails authentication', (t) => {
  const dcid = fromHex('c0ffee00c0ffee00');
  for (const version of SUPPORTED_VERSIONS) {
    for (const isServer of [false, true]) {
      const me = initialProtection(version, dcid, isServer);
      const peer = initialProtection(version, dcid, !isServer);
      const w = Writer.alloc(200);
      const pnOffset = encodeLongHeader(w, PacketType.Initial, version, dcid, EMPTY, EMPTY, 5, 1);
      w.fill(1, 30);
      patchLength(w.buf, pnOffset, 2, 1 + 30 + 16);
      const end = me.seal.protect(w.buf, 0, pnOffset, 1, 5, 30);
      const pkt = w.buf.slice(0, end);
      t.truthy(peer.open.unprotect(pkt.slice(), 0, pnOffset, end, -1));
      t.is(me.open.unprotect(pkt.slice(), 0, pnOffset, end, -1), null, 'own receive keys are the other direction');
      const otherVersion = initialProtection(version === QUIC_V1 ? QUIC_V2 : QUIC_V1, dcid, !isServer);
      t.is(otherVersion.open.unprotect(pkt.slice(), 0, pnOffset, end, -1), null);
      t.is(otherVersion.open.lastFailure, 'aead');
      const otherDcid = initialProtection(version, fromHex('c0ffee00c0ffee01'), !isServer);
      t.is(otherDcid.open.unprotect(pkt.slice(), 0, pnOffset, end, -1), null);
    }
  }
});

test('key update (RFC 9001 §6): next secret via "quic ku"/"quicv2 ku", new key and IV, same header protection', (t) => {
  for (const version of [QUIC_V1, QUIC_V2]) {
    for (const suite of SUITES) {
      const params = cipherSuiteParams(suite)!;
      const secret = secretFor(suite, 1);
      const tx0 = new PacketProtection(suite, secret, version);
      const rx0 = new PacketProtection(suite, secret, version);
      const tx1 = tx0.nextKeyPhase();
      const rx1 = rx0.nextKeyPhase();
      t.is(tx1.generation, 1);
      t.is(tx1.keyPhase, 1);
      t.is(tx1.nextKeyPhase().keyPhase, 0);
      const s1 = nextTrafficSecret(params, secret, tx0.version);
      const k0 = derivePacketKeys(params, secret, tx0.version);
      const k1 = derivePacketKeys(params, s1, tx0.version);
      t.not(toHex(k0.key), toHex(k1.key));
      t.not(toHex(k0.iv), toHex(k1.iv));
      // An hp derived from the next secret would differ; the packets below prove the old one is kept.
      t.not(toHex(k0.hp), toHex(k1.hp));

      const dcid = fromHex('0102030405060708');
      const pkt = shortPacket(tx1, dcid, 1000, 990, new Uint8Array(40).fill(9)).slice();
      // Remove header protection with the CURRENT phase (shared HP key), read the Key Phase bit,
      // then open with the next phase — as a connection does on a peer-initiated key update.
      const hdr = decodePacketHeader(pkt, 0, pkt.length, 8);
      const r = rx0.removeHeaderProtection(pkt, 0, hdr.pnOffset, hdr.packetEnd, 999);
      t.truthy(r);
      t.is(keyPhaseBit(r!.firstByte), 1);
      t.false(rx0.decryptPayload(pkt, r!), 'old keys fail');
      t.is(rx0.openFailures, 1);
      t.true(rx1.decryptPayload(pkt, r!), 'the ciphertext survived the failed attempt');
      t.is(r!.payloadLength, 40);
      t.true(pkt.subarray(r!.payloadOffset, r!.payloadOffset + 40).every((b) => b === 9));
      // Discarding the old phase keeps the shared header protection key alive for the new one.
      rx0.discard();
      tx0.discard();
      const pkt2 = shortPacket(tx1, dcid, 1001, 1000, new Uint8Array(10).fill(3)).slice();
      t.truthy(rx1.unprotect(pkt2, 0, 9, pkt2.length, 1000));
      t.throws(() => rx0.unprotect(pkt2, 0, 9, pkt2.length, 1000), { instanceOf: TypeError });
      t.throws(() => tx0.nextKeyPhase(), { instanceOf: TypeError });
    }
  }
});

test('failures are sentinels, not exceptions: short sample, bad tag, truncated packet', (t) => {
  const secret = secretFor(CipherSuite.TLS_AES_128_GCM_SHA256, 2);
  const tx = new PacketProtection(CipherSuite.TLS_AES_128_GCM_SHA256, secret, QUIC_V1);
  const rx = new PacketProtection(CipherSuite.TLS_AES_128_GCM_SHA256, secret, QUIC_V1);
  const dcid = fromHex('0102');
  const pkt = shortPacket(tx, dcid, 5, 4, fromHex('010101')).slice();
  t.is(pkt.length, 1 + 2 + 1 + 3 + 16);
  // Minimal packet: the sample ends exactly at the end.
  t.truthy(rx.unprotect(pkt.slice(), 0, 3, pkt.length, 4));
  t.is(rx.unprotect(pkt.slice(), 0, 3, pkt.length - 1, 4), null);
  t.is(rx.lastFailure, 'sample');
  const bad = pkt.slice();
  bad[bad.length - 1]! ^= 1;
  t.is(rx.unprotect(bad, 0, 3, bad.length, 4), null);
  t.is(rx.lastFailure, 'aead');
  t.is(rx.openFailures, 1);
  // A wrong largest-received guess recovers another packet number → another nonce → fails.
  t.is(rx.unprotect(pkt.slice(), 0, 3, pkt.length, 4 + 300), null);
});

test('misuse throws RangeError/TypeError naming the argument', (t) => {
  const secret = secretFor(CipherSuite.TLS_AES_128_GCM_SHA256, 3);
  t.throws(() => new PacketProtection(0x1304, secret, QUIC_V1), { instanceOf: RangeError, message: /suite/ });
  t.throws(() => new PacketProtection(0x1301, secret, 0x0a0a0a0a), { instanceOf: RangeError, message: /version/ });
  t.throws(() => new PacketProtection(0x1302, secret, QUIC_V1), { instanceOf: RangeError, message: /secret/ });
  const p = new PacketProtection(0x1301, secret, QUIC_V1);
  const w = Writer.alloc(64);
  const pnOffset = encodeShortHeader(w, EMPTY, 1, 1, 0, 0);
  t.throws(() => p.protect(w.buf, 0, pnOffset, 1, 1, 2), { message: /payloadLength/ }, 'too short to sample');
  t.throws(() => p.protect(w.buf, 0, pnOffset, 2, 1, 4), { message: /pnLength/ }, 'pn length disagrees with byte 0');
  t.throws(() => p.protect(w.buf, 0, pnOffset, 1, 1, 60), { message: /packet/ }, 'no room for the tag');
  p.discard();
  p.discard();
  t.true(p.isDiscarded);
  t.throws(() => p.protect(w.buf, 0, pnOffset, 1, 1, 4), { instanceOf: TypeError });
});

test('discard zeroises the secret and IV', (t) => {
  const secret = secretFor(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 4);
  const p = new PacketProtection(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, secret, QUIC_V1, cryptoBackend('noble'));
  const inner = p as unknown as { secret: Uint8Array; iv: Uint8Array };
  const s = inner.secret;
  const iv = inner.iv;
  t.true(s.some((b) => b !== 0));
  p.discard();
  t.true(s.every((b) => b === 0));
  t.true(iv.every((b) => b === 0));
  t.true(secret.some((b) => b !== 0), "the caller's copy is the caller's");
});

test('AEAD limits (RFC 9001 §6.6) and suite parameters', (t) => {
  t.is(AES_GCM_CONFIDENTIALITY_LIMIT, 2 ** 23);
  t.is(AES_GCM_INTEGRITY_LIMIT, 2 ** 52);
  t.is(CHACHA20_POLY1305_INTEGRITY_LIMIT, 2 ** 36);
  t.is(cipherSuiteParams(0x1301)!.integrityLimit, 2 ** 52);
  t.is(cipherSuiteParams(0x1303)!.confidentialityLimit, 2 ** 62);
  t.is(cipherSuiteParams(0x1302)!.hash, 'sha384');
  t.is(cipherSuiteParams(0x1304), undefined);
});

test('nonce = iv XOR pn, pn left-padded to 96 bits (RFC 9001 §5.3), exact beyond 2^32', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (iv, pn) => {
      const n = new Uint8Array(12);
      computeNonce(iv, pn, n);
      let want = 0n;
      for (const b of iv) want = (want << 8n) | BigInt(b);
      want ^= BigInt(pn);
      t.is(toHex(n), want.toString(16).padStart(24, '0'));
    }),
    { numRuns: 500 },
  );
});
