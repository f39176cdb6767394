// Scenario (issue 5, fast-check clause on live connections): while two clients download, random
// and mutated datagrams (bit flips, truncations, replays, random bytes, spoofed sources) are fed to
// both endpoints. Nothing throws out of handle(), and both transfers complete byte-exact: garbage
// aimed at one connection never affects the other (and mutated packets are dropped, not accepted).
import test from 'ava';
import { SeededRandom } from '../../src/crypto/random.js';
import type { PathInfo } from '../../src/endpoint/index.js';
import { World, scenarioSeeds } from '../support/world.js';

for (const seed of scenarioSeeds([1, 2, 3])) {
  test(`garbage and mutated datagrams during two live transfers (seed ${seed})`, (t) => {
    const w = new World({ seed, clients: 2, up: { delay: 5, jitter: 1 }, down: { delay: 5, jitter: 1 } });
    t.true(w.handshake(3000));
    const [c1, c2] = w.transfer(Array.from({ length: 4 }, () => ({ upload: 50_000, download: 150_000 })));
    const rng = new SeededRandom(seed ^ 0x5eed);
    const captured: Array<{ data: Uint8Array; from: PathInfo; toServer: boolean; client: number }> = [];
    w.net.tap((kind, data, from, to) => {
      if (kind !== 'deliver' || captured.length > 400) return;
      const toServer = to.port === 443;
      const clientPort = toServer ? from.port : to.port;
      captured.push({ data: data.slice(), from: { remoteAddress: from.address, remotePort: from.port }, toServer, client: clientPort === w.clients[0]!.external.port ? 0 : 1 });
    });
    let injected = 0;
    const inject = (): void => {
      for (let k = 0; k < 5; k++) {
        const kind = rng.below(6);
        const now = w.net.now;
        if (kind === 0 || captured.length === 0) {
          const d = rng.randomBytes(1 + rng.below(1400));
          if (rng.below(2) === 0) d[0] = d[0]! & 0x7f; // short header form
          const ep = rng.below(2) === 0 ? w.server.endpoint : w.clients[rng.below(2)]!.endpoint;
          ep.handle(d, { remoteAddress: `198.51.100.${rng.below(255)}`, remotePort: rng.below(65536) }, now);
        } else {
          const src = captured[rng.below(captured.length)]!;
          let d = src.data.slice();
          if (kind === 1) for (let i = 0; i < 1 + rng.below(4); i++) d[rng.below(d.length)] ^= 1 + rng.below(255);
          else if (kind === 2) d = d.slice(0, rng.below(d.length));
          else if (kind === 3) d[rng.below(Math.min(d.length, 30))] ^= 1 << rng.below(8); // header bit flip
          // kind 4: exact replay; kind 5: replay from a spoofed source
          const from: PathInfo = kind === 5 ? { remoteAddress: '203.0.113.66', remotePort: 999 } : src.from;
          const ep = src.toServer ? w.server.endpoint : w.clients[src.client]!.endpoint;
          if (kind === 5 && !src.toServer) continue; // the clients' peer is only the server
          ep.handle(d, from, now);
        }
        injected++;
      }
    };
    for (let ms = 20; ms < 3000; ms += 7) w.net.at(w.net.start + w.net.elapsed + ms, inject);
    t.true(w.runTransfers(60_000), w.summary());
    t.deepEqual(w.errors(), [], w.summary());
    t.true(c1!.done && c2!.done);
    t.is(c1!.bytesDownloaded, 600_000);
    t.is(c2!.bytesDownloaded, 600_000);
    t.is(w.app.bytesUploaded, 400_000);
    t.true(injected > 500, `${injected} injected`);
    for (const c of w.conns) t.is(c.state, 'established');
    const st = w.server.endpoint.stats;
    t.true(st.datagramsDropped > 0);
  });
}
