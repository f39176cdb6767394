// Connection ID bookkeeping (RFC 9000 §5.1, §19.15, §19.16, §10.3.1) on its own.
import test from 'ava';
import { TransportError, TransportErrorCode } from '../../src/codec/errors.js';
import { LocalCids, PeerCids } from '../../src/connection/cids.js';
import type { CidGenerator } from '../../src/connection/index.js';

const tok = (n: number): Uint8Array => new Uint8Array(16).fill(n);
const cid = (n: number): Uint8Array => new Uint8Array(8).fill(n);

function code(fn: () => void): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof TransportError) return e.errorCode;
    throw e;
  }
  return -1;
}

test('PeerCids: NEW_CONNECTION_ID rules and errors', (t) => {
  const p = new PeerCids(cid(1), 4);
  p.onNewCid(1, 0, cid(2), tok(2));
  p.onNewCid(1, 0, cid(2), tok(2)); // an identical repeat is fine
  t.is(code(() => p.onNewCid(1, 0, cid(3), tok(3))), TransportErrorCode.PROTOCOL_VIOLATION, 'same sequence, other CID');
  t.is(code(() => p.onNewCid(5, 0, cid(2), tok(2))), TransportErrorCode.PROTOCOL_VIOLATION, 'same CID, other sequence');
  p.onNewCid(2, 0, cid(4), tok(4));
  p.onNewCid(3, 0, cid(5), tok(5));
  t.is(code(() => p.onNewCid(4, 0, cid(6), tok(6))), TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, 'a fifth active CID');
});

test('PeerCids: retire_prior_to retires older CIDs, switches away from a retired active one', (t) => {
  const p = new PeerCids(cid(1), 4);
  p.onNewCid(1, 0, cid(2), tok(2));
  p.onNewCid(2, 2, cid(3), tok(3));
  t.deepEqual(p.retirePending.sort(), [0, 1]);
  t.is(p.active.seq, 2);
  // A late NEW_CONNECTION_ID below retire_prior_to is retired at once.
  p.onNewCid(1, 0, cid(2), tok(2));
  t.is(p.entries.length, 1);
  t.true(p.rotate() === false, 'no spare CID');
});

test('PeerCids: stateless reset detection only for tokens of CIDs in use', (t) => {
  const p = new PeerCids(cid(1), 4);
  p.setInitialResetToken(tok(9));
  p.onNewCid(1, 0, cid(2), tok(7));
  const d = new Uint8Array(40);
  d[0] = 0x45;
  d.set(tok(9), 24);
  t.true(p.isStatelessReset(d));
  d.set(tok(7), 24);
  t.false(p.isStatelessReset(d), 'seq 1 is not used yet');
  t.true(p.rotate());
  t.true(p.isStatelessReset(d));
  t.false(p.isStatelessReset(d.subarray(0, 20)), 'too short to be a reset');
});

test('PeerCids: a peer cycling CIDs faster than they can be retired is a CONNECTION_ID_LIMIT_ERROR', (t) => {
  const p = new PeerCids(cid(1), 2);
  let err = -1;
  for (let s = 1; s < 100 && err < 0; s++) err = code(() => p.onNewCid(s, s, cid(s + 1), tok(s)));
  t.is(err, TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
});

test('LocalCids: issue up to the limit, RETIRE_CONNECTION_ID rules', (t) => {
  let n = 10;
  const gen: CidGenerator = { length: 8, generate: () => ({ cid: cid(++n), resetToken: tok(n) }) };
  const l = new LocalCids(gen);
  l.limit = 3;
  l.topUp();
  t.is(l.activeCount(), 3);
  t.deepEqual(l.pending, [1, 2]);
  t.is(l.issuedEvents.length, 2);
  t.is(code(() => l.onRetire(7, cid(0))), TransportErrorCode.PROTOCOL_VIOLATION, 'never issued');
  t.is(code(() => l.onRetire(1, l.get(1)!.cid)), TransportErrorCode.PROTOCOL_VIOLATION, 'retires the CID it arrived with');
  l.onRetire(1, l.initial.cid);
  t.false(l.has(l.get(1)!.cid));
  t.deepEqual(l.retiredEvents.map((c) => c[0]), [12]);
  l.topUp();
  t.is(l.activeCount(), 3);
  l.onRetire(1, l.initial.cid); // twice: ignored
  t.is(l.activeCount(), 3);
});

test('LocalCids: zero-length CIDs are never issued', (t) => {
  const gen: CidGenerator = { length: 0, generate: () => ({ cid: new Uint8Array(0), resetToken: tok(1) }) };
  const l = new LocalCids(gen);
  l.limit = 4;
  l.topUp();
  t.is(l.activeCount(), 1);
});

test('LocalCids: the generator hears of each retirement once (cidGenerator.retire, the endpoint routing hook)', (t) => {
  let n = 20;
  const retired: number[] = [];
  const gen: CidGenerator = { length: 8, generate: () => ({ cid: cid(++n), resetToken: tok(n) }), retire: (c) => retired.push(c[0]!) };
  const l = new LocalCids(gen);
  l.limit = 3;
  l.topUp();
  l.onRetire(2, l.initial.cid);
  l.onRetire(2, l.initial.cid); // a repeat is not a second retirement
  l.onRetire(1, l.initial.cid);
  t.deepEqual(retired, [23, 22]);
});
