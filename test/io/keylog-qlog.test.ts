// SSLKEYLOGFILE / the keylog option and QLOGDIR / the qlog option through listen() and connect():
// NSS key log lines for the handshake and application secrets, one JSON-SEQ qlog file per connection.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, listen } from '../../src/io/quic.js';
import { parseJsonSeq } from '../../src/io/qlog-writer.js';
import { liveCertificate, withTimeout } from './helpers.js';

test.serial('keylog file and qlog directory: secrets logged, one qlog per connection on each side', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-logs-'));
  const keylog = join(dir, 'keys.log');
  const qlogServer = join(dir, 'qlog-server');
  const qlogClient = join(dir, 'qlog-client');
  const c = liveCertificate();
  const server = await listen({ host: '127.0.0.1', alpn: 'x', cert: c.certPem, key: c.keyPem, qlog: qlogServer });
  const lines: string[] = [];
  const session = await connect(`127.0.0.1:${server.address().port}`, { alpn: 'x', ca: c.certPem, servername: 'localhost', keylog, qlog: qlogClient });
  const fnSession = await connect(`127.0.0.1:${server.address().port}`, { alpn: 'x', ca: c.certPem, servername: 'localhost', keylog: (l) => lines.push(l), qlog: false });
  await withTimeout(Promise.all([session.opened, fnSession.opened]), 5000, 'handshakes');
  await session.close();
  await fnSession.close();
  await server.close();
  const logged = readFileSync(keylog, 'utf8').trim().split('\n');
  for (const label of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']) {
    t.true(logged.some((l) => l.startsWith(label + ' ')), `${label} in the key log file`);
    t.true(lines.some((l) => l.startsWith(label + ' ')), `${label} via the function`);
  }
  for (const l of logged) t.regex(l, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
  await new Promise((r) => setTimeout(r, 300)); // writers flush on close
  const serverFiles = readdirSync(qlogServer);
  const clientFiles = readdirSync(qlogClient);
  t.is(serverFiles.length, 2, 'one server qlog per connection');
  t.is(clientFiles.length, 1);
  t.regex(clientFiles[0]!, /_client\.sqlog$/);
  const records = parseJsonSeq(readFileSync(join(qlogClient, clientFiles[0]!), 'utf8')) as Array<{ name?: string; qlog_format?: string }>;
  t.is(records[0]!.qlog_format, 'JSON-SEQ');
  const names = new Set(records.map((r) => r.name));
  t.true(names.has('transport:packet_sent'));
  t.true(names.has('transport:packet_received'));
});
