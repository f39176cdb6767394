// `quiver` argument parsing: defaults, every flag, and usage errors naming the flag.
import test from 'ava';
import { parseGet, parseServe, UsageError } from '../../src/cli/args.js';

test('serve defaults: localhost:4433, metrics on 9090, demo site', (t) => {
  const a = parseServe([]);
  t.is(a.dir, undefined);
  t.is(a.host, 'localhost');
  t.is(a.port, 4433);
  t.is(a.metricsPort, 9090);
  t.false(a.retry);
  t.is(a.cert, undefined);
});

test('serve flags', (t) => {
  const a = parseServe(['www', '--host', '::1', '-p', '0', '--cert', 'c.pem', '--key', 'k.pem', '--metrics-port=0', '--retry', '--qlog-dir', 'q', '--keylog', 'k.log', '-q']);
  t.deepEqual(a, { dir: 'www', host: '::1', port: 0, cert: 'c.pem', key: 'k.pem', metricsPort: 0, retry: true,
    workers: 1, qlogDir: 'q', keylog: 'k.log', quiet: true });
  t.is(parseServe(['--no-metrics']).metricsPort, null);
});

test('serve --workers: a count or auto; default 1 (single-threaded)', (t) => {
  t.is(parseServe([]).workers, 1);
  t.is(parseServe(['--workers', '3']).workers, 3);
  t.true(parseServe(['--workers', 'auto']).workers >= 1);
  for (const bad of ['0', '-1', 'x', '257', '1.5']) t.throws(() => parseServe(['--workers', bad]), { instanceOf: UsageError, message: /--workers/ });
});

test('serve usage errors', (t) => {
  t.throws(() => parseServe(['--port', '70000']), { instanceOf: UsageError, message: /--port/ });
  t.throws(() => parseServe(['--port', 'abc']), { instanceOf: UsageError, message: /--port/ });
  t.throws(() => parseServe(['--metrics-port', '-1']), { instanceOf: UsageError });
  t.throws(() => parseServe(['--cert', 'c.pem']), { instanceOf: UsageError, message: /--cert and --key/ });
  t.throws(() => parseServe(['a', 'b']), { instanceOf: UsageError, message: /one directory/ });
  t.throws(() => parseServe(['--bogus']), { instanceOf: UsageError, message: /bogus/ });
});

test('get defaults and flags', (t) => {
  const a = parseGet(['https://localhost:4433/x']);
  t.is(a.url.href, 'https://localhost:4433/x');
  t.is(a.method, 'GET');
  t.false(a.insecure);
  t.is(a.connectTimeout, 10);
  const b = parseGet(['https://h/p', '-o', 'out', '-k', '--cacert', 'ca.pem', '-H', 'X-A: 1', '-H', 'accept:  text/html ', '-d', '@file', '-v', '--fail', '--connect-timeout', '2.5']);
  t.is(b.output, 'out');
  t.true(b.insecure);
  t.is(b.cacert, 'ca.pem');
  t.deepEqual(b.headers, [
    ['x-a', '1'],
    ['accept', 'text/html'],
  ]);
  t.is(b.method, 'POST', '-d implies POST');
  t.is(b.data, '@file');
  t.true(b.verbose);
  t.true(b.fail);
  t.is(b.connectTimeout, 2.5);
  t.is(parseGet(['https://h/', '-I']).method, 'HEAD');
  t.is(parseGet(['https://h/', '-X', 'put', '-d', 'x']).method, 'PUT');
});

test('get usage errors', (t) => {
  t.throws(() => parseGet([]), { instanceOf: UsageError, message: /one URL/ });
  t.throws(() => parseGet(['http://h/']), { instanceOf: UsageError, message: /https/ });
  t.throws(() => parseGet(['nope']), { instanceOf: UsageError, message: /not a URL/ });
  t.throws(() => parseGet(['https://h/', '-H', 'novalue']), { instanceOf: UsageError, message: /--header/ });
  t.throws(() => parseGet(['https://h/', '-H', 'bad name: v']), { instanceOf: UsageError, message: /--header/ });
  t.throws(() => parseGet(['https://h/', '-X', 'G E T']), { instanceOf: UsageError, message: /--request/ });
  t.throws(() => parseGet(['https://h/', '--connect-timeout', '0']), { instanceOf: UsageError, message: /--connect-timeout/ });
});

test('get: --version, --session-file, --key-update', (t) => {
  const a = parseGet(['https://h/', '--version', 'v2draft', '--session-file', 's.json', '--key-update', '5ms']);
  t.is(a.version, 0x709a50c4);
  t.is(a.sessionFile, 's.json');
  t.is(a.keyUpdate, 5);
  t.is(parseGet(['https://h/', '--version', 'v2']).version, 0x6b3343cf);
  t.is(parseGet(['https://h/', '--version', '0x00000001']).version, 1);
  t.is(parseGet(['https://h/']).version, undefined);
  t.throws(() => parseGet(['https://h/', '--version', 'v9']), { instanceOf: UsageError, message: /--version/ });
  // An unsupported version is a probe (RFC 9000 §6.3): offered first, then v1.
  const probe = parseGet(['https://h/', '--version', '0x1a2a3a4a']);
  t.is(probe.version, undefined);
  t.is(probe.probeVersion, 0x1a2a3a4a);
  t.is(parseGet(['https://h/', '--version', 'v1']).probeVersion, undefined);
  t.throws(() => parseGet(['https://h/', '--version', '0x0']), { instanceOf: UsageError, message: /--version/ });
  t.throws(() => parseGet(['https://h/', '--key-update', 'soon']), { instanceOf: UsageError, message: /--key-update/ });
});
