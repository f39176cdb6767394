// L2b connection IDs: RFC 9000 §5.1.1 issuing (sequence numbers, active_connection_id_limit),
// §5.1.2 retiring (Retire Prior To), §10.3.1 stateless reset detection, §19.15 / §19.16 errors.
import test from 'ava';
import {
  LocalCids,
  PeerCids,
  newConnectionIdInfo,
  type CidGenerator,
} from '../../src/transport/cid.js';
import { TransportError, TransportErrorCode as E } from '../../src/codec/errors.js';

/** Deterministic generator: CID = [worker, n, n, n, …], token = [n, 0xaa × 15]. */
function gen(worker = 7, len = 8): CidGenerator & { count: number } {
  const g = {
    count: 0,
    generate(): { cid: Uint8Array; resetToken: Uint8Array } {
      g.count++;
      const cid = new Uint8Array(len).fill(g.count & 0xff);
      cid[0] = worker;
      const resetToken = new Uint8Array(16).fill(0xaa);
      resetToken[0] = g.count;
      return { cid, resetToken };
    },
  };
  return g;
}

const cid = (n: number, len = 8): Uint8Array => new Uint8Array(len).fill(n);
const tok = (n: number): Uint8Array => new Uint8Array(16).fill(n);

function code(t: { throws: Function }, fn: () => void): number | undefined {
  const err = (t.throws as (f: () => void, o: object) => TransportError | undefined)(fn, { instanceOf: TransportError });
  return err?.errorCode;
}

// ------------------------------------------------------------------ our IDs

test('LocalCids issues up to the peer limit with increasing sequence numbers', (t) => {
  const g = gen();
  const l = new LocalCids({ generator: g, initialCid: cid(1) });
  t.deepEqual(l.replenish().map((c) => c.seq), [1], 'default peer limit 2 (incl. the handshake ID)');
  l.setPeerLimit(4);
  const more = l.replenish();
  t.deepEqual(more.map((c) => c.seq), [2, 3]);
  t.is(more[0]!.cid[0], 7, 'generator decides the layout (worker index)');
  t.deepEqual(l.replenish(), []);
  const f = newConnectionIdInfo();
  const seqs: number[] = [];
  while (l.pollNewConnectionId(100, f)) seqs.push(f.seq);
  t.deepEqual(seqs, [1, 2, 3]);
  t.false(l.hasPendingFrame());
  l.onNewConnectionIdLost(2);
  t.true(l.pollNewConnectionId(100, f));
  t.is(f.seq, 2);
  t.is(f.resetToken.length, 16);
  // Our own cap applies even when the peer allows more.
  const capped = new LocalCids({ generator: gen(), initialCid: cid(1), maxActive: 3 });
  capped.setPeerLimit(100);
  t.is(capped.replenish().length, 2);
  // A frame too large for the space left stays pending.
  capped.onNewConnectionIdLost(1);
  t.false(capped.pollNewConnectionId(10, f));
  t.true(capped.hasPendingFrame());
});

test('RETIRE_CONNECTION_ID: retire, replace; unissued sequence and own DCID → PROTOCOL_VIOLATION', (t) => {
  const l = new LocalCids({ generator: gen(), initialCid: cid(1) });
  l.setPeerLimit(3);
  const issued = l.replenish();
  t.is(code(t, () => l.onRetireConnectionId(3, cid(1))), E.PROTOCOL_VIOLATION, 'never issued');
  t.is(code(t, () => l.onRetireConnectionId(1, issued[0]!.cid)), E.PROTOCOL_VIOLATION, 'the packet DCID itself');
  const gone = l.onRetireConnectionId(0, issued[0]!.cid);
  t.is(gone?.seq, 0);
  t.is(l.lookup(cid(1)), undefined, 'no longer routed');
  t.is(l.onRetireConnectionId(0, issued[0]!.cid), null, 'repeat is harmless');
  t.deepEqual(l.replenish().map((c) => c.seq), [3]);
  t.is(l.lookup(issued[1]!.cid)?.seq, 2);
});

test('zero-length local ID: nothing issued, RETIRE_CONNECTION_ID → PROTOCOL_VIOLATION', (t) => {
  const l = new LocalCids({ generator: gen(), initialCid: new Uint8Array(0) });
  l.setPeerLimit(8);
  t.deepEqual(l.replenish(), []);
  t.is(code(t, () => l.onRetireConnectionId(0, new Uint8Array(0))), E.PROTOCOL_VIOLATION);
});

