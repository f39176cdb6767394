// Interop harness self-test (issue 7): ngtcp2's gtlsclient against ngtcp2's gtlsserver through
// test/interop/peers.ts. No Quiver protocol code is involved (only Quiver's self-signed certificate),
// so a failure here is a harness or machine problem — and a missing peer FAILS here, by design.
// Each case also proves the evidence parser the Quiver interop cases will rely on (Retry, VN, v2
// draft, 0-RTT, key update, migration), by seeing the expected evidence between two ngtcp2s.
import test from 'ava';
import { existsSync } from 'node:fs';
import { UdpRelay, amplificationCheck, type TapRecord } from '../support/udp-relay.js';
import { join } from 'node:path';
import {
  MB,
  PEERS,
  Scope,
  clientFacts,
  judgeDownload,
  livePids,
  makeCert,
  makeWww,
  pickFreeUdpPort,
  requirePeer,
  runGtlsClient,
  serverStreamFinOffset,
  startGtlsServer,
  type CertFiles,
  type GtlsServer,
  type Www,
} from './peers.js';

const scope = new Scope();
let www: Www;
let cert: CertFiles;
let server: GtlsServer;

test.before(async () => {
  requirePeer('gtlsclient');
  requirePeer('gtlsserver');
  const dir = scope.tempDir('quiver-ngtcp2-self-');
  www = makeWww(join(dir, 'www'), { '1mb.bin': MB, '10mb.bin': 10 * MB });
  cert = makeCert(dir);
  server = await startGtlsServer(scope, { www: www.dir, cert });
});

let bigCert: CertFiles | undefined;
/**
 * A certificate of ~4.5 KB (200 SAN DNS names): the server's first flight then needs more than
 * 3 × 1200 bytes, so the anti-amplification limit binds. (GnuTLS drops extra certificates that do not
 * chain, so a long SAN list is the way to grow the Certificate message.)
 */
function bigSanCert(): CertFiles {
  bigCert ??= makeCert(scope.tempDir('quiver-bigcert-'), ['localhost', '127.0.0.1', ...Array.from({ length: 200 }, (_, i) => `host-${i}.quiver-interop.test`)]);
  return bigCert;
}

function file(name: string) {
  const f = www.files.get(name);
  if (!f) throw new Error(`no ${name}`);
  return f;
}

test('peers are installed where the harness looks for them', (t) => {
  for (const name of ['gtlsclient', 'gtlsserver'] as const) t.is(requirePeer(name), PEERS[name].path);
});

test('a missing peer fails with the install command', (t) => {
  const saved = process.env['CHROMIUM_PATH'];
  process.env['CHROMIUM_PATH'] = '/nonexistent/chromium';
  try {
    const e = t.throws(() => requirePeer('chromium'));
    t.regex(e!.message, /apt-get install -y chromium/);
  } finally {
    if (saved === undefined) delete process.env['CHROMIUM_PATH'];
    else process.env['CHROMIUM_PATH'] = saved;
  }
});

test('gtlsclient downloads 1 MB and 10 MB from gtlsserver (sha256)', async (t) => {
  const r = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin', '/10mb.bin'] });
  for (const name of ['1mb.bin', '10mb.bin']) {
    const j = await judgeDownload(r, file(name));
    t.true(j.ok, `${name}: ${j.reason}`);
  }
  t.log(`1 MB + 10 MB in one connection: ${r.ms.toFixed(0)} ms`);
});

test('POST 1 MB upload: server received the whole body before answering', async (t) => {
  const s = await startGtlsServer(scope, { www: www.dir, cert, verbose: true });
  const r = await runGtlsClient(scope, { port: s.port, paths: ['/1mb.bin'], method: 'POST', dataFile: file('1mb.bin').path });
  const j = await judgeDownload(r, file('1mb.bin'));
  t.true(j.ok, j.reason);
  const end = serverStreamFinOffset(s.log(), 0);
  // HEADERS frame + DATA frame header(s) + 1 MB body, all acknowledged by a FIN before the response.
  t.true(end >= MB && end < MB + 4096, `request stream FIN at ${end}`);
  await s.stop();
});

test('a judgement never trusts the exit status: nothing listening → killed by PID at the timeout, no file', async (t) => {
  const port = await pickFreeUdpPort();
  const r = await runGtlsClient(scope, { port, paths: ['/1mb.bin'], timeoutMs: 400 });
  t.true(r.timedOut);
  const j = await judgeDownload(r, file('1mb.bin'));
  t.false(j.ok);
  t.false(existsSync(join(r.downloadDir, '1mb.bin')) && j.size === MB);
});

