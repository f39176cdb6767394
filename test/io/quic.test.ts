// The QUIC API over UDP loopback: handshakes on IPv4 and IPv6, stream echo, backpressure with a slow
// reader, unidirectional streams, resets, datagrams with delivery status, TLS failures, option checks.
import test from 'ava';
import { once } from 'node:events';
import { connect, listen, type QuicServer } from '../../src/io/quic.js';
import type { QuicSession } from '../../src/io/session.js';
import type { QuicReceiveStream, QuicStream } from '../../src/io/stream.js';
import { generateSelfSigned } from '../../src/pki/self-signed.js';
import { connectionInternals } from '../../src/connection/connection.js';
import { secureRandom } from '../../src/crypto/random.js';
import { TicketKeyring } from '../../src/tls/session-ticket.js';
import { drain, liveCertificate, pattern, sha256, withTimeout } from './helpers.js';

async function server(host: string, extra: Record<string, unknown> = {}): Promise<QuicServer> {
  const c = liveCertificate();
  return listen({ host, port: 0, alpn: 'quiver-test', cert: c.certPem, key: c.keyPem, ...extra });
}

async function client(srv: QuicServer, extra: Record<string, unknown> = {}): Promise<QuicSession> {
  const a = srv.address();
  return connect({ host: a.address, port: a.port }, { alpn: 'quiver-test', ca: liveCertificate().certPem, servername: 'localhost', ...extra });
}

for (const host of ['127.0.0.1', '::1']) {
  test.serial(`handshake over ${host}: opened, session event, clean close on both sides`, async (t) => {
    const srv = await server(host);
    t.is(srv.address().address, host);
    const accepted = once(srv, 'session') as Promise<[QuicSession]>;
    const s = await client(srv);
    const info = await withTimeout(s.opened, 5000, 'opened');
    t.is(info.alpn, 'quiver-test');
    t.is(info.resumed, false);
    const [peer] = await withTimeout(accepted, 5000, 'server session');
    t.is(peer.alpn, 'quiver-test');
    t.is(peer.remoteAddress.remoteAddress, host);
    await withTimeout(s.close(), 5000, 'client close');
    await t.notThrowsAsync(s.closed);
    await withTimeout(peer.closed, 5000, 'server side closed');
    await srv.close();
  });
}

test.serial('listen("localhost") binds 127.0.0.1 and ::1 on the same port', async (t) => {
  const srv = await server('localhost');
  const addrs = srv.addresses();
  t.deepEqual(addrs.map((a) => a.address).sort(), ['127.0.0.1', '::1']);
  t.is(addrs[0]!.port, addrs[1]!.port);
  for (const host of ['127.0.0.1', '::1']) {
    const s = await connect({ host, port: addrs[0]!.port }, { alpn: 'quiver-test', ca: liveCertificate().certPem, servername: 'localhost' });
    await withTimeout(s.opened, 5000, `opened via ${host}`);
    await s.close();
  }
  await srv.close();
});

test.serial('bidirectional echo of 2 MB keeps every byte (sha256)', async (t) => {
  const srv = await server('127.0.0.1');
  srv.on('session', (s: QuicSession) => s.on('stream', (st: QuicStream) => st.pipe(st)));
  const s = await client(srv);
  const st = (await s.openStream()) as QuicStream;
  t.is(st.id, 0);
  t.true(st.bidirectional);
  const data = pattern(2_000_000, 7);
  const result = drain(st);
  st.end(data);
  const r = await withTimeout(result, 20_000, 'echo');
  t.is(r.bytes, data.length);
  t.is(r.sha256, sha256(data));
  await s.close();
  await srv.close();
});

for (const [pmtud, large] of [[undefined, true], [false, false]] as const) {
  test.serial(`datagram size: pmtud ${pmtud === undefined ? 'on by default (up to 1452 B)' : 'off (1200 B)'}`, async (t) => {
    const srv = await server('127.0.0.1', pmtud === undefined ? {} : { pmtud });
    srv.on('session', (s: QuicSession) => s.on('stream', (st: QuicStream) => st.pipe(st)));
    const s = await client(srv);
    const st = (await s.openStream()) as QuicStream;
    const data = pattern(3_000_000, 11);
    const result = drain(st);
    st.end(data);
    t.is((await withTimeout(result, 20_000, 'echo')).sha256, sha256(data));
    const io = srv.stats.io;
    const avg = io.bytesSent / io.datagramsSent;
    if (large) t.true(avg > 1350, `average server datagram ${avg.toFixed(0)} B`);
    else t.true(avg <= 1200, `average server datagram ${avg.toFixed(0)} B`);
    await s.close();
    await srv.close();
  });
}