test('retireAll sends Retire Prior To and replaces every ID; old ones stay valid until retired', (t) => {
  const l = new LocalCids({ generator: gen(), initialCid: cid(1) });
  l.setPeerLimit(2);
  l.replenish();
  const f = newConnectionIdInfo();
  while (l.pollNewConnectionId(100, f));
  l.retireAll();
  const fresh = l.replenish();
  t.deepEqual(fresh.map((c) => c.seq), [2, 3]);
  t.true(l.pollNewConnectionId(100, f));
  t.deepEqual([f.seq, f.retirePriorTo], [2, 2]);
  t.truthy(l.lookup(cid(1)), 'seq 0 still accepted');
  l.onNewConnectionIdLost(1);
  t.true(l.pollNewConnectionId(100, f));
  t.is(f.seq, 3, 'IDs being retired are not re-announced');
  l.onRetireConnectionId(0, fresh[0]!.cid);
  l.onRetireConnectionId(1, fresh[0]!.cid);
  t.is(l.activeCids().length, 2);
  t.is(l.retirePriorTo, 2);
});

test('preferred_address CID is sequence 1', (t) => {
  const l = new LocalCids({ generator: gen(), initialCid: cid(1), initialResetToken: tok(1) });
  const pa = l.issuePreferredAddressCid();
  t.is(pa.seq, 1);
  t.false(pa.pending, 'carried in the transport parameter, not a frame');
  l.setPeerLimit(2);
  t.deepEqual(l.replenish(), []);
  t.throws(() => l.issuePreferredAddressCid(), { instanceOf: RangeError });
});

// ------------------------------------------------------------------ the peer's IDs

test('PeerCids: limit exceeded → CONNECTION_ID_LIMIT_ERROR; duplicates are harmless', (t) => {
  const p = new PeerCids({ initialCid: cid(1), activeLimit: 3 });
  p.onNewConnectionId(1, 0, cid(2), tok(2));
  p.onNewConnectionId(2, 0, cid(3), tok(3));
  p.onNewConnectionId(2, 0, cid(3), tok(3)); // retransmission
  t.is(p.activeCids().length, 3);
  t.is(code(t, () => p.onNewConnectionId(3, 0, cid(4), tok(4))), E.CONNECTION_ID_LIMIT_ERROR);
});

test('PeerCids: same sequence with a different ID or token, or an ID under two sequences → PROTOCOL_VIOLATION', (t) => {
  const p = new PeerCids({ initialCid: cid(1), activeLimit: 8 });
  p.onNewConnectionId(1, 0, cid(2), tok(2));
  t.is(code(t, () => p.onNewConnectionId(1, 0, cid(9), tok(2))), E.PROTOCOL_VIOLATION);
  t.is(code(t, () => p.onNewConnectionId(1, 0, cid(2), tok(9))), E.PROTOCOL_VIOLATION);
  t.is(code(t, () => p.onNewConnectionId(2, 0, cid(2), tok(5))), E.PROTOCOL_VIOLATION);
  t.is(code(t, () => p.onNewConnectionId(3, 4, cid(6), tok(6))), E.FRAME_ENCODING_ERROR, 'retire_prior_to > sequence');
  t.is(code(t, () => p.onNewConnectionId(3, 0, new Uint8Array(21), tok(6))), E.FRAME_ENCODING_ERROR);
});

test('PeerCids: zero-length peer ID → NEW_CONNECTION_ID is a PROTOCOL_VIOLATION', (t) => {
  const p = new PeerCids({ initialCid: new Uint8Array(0), activeLimit: 4 });
  t.is(code(t, () => p.onNewConnectionId(1, 0, cid(2), tok(2))), E.PROTOCOL_VIOLATION);
});

