// qlog JSON-SEQ writer (src/io/qlog-writer.ts): RFC 7464 records (RS … LF), the header qvis needs
// (qlog_version, qlog_format 'JSON-SEQ', trace with vantage_point and common_fields.ODCID), one
// file per connection named after the ODCID, relative times, idle flush, QLOGDIR.
import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QlogWriter, parseJsonSeq, qlogWriterFor } from '../../src/io/qlog-writer.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'quiver-qlog-'));
  dirs.push(d);
  return d;
}
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Header {
  qlog_version: string;
  qlog_format: string;
  trace: { vantage_point: { type: string; name: string }; common_fields: Record<string, unknown> };
}

test('header + events as RFC 7464 records; times relative to the start; bytes as hex', async (t) => {
  const dir = tmp();
  const odcid = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
  const w = new QlogWriter({ dir, vantage: 'server', odcid, startTime: 1000, referenceTime: 1_700_000_000_000 });
  t.is(w.path, join(dir, 'deadbeef01020304_server.sqlog'));
  w.sink({ time: 1000, name: 'connectivity:connection_started', data: { src_ip: '127.0.0.1', src_port: 4433 } });
  w.sink({ time: 1012.3456, name: 'transport:packet_sent', data: { header: { packet_type: 'initial', packet_number: 0, scid: new Uint8Array([1, 2]) }, raw: { length: 1200 } } });
  w.sink({ time: 1020, name: 'recovery:metrics_updated', data: { congestion_window: 14720, big: 5n } });
  await w.close();
  const text = readFileSync(w.path, 'utf8');
  t.is(text.charCodeAt(0), 0x1e);
  t.true(text.endsWith('\n'));
  const [header, ...events] = parseJsonSeq(text) as [Header, ...Array<{ time: number; name: string; data: Record<string, unknown> }>];
  t.is(header.qlog_format, 'JSON-SEQ');
  t.is(header.qlog_version, '0.3');
  t.deepEqual(header.trace.vantage_point, { name: 'quiver', type: 'server' });
  t.is(header.trace.common_fields['ODCID'], 'deadbeef01020304');
  t.is(header.trace.common_fields['time_format'], 'relative');
  t.is(header.trace.common_fields['reference_time'], 1_700_000_000_000);
  t.deepEqual(events.map((e) => e.time), [0, 12.346, 20]);
  t.deepEqual(events.map((e) => e.name), ['connectivity:connection_started', 'transport:packet_sent', 'recovery:metrics_updated']);
  t.deepEqual((events[1]!.data['header'] as Record<string, unknown>)['scid'], '0102');
  t.is(events[2]!.data['big'], 5);
  t.is(w.events, 3);
  w.sink({ time: 2000, name: 'late', data: {} }); // after close: dropped
  t.is(readFileSync(w.path, 'utf8'), text);
});

test('one file per connection; same ODCID twice gets a suffix; QLOGDIR via qlogWriterFor', async (t) => {
  const dir = tmp();
  const a = qlogWriterFor(undefined, { vantage: 'client', odcid: 'AABB' }, { QLOGDIR: dir })!;
  const b = qlogWriterFor(undefined, { vantage: 'client', odcid: 'aabb' }, { QLOGDIR: dir })!;
  const c = qlogWriterFor(dir, { vantage: 'server', odcid: 'aabb' }, {})!;
  t.is(qlogWriterFor(undefined, { vantage: 'client', odcid: '00' }, {}), undefined);
  t.is(qlogWriterFor(false, { vantage: 'client', odcid: '00' }, { QLOGDIR: dir }), undefined);
  for (const w of [a, b, c]) await w.close();
  t.deepEqual(readdirSync(dir).sort(), ['aabb_client-1.sqlog', 'aabb_client.sqlog', 'aabb_server.sqlog']);
});

test('batched records reach the file by the idle flush without close(); large batches flush at once', async (t) => {
  const dir = tmp();
  const w = new QlogWriter({ dir, vantage: 'client', odcid: '01', flushMs: 20, batchBytes: 4096 });
  w.write({ time: 5, name: 'transport:packet_received', data: { n: 1 } });
  t.is(parseJsonSeq(readFileSync(w.path, 'utf8')).length, 1); // header only so far
  await new Promise((r) => setTimeout(r, 80));
  t.is(parseJsonSeq(readFileSync(w.path, 'utf8')).length, 2);
  for (let i = 0; i < 200; i++) w.write({ time: 5 + i, name: 'transport:packet_sent', data: { packet_number: i, pad: 'x'.repeat(40) } });
  const mid = parseJsonSeq(readFileSync(w.path, 'utf8')).length;
  t.true(mid > 2 && mid < 202, `${mid} records before close`);
  w.closeSync();
  const all = parseJsonSeq(readFileSync(w.path, 'utf8')) as Array<{ time: number }>;
  t.is(all.length, 202);
  t.is(all[1]!.time, 0); // startTime defaults to the first event's time
});

test('misuse names the option; unserialisable data is counted, not thrown', async (t) => {
  const dir = tmp();
  t.throws(() => new QlogWriter({ dir, vantage: 'peer' as 'client', odcid: '00' }), { instanceOf: TypeError, message: /options\.vantage/ });
  t.throws(() => new QlogWriter({ dir, vantage: 'client', odcid: 'xyz' }), { instanceOf: TypeError, message: /options\.odcid/ });
  t.throws(() => new QlogWriter({ vantage: 'client', odcid: '00', dir: '' }), { instanceOf: TypeError, message: /options\.dir/ });
  t.throws(() => qlogWriterFor(7 as unknown as string, { vantage: 'client', odcid: '00' }), { instanceOf: TypeError, message: /options\.qlog/ });
  const w = new QlogWriter({ dir, vantage: 'client', odcid: '02' });
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  w.write({ time: 0, name: 'x', data: cyclic });
  t.is(w.errors, 1);
  t.throws(() => w.write(null as unknown as { time: number; name: string; data: Record<string, unknown> }), { instanceOf: TypeError, message: /event/ });
  await w.close();
  t.is(parseJsonSeq(readFileSync(w.path, 'utf8')).length, 1);
  t.throws(() => parseJsonSeq('{"a":1}\n'), { instanceOf: TypeError });
});
