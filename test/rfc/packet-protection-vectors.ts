// Shared driver for the "Sample Packet Protection" appendices: RFC 9001 App. A (v1), RFC 9369 App. A
// (v2) and the provisional v2 draft's App. A (0x709a50c4). Each test file holds the values copied
// from its document and calls registerAppendixA; every check runs on each crypto backend.
import type { TestFn } from 'ava';
import { EMPTY, Writer, fromHex, toHex } from '../../src/util/bytes.js';
import { hkdfExpandLabel, hkdfLabel } from '../../src/crypto/hkdf.js';
import { PacketType, versionInfo } from '../../src/codec/version.js';
import { PacketHeader, decodePacketHeader, encodeLongHeader, encodeShortHeader, patchLength } from '../../src/codec/header.js';
import { CipherSuite, cipherSuiteParams, computeNonce } from '../../src/crypto/aead.js';
import { cryptoBackend, type CryptoBackendName } from '../../src/crypto/backend.js';
import { initialProtection, initialSecrets } from '../../src/crypto/initial.js';
import { PacketProtection, derivePacketKeys, nextTrafficSecret } from '../../src/crypto/packet-protection.js';
import { buildRetryPacket, retryIntegrityTag, verifyRetryIntegrity } from '../../src/crypto/retry.js';

export interface AppendixA {
  labels: Record<string, string>;
  initialSecret: string;
  clientSecret: string;
  clientKey: string;
  clientIv: string;
  clientHp: string;
  serverSecret: string;
  serverKey: string;
  serverIv: string;
  serverHp: string;
  clientCrypto: string;
  clientHeader: string;
  clientSample: string;
  clientMask: string;
  clientProtectedHeader: string;
  clientPacket: string;
  serverPayload: string;
  serverHeader: string;
  serverSample: string;
  serverMask: string;
  serverProtectedHeader: string;
  serverPacket: string;
  retry: string;
  chachaSecret: string;
  chachaKey: string;
  chachaIv: string;
  chachaHp: string;
  chachaKu: string;
  chachaPn: number;
  chachaNonce: string;
  chachaHeader: string;
  chachaPlaintext: string;
  chachaCiphertext: string;
  chachaSample: string;
  chachaMask: string;
  chachaProtectedHeader: string;
  chachaPacket: string;
}

/** The client-chosen Destination Connection ID of all three appendices. */
const CLIENT_DCID = fromHex('8394c8f03e515708');
/** The server's connection ID in the server Initial and the Retry. */
const SERVER_CID = fromHex('f067a5502a4262b5');
const BACKENDS: CryptoBackendName[] = ['default', 'node', 'noble'];
const hex = (b: Uint8Array): string => toHex(b);
const h = (s: string): string => s.replace(/\s+/g, '');

/** Build an Initial (header via our encoder, payload from the appendix) and return it unprotected. */
function buildInitial(
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  pn: number,
  pnLength: number,
  payload: Uint8Array,
): { packet: Uint8Array; pnOffset: number; payloadLength: number } {
  const w = Writer.alloc(2048);
  const pnOffset = encodeLongHeader(w, PacketType.Initial, version, dcid, scid, EMPTY, pn, pnLength, 2);
  w.bytes(payload);
  patchLength(w.buf, pnOffset, 2, pnLength + payload.length + 16);
  const packet = new Uint8Array(w.pos + 16);
  packet.set(w.written());
  return { packet, pnOffset, payloadLength: payload.length };
}