test('Retry (gtlsserver -V): client log shows the Retry, content matches', async (t) => {
  const s = await startGtlsServer(scope, { www: www.dir, cert, retry: true });
  const r = await runGtlsClient(scope, { port: s.port, paths: ['/1mb.bin'], verbose: true });
  t.true((await judgeDownload(r, file('1mb.bin'))).ok);
  t.true(clientFacts(r.log).retryReceived);
  await s.stop();
});

test('Version Negotiation (-v 0x1a2a3a4a --preferred-versions v1) and v2 draft (-v v2draft)', async (t) => {
  const vn = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], verbose: true, extraArgs: ['--version=0x1a2a3a4a', '--preferred-versions=v1'] });
  t.true((await judgeDownload(vn, file('1mb.bin'))).ok);
  const f = clientFacts(vn.log);
  t.true(f.versionNegotiationReceived);
  t.is(f.negotiatedVersion, 1);
  const v2 = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], verbose: true, extraArgs: ['--version=v2draft'] });
  t.true((await judgeDownload(v2, file('1mb.bin'))).ok);
  t.is(clientFacts(v2.log).negotiatedVersion, 0x709a50c4);
});

test('resumption + 0-RTT (--session-file/--tp-file twice): second run sends 0-RTT, not rejected', async (t) => {
  const dir = scope.tempDir();
  const extraArgs = [`--session-file=${join(dir, 'session.pem')}`, `--tp-file=${join(dir, 'tp.txt')}`];
  const first = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], verbose: true, extraArgs });
  t.true((await judgeDownload(first, file('1mb.bin'))).ok);
  t.is(clientFacts(first.log).zeroRttPacketsSent, 0);
  t.true(existsSync(join(dir, 'session.pem')) && existsSync(join(dir, 'tp.txt')));
  const second = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], verbose: true, extraArgs });
  t.true((await judgeDownload(second, file('1mb.bin'))).ok);
  const f = clientFacts(second.log);
  t.true(f.zeroRttPacketsSent > 0, 'no 0-RTT packet sent');
  t.false(f.earlyDataRejected);
});

test('key update (--key-update 5ms) and 5% loss each way (-t 0.05 -r 0.05)', async (t) => {
  const ku = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], verbose: true, extraArgs: ['--key-update=5ms'] });
  t.true((await judgeDownload(ku, file('1mb.bin'))).ok);
  t.true(clientFacts(ku.log).keyUpdateInitiated);
  t.true(clientFacts(ku.log).keyUpdateConfirmed > 0);
  const loss = await runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], extraArgs: ['--tx-loss=0.05', '--rx-loss=0.05'] });
  const j = await judgeDownload(loss, file('1mb.bin'));
  t.true(j.ok, j.reason);
});

test('migration: --change-local-addr on a download; --nat-rebinding needs an upload in flight', async (t) => {
  const mig = await runGtlsClient(scope, { port: server.port, paths: ['/10mb.bin'], verbose: true, extraArgs: ['--change-local-addr=5ms'] });
  t.true((await judgeDownload(mig, file('10mb.bin'))).ok);
  const fm = clientFacts(mig.log);
  t.true(fm.localPorts.size >= 2 && fm.pathChallengesSent > 0, `ports ${[...fm.localPorts]} challenges ${fm.pathChallengesSent}`);
  // See peers.ts: a pure download with --nat-rebinding deadlocks gtlsclient 0.12.1 itself.
  const nat = await runGtlsClient(scope, {
    port: server.port,
    paths: ['/1mb.bin'],
    verbose: true,
    method: 'POST',
    dataFile: file('10mb.bin').path,
    extraArgs: ['--change-local-addr=5ms', '--nat-rebinding'],
  });
  t.true((await judgeDownload(nat, file('1mb.bin'))).ok);
  t.true(clientFacts(nat.log).localPorts.size >= 2);
});

test('through the project relay: 5% loss each way (seeded), 1 MB download', async (t) => {
  const s = await startGtlsServer(scope, { www: www.dir, cert, maxGsoDgrams: 1 });
  const relay = await UdpRelay.start({ target: { host: s.host, port: s.port }, seed: 42, both: { loss: 0.05 } });
  scope.defer(() => relay.close());
  const r = await runGtlsClient(scope, { port: relay.port, paths: ['/1mb.bin'], authority: `127.0.0.1:${relay.port}` });
  const j = await judgeDownload(r, file('1mb.bin'));
  t.true(j.ok, j.reason);
  const st = relay.stats;
  t.true(st.toClient.droppedLoss > 0 && st.toServer.droppedLoss >= 0);
  t.log(`relay: to-server ${st.toServer.received} rx / ${st.toServer.droppedLoss} lost; to-client ${st.toClient.received} rx / ${st.toClient.droppedLoss} lost; ${r.ms.toFixed(0)} ms`);
  await relay.close();
  await s.stop();
});