test.serial('a slow reader holds the sender back (flow control), then everything arrives', async (t) => {
  const total = 12 * 1024 * 1024;
  const data = pattern(total, 3);
  let serverStream: QuicStream | undefined;
  let backpressured = false;
  const srv = await server('127.0.0.1', { maxStreamData: 256 * 1024 });
  srv.on('session', (s: QuicSession) =>
    s.on('stream', (st: QuicStream) => {
      serverStream = st;
      st.resume(); // discard the request side
      // Write as fast as the stream allows, honouring write()'s backpressure.
      let off = 0;
      const pump = (): void => {
        while (off < total) {
          const chunk = data.subarray(off, Math.min(total, off + 65536));
          off += chunk.length;
          if (!st.write(chunk)) {
            backpressured = true;
            st.once('drain', pump);
            return;
          }
        }
        st.end();
      };
      pump();
    }),
  );
  const s = await client(srv, { maxStreamData: 256 * 1024, maxData: 1024 * 1024 });
  const st = (await s.openStream()) as QuicStream;
  st.end('go');
  // Do not read for a while: the server must stall.
  await new Promise((r) => setTimeout(r, 800));
  t.truthy(serverStream);
  t.true(backpressured, 'server write() returned false');
  const sent = serverStream!.core.bytesWritten;
  t.true(sent < 3 * 1024 * 1024, `server queued ${sent} bytes against a paused reader`);
  t.true(st.core.bytesRead <= 256 * 1024, `client pulled ${st.core.bytesRead} bytes while paused`);
  const r = await withTimeout(drain(st), 60_000, 'slow reader drain');
  t.is(r.bytes, total);
  t.is(r.sha256, sha256(data));
  await s.close();
  await srv.close();
});

test.serial('unidirectional streams: the peer sees a Readable; async iterator of incoming streams', async (t) => {
  const srv = await server('127.0.0.1');
  const got = new Promise<string>((resolve) => {
    srv.on('session', async (s: QuicSession) => {
      for await (const st of s) {
        t.false(st.bidirectional);
        t.false(st.local);
        const r = (await drain(st as QuicReceiveStream)).bytes;
        resolve(`${st.id}:${r}`);
        break;
      }
    });
  });
  const s = await client(srv);
  const uni = await s.openStream({ bidirectional: false });
  t.false(uni.bidirectional);
  t.is(uni.id, 2);
  uni.end(Buffer.alloc(5000, 1));
  t.is(await withTimeout(got, 5000, 'uni stream'), '2:5000');
  await s.close();
  await srv.close();
});

test.serial('resetStream(code) reaches the peer as ERR_QUIC_STREAM_RESET with the code; stopSending too', async (t) => {
  const srv = await server('127.0.0.1');
  const peerErr = new Promise<Error & { errorCode?: number; code?: string }>((resolve) => {
    srv.on('session', (s: QuicSession) =>
      s.on('stream', (st: QuicStream) => {
        st.on('error', resolve);
        st.resume();
      }),
    );
  });
  const s = await client(srv);
  const st = (await s.openStream()) as QuicStream;
  // The peer's stream is destroyed by the reset, which aborts its sending side towards us too.
  const ownErr = new Promise<Error & { errorCode?: number; code?: string }>((resolve) => st.on('error', resolve));
  st.write('partial');
  await new Promise((r) => setTimeout(r, 50));
  st.resetStream(42);
  const e = await withTimeout(peerErr, 5000, 'reset');
  t.is(e.code, 'ERR_QUIC_STREAM_RESET');
  t.is(e.errorCode, 42);
  const own = await withTimeout(ownErr, 5000, 'reset echo');
  t.is(own.code, 'ERR_QUIC_STREAM_RESET');
  t.is(own.errorCode, 0, 'the peer code is not echoed back');

  const st2 = (await s.openStream()) as QuicStream;
  const stopped = new Promise<Error & { errorCode?: number; code?: string }>((resolve) => st2.on('error', resolve));
  srv.sessions.values().next().value!.once('stream', (ps: QuicStream) => ps.stopSending(7));
  st2.write('x');
  const pump = setInterval(() => st2.write(Buffer.alloc(1000)), 10);
  const e2 = await withTimeout(stopped, 5000, 'stop sending');
  clearInterval(pump);
  t.is(e2.code, 'ERR_QUIC_STREAM_STOPPED');
  t.is(e2.errorCode, 7);
  await s.close();
  await srv.close();
});

