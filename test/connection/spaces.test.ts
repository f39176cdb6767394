// ACK bookkeeping of one packet-number space (RFC 9000 §13.2.1, §13.2.3, §13.2.4) and 1-RTT key
// phases (RFC 9001 §6) on their own.
import test from 'ava';
import { ACK_DECIMATION_AFTER, ACK_DECIMATION_EVERY, PacketSpace, SpaceId } from '../../src/connection/spaces.js';
import { OneRttKeys } from '../../src/connection/keys.js';
import { PacketProtection } from '../../src/crypto/packet-protection.js';
import { QUIC_V1 } from '../../src/codec/version.js';

test('Initial/Handshake: every ack-eliciting packet is acknowledged at once', (t) => {
  const s = new PacketSpace(SpaceId.Handshake);
  s.onPacketReceived(0, true, 100, 25);
  t.true(s.ackDue(100));
  t.true(s.hasAckToSend);
  s.onAckSent();
  t.false(s.ackDue(100));
  s.onPacketReceived(1, false, 101, 25);
  t.false(s.ackDue(1000), 'a non-ack-eliciting packet never elicits an ACK');
  t.true(s.hasAckToSend, 'but it is acknowledged with the next ACK');
});

test('Application: delayed ACK up to max_ack_delay, at once on the 2nd packet or a gap', (t) => {
  const s = new PacketSpace(SpaceId.Application);
  s.onPacketReceived(0, true, 100, 25);
  t.false(s.ackDue(100));
  t.true(s.ackDue(125));
  s.onPacketReceived(1, true, 101, 25);
  t.true(s.ackDue(101), 'second ack-eliciting packet');
  s.onAckSent();
  s.onPacketReceived(3, true, 102, 25);
  t.true(s.ackDue(102), 'gap (2 missing)');
  s.onAckSent();
  s.onPacketReceived(2, true, 103, 25);
  t.true(s.ackDue(103), 'out of order fills the gap');
});

test('Application: after 100 ack-eliciting packets ACKs are decimated to every 10th or RTT/4, gaps still at once (§13.2.2)', (t) => {
  const s = new PacketSpace(SpaceId.Application);
  let pn = 0;
  let acks = 0;
  const recv = (now: number): void => {
    s.onPacketReceived(pn++, true, now, 25, 20);
    if (s.ackDue(now)) {
      acks++;
      s.onAckSent();
    }
  };
  for (let i = 0; i < ACK_DECIMATION_AFTER; i++) recv(100);
  t.is(acks, ACK_DECIMATION_AFTER / 2, 'every 2nd packet at first');
  acks = 0;
  for (let i = 0; i < 100; i++) recv(100);
  t.is(acks, 100 / ACK_DECIMATION_EVERY, 'then every 10th');
  s.onPacketReceived(pn++, true, 200, 25, 20);
  t.false(s.ackDue(204));
  t.true(s.ackDue(205), 'a lone packet waits RTT/4 (5 ms), not max_ack_delay');
  s.onAckSent();
  pn++;
  s.onPacketReceived(pn++, true, 300, 25, 20);
  t.true(s.ackDue(300), 'a gap is acknowledged at once');
});

test('duplicates are detected; ACK ranges below an acknowledged ACK are dropped', (t) => {
  const s = new PacketSpace(SpaceId.Application);
  for (const pn of [0, 1, 2, 5, 6, 9]) s.onPacketReceived(pn, true, 0, 25);
  t.true(s.isDuplicate(5));
  t.false(s.isDuplicate(7));
  t.deepEqual([...s.ackRanges], [[0, 3], [5, 7], [9, 10]]);
  s.onAckAcked(5);
  t.deepEqual([...s.ackRanges], [[6, 7], [9, 10]]);
  s.onPacketReceived(4, true, 0, 25);
  t.deepEqual([...s.ackRanges], [[6, 7], [9, 10]], 'old packets below the floor are not re-acknowledged');
  t.true(s.isDuplicate(4), 'but still detected as duplicates');
});

function pair(): { a: OneRttKeys; b: OneRttKeys } {
  const s1 = new Uint8Array(32).fill(1);
  const s2 = new Uint8Array(32).fill(2);
  const a = new OneRttKeys(new PacketProtection(0x1301, s1, QUIC_V1), 0);
  a.setOpen(new PacketProtection(0x1301, s2, QUIC_V1));
  const b = new OneRttKeys(new PacketProtection(0x1301, s2, QUIC_V1), 0);
  b.setOpen(new PacketProtection(0x1301, s1, QUIC_V1));
  return { a, b };
}

/** Seal a short-header packet with `k`'s write keys and open it with `r`'s read keys. */
function roundTrip(k: OneRttKeys, r: OneRttKeys, pn: number, largest: number): number {
  const buf = new Uint8Array(64);
  buf[0] = 0x43 | (k.sendPhase << 2);
  buf[1] = pn >>> 24;
  buf[2] = (pn >>> 16) & 0xff;
  buf[3] = (pn >>> 8) & 0xff;
  buf[4] = pn & 0xff;
  const end = k.seal.protect(buf, 0, 1, 4, pn, 20);
  const res = r.open!.removeHeaderProtection(buf, 0, 1, end, largest)!;
  const used = r.decrypt(buf, res, (res.firstByte >> 2) & 1);
  if (used === null) return -1;
  if (r.onDecrypted(used, res.pn, 0, 100)) r.respond(1000);
  return used.generation;
}

test('key update: initiate, the peer follows, old keys still open delayed packets', (t) => {
  const { a, b } = pair();
  t.is(roundTrip(a, b, 0, -1), 0);
  t.false(a.canInitiate(true), 'no ACK in this phase yet');
  a.onAcked(0);
  t.false(a.canInitiate(false), 'not before confirmation');
  t.true(a.canInitiate(true));
  a.initiate(1);
  t.is(a.seal.generation, 1);
  t.false(a.canInitiate(true), 'one update at a time');
  t.is(roundTrip(a, b, 1, 0), 1, 'the peer opens with its next keys');
  t.is(b.seal.generation, 1, 'and follows with its write keys');
  t.is(b.open!.generation, 1);
  // A packet of the old phase with a lower number still opens (previous keys).
  const old = new OneRttKeys(new PacketProtection(0x1301, new Uint8Array(32).fill(1), QUIC_V1), 0);
  t.is(roundTrip(old, b, 0, 1), 0);
  b.discardPrevIfDue(1000);
  t.is(roundTrip(old, b, 0, 1), -1, 'gone after the retention time');
});

test('integrity failures are counted across key phases', (t) => {
  const { a, b } = pair();
  const buf = new Uint8Array(64);
  buf[0] = 0x43;
  const end = a.seal.protect(buf, 0, 1, 4, 0, 20);
  buf[30] ^= 1;
  const r = b.open!.removeHeaderProtection(buf, 0, 1, end, -1)!;
  t.is(b.decrypt(buf, r, 0), null);
  t.is(b.openFailures, 1);
});