test('through the project relay: NAT rebinding of the client mid-transfer of a 10 MB download', async (t) => {
  const s = await startGtlsServer(scope, { www: www.dir, cert, maxGsoDgrams: 1 });
  // Tied to progress, not time: gtlsserver 0.12.1 ignores a client whose address changes before the
  // handshake is confirmed (measured: its Handshake Finished from the new port is dropped, the
  // connection idles out), and a time trigger can land there on a loaded machine.
  const relay = await UdpRelay.start({ target: { host: s.host, port: s.port }, rebindAfterToClient: 1500 });
  scope.defer(() => relay.close());
  const r = await runGtlsClient(scope, { port: relay.port, paths: ['/10mb.bin'] });
  const j = await judgeDownload(r, file('10mb.bin'));
  t.true(j.ok, j.reason);
  t.is(relay.stats.rebinds, 1);
  t.is(relay.upstreamPorts()[0]?.length, 2);
  t.log(`rebinding: ${relay.stats.toClient.droppedOldBinding} server datagrams hit the old binding; ${r.ms.toFixed(0)} ms`);
  await relay.close();
  await s.stop();
});

test('anti-amplification (RFC 9000 §8.1): gtlsserver stays within 3× while the client\'s datagrams 2-4 are dropped', async (t) => {
  // In the spirit of quic-interop-runner's "amplificationlimit" case, with a certificate too large
  // for 3 × 1200 bytes so the limit actually binds. Its drop list (2-7) costs the client 63 PTOs
  // (1+2+…+32); with a first RTT sample of ~60 ms on a loaded machine that is ~12 s, past
  // gtlsserver's 10 s handshake timeout (measured). Dropping 2-4 holds the server at its limit
  // for the same flight and costs 7 PTOs.
  const s = await startGtlsServer(scope, { www: www.dir, cert: bigSanCert(), maxGsoDgrams: 1, extraArgs: ['--handshake-timeout=40s'] });
  const taps: TapRecord[] = [];
  const relay = await UdpRelay.start({ target: { host: s.host, port: s.port }, toServer: { dropList: [2, 3, 4] }, tap: (r) => taps.push(r) });
  scope.defer(() => relay.close());
  const r = await runGtlsClient(scope, { port: relay.port, paths: ['/1mb.bin'], authority: `127.0.0.1:${relay.port}`, verbose: true, extraArgs: ['--handshake-timeout=40s', '--timeout=40s'], timeoutMs: 45_000 });
  const j = await judgeDownload(r, file('1mb.bin'));
  if (!j.ok) for (const x of taps.slice(0, 30)) t.log(`${x.dir} #${x.index} ${x.length} B ${x.fate} at ${x.at.toFixed(1)} 0x${x.firstByte.toString(16)}`);
  t.true(j.ok, `${j.reason}; logs ${r.logPath} ${s.logPath}`);
  const a = amplificationCheck(taps);
  t.log(`before validation: server sent ${a.sentBeforeValidation} B for ${a.receivedBeforeValidation} B received (max ratio ${a.maxRatio.toFixed(2)}); validated at client datagram #${a.validatedAtIndex}`);
  t.true(a.ok, `sent ${a.sentBeforeValidation} B for ${a.receivedBeforeValidation} B`);
  // The case is meaningful only if the server's first flight cannot fit in 3 × 1200 bytes: check the
  // certificate itself (deterministic). How close gtlsserver then comes to 3× before the client's
  // next datagram arrives depends on its pacing and the machine's timing (2× seen under load), so
  // the observed ratio is logged above, not asserted.
  const certDer = Buffer.from(bigSanCert().certPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  t.true(certDer.length > 3 * 1200, `certificate of ${certDer.length} B fits in 3 × 1200 B: the limit would not bind`);
  t.true(a.maxRatio > 1, 'the server sent nothing before validation');
  t.not(a.validatedAtIndex, null);
  await relay.close();
  await s.stop();
});

test.after.always('every peer process started here is gone after close()', async (t) => {
  await scope.close();
  t.deepEqual(livePids(), []);
});