test.serial('datagrams: delivered, status resolves acked; unsupported peers reject with a code', async (t) => {
  const srv = await server('127.0.0.1', { datagrams: true });
  const received = new Promise<Buffer>((resolve) => srv.on('session', (s: QuicSession) => s.once('datagram', resolve)));
  const s = await client(srv, { datagrams: true });
  await s.opened;
  t.true(s.maxDatagramSize > 1000);
  const status = s.sendDatagram('hello datagram');
  t.is(String(await withTimeout(received, 5000, 'datagram')), 'hello datagram');
  t.is(await withTimeout(status, 5000, 'status'), 'acked');
  await t.throwsAsync(s.sendDatagram(Buffer.alloc(70_000)), { code: 'ERR_QUIC_DATAGRAM_TOO_LARGE' });
  await s.close();

  await srv.close();

  // RFC 9221 §3: sending needs the PEER's max_datagram_frame_size.
  const plainServer = await server('127.0.0.1');
  const c2 = await client(plainServer, { datagrams: true });
  await c2.opened;
  t.is(c2.maxDatagramSize, 0);
  await t.throwsAsync(c2.sendDatagram('x'), { code: 'ERR_QUIC_DATAGRAM_UNSUPPORTED' });
  await c2.close();
  await plainServer.close();
});

test.serial('an untrusted certificate fails the handshake with ERR_QUIC_TLS_ERROR', async (t) => {
  const srv = await server('127.0.0.1');
  const a = srv.address();
  const s = await connect({ host: a.address, port: a.port }, { alpn: 'quiver-test', servername: 'localhost' });
  const e = await t.throwsAsync(withTimeout(s.opened, 5000, 'opened'));
  t.is((e as { code?: string }).code, 'ERR_QUIC_TLS_ERROR');
  await t.throwsAsync(s.closed, { code: 'ERR_QUIC_TLS_ERROR' });
  // rejectUnauthorized: false accepts it.
  const ok = await connect({ host: a.address, port: a.port }, { alpn: 'quiver-test', servername: 'localhost', rejectUnauthorized: false });
  await withTimeout(ok.opened, 5000, 'insecure opened');
  await ok.close();
  await srv.close();
});

/** The SNI the server's TLS state machine saw (undefined: none sent). */
function sniSeenBy(peer: QuicSession): string | undefined {
  return (connectionInternals(peer.conn).tls as unknown as { serverName: string | undefined }).serverName;
}

test.serial("servername '' sends no SNI but the certificate is still checked against the host dialled", async (t) => {
  // A certificate that names neither 127.0.0.1 nor localhost: a nameless check would pass it.
  const other = generateSelfSigned({ now: Date.now(), hosts: ['elsewhere.quiver.test'] });
  const wrong = await listen({ host: '127.0.0.1', port: 0, alpn: 'quiver-test', cert: other.certPem, key: other.keyPem });
  const s = await connect({ host: '127.0.0.1', port: wrong.address().port }, { alpn: 'quiver-test', ca: other.certPem, servername: '' });
  const e = await t.throwsAsync(withTimeout(s.opened, 5000, 'opened'));
  t.is((e as { code?: string }).code, 'ERR_QUIC_TLS_ERROR');
  t.is((e as { errorCode?: number }).errorCode, 0x100 + 46); // certificate_unknown
  // verifyName names what the certificate must match, still without SNI.
  const named = await connect({ host: '127.0.0.1', port: wrong.address().port }, { alpn: 'quiver-test', ca: other.certPem, servername: '', verifyName: 'elsewhere.quiver.test' });
  await withTimeout(named.opened, 5000, 'opened with verifyName');
  await named.close();
  await wrong.close();

  // The right host: success, and the server saw no SNI (also for a DNS name, which would be sent).
  const srv = await server('127.0.0.1');
  for (const host of ['127.0.0.1', 'localhost']) {
    const accepted = once(srv, 'session') as Promise<[QuicSession]>;
    const ok = await connect({ host, port: srv.address().port }, { alpn: 'quiver-test', ca: liveCertificate().certPem, servername: '' });
    await withTimeout(ok.opened, 5000, `opened via ${host}`);
    const [peer] = await withTimeout(accepted, 5000, 'server session');
    t.is(sniSeenBy(peer), undefined, host);
    await ok.close();
  }
  // Default servername (the host): SNI carries a DNS name.
  const accepted = once(srv, 'session') as Promise<[QuicSession]>;
  const sni = await connect({ host: 'localhost', port: srv.address().port }, { alpn: 'quiver-test', ca: liveCertificate().certPem });
  await withTimeout(sni.opened, 5000, 'opened with SNI');
  t.is(sniSeenBy((await withTimeout(accepted, 5000, 'server session'))[0]), 'localhost');
  await sni.close();
  await srv.close();
});

