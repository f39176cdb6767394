// Sent-packet records (RFC 9002 App. A.1): the ring of records with acknowledged/lost tombstones,
// and firstOutstanding(), which lets loss detection (App. A.10) start its walk after the resolved
// prefix instead of at the head.
import test from 'ava';
import fc from 'fast-check';
import { PacketList, SentFlags, SentPackets } from '../../src/transport/sent-packets.js';

const F = SentFlags.ACK_ELICITING | SentFlags.IN_FLIGHT;

/** The answer by definition: the first slot neither acknowledged nor lost. */
function naiveFirstOutstanding(s: SentPackets): number {
  for (let i = 0; i < s.length; i++) if (s.isOutstandingAt(i)) return i;
  return s.length;
}

test('firstOutstanding skips acknowledged and lost tombstones kept by compact()', (t) => {
  const s = new SentPackets(16);
  for (let pn = 0; pn < 10; pn++) s.push(pn, pn, 1200, F, pn);
  t.is(s.firstOutstanding(), 0);
  s.markLost(0);
  s.markAcked(1);
  s.markAcked(3);
  t.is(s.firstOutstanding(), 2);
  s.compact(0); // keeps the LOST tombstone at pn 0 (sent at or after time 0)
  t.is(s.length, 10);
  t.is(s.firstOutstanding(), 2);
  s.markLost(2);
  t.is(s.firstOutstanding(), 4);
  s.compact(); // drops every leading tombstone
  t.is(s.pnAt(0), 4);
  t.is(s.firstOutstanding(), 0);
  for (let i = 0; i < s.length; i++) s.markAcked(i);
  t.is(s.firstOutstanding(), s.length);
  s.push(10, 10, 1200, F, 10);
  t.is(s.pnAt(s.firstOutstanding()), 10);
});

test('firstOutstanding after clear(), removeWhere() and growing the ring', (t) => {
  const s = new SentPackets(16);
  for (let pn = 0; pn < 40; pn++) s.push(pn, pn, 1200, F | (pn % 2 ? SentFlags.ZERO_RTT : 0), pn); // grows twice
  for (let i = 0; i < 5; i++) s.markAcked(i);
  t.is(s.firstOutstanding(), 5);
  const out = new PacketList();
  s.removeWhere(2, SentFlags.ZERO_RTT, out);
  t.is(s.pnAt(s.firstOutstanding()), 6);
  s.clear(2);
  t.is(s.firstOutstanding(), 0);
  s.push(100, 100, 1200, F, null);
  t.is(s.firstOutstanding(), 0);
  t.is(s.pnAt(0), 100);
});

test('fast-check: firstOutstanding always equals a walk from the head', (t) => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('push' as const), n: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ k: fc.constant('ack' as const), n: fc.nat() }),
    fc.record({ k: fc.constant('lose' as const), n: fc.nat() }),
    fc.record({ k: fc.constant('compact' as const), n: fc.nat(200) }),
    fc.record({ k: fc.constant('clear' as const), n: fc.constant(0) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const s = new SentPackets(16);
      let pn = 0;
      for (const o of ops) {
        if (o.k === 'push') for (let i = 0; i < o.n; i++, pn++) s.push(pn, pn, 1200, F, pn);
        else if (o.k === 'clear') s.clear(2);
        else if (o.k === 'compact') s.compact(o.n);
        else if (s.length > 0) {
          const i = o.n % s.length;
          if (s.isOutstandingAt(i)) {
            if (o.k === 'ack') s.markAcked(i);
            else s.markLost(i);
          }
        }
        if (s.firstOutstanding() !== naiveFirstOutstanding(s)) return false;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
