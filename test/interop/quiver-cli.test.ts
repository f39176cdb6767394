// The Quiver-CLI harness (quiver-cli.ts) exercised now, before the real CLI exists, through a
// stand-in script that speaks the CLI contract (`serve DIR --host H --port P --cert F --key F`,
// `get URL -o FILE -k [-X M -d @F]`) by running the ngtcp2 peers. It proves what the interop
// cases and the benchmark rely on: readiness when the UDP socket belongs to a child process, the
// `get` exit status and -o output, and PID cleanup.
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MB, Scope, judgeFile, livePids, makeCert, makeWww, pickFreeUdpPort, processBoundUdp, processTree, requirePeer } from './peers.js';
import { runQuiverGet, startQuiverServe } from './quiver-cli.js';

const STAND_IN = `
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
const a = process.argv.slice(2);
const opt = (n) => (a.includes(n) ? a[a.indexOf(n) + 1] : undefined);
if (a[0] === 'serve') {
  const c = spawn('${'/usr/sbin/gtlsserver'}', ['-q', '-d', a[1], opt('--host'), opt('--port'), opt('--key'), opt('--cert')], { stdio: 'inherit' });
  process.on('SIGTERM', () => { c.kill('SIGTERM'); c.on('exit', () => process.exit(0)); });
  c.on('exit', (code) => process.exit(code ?? 1));
} else if (a[0] === 'get') {
  const u = new URL(a[1]);
  const d = mkdtempSync(join(tmpdir(), 'quiver-stand-in-'));
  const extra = [];
  if (opt('-X')) extra.push('-m', opt('-X'));
  if (opt('-d')) extra.push('-d', opt('-d').replace(/^@/, ''));
  spawnSync('${'/usr/bin/gtlsclient'}', ['-q', '--exit-on-all-streams-close', '--download', d, ...extra, u.hostname, u.port, a[1]], { stdio: 'inherit' });
  const f = join(d, basename(u.pathname));
  if (!existsSync(f)) process.exit(1);
  renameSync(f, opt('-o'));
} else process.exit(2);
`;

const scope = new Scope();
test.after.always(async () => {
  await scope.close();
});

test('stand-in CLI: serve becomes ready through its child; get downloads and uploads; a hung get is killed with its child', async (t) => {
  requirePeer('gtlsclient');
  requirePeer('gtlsserver');
  const dir = scope.tempDir('quiver-cli-harness-');
  const cli = join(dir, 'stand-in.mjs');
  writeFileSync(cli, STAND_IN);
  const www = makeWww(join(dir, 'www'), { '1mb.bin': MB });
  const cert = makeCert(dir);
  const srv = await startQuiverServe(scope, { cli, www: www.dir, cert });
  t.true(processBoundUdp(srv.pid, srv.host, srv.port), 'socket found in the process tree');
  const f = www.files.get('1mb.bin')!;
  const okGet = await runQuiverGet(scope, { cli, url: `https://127.0.0.1:${srv.port}/1mb.bin`, out: join(dir, 'got.bin') });
  t.is(okGet.code, 0);
  t.true((await judgeFile(okGet.out, f)).ok);
  const post = await runQuiverGet(scope, { cli, url: `https://127.0.0.1:${srv.port}/1mb.bin`, out: join(dir, 'post.bin'), extraArgs: ['-X', 'POST', '-d', `@${f.path}`] });
  t.is(post.code, 0);
  t.true((await judgeFile(post.out, f)).ok);
  // Nothing listening: killed by PID at the timeout, together with the client it spawned.
  const port = await pickFreeUdpPort();
  const hung = await runQuiverGet(scope, { cli, url: `https://127.0.0.1:${port}/1mb.bin`, out: join(dir, 'hung.bin'), timeoutMs: 800 });
  t.true(hung.timedOut);
  t.false(existsSync(hung.out));
  const tree = processTree(srv.pid);
  t.true(tree.length >= 2, 'serve runs gtlsserver as a child');
  await srv.stop();
  t.false(livePids().includes(srv.pid));
  t.false(tree.some((p) => { try { process.kill(p, 0); return true; } catch { return false; } }), 'no process of the tree survives');
});
