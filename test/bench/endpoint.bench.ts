// Endpoint cost per datagram before a connection runs (RFC 9000 §5.2 routing, §10.3 stateless
// reset, §6 VN, §8.1 Retry/tokens): routing a short header to a live CID (the hot path, next to a
// bare Map lookup of the same key as the peer), answering unknown CIDs with resets, VN, Retry
// tokens minted and validated. Stand-in connections: this measures the endpoint, not decryption.
import { Endpoint, type PathInfo } from '../../src/endpoint/index.js';
import { cidKey } from '../../src/endpoint/cid.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { AddressTokens } from '../../src/endpoint/tokens.js';
import type { ConnectionOptions } from '../../src/connection/index.js';
import type { ConnectionState, SendInfo } from '../../src/connection/types.js';
import { buildClientInitial, buildShort, buildUnknownVersion } from '../support/packets.js';

let sink = 0;

class Sink {
  state: ConnectionState = 'established';
  readonly cids: Uint8Array[] = [];
  constructor(o: ConnectionOptions) {
    this.cids.push(o.localCid!.cid);
    for (let i = 0; i < 3; i++) this.cids.push(o.cidGenerator!.generate().cid);
  }
  receive(d: Uint8Array): void {
    sink += d.length;
  }
  send(): SendInfo | null {
    return null;
  }
  nextTimeout(): number {
    return Infinity;
  }
  onTimeout(): void {}
}

function measure(iters: number, fn: (i: number) => void): number {
  const rounds = 5;
  const results: number[] = [];
  for (let i = 0; i < iters >> 3; i++) fn(i);
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn(i);
    results.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  results.sort((a, b) => a - b);
  return results[rounds >> 1]!;
}

export async function run(): Promise<void> {
  const conns: Sink[] = [];
  const ep = new Endpoint<Sink>({
    rng: new SeededRandom(1),
    server: { alpn: ['h3'] },
    connectionFactory: (o) => {
      const c = new Sink(o);
      conns.push(c);
      return c;
    },
    statelessResetRate: 1e12,
    statelessResetBurst: 1e12,
    maxQueuedPackets: 1 << 30,
  });
  const from: PathInfo = { remoteAddress: '192.0.2.1', remotePort: 4433 };
  const T = 1_700_000_000_000;
  const N = 2000;
  for (let i = 0; i < N; i++) {
    const dcid = new Uint8Array(8);
    dcid[0] = i >> 8;
    dcid[1] = i & 0xff;
    dcid[7] = 0x99;
    ep.handle(buildClientInitial({ dcid, scid: dcid }), { remoteAddress: `10.0.${i >> 8}.${i & 0xff}`, remotePort: 5000 }, T);
  }
  const shorts = conns.map((c) => buildShort(c.cids[2]!, 1200));
  const froms = conns.map((_, i) => ({ remoteAddress: `10.0.${i >> 8}.${i & 0xff}`, remotePort: 5000 }));
  const map = new Map<string, Sink>();
  conns.forEach((c) => map.set(cidKey(c.cids[2]!), c));
  const buf = new Uint8Array(1500);
  const drain = (): void => {
    while (ep.sendEndpointPacket(buf) !== null) sink++;
  };

  const rows: [string, number][] = [];
  rows.push([`route short header to a live CID (${N} connections)`, measure(200_000, (i) => void ep.handle(shorts[i % N]!, froms[i % N]!, T))]);
  rows.push(['peer: Map.get(cidKey(dcid)) alone', measure(200_000, (i) => void (sink += map.get(cidKey(shorts[i % N]!.subarray(1, 9))) ? 1 : 0))]);
  const unknown = buildShort(new Uint8Array(8).fill(0xee), 100);
  rows.push(['unknown CID → stateless reset (HMAC + random)', measure(20_000, () => {
    ep.handle(unknown, from, T);
    drain();
  })]);
  const vn = buildUnknownVersion(0x1a2a3a4a, new Uint8Array(8).fill(1), new Uint8Array(8).fill(2), 1200);
  rows.push(['unknown version → Version Negotiation', measure(20_000, () => {
    ep.handle(vn, from, T);
    drain();
  })]);
  const tokens = new AddressTokens(new SeededRandom(2));
  const odcid = new Uint8Array(8).fill(3);
  const rscid = new Uint8Array(8).fill(4);
  const token = tokens.mintRetry('192.0.2.1', 4433, odcid, rscid, T);
  rows.push(['Retry token mint (AES-256-GCM)', measure(20_000, () => void (sink += tokens.mintRetry('192.0.2.1', 4433, odcid, rscid, T).length))]);
  rows.push(['Retry token validate', measure(20_000, () => void (sink += tokens.validate(token, '192.0.2.1', 4433, rscid, T).ok ? 1 : 0))]);
  const retryEp = new Endpoint<Sink>({ rng: new SeededRandom(3), server: { alpn: ['h3'] }, retry: 'always', connectionFactory: (o) => new Sink(o), maxQueuedPackets: 1 << 30 });
  const init = buildClientInitial({ dcid: new Uint8Array(8).fill(5), scid: new Uint8Array(8).fill(6) });
  rows.push(['new Initial → Retry (token + integrity tag)', measure(5_000, () => {
    retryEp.handle(init, from, T);
    while (retryEp.sendEndpointPacket(buf) !== null) sink++;
  })]);

  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'operation'.padEnd(w)}  ns/datagram`);
  for (const [name, ns] of rows) console.log(`${name.padEnd(w)}  ${ns.toFixed(0).padStart(8)}`);
  if (sink === -1) console.log('');
}
