// The HTTP/3 layer's byte counters (H3Stats per connection, streamStats per request): HEADERS
// frame payloads (RFC 9114 §7.2.2) sent and received, decoded field bytes (name + value, RFC 9204
// field lines, pseudo-header fields included), DATA payloads (§7.2.1) and every stream byte read —
// exact whatever the chunking of the transport, the same on both ends.
import test from 'ava';
import { H3Pair, bytes, drain, ofType } from './support/h3-pair.js';
import { varintSize } from '../../src/util/bytes.js';
import type { HeaderFieldInput } from '../../src/qpack/index.js';
import type { H3StreamStats } from '../../src/h3/types.js';

function fieldBytes(fields: ReadonlyArray<HeaderFieldInput>): number {
  let n = 0;
  for (const f of fields) n += f[0].length + f[1].length;
  return n;
}

/** A frame's size on the wire: type varint, length varint, payload (RFC 9114 §7.1). */
function frameSize(type: number, payload: number): number {
  return varintSize(type) + varintSize(payload) + payload;
}

for (const [seed, maxChunk] of [
  [1, 1],
  [2, 7],
  [3, 64],
  [4, 1400],
] as const) {
  test(`counters: a POST with a body, a 103, a response with a body and trailers (seed ${seed}, chunks ≤ ${maxChunk} B)`, (t) => {
    const p = new H3Pair({ fake: { seed, maxChunk } });
    const reqFields: HeaderFieldInput[] = [
      [':method', 'POST'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/upload'],
      ['content-type', 'application/octet-stream'],
      ['x-long', 'v'.repeat(300)],
    ];
    const hints: HeaderFieldInput[] = [[':status', '103'], ['link', '</a.css>; rel=preload']];
    const head: HeaderFieldInput[] = [[':status', '200'], ['content-type', 'text/plain']];
    const trailers: HeaderFieldInput[] = [['x-checksum', 'abc']];
    const upload = bytes(5000, 3);
    const download = bytes(20000, 4);
    let serverStats: H3StreamStats | undefined;
    const got: number[] = [];
    p.onServer = (ev, h3) => {
      if (ev.type === 'request') serverStats = h3.streamStats(ev.streamId);
      if (ev.type === 'data') drain(h3, ev.streamId, got);
      if (ev.type === 'end') {
        h3.respond(ev.streamId, hints);
        h3.respond(ev.streamId, head);
        let off = 0;
        while (off < download.length) off += h3.write(ev.streamId, download.subarray(off, off + 4096));
        h3.end(ev.streamId, trailers);
      }
    };
    const body: number[] = [];
    p.onClient = (ev, h3) => {
      if (ev.type === 'data' || ev.type === 'end') drain(h3, ev.streamId, body);
    };
    const id = p.client.request(reqFields)!;
    const clientStats = p.client.streamStats(id)!;
    t.truthy(clientStats);
    t.is(p.client.write(id, upload, true), upload.length);
    for (let i = 0; i < 2000 && body.length < download.length; i++) p.run();
    p.run();
    t.is(body.length, download.length);
    t.is(got.length, upload.length);
    t.is(ofType(p.clientEvents, 'trailers').length, 1);
    const c = p.client.stats;
    const s = p.server.stats;
    // Field bytes: what was handed to the encoder arrives decoded, pseudo-header fields included.
    t.is(c.fieldBytesSent, fieldBytes(reqFields));
    t.is(s.fieldBytesReceived, fieldBytes(reqFields));
    t.is(s.fieldBytesSent, fieldBytes(hints) + fieldBytes(head) + fieldBytes(trailers));
    t.is(c.fieldBytesReceived, s.fieldBytesSent);
    // HEADERS payloads (QPACK-compressed): the same count on both ends, smaller than decoded.
    t.true(c.headerBytesSent > 0 && c.headerBytesSent < c.fieldBytesSent);
    t.is(s.headerBytesReceived, c.headerBytesSent);
    t.is(c.headerBytesReceived, s.headerBytesSent);
    // DATA payloads.
    t.is(c.dataBytesSent, upload.length);
    t.is(s.dataBytesReceived, upload.length);
    t.is(s.dataBytesSent, download.length);
    t.is(c.dataBytesReceived, download.length);
    // Every stream byte the peer delivered was read (request, control and QPACK streams).
    t.is(c.streamBytesReceived, p.fake.bytesMoved.server);
    t.is(s.streamBytesReceived, p.fake.bytesMoved.client);
    // Per request: kept valid after the stream finished; the request stream's share of the totals.
    t.is(p.client.activeStreams, 0);
    t.is(clientStats.headerBytesSent, c.headerBytesSent);
    t.is(clientStats.headerBytesReceived, c.headerBytesReceived);
    t.is(clientStats.fieldBytesReceived, c.fieldBytesReceived);
    t.is(clientStats.dataBytesReceived, download.length);
    t.is(clientStats.dataBytesSent, upload.length);
    t.is(serverStats!.dataBytesReceived, upload.length);
    t.is(serverStats!.headerBytesSent, s.headerBytesSent);
    // The request stream's bytes are its frames, exactly (DATA frames of ≤ 4096 B as written).
    let frames = 0;
    for (let off = 0; off < download.length; off += 4096) frames += frameSize(0x00, Math.min(4096, download.length - off));
    // Three small HEADERS frames (103, 200, trailers: payloads < 64 B, so type + length take 2 B each).
    t.true(clientStats.headerBytesReceived < 64);
    t.is(clientStats.streamBytesReceived, frames + clientStats.headerBytesReceived + 3 * 2);
    t.true(c.streamBytesReceived > clientStats.streamBytesReceived, 'control and QPACK streams count too');
  });
}

test('streamStats: undefined for a stream that is not open', (t) => {
  const p = new H3Pair();
  t.is(p.client.streamStats(0), undefined);
  t.is(p.server.streamStats(4), undefined);
});
