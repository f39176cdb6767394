// L2b stream map under arbitrary peer input (DESIGN §5: peer input never throws anything but the
// protocol's own error type): random frame sequences interleaved with application calls. Frame
// handlers may only throw TransportError; application calls only StreamUsageError (API misuse on
// collected streams). Flow-control invariants hold after every step (RFC 9000 §4.1).
import test from 'ava';
import fc from 'fast-check';
import { StreamMap, newControlFrameInfo, type StreamLimits } from '../../src/transport/stream-map.js';
import { newStreamFrameInfo } from '../../src/transport/send-stream.js';
import { StreamUsageError, makeStreamId } from '../../src/transport/stream-id.js';
import { TransportError } from '../../src/codec/errors.js';

const LIMITS: StreamLimits = {
  initialMaxData: 4000,
  initialMaxStreamDataBidiLocal: 1000,
  initialMaxStreamDataBidiRemote: 1000,
  initialMaxStreamDataUni: 1000,
  initialMaxStreamsBidi: 3,
  initialMaxStreamsUni: 3,
};

/** Mostly the peer's streams within our limit; sometimes ours, over the limit, or huge. */
interface RawId {
  peer: boolean;
  idx: number;
  uni: boolean;
  any: number;
}
const idArb: fc.Arbitrary<RawId> = fc.record({
  peer: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  idx: fc.oneof({ weight: 19, arbitrary: fc.nat(2) }, { weight: 1, arbitrary: fc.nat(6) }),
  uni: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  any: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 24 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 40, Number.MAX_SAFE_INTEGER) }),
});
const sizeArb = fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: 900 }) }, { weight: 1, arbitrary: fc.constantFrom(1001, 4001, 2 ** 62 - 1, 2 ** 53) });

type Op =
  | { k: 'stream'; id: RawId; off: number; len: number; fin: boolean }
  | { k: 'reset'; id: RawId; code: number; size: number }
  | { k: 'stop'; id: RawId; code: number }
  | { k: 'maxStreamData'; id: RawId; v: number }
  | { k: 'maxData'; v: number }
  | { k: 'maxStreams'; bidi: boolean; v: number }
  | { k: 'blocked'; id: RawId; v: number }
  | { k: 'streamsBlocked'; bidi: boolean; v: number }
  | { k: 'app'; what: number; id: number; n: number }
  | { k: 'send'; ack: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('stream' as const), id: idArb, off: sizeArb, len: fc.integer({ min: 0, max: 100 }), fin: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }) }) },
  fc.record({ k: fc.constant('reset' as const), id: idArb, code: fc.nat(), size: sizeArb }),
  fc.record({ k: fc.constant('stop' as const), id: idArb, code: fc.nat() }),
  fc.record({ k: fc.constant('maxStreamData' as const), id: idArb, v: sizeArb }),
  fc.record({ k: fc.constant('maxData' as const), v: sizeArb }),
  fc.record({ k: fc.constant('maxStreams' as const), bidi: fc.boolean(), v: fc.oneof({ weight: 30, arbitrary: fc.nat(20) }, { weight: 1, arbitrary: fc.constant(2 ** 61) }) }),
  fc.record({ k: fc.constant('blocked' as const), id: idArb, v: sizeArb }),
  fc.record({ k: fc.constant('streamsBlocked' as const), bidi: fc.boolean(), v: fc.oneof({ weight: 30, arbitrary: fc.nat(20) }, { weight: 1, arbitrary: fc.constant(2 ** 61) }) }),
  { weight: 4, arbitrary: fc.record({ k: fc.constant('app' as const), what: fc.nat(6), id: fc.integer({ min: 0, max: 24 }), n: fc.integer({ min: 0, max: 700 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('send' as const), ack: fc.boolean() }) },
);

test('random peer frames and app calls: only TransportError / StreamUsageError, invariants hold', (t) => {
  fc.assert(
    fc.property(fc.boolean(), fc.array(opArb, { minLength: 10, maxLength: 80 }), (isClient, ops) => {
      const sid = (r: RawId): number => (r.peer ? makeStreamId(r.idx, !isClient, !r.uni) : r.any);
      const m = new StreamMap({ isClient, local: LIMITS, sendBufferLimit: 2000 });
      m.setPeerLimits(LIMITS);
      const buf = new Uint8Array(700);
      const sf = newStreamFrameInfo();
      const cf = newControlFrameInfo();
      for (const op of ops) {
        try {
          switch (op.k) {
            case 'stream':
              m.onStreamFrame(sid(op.id), op.off, new Uint8Array(op.len), op.fin);
              break;
            case 'reset':
              m.onResetStream(sid(op.id), op.code, op.size);
              break;
            case 'stop':
              m.onStopSending(sid(op.id), op.code);
              break;
            case 'maxStreamData':
              m.onMaxStreamData(sid(op.id), op.v);
              break;
            case 'maxData':
              m.onMaxData(op.v);
              break;
            case 'maxStreams':
              m.onMaxStreams(op.bidi, op.v);
              break;
            case 'blocked':
              m.onStreamDataBlocked(sid(op.id), op.v);
              break;
            case 'streamsBlocked':
              m.onStreamsBlocked(op.bidi, op.v);
              break;
            default:
              break;
          }
        } catch (e) {
          if (!(e instanceof TransportError)) throw e;
          return true; // the connection would close here
        }
        try {
          if (op.k === 'app') {
            switch (op.what) {
              case 0:
                m.open(op.n % 2 === 0);
                break;
              case 1:
                m.write(op.id, new Uint8Array(op.n), op.n % 3 === 0);
                break;
              case 2:
                m.read(op.id, buf);
                break;
              case 3:
                m.stopSending(op.id, op.n);
                break;
              case 4:
                m.resetStream(op.id, op.n);
                break;
              case 5: {
                const v = m.peek(op.id);
                m.consume(op.id, Math.min(v.length, op.n));
                break;
              }
              default:
                m.finish(op.id);
            }
          }
        } catch (e) {
          if (!(e instanceof StreamUsageError)) throw e;
        }
        if (op.k === 'send') {
          // Drain what the builder would send; acknowledge or lose all of it.
          const frames: Array<[number, number, number, boolean]> = [];
          while (m.pollStreamFrame(1200, sf)) {
            const dst = new Uint8Array(sf.length);
            m.copyStreamData(sf.streamId, sf.offset, sf.length, dst, 0);
            frames.push([sf.streamId, sf.offset, sf.length, sf.fin]);
          }
          const ctrls = [];
          while (m.pollControlFrame(100, 0, 10, cf)) ctrls.push({ ...cf });
          for (const [id, o, l, fin] of frames) (op.ack ? m.onStreamFrameAcked : m.onStreamFrameLost).call(m, id, o, l, fin);
          for (const c of ctrls) (op.ack ? m.onControlFrameAcked : m.onControlFrameLost).call(m, c);
        }
        const r = m.connRecv;
        if (r.received > r.maxData || r.consumed > r.received) return false;
        if (m.connSend.used > m.connSend.limit) return false;
      }
      return true;
    }),
    { numRuns: 4000 },
  );
  t.pass();
});
