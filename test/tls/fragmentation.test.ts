// Handshake bytes split anywhere (RFC 9001 §4.1.3: QUIC delivers the CRYPTO stream in order, in
// arbitrary pieces) and a Chromium/Go-shaped ClientHello (INTEROP.md: GREASE, X25519MLKEM768 share
// first, ~1.9 KB, fragmented and reordered across two Initials — reassembled by a CRYPTO-offset
// stand-in here, as the QUIC layer does).
import test from 'ava';
import { SeededRandom } from '../../src/crypto/random.js';
import { SignatureScheme } from '../../src/crypto/sign.js';
import { TlsClient } from '../../src/tls/client.js';
import { TlsServer } from '../../src/tls/server.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { ExtensionType, NamedGroup } from '../../src/tls/wire/constants.js';
import {
  decodeKeyShareCH,
  decodeNamedGroupList,
  encodeKeyShareCH,
  encodeSupportedVersionsCH,
  encodeU16List,
  type Extension,
} from '../../src/tls/wire/extensions.js';
import type { ClientHello } from '../../src/tls/wire/messages.js';
import { HandshakeReassembler } from '../../src/tls/wire/handshake.js';
import { NOW, clientOptions, events, handshake, pump, serverOptions } from './harness.js';

/** Test stand-in for QUIC CRYPTO reassembly: accepts (offset, bytes) in any order, yields the in-order prefix. */
class CryptoStream {
  private readonly parts = new Map<number, Uint8Array>();
  private next = 0;
  insert(offset: number, data: Uint8Array): Uint8Array[] {
    this.parts.set(offset, data);
    const out: Uint8Array[] = [];
    for (let p = this.parts.get(this.next); p; p = this.parts.get(this.next)) {
      this.parts.delete(this.next);
      out.push(p);
      this.next += p.length;
    }
    return out;
  }
}

