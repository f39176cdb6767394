// HTTP/3 0-RTT with remembered SETTINGS (RFC 9114 §7.2.4.2, RFC 9204 §3.2.3) over UDP loopback:
// the client stores the server's SETTINGS with its session ticket and its 0-RTT requests use them
// (here: the QPACK dynamic table) before the server's SETTINGS arrive; the server seals the SETTINGS
// it advertises into its tickets and rejects 0-RTT whose remembered SETTINGS it no longer honours
// (the request then goes again over 1-RTT).
import test from 'ava';
import { secureRandom } from '../../src/crypto/random.js';
import { decodeRememberedSettings } from '../../src/h3/index.js';
import { Http3Client } from '../../src/server/client.js';
import { createServer, type Http3Server, type Http3ServerOptions } from '../../src/server/http3-server.js';
import { TicketKeyring, clientSessionAppData, withClientSessionAppData } from '../../src/tls/index.js';
import { liveCertificate, withTimeout } from '../io/helpers.js';

const cert = liveCertificate();

function server(extra: Partial<Http3ServerOptions>): Http3Server {
  return createServer({ cert: cert.certPem, key: cert.keyPem, enableEarlyData: true, ...extra }, (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.url} ${String(req.headers['x-app'] ?? '')}`);
  });
}

async function start(s: Http3Server): Promise<string> {
  await s.listen(0, '127.0.0.1');
  return `https://localhost:${s.address().port}`;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A first connection to `base`: one request, then the session ticket with the server's SETTINGS attached. */
async function ticketFrom(base: string): Promise<Buffer> {
  const c = new Http3Client({ ca: cert.certPem });
  const origins = new Set<string>();
  c.onSessionTicket = (_t, origin) => origins.add(origin);
  const r = await withTimeout(c.fetch(`${base}/first`), 10_000, 'first request');
  await r.text();
  await until(() => {
    const t = c.sessionTicket(base);
    return t !== undefined && clientSessionAppData(t) !== undefined;
  }, 5000, 'a ticket with SETTINGS');
  await c.close();
  if (origins.size !== 1 || !origins.has(new URL(base).host)) throw new Error(`onSessionTicket origins: ${[...origins].join(', ')}`);
  return c.sessionTicket(base)!;
}

interface Resumed {
  status: number;
  body: string;
  resumed: boolean;
  earlyDataAccepted: boolean;
  /** encoderInsertCount when the server's SETTINGS reached the H3 session (-1: never). */
  insertsBeforeSettings: number;
}

/** A resuming client with 0-RTT: one request sent before the handshake completes. */
async function resume(base: string, session: Uint8Array): Promise<Resumed> {
  const c = new Http3Client({ ca: cert.certPem, session, enableEarlyData: true });
  const pooled = await c.session(new URL(base));
  const h3 = pooled.hs.h3;
  // Observe the QPACK encoder at the moment the server's SETTINGS are delivered.
  let insertsBeforeSettings = -1;
  const poll = h3.pollEvent.bind(h3);
  h3.pollEvent = () => {
    const ev = poll();
    if (ev?.type === 'settings' && insertsBeforeSettings < 0) insertsBeforeSettings = h3.qpack.encoderInsertCount;
    return ev;
  };
  const r = await withTimeout(c.fetch(`${base}/again`, { headers: { 'x-app': 'quiver-zero-rtt-test' } }), 10_000, 'resumed request');
  const body = await r.text();
  const info = await withTimeout(pooled.quic.opened, 5000, 'handshake');
  await c.close();
  return { status: r.status, body, resumed: info.resumed, earlyDataAccepted: info.earlyDataAccepted, insertsBeforeSettings };
}

test.serial('0-RTT request under remembered SETTINGS: it uses the QPACK dynamic table before the server SETTINGS arrive', async (t) => {
  const s = server({});
  const base = await start(s);
  const ticket = await ticketFrom(base);
  const remembered = decodeRememberedSettings(clientSessionAppData(ticket)!);
  t.truthy(remembered);
  t.is(remembered!.qpackMaxTableCapacity, 16384, 'the server default QPACK table capacity, remembered');

  const r = await resume(base, ticket);
  t.is(r.status, 200);
  t.is(r.body, 'hello /again quiver-zero-rtt-test');
  t.true(r.resumed);
  t.true(r.earlyDataAccepted, 'the server accepted 0-RTT');
  t.true(r.insertsBeforeSettings > 0, `QPACK inserts before SETTINGS: ${r.insertsBeforeSettings}`);

  // Control: the same resumption without remembered SETTINGS must not touch the dynamic table early.
  const bare = withClientSessionAppData(await ticketFrom(base), new Uint8Array(0));
  const b = await resume(base, bare);
  t.is(b.status, 200);
  t.true(b.resumed);
  t.is(b.insertsBeforeSettings, 0);
  await s.close();
});

test.serial('a server restarted with a lower maxHeaderSize rejects 0-RTT; the request still succeeds over 1-RTT', async (t) => {
  // Shared ticket keys: tickets stay valid across the restart, so only the SETTINGS check decides.
  const ticketKeys = new TicketKeyring({ random: secureRandom });
  const first = server({ ticketKeys });
  const base1 = await start(first);
  const t1 = await ticketFrom(base1);
  const t2 = await ticketFrom(base1);
  await first.close();

  // Restarted with the same SETTINGS: 0-RTT accepted.
  const same = server({ ticketKeys });
  const a = await resume(await start(same), t1);
  t.true(a.resumed);
  t.true(a.earlyDataAccepted);
  t.is(a.status, 200);
  await same.close();

  // Restarted with a lower SETTINGS_MAX_FIELD_SECTION_SIZE: resumed, 0-RTT rejected, same answer.
  const lower = server({ ticketKeys, maxHeaderSize: 4096 });
  const b = await resume(await start(lower), t2);
  t.true(b.resumed, 'the ticket still resumes the TLS session');
  t.false(b.earlyDataAccepted, 'remembered SETTINGS no longer honoured (RFC 9114 §7.2.4.2)');
  t.is(b.status, 200);
  t.is(b.body, 'hello /again quiver-zero-rtt-test');
  t.is(lower.stats.requests, 1);
  await lower.close();
});
