// SSLKEYLOGFILE sink (src/io/keylog.ts): NSS key log lines appended in order, one fd per file per
// process, mode 0600, SSLKEYLOGFILE honoured, misuse rejected, I/O errors counted not thrown.
import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAllKeyLogs, keyLogSink, openKeyLog } from '../../src/io/keylog.js';
import { keyLogLine, KeyLogLabel } from '../../src/tls/keylog.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'quiver-keylog-'));
  dirs.push(d);
  return d;
}
test.after.always(() => {
  closeAllKeyLogs();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fdsFor(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

const random = new Uint8Array(32).map((_, i) => i);
const secret = new Uint8Array(32).fill(0xab);

test.serial('two connections share one fd; lines land in order, newline-terminated, mode 0600', (t) => {
  const path = join(tmp(), 'keys.log');
  const a = keyLogSink(path)!;
  const b = keyLogSink(path)!;
  const lines: string[] = [];
  for (let i = 0; i < 50; i++) {
    const l = keyLogLine(i % 2 ? KeyLogLabel.clientTraffic0 : KeyLogLabel.serverTraffic0, random, secret.map((x) => x ^ i));
    lines.push(l);
    (i % 2 ? a : b)(l);
  }
  t.is(fdsFor(path), 1);
  t.is(readFileSync(path, 'utf8'), lines.map((l) => `${l}\n`).join(''));
  t.is(statSync(path).mode & 0o777, 0o600);
  t.is(openKeyLog(path).lines, 50);
  t.regex(lines[0]!, /^SERVER_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$/);
});

test.serial('SSLKEYLOGFILE from the environment; appends to existing content; false and unset disable', (t) => {
  const path = join(tmp(), 'env.log');
  writeFileSync(path, '# existing\n');
  const sink = keyLogSink(undefined, { SSLKEYLOGFILE: path })!;
  sink(`${KeyLogLabel.clientHandshake} ${'00'.repeat(32)} ${'11'.repeat(32)}\n`); // trailing LF accepted
  t.is(readFileSync(path, 'utf8'), `# existing\nCLIENT_HANDSHAKE_TRAFFIC_SECRET ${'00'.repeat(32)} ${'11'.repeat(32)}\n`);
  t.is(keyLogSink(false, { SSLKEYLOGFILE: path }), undefined);
  t.is(keyLogSink(undefined, {}), undefined);
  const fn = (_l: string) => undefined;
  t.is(keyLogSink(fn, { SSLKEYLOGFILE: path }), fn);
});

test.serial('misuse throws TypeError naming the argument; closing and reopening starts a new fd', (t) => {
  const path = join(tmp(), 'misuse.log');
  const f = openKeyLog(path);
  t.throws(() => f.write('A\nB'), { instanceOf: TypeError, message: /line/ });
  t.throws(() => f.write(''), { instanceOf: TypeError, message: /line/ });
  t.throws(() => f.write(42 as unknown as string), { instanceOf: TypeError, message: /line/ });
  t.throws(() => keyLogSink(42 as unknown as string), { instanceOf: TypeError, message: /options\.keylog/ });
  t.throws(() => openKeyLog(''), { instanceOf: TypeError, message: /path/ });
  const sink = keyLogSink(path)!;
  f.close();
  t.true(f.closed);
  t.is(fdsFor(path), 0);
  sink('EXPORTER_SECRET 00 11');
  t.is(fdsFor(path), 1);
  t.is(readFileSync(path, 'utf8'), 'EXPORTER_SECRET 00 11\n');
  t.not(openKeyLog(path), f);
});

test.serial('an unwritable path fails at setup, not per line', (t) => {
  t.throws(() => keyLogSink(join(tmp(), 'missing-dir', 'keys.log')), { code: 'ENOENT' });
});
