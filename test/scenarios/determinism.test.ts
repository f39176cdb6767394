// The scenario harness is deterministic for a seed: the same World run twice produces the same
// datagram trace (time, direction, size of every datagram), a different seed a different one.
import test from 'ava';
import { createHash } from 'node:crypto';
import { World } from '../support/world.js';

function trace(seed: number): { digest: string; elapsed: number } {
  const link = { loss: 0.05, lossBurst: 2, corrupt: 0.02, jitter: 3, reorder: 0.02 };
  const w = new World({ seed, up: link, down: link });
  const h = createHash('sha256');
  w.net.tap((kind, d, from, to, time) => h.update(`${kind}${from.port}${to.port}${time}${d.length}|`));
  w.handshake(10_000);
  w.transfer([{ upload: 100_000, download: 300_000 }]);
  w.runTransfers(60_000);
  return { digest: h.digest('hex'), elapsed: w.net.elapsed };
}

test('same seed → identical datagram trace; another seed → another trace', (t) => {
  const a = trace(5);
  const b = trace(5);
  const c = trace(6);
  t.deepEqual(a, b);
  t.not(a.digest, c.digest);
});