function fragments(data: Uint8Array, rnd: SeededRandom, max = 200): { offset: number; data: Uint8Array }[] {
  const out: { offset: number; data: Uint8Array }[] = [];
  for (let o = 0; o < data.length; ) {
    const n = 1 + rnd.below(max);
    out.push({ offset: o, data: data.subarray(o, Math.min(data.length, o + n)) });
    o += n;
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = rnd.below(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const GREASE = (i: number): number => 0x0a0a + 0x1010 * (i & 15);

/** Shape a ClientHello like Chromium's: GREASE everywhere, X25519MLKEM768 first, ECH GREASE, permuted extensions. */
function chromiumLike(rnd: SeededRandom): (ch: ClientHello) => ClientHello {
  let calls = 0;
  return (ch) => {
    const retry = calls++ > 0; // after HelloRetryRequest only the requested share is sent
    const exts: Extension[] = [{ type: GREASE(1), data: new Uint8Array(0) }];
    for (const e of ch.extensions) {
      if (e.type === ExtensionType.key_share && !retry) {
        const shares = decodeKeyShareCH(e.data);
        exts.push({
          type: e.type,
          data: encodeKeyShareCH([
            { group: GREASE(2), keyExchange: Uint8Array.of(0) },
            { group: NamedGroup.X25519MLKEM768, keyExchange: rnd.randomBytes(1216) },
            ...shares,
          ]),
        });
      } else if (e.type === ExtensionType.supported_groups) {
        exts.push({ type: e.type, data: encodeU16List([GREASE(2), NamedGroup.X25519MLKEM768, ...decodeNamedGroupList(e.data)]) });
      } else if (e.type === ExtensionType.supported_versions) {
        exts.push({ type: e.type, data: encodeSupportedVersionsCH([GREASE(3), 0x0304]) });
      } else if (e.type === ExtensionType.signature_algorithms) {
        exts.push({ type: e.type, data: encodeU16List([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]) });
      } else {
        exts.push(e);
      }
    }
    exts.push(
      { type: 0xfe0d, data: rnd.randomBytes(281) }, // encrypted_client_hello GREASE
      { type: 0x001b, data: Uint8Array.of(2, 0, 2) }, // compress_certificate (brotli)
      { type: 0x44cd, data: Uint8Array.of(0, 3, 2, 0x68, 0x33) }, // application_settings
      { type: 0x0017, data: new Uint8Array(0) }, // extended_master_secret
      { type: 0xff01, data: Uint8Array.of(0) }, // renegotiation_info
      { type: 0x0023, data: new Uint8Array(0) }, // session_ticket
      { type: 0x0005, data: Uint8Array.of(1, 0, 0, 0, 0) }, // status_request
      { type: 0x0012, data: new Uint8Array(0) }, // signed_certificate_timestamp
      { type: GREASE(4), data: Uint8Array.of(0) },
    );
    for (let i = exts.length - 1; i > 0; i--) {
      const j = rnd.below(i + 1);
      [exts[i], exts[j]] = [exts[j]!, exts[i]!];
    }
    return { ...ch, cipherSuites: [GREASE(5), ...ch.cipherSuites], extensions: exts };
  };
}

test('Chromium-like ClientHello (~1.9 KB, GREASE, X25519MLKEM768 first) fragmented and reordered: X25519 chosen, no HRR', (t) => {
  for (let seed = 1; seed <= 8; seed++) {
    const rnd = new SeededRandom(seed);
    // Chromium's transport parameters are ~110 bytes (version_information, google_connection_options…).
    const client = new TlsClient(clientOptions({ mutateClientHello: chromiumLike(rnd), transportParameters: rnd.randomBytes(110) }, seed));
    const server = new TlsServer(serverOptions({}, seed + 100));
    client.start(NOW);
    const ch = client.pollEvent()!;
    if (ch.type !== 'handshake-data') return t.fail();
    t.true(ch.data.length > 1800 && ch.data.length < 2100, `ClientHello of ${ch.data.length} bytes`);
    const stream = new CryptoStream();
    for (const f of fragments(ch.data, rnd)) for (const piece of stream.insert(f.offset, f.data)) server.receive(EncryptionLevel.Initial, piece, NOW);
    const r = pump(client, server);
    t.truthy(client.handshakeInfo, `seed ${seed}`);
    t.is(server.handshakeInfo!.group, NamedGroup.x25519);
    t.is(client.handshakeInfo!.peerSignatureScheme, SignatureScheme.ecdsa_secp256r1_sha256);
    t.is(r.serverSent.filter((x) => x.level === 0).length, 1, 'no HelloRetryRequest');
  }
});

test('Chromium-like ClientHello against a P-256-only server → HelloRetryRequest for P-256, then success', (t) => {
  const rnd = new SeededRandom(42);
  const { client, r } = handshake(clientOptions({ mutateClientHello: chromiumLike(rnd) }), serverOptions({ groups: [NamedGroup.secp256r1] }));
  t.is(client.handshakeInfo!.group, NamedGroup.secp256r1);
  t.is(r.serverSent.filter((x) => x.level === 0).length, 2);
});

test('every two-piece split of the ClientHello, and one byte at a time', (t) => {
  const client = new TlsClient(clientOptions());
  client.start(NOW);
  const ch = client.pollEvent()!;
  if (ch.type !== 'handshake-data') return t.fail();
  const expected = (() => {
    const s = new TlsServer(serverOptions({}, 5));
    s.receive(0, ch.data, NOW);
    return events(drain(s), 'handshake-data')[0]!.data;
  })();
  for (let cut = 0; cut <= ch.data.length; cut++) {
    const s = new TlsServer(serverOptions({}, 5));
    s.receive(0, ch.data.subarray(0, cut), NOW);
    s.receive(0, ch.data.subarray(cut), NOW);
    const sh = events(drain(s), 'handshake-data')[0]!.data;
    if (cut % 50 === 0) t.deepEqual(sh, expected, `cut ${cut}`);
    else if (sh.length !== expected.length) t.fail(`cut ${cut}`);
  }
  const s = new TlsServer(serverOptions({}, 5));
  for (let i = 0; i < ch.data.length; i++) s.receive(0, ch.data.subarray(i, i + 1), NOW);
  t.deepEqual(events(drain(s), 'handshake-data')[0]!.data, expected);
});

test('the server flight delivered to the client one byte at a time', (t) => {
  const { client } = handshake(clientOptions(), serverOptions(), NOW, (from, _level, data) => {
    if (from !== 'server') return data;
    const out: Uint8Array[] = [];
    for (let i = 0; i < data.length; i++) out.push(data.subarray(i, i + 1));
    return out;
  });
  t.truthy(client.handshakeInfo);
});

test('handshake reassembler: messages split at every offset come out whole and in order', (t) => {
  const msgs = [Uint8Array.of(1, 0, 0, 2, 0xaa, 0xbb), Uint8Array.of(2, 0, 0, 0), Uint8Array.of(8, 0, 0, 3, 1, 2, 3)];
  const all = new Uint8Array(msgs.reduce((n, m) => n + m.length, 0));
  let o = 0;
  for (const m of msgs) {
    all.set(m, o);
    o += m.length;
  }
  for (let a = 0; a <= all.length; a++) {
    for (let b = a; b <= all.length; b++) {
      const r = new HandshakeReassembler();
      const got: number[][] = [];
      for (const piece of [all.subarray(0, a), all.subarray(a, b), all.subarray(b)]) {
        r.push(piece);
        for (let m = r.next(); m; m = r.next()) got.push(Array.from(m.raw));
      }
      t.deepEqual(got, msgs.map((m) => Array.from(m)));
      t.is(r.pending, 0);
    }
  }
});

function drain(s: TlsServer) {
  const out = [];
  for (let e = s.pollEvent(); e; e = s.pollEvent()) out.push(e);
  return out;
}
