// Identity matching (src/pki/hostname.ts): RFC 6125 §6.4 DNS-IDs, RFC 4291 §2.2 IPv6 text,
// RFC 5280 §4.2.1.10 subtrees.
import test from 'ava';
import { isIP } from 'node:net';
import fc from 'fast-check';
import {
  parseIPv4,
  parseIPv6,
  parseIpLiteral,
  matchDnsName,
  dnsWithinSubtree,
  dnsMayIntersectSubtree,
  ipWithinSubtree,
  normalizeDnsName,
} from '../../src/pki/hostname.js';

const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('hex') : null);

test('IPv4 literals are strict dotted quads', (t) => {
  t.is(hex(parseIPv4('127.0.0.1')), '7f000001');
  t.is(hex(parseIPv4('255.255.255.255')), 'ffffffff');
  for (const s of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-4', '0x7f.0.0.1', '1.2.3.4 ', '', 'localhost']) t.is(parseIPv4(s), null, s);
});

test('IPv6 literals (RFC 4291 §2.2), brackets, no zones', (t) => {
  t.is(hex(parseIPv6('::1')), '00000000000000000000000000000001');
  t.is(hex(parseIPv6('[::1]')), '00000000000000000000000000000001');
  t.is(hex(parseIPv6('::')), '00000000000000000000000000000000');
  t.is(hex(parseIPv6('2001:db8::7')), '20010db8000000000000000000000007');
  t.is(hex(parseIPv6('2001:DB8:0:0:0:0:0:7')), '20010db8000000000000000000000007');
  t.is(hex(parseIPv6('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201');
  t.is(hex(parseIPv6('fe80::')), 'fe800000000000000000000000000000');
  for (const s of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', ':1', '1:', 'g::', '1:2:3:4:5:6:7::8', '::1.2.3', 'localhost']) {
    t.is(parseIPv6(s), null, s);
  }
  // Agreement with node:net on random v6 text.
  fc.assert(
    fc.property(fc.ipV6(), (s) => {
      t.is(parseIPv6(s) !== null, isIP(s) === 6, s);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.ipV4(), (s) => {
      t.deepEqual(parseIpLiteral(s), new Uint8Array(s.split('.').map(Number)));
    }),
    { numRuns: 200 },
  );
});

test('DNS matching: exact, case-insensitive, trailing dot, whole-label left-most wildcard', (t) => {
  const yes: [string, string][] = [
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com', 'EXAMPLE.com.'],
    ['*.example.com', 'www.example.com'],
    ['*.example.com', 'xn--bcher-kva.example.com'],
    ['*.a.example.com', 'b.a.example.com'],
  ];
  const no: [string, string][] = [
    ['example.com', 'www.example.com'],
    ['*.example.com', 'example.com'],
    ['*.example.com', 'a.b.example.com'],
    ['*.example.com', '.example.com'],
    ['*.com', 'example.com'],
    ['*', 'localhost'],
    ['w*.example.com', 'www.example.com'],
    ['*w.example.com', 'www.example.com'],
    ['www.*.com', 'www.example.com'],
    ['*.*.example.com', 'a.b.example.com'],
    ['*.example.com.', 'a.example.com.x'],
    ['', ''],
    ['example.com', ''],
  ];
  for (const [p, h] of yes) t.true(matchDnsName(p, h), `${p} ~ ${h}`);
  for (const [p, h] of no) t.false(matchDnsName(p, h), `${p} !~ ${h}`);
  t.is(normalizeDnsName('A.B.'), 'a.b');
});

test('name-constraint subtrees (RFC 5280 §4.2.1.10)', (t) => {
  t.true(dnsWithinSubtree('example.com', 'example.com'));
  t.true(dnsWithinSubtree('a.example.com', 'example.com'));
  t.false(dnsWithinSubtree('badexample.com', 'example.com'));
  t.false(dnsWithinSubtree('example.com', '.example.com'));
  t.true(dnsWithinSubtree('a.example.com', '.example.com'));
  t.true(dnsWithinSubtree('*.example.com', 'example.com'));
  t.false(dnsWithinSubtree('*.example.com', 'a.example.com'));
  t.true(dnsWithinSubtree('anything.org', ''));
  t.true(dnsMayIntersectSubtree('*.example.com', 'bad.example.com'));
  t.true(dnsMayIntersectSubtree('*.example.com', '.bad.example.com'));
  t.false(dnsMayIntersectSubtree('*.example.com', 'x.bad.example.com'));
  t.false(dnsMayIntersectSubtree('www.example.com', 'bad.example.com'));
  const net = new Uint8Array([10, 1, 0, 0]);
  const mask = new Uint8Array([255, 255, 0, 0]);
  t.true(ipWithinSubtree(new Uint8Array([10, 1, 2, 3]), net, mask));
  t.false(ipWithinSubtree(new Uint8Array([10, 2, 2, 3]), net, mask));
  t.false(ipWithinSubtree(new Uint8Array(16), net, mask));
});