test.serial('an ALPN mismatch fails the handshake', async (t) => {
  const srv = await server('127.0.0.1');
  const a = srv.address();
  const s = await connect({ host: a.address, port: a.port }, { alpn: 'other', ca: liveCertificate().certPem, servername: 'localhost' });
  const e = await t.throwsAsync(withTimeout(s.opened, 5000, 'opened'));
  t.is((e as { code?: string }).code, 'ERR_QUIC_TLS_ERROR');
  t.is((e as { errorCode?: number }).errorCode, 0x100 + 120); // no_application_protocol
  await srv.close();
});

test.serial('server async iterator yields sessions; close() ends it', async (t) => {
  const srv = await server('127.0.0.1');
  const seen = (async () => {
    const out: string[] = [];
    for await (const s of srv) out.push(s.alpn);
    return out;
  })();
  const s1 = await client(srv);
  await s1.opened;
  const s2 = await client(srv);
  await s2.opened;
  await new Promise((r) => setTimeout(r, 50));
  await srv.close();
  t.deepEqual(await withTimeout(seen, 5000, 'iterator'), ['quiver-test', 'quiver-test']);
  // The server closed them.
  await withTimeout(s1.closed.catch(() => {}), 5000, 's1 closed');
  t.true(s1.destroyed);
});

test.serial('session tickets resume (TLS PSK) on the next connection', async (t) => {
  const srv = await server('127.0.0.1');
  const s = await client(srv);
  await s.opened;
  const ticket = s.sessionTicket ?? ((await withTimeout(once(s, 'session-ticket'), 5000, 'ticket')) as [Buffer])[0];
  await s.close();
  const r = await client(srv, { session: ticket });
  const info = await withTimeout(r.opened, 5000, 'resumed');
  t.true(info.resumed);
  await r.close();
  await srv.close();
});