test('retire_prior_to retires older IDs first (even at the limit), switches the current one, and queues RETIRE frames', (t) => {
  const p = new PeerCids({ initialCid: cid(1), activeLimit: 2 });
  p.onNewConnectionId(1, 0, cid(2), tok(2));
  t.is(p.current.seq, 0);
  // At the limit: seq 2 with retire_prior_to 2 retires 0 and 1 first, so no limit error.
  p.onNewConnectionId(2, 2, cid(3), tok(3));
  t.deepEqual(p.activeCids().map((c) => c.seq), [2]);
  t.is(p.current.seq, 2);
  t.deepEqual(p.current.cid, cid(3));
  const retired: number[] = [];
  for (let s = p.pollRetireConnectionId(); s >= 0; s = p.pollRetireConnectionId()) retired.push(s);
  t.deepEqual(retired.sort(), [0, 1]);
  // Lost retirement is resent; acked is not.
  p.onRetireConnectionIdLost(0);
  t.is(p.pollRetireConnectionId(), 0);
  p.onRetireConnectionIdAcked(0);
  p.onRetireConnectionIdLost(0);
  t.false(p.hasPendingRetire());
  // A smaller retire_prior_to later has no effect.
  p.onNewConnectionId(3, 1, cid(4), tok(4));
  t.deepEqual(p.activeCids().map((c) => c.seq), [2, 3]);
  // A late NEW_CONNECTION_ID below the largest retire_prior_to is retired at once (§19.15) …
  const p2 = new PeerCids({ initialCid: cid(1), activeLimit: 4 });
  p2.onNewConnectionId(5, 5, cid(6), tok(6));
  p2.onNewConnectionId(3, 0, cid(4), tok(4));
  t.false(p2.activeCids().some((c) => c.seq === 3));
  const r2: number[] = [];
  for (let s = p2.pollRetireConnectionId(); s >= 0; s = p2.pollRetireConnectionId()) r2.push(s);
  t.deepEqual(r2.sort(), [0, 3]);
  // … and a retransmission of a retired one is ignored.
  p2.onNewConnectionId(3, 0, cid(4), tok(4));
  t.is(p2.pollRetireConnectionId(), -1);
});

test('stateless reset detection uses tokens of used, unretired IDs only', (t) => {
  const p = new PeerCids({ initialCid: cid(1), activeLimit: 4 });
  p.setInitialResetToken(tok(0x10));
  p.onNewConnectionId(1, 0, cid(2), tok(0x20));
  const datagram = (token: Uint8Array, len = 40): Uint8Array => {
    const d = new Uint8Array(len).fill(0x41);
    d.set(token, len - 16);
    return d;
  };
  t.true(p.isStatelessReset(datagram(tok(0x10))));
  t.false(p.isStatelessReset(datagram(tok(0x20))), 'seq 1 not used yet');
  t.false(p.isStatelessReset(datagram(tok(0x10), 20)), 'shorter than 21 bytes');
  t.false(p.isStatelessReset(datagram(tok(0x33))));
  // Migrate to the spare ID: its token becomes live, the old one is retired.
  const next = p.rotate();
  t.is(next?.seq, 1);
  t.is(p.current.seq, 1);
  t.true(p.isStatelessReset(datagram(tok(0x20))));
  t.false(p.isStatelessReset(datagram(tok(0x10))), 'retired');
  t.is(p.pollRetireConnectionId(), 0);
  t.deepEqual(p.liveResetTokens(), [tok(0x20)]);
  t.is(p.rotate(), null, 'no spare left');
});

test('takeUnused hands out spare IDs for probing', (t) => {
  const p = new PeerCids({ initialCid: cid(1), activeLimit: 4 });
  p.onNewConnectionId(1, 0, cid(2), tok(2));
  p.onNewConnectionId(2, 0, cid(3), tok(3));
  t.is(p.takeUnused()?.seq, 1);
  t.is(p.takeUnused()?.seq, 2);
  t.is(p.takeUnused(), null);
  t.is(p.current.seq, 0);
  p.retire(0);
  t.not(p.current.seq, 0);
  t.is(p.pollRetireConnectionId(), 0);
});

test('too many retirements awaiting acknowledgement → CONNECTION_ID_LIMIT_ERROR', (t) => {
  const p = new PeerCids({ initialCid: cid(1), activeLimit: 2 });
  let seq = 1;
  const err = code(t, () => {
    for (;;) {
      p.onNewConnectionId(seq, seq, cid((seq % 250) + 2), tok(seq & 0xff));
      seq++;
    }
  });
  t.is(err, E.CONNECTION_ID_LIMIT_ERROR);
  t.true(seq > 8, 'at least 2 × the limit is tolerated');
});
