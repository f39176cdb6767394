// Properties: whatever a peer sends — random bytes or random frame sequences on the control stream,
// request streams, QPACK and other unidirectional streams, datagrams, in random chunks — the HTTP/3
// layer answers only with HTTP/3 or QPACK errors (a connection close with an H3_*/QPACK_* code, or a
// stream error), never an exception out of it and never H3_INTERNAL_ERROR (which would mean a bug).
import test from 'ava';
import fc from 'fast-check';
import { concat } from '../../src/util/bytes.js';
import { H3ErrorCode, H3FrameType, reservedValue, type H3Settings } from '../../src/h3/wire/index.js';
import { RawPair, frame, rawFrame, varint } from './support/raw-peer.js';
import { drain, get } from './support/h3-pair.js';
import { QpackEncoder } from '../../src/qpack/index.js';

const CODES = new Set<number>(Object.values(H3ErrorCode).filter((c) => c !== H3ErrorCode.H3_INTERNAL_ERROR));

function check(p: RawPair): boolean {
  const code = p.closeCode;
  if (code !== null && !CODES.has(code)) throw new Error(`closed with 0x${code.toString(16)}: ${p.h3Side.closeInfo?.reason}`);
  return true;
}

function readingPair(role: 'client' | 'server', seed: number, settings?: { h3Datagram?: boolean }): RawPair {
  const p = new RawPair({ h3Role: role, fake: { seed, minChunk: 1, maxChunk: 64 }, h3: { settings: { qpackMaxTableCapacity: 4096, qpackBlockedStreams: 4, enableConnectProtocol: true, ...settings } } });
  p.onH3 = (ev, h3) => {
    if (ev.type === 'data') drain(h3, ev.streamId, []);
    if (ev.type === 'request') {
      h3.respond(ev.streamId, [[':status', '200']]);
      h3.write(ev.streamId, new Uint8Array(10), true);
    }
  };
  return p;
}

const noSettings: H3Settings = { qpackMaxTableCapacity: 0, maxFieldSectionSize: Infinity, qpackBlockedStreams: 0, enableConnectProtocol: false, h3Datagram: false, unknown: [] };

/** A valid request HEADERS frame (static table only). */
const HEADERS_GET = frame({ type: 'headers', fieldSection: new QpackEncoder({ huffman: false }).encodeFieldSection(0, get('/')).fieldSection });

/** Frames a peer might send, valid and not. */
function frameArb(): fc.Arbitrary<Uint8Array> {
  const small = fc.uint8Array({ maxLength: 40 });
  return fc.oneof(
    small.map((b) => rawFrame(H3FrameType.DATA, b)),
    fc.constant(HEADERS_GET),
    small.map((b) => rawFrame(H3FrameType.HEADERS, b)),
    fc.nat({ max: 64 }).map((id) => frame({ type: 'goaway', id })),
    fc.nat({ max: 8 }).map((pushId) => frame({ type: 'max_push_id', pushId })),
    fc.nat({ max: 8 }).map((pushId) => frame({ type: 'cancel_push', pushId })),
    fc.tuple(fc.nat({ max: 40 }), fc.constantFrom('u=1', 'u=7, i', 'garbage(', '')).map(([id, v]) => frame({ type: 'priority_update', push: false, elementId: id, priority: v })),
    fc.constant(null).map(() => frame({ type: 'settings', settings: noSettings })),
    small.map((b) => rawFrame(H3FrameType.PUSH_PROMISE, b)),
    fc.tuple(fc.nat({ max: 1000 }), small).map(([n, b]) => rawFrame(reservedValue(n), b)),
    fc.tuple(fc.constantFrom(0x02, 0x06, 0x08, 0x09, 0x21, 0x4040), small).map(([t, b]) => rawFrame(t, b)),
    small,
  );
}

test('random bytes after a valid SETTINGS on the control stream: only H3 errors (server and client)', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('client' as const, 'server' as const), fc.uint8Array({ maxLength: 200 }), fc.nat(), (role, junk, seed) => {
      const p = readingPair(role, seed);
      p.control({}, junk);
      if (role === 'client') p.h3.request(get('/'), { end: true });
      p.run();
      return check(p);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('random bytes on the control stream from its first byte: only H3 errors', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), fc.nat(), (junk, fin, seed) => {
      const p = readingPair('server', seed);
      p.uni(concat(new Uint8Array([0x00]), junk), fin);
      p.run();
      return check(p);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('random bytes on a request stream, with or without a valid HEADERS first: only H3/QPACK errors', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), fc.nat(), (junk, headersFirst, fin, seed) => {
      const p = readingPair('server', seed);
      p.control();
      p.request(headersFirst ? [p.headers(0, get('/')), junk] : [junk], fin);
      p.run();
      return check(p);
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('random bytes as a response: only H3/QPACK errors on the client', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), fc.nat(), (junk, headersFirst, fin, seed) => {
      const p = readingPair('client', seed);
      p.control();
      const id = p.h3.request(get('/'), { end: true })!;
      p.run();
      const body = headersFirst ? concat(p.headers(id, [[':status', '200']]), junk) : junk;
      if (body.length > 0 || fin) p.raw.streamWrite(id, body, fin);
      p.run();
      return check(p);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('random bytes on unidirectional streams of every type (control, push, QPACK, reserved, unknown)', (t) => {
  const types = fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x03), fc.nat({ max: 1000 }).map((n) => reservedValue(n)), fc.nat({ max: 2 ** 20 }));
  fc.assert(
    fc.property(fc.constantFrom('client' as const, 'server' as const), fc.array(fc.tuple(types, fc.uint8Array({ maxLength: 80 }), fc.boolean()), { maxLength: 5 }), fc.nat(), (role, streams, seed) => {
      const p = readingPair(role, seed);
      p.control({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 4 });
      if (role === 'client') p.h3.request(get('/'), { end: true });
      for (const [type, data, fin] of streams) p.uni(concat(varint(type), data), fin);
      p.run();
      return check(p);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('random frame sequences on the control stream and request streams', (t) => {
  const frames = frameArb();
  fc.assert(
    fc.property(
      fc.constantFrom('client' as const, 'server' as const),
      fc.array(frames, { maxLength: 6 }),
      fc.array(fc.array(frames, { maxLength: 6 }), { maxLength: 4 }),
      fc.nat(),
      (role, control, requests, seed) => {
        const p = readingPair(role, seed);
        p.control({}, concat(...control));
        if (role === 'server') {
          for (const fs of requests) p.request(fs, true);
        } else {
          for (const fs of requests) {
            if (p.h3.goawayId >= 0) break; // request() refuses after GOAWAY
            const id = p.h3.request(get('/'), { end: true });
            if (id === null) break;
            p.run();
            if (p.h3.closed) break;
            p.raw.streamWrite(id, concat(...fs), true);
          }
        }
        p.run();
        return check(p);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('random HTTP datagrams: only H3_DATAGRAM_ERROR or silence', (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 8 }), fc.nat(), (dgs, seed) => {
      const p = readingPair('server', seed, { h3Datagram: true });
      p.control({ h3Datagram: true });
      p.request([p.headers(0, get('/'))], false);
      p.run();
      for (const d of dgs) p.raw.sendDatagram(d);
      p.run();
      const code = p.closeCode;
      if (code !== null && code !== H3ErrorCode.H3_DATAGRAM_ERROR) throw new Error(`closed with 0x${code.toString(16)}`);
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