test('options are validated with TypeError/RangeError naming the option', async (t) => {
  const c = liveCertificate();
  const base = { alpn: 'x', cert: c.certPem, key: c.keyPem };
  await t.throwsAsync(listen({ ...base, alpn: 5 as unknown as string }), { instanceOf: TypeError, message: /options\.alpn/ });
  await t.throwsAsync(listen({ ...base, alpn: [] }), { instanceOf: TypeError, message: /options\.alpn/ });
  await t.throwsAsync(listen({ ...base, port: 70000 }), { instanceOf: RangeError, message: /options\.port/ });
  await t.throwsAsync(listen({ ...base, port: 1.5 }), { instanceOf: TypeError, message: /options\.port/ });
  await t.throwsAsync(listen({ alpn: 'x', key: c.keyPem }), { instanceOf: TypeError, message: /options\.cert/ });
  await t.throwsAsync(listen({ ...base, key: '/nonexistent/key.pem' }), { instanceOf: TypeError, message: /options\.key.*cannot read/ });
  await t.throwsAsync(listen({ ...base, idleTimeout: -1 }), { instanceOf: RangeError, message: /options\.idleTimeout/ });
  await t.throwsAsync(listen({ ...base, retry: 'sometimes' as unknown as boolean }), { instanceOf: TypeError, message: /options\.retry/ });
  await t.throwsAsync(listen({ ...base, congestionControl: 'bbr' as 'cubic' }), { instanceOf: TypeError, message: /options\.congestionControl/ });
  await t.throwsAsync(listen({ ...base, bogus: 1 } as never), { instanceOf: TypeError, message: /options\.bogus: unknown option/ });
  await t.throwsAsync(listen({ ...base, datagrams: 70000 }), { instanceOf: RangeError, message: /options\.datagrams/ });
  await t.throwsAsync(listen({ ...base, ticketKeys: {} as never }), { instanceOf: TypeError, message: /options\.ticketKeys: expected a TicketKeyring/ });
  await t.throwsAsync(listen({ ...base, sessionTickets: false, ticketKeys: new TicketKeyring({ random: secureRandom }) }), { instanceOf: TypeError, message: /options\.ticketKeys: needs sessionTickets/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', verifyName: '' }), { instanceOf: TypeError, message: /options\.verifyName/ });
  await t.throwsAsync(listen({ ...base, keylog: 3 as unknown as string }), { instanceOf: TypeError, message: /options\.keylog/ });
  await t.throwsAsync(listen({ ...base, cert: c.keyPem }), { instanceOf: TypeError, message: /options\.cert/ });
  const other = generateSelfSigned({ now: Date.now() });
  await t.throwsAsync(listen({ ...base, key: other.keyPem }), { instanceOf: TypeError, message: /options\.key: the private key does not belong/ });
  await t.throwsAsync(connect('no-port', { alpn: 'x' }), { instanceOf: TypeError, message: /address/ });
  await t.throwsAsync(connect('127.0.0.1:0', { alpn: 'x' }), { instanceOf: RangeError, message: /port/ });
  await t.throwsAsync(connect('127.0.0.1:443', {} as never), { instanceOf: TypeError, message: /options\.alpn/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', rejectUnauthorized: 'no' as unknown as boolean }), { instanceOf: TypeError, message: /options\.rejectUnauthorized/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', session: 'abc' as unknown as Uint8Array }), { instanceOf: TypeError, message: /options\.session/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', version: 0x1234 }), { instanceOf: RangeError, message: /options\.version/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', probeVersion: 1 }), { instanceOf: RangeError, message: /options\.probeVersion/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', pmtud: 1000 }), { instanceOf: RangeError, message: /options\.pmtud/ });
  await t.throwsAsync(connect('127.0.0.1:443', { alpn: 'x', pmtud: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /options\.pmtud/ });
});

test.serial('probeVersion: the server answers the unknown version with Version Negotiation, the handshake continues in v1', async (t) => {
  const srv = await server('127.0.0.1');
  const s = await client(srv, { probeVersion: 0x1a2a3a4a });
  const info = await withTimeout(s.opened, 5000, 'opened');
  t.is(info.version, 1);
  t.is(srv.stats.endpoint.versionNegotiationSent, 1);
  await s.close();
  await srv.close();
});

test.serial('session API misuse: bad codes and stream options', async (t) => {
  const srv = await server('127.0.0.1');
  const s = await client(srv);
  await s.opened;
  await t.throwsAsync(s.openStream({ bidirectional: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /options\.bidirectional/ });
  const st = (await s.openStream()) as QuicStream;
  t.throws(() => st.resetStream(-1), { instanceOf: RangeError, message: /code/ });
  t.throws(() => s.close(1.5), { instanceOf: RangeError, message: /code/ });
  await s.close();
  await t.throwsAsync(s.openStream(), { code: 'ERR_QUIC_SESSION_CLOSED' });
  await srv.close();
});

test.serial('connecting to a port with no server fails fast with ERR_QUIC_SOCKET_ERROR (ICMP unreachable)', async (t) => {
  const s = await connect('127.0.0.1:9', { alpn: 'x' });
  const started = Date.now();
  const e = await t.throwsAsync(withTimeout(s.opened, 5000, 'opened'));
  t.is((e as { code?: string }).code, 'ERR_QUIC_SOCKET_ERROR');
  t.true(Date.now() - started < 3000);
  await t.throwsAsync(s.closed, { code: 'ERR_QUIC_SOCKET_ERROR' });
});

test.serial('after close(): openStream, writes and datagrams fail with ERR_QUIC_SESSION_CLOSED at once', async (t) => {
  const srv = await server('127.0.0.1', { datagrams: true });
  srv.on('session', (s: QuicSession) => s.on('stream', (st: QuicStream) => st.resume()));
  const s = await client(srv, { datagrams: true });
  await s.opened;
  const st = (await s.openStream()) as QuicStream;
  const errored = new Promise<unknown>((resolve) => st.on('error', resolve));
  const closed = s.close();
  t.true(s.closing);
  await t.throwsAsync(s.openStream(), { code: 'ERR_QUIC_SESSION_CLOSED' });
  await t.throwsAsync(s.sendDatagram('x'), { code: 'ERR_QUIC_SESSION_CLOSED' });
  st.write('late');
  t.is(((await withTimeout(errored, 5000, 'write error')) as { code?: string }).code, 'ERR_QUIC_SESSION_CLOSED');
  await closed;
  await srv.close();
});