export function registerAppendixA(test: TestFn, section: string, version: number, v: AppendixA): void {
  const info = versionInfo(version)!;

  test(`${section} keys: HkdfLabel structures`, (t) => {
    for (const [label, want] of Object.entries(v.labels)) {
      const len = label.endsWith(' in') ? 32 : label.endsWith('iv') ? 12 : 16;
      t.is(hex(hkdfLabel(label, EMPTY, len)), want, label);
    }
  });

  test(`${section} keys: initial, client and server secrets, key, iv, hp`, (t) => {
    const s = initialSecrets(version, CLIENT_DCID);
    t.is(hex(s.initial), v.initialSecret);
    t.is(hex(s.client), v.clientSecret);
    t.is(hex(s.server), v.serverSecret);
    const suite = cipherSuiteParams(CipherSuite.TLS_AES_128_GCM_SHA256)!;
    const c = derivePacketKeys(suite, s.client, info);
    t.is(hex(c.key), v.clientKey);
    t.is(hex(c.iv), v.clientIv);
    t.is(hex(c.hp), v.clientHp);
    const sv = derivePacketKeys(suite, s.server, info);
    t.is(hex(sv.key), v.serverKey);
    t.is(hex(sv.iv), v.serverIv);
    t.is(hex(sv.hp), v.serverHp);
  });

  test(`${section} Retry key and nonce derive from the Retry secret`, (t) => {
    t.is(hex(hkdfExpandLabel('sha256', info.retrySecret, info.keyLabel, EMPTY, 16)), hex(info.retryKey));
    t.is(hex(hkdfExpandLabel('sha256', info.retrySecret, info.ivLabel, EMPTY, 12)), hex(info.retryNonce));
  });

  for (const name of BACKENDS) {
    const backend = cryptoBackend(name);

    test(`${section} client Initial, ${name}: protect gives the appendix packet, unprotect gives it back`, (t) => {
      // 1162-byte payload: the CRYPTO frame, then PADDING (zero bytes).
      const payload = new Uint8Array(1162);
      payload.set(fromHex(v.clientCrypto));
      const { packet, pnOffset, payloadLength } = buildInitial(version, CLIENT_DCID, EMPTY, 2, 4, payload);
      t.is(hex(packet.subarray(0, pnOffset + 4)), v.clientHeader, 'unprotected header');
      const client = initialProtection(version, CLIENT_DCID, false, backend);
      const end = client.seal.protect(packet, 0, pnOffset, 4, 2, payloadLength);
      t.is(end, 1200);
      t.is(hex(packet.subarray(pnOffset + 4, pnOffset + 20)), v.clientSample, 'sample');
      t.is(hex(packet.subarray(0, pnOffset + 4)), v.clientProtectedHeader, 'protected header');
      t.is(hex(packet), h(v.clientPacket));

      // The server: parse the header, remove protection in place.
      const server = initialProtection(version, CLIENT_DCID, true, backend);
      const rx = fromHex(v.clientPacket);
      const hdr = decodePacketHeader(rx, 0, rx.length, 0, new PacketHeader());
      t.is(hdr.type, PacketType.Initial);
      t.is(hdr.version, version);
      t.is(hex(hdr.dcid), hex(CLIENT_DCID));
      t.is(hdr.scid.length, 0);
      t.is(hdr.token.length, 0);
      t.is(hdr.length, 1182);
      t.is(hdr.pnOffset, 18);
      t.is(hdr.packetEnd, 1200);
      const r = server.open.unprotect(rx, 0, hdr.pnOffset, hdr.packetEnd, -1);
      t.truthy(r, `unprotect failed: ${server.open.lastFailure}`);
      t.is(r!.pn, 2);
      t.is(r!.pnLength, 4);
      t.is(r!.firstByte, fromHex(v.clientHeader)[0]);
      t.is(r!.payloadOffset, 22);
      t.is(r!.payloadLength, 1162);
      t.is(hex(rx.subarray(0, 22)), v.clientHeader);
      t.is(hex(rx.subarray(22, 22 + 1162)), hex(payload));
      for (const p of [client.seal, client.open, server.seal, server.open]) p.discard();
    });

    test(`${section} server Initial, ${name}: protect gives the appendix packet, unprotect gives it back`, (t) => {
      const payload = fromHex(v.serverPayload);
      const { packet, pnOffset, payloadLength } = buildInitial(version, EMPTY, SERVER_CID, 1, 2, payload);
      t.is(hex(packet.subarray(0, pnOffset + 2)), v.serverHeader, 'unprotected header');
      const server = initialProtection(version, CLIENT_DCID, true, backend);
      const end = server.seal.protect(packet, 0, pnOffset, 2, 1, payloadLength);
      t.is(end, packet.length);
      t.is(hex(packet.subarray(pnOffset + 4, pnOffset + 20)), v.serverSample, 'sample');
      t.is(hex(packet.subarray(0, pnOffset + 2)), v.serverProtectedHeader, 'protected header');
      t.is(hex(packet), h(v.serverPacket));

      const client = initialProtection(version, CLIENT_DCID, false, backend);
      const rx = fromHex(v.serverPacket);
      const hdr = decodePacketHeader(rx, 0, rx.length, 0);
      t.is(hdr.type, PacketType.Initial);
      t.is(hex(hdr.scid), hex(SERVER_CID));
      t.is(hdr.packetEnd, rx.length);
      const r = client.open.unprotect(rx, 0, hdr.pnOffset, hdr.packetEnd, 0);
      t.truthy(r, `unprotect failed: ${client.open.lastFailure}`);
      t.is(r!.pn, 1);
      t.is(r!.pnLength, 2);
      t.is(hex(rx.subarray(0, r!.payloadOffset)), v.serverHeader);
      t.is(hex(rx.subarray(r!.payloadOffset, r!.payloadOffset + r!.payloadLength)), h(v.serverPayload));
    });

    test(`${section} header protection masks, ${name}`, (t) => {
      const mask = new Uint8Array(5);
      const c = backend.createHeaderProtection('aes-128-gcm', fromHex(v.clientHp));
      c.mask(fromHex(v.clientSample), 0, mask);
      t.is(hex(mask), v.clientMask);
      const s = backend.createHeaderProtection('aes-128-gcm', fromHex(v.serverHp));
      s.mask(fromHex(v.serverSample), 0, mask);
      t.is(hex(mask), v.serverMask);
      const cc = backend.createHeaderProtection('chacha20-poly1305', fromHex(v.chachaHp));
      cc.mask(fromHex(v.chachaSample), 0, mask);
      t.is(hex(mask), v.chachaMask);
    });

    test(`${section} Retry, ${name}: integrity tag, build and verify`, (t) => {
      const retry = fromHex(v.retry);
      const built = buildRetryPacket(version, CLIENT_DCID, EMPTY, SERVER_CID, new TextEncoder().encode('token'), retry[0]! & 0x0f, backend);
      t.is(hex(built), h(v.retry));
      t.is(hex(retryIntegrityTag(version, CLIENT_DCID, retry.subarray(0, retry.length - 16), backend)), hex(retry.subarray(retry.length - 16)));
      t.true(verifyRetryIntegrity(version, CLIENT_DCID, retry, backend));
      const hdr = decodePacketHeader(retry, 0, retry.length, 0);
      t.is(hdr.type, PacketType.Retry);
      t.is(hdr.dcid.length, 0);
      t.is(hex(hdr.scid), hex(SERVER_CID));
      t.is(new TextDecoder().decode(hdr.token), 'token');
      t.is(hex(hdr.integrityTag), hex(retry.subarray(retry.length - 16)));
      // A different ODCID, a flipped bit anywhere, or another version's constants: rejected.
      t.false(verifyRetryIntegrity(version, fromHex('8394c8f03e515709'), retry, backend));
      for (let i = 0; i < retry.length; i++) {
        const bad = retry.slice();
        bad[i]! ^= 0x01;
        t.false(verifyRetryIntegrity(version, CLIENT_DCID, bad, backend), `bit flip at ${i}`);
      }
      t.false(verifyRetryIntegrity(version, CLIENT_DCID, retry.subarray(0, 15), backend));
    });

    test(`${section} ChaCha20-Poly1305 short header, ${name}`, (t) => {
      const suite = cipherSuiteParams(CipherSuite.TLS_CHACHA20_POLY1305_SHA256)!;
      const secret = fromHex(v.chachaSecret);
      const keys = derivePacketKeys(suite, secret, info);
      t.is(hex(keys.key), v.chachaKey);
      t.is(hex(keys.iv), v.chachaIv);
      t.is(hex(keys.hp), v.chachaHp);
      t.is(hex(nextTrafficSecret(suite, secret, info)), v.chachaKu);
      const nonce = new Uint8Array(12);
      computeNonce(keys.iv, v.chachaPn, nonce);
      t.is(hex(nonce), v.chachaNonce);

      // Empty DCID, 3-byte packet number (49140 = 0xbff4 encoded as 00bff4), payload = PING.
      const w = Writer.alloc(64);
      const pnOffset = encodeShortHeader(w, EMPTY, v.chachaPn, 3, 0, 0);
      t.is(hex(w.written()), v.chachaHeader);
      w.bytes(fromHex(v.chachaPlaintext));
      const packet = w.buf.subarray(0, w.pos + 16);
      const tx = new PacketProtection(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, secret, version, backend);
      const end = tx.protect(packet, 0, pnOffset, 3, v.chachaPn, 1);
      t.is(end, 21);
      t.is(hex(packet.subarray(4)), v.chachaCiphertext);
      t.is(hex(packet.subarray(0, 4)), v.chachaProtectedHeader);
      t.is(hex(packet), v.chachaPacket);

      const rxp = new PacketProtection(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, secret, version, backend);
      const rx = fromHex(v.chachaPacket);
      const hdr = decodePacketHeader(rx, 0, rx.length, 0);
      t.is(hdr.type, PacketType.OneRtt);
      t.is(hdr.pnOffset, 1);
      const r = rxp.unprotect(rx, 0, hdr.pnOffset, hdr.packetEnd, v.chachaPn - 1);
      t.truthy(r, `unprotect failed: ${rxp.lastFailure}`);
      t.is(r!.pn, v.chachaPn);
      t.is(r!.pnLength, 3);
      t.is(r!.payloadLength, 1);
      t.is(hex(rx.subarray(0, 4)), v.chachaHeader);
      t.is(rx[4], 0x01);
    });
  }
}

