// Hostile input into parseCertificate (RFC 5280 §4.1 parser): 10,000 random and mutated DER
// inputs must only ever throw CertificateError (DESIGN §6: peer input never throws anything else).
import test from 'ava';
import fc from 'fast-check';
import { parseCertificate, CertificateError } from '../../src/pki/x509.js';
import { verifyChain } from '../../src/pki/verify.js';
import { root, intermediate, leaf, key, NOW } from '../fixtures/pki/chain.js';

const R = root('Fuzz Root', key('Fuzz Root', 'rsa'));
const I = intermediate(R, 'Fuzz Intermediate', key('Fuzz Intermediate'), {
  nameConstraints: { permittedDns: ['example.com'], excludedIp: [{ addr: new Uint8Array(4), mask: new Uint8Array(4) }] },
});
const seeds = [R.der, I.der, leaf(I).der];

function tryParse(b: Uint8Array): void {
  try {
    parseCertificate(b);
  } catch (e) {
    if (!(e instanceof CertificateError) || e.alert !== 42) throw e;
  }
}

const mutation = fc.oneof(
  // flip bytes
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), val: fc.integer({ min: 0, max: 255 }), n: fc.integer({ min: 1, max: 4 }) }),
  // insert bytes
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  // delete a range
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  // truncate
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

type Mutation = { kind: string; at: number; val?: number; n?: number; bytes?: Uint8Array; len?: number };

function mutate(seed: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    if (m.kind === 'flip') {
      for (let i = 0; i < m.n! && at + i < b.length; i++) b[at + i] = m.val! ^ (i * 37);
    } else if (m.kind === 'insert') {
      const out = new Uint8Array(b.length + m.bytes!.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes!, at);
      out.set(b.subarray(at), at + m.bytes!.length);
      b = out;
    } else if (m.kind === 'delete') {
      b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + m.len!)]);
    } else {
      b = b.subarray(0, at);
    }
  }
  return b;
}

test('10,000 random and mutated certificates throw only bad_certificate', (t) => {
  let parsed = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }) },
        // random bytes inside a plausible outer SEQUENCE header
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array([0x30, 0x82, b.length >> 8, b.length & 0xff, ...b])) },
        { weight: 6, arbitrary: fc.tuple(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([i, ms]) => mutate(seeds[i]!, ms)) },
      ),
      (b) => {
        try {
          parseCertificate(b);
          parsed++;
        } catch (e) {
          if (!(e instanceof CertificateError) || e.alert !== 42) throw e;
        }
      },
    ),
    { numRuns: 10_000 },
  );
  t.log(`${parsed} of 10,000 inputs still parsed`);
  t.pass();
});

test('every single-byte change of a certificate throws only bad_certificate or parses', (t) => {
  const d = seeds[2]!;
  for (let i = 0; i < d.length; i++) {
    for (const v of [0x00, 0x80, 0xff, d[i]! ^ 1]) {
      const b = d.slice();
      b[i] = v;
      tryParse(b);
    }
  }
  t.pass();
});

test('mutated chains into verifyChain throw only CertificateError', (t) => {
  let ok = 0;
  fc.assert(
    fc.property(fc.nat(2), fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.boolean(), (which, ms, hostname) => {
      const chain = [seeds[2]!, seeds[1]!, seeds[0]!];
      chain[which] = mutate(chain[which]!, ms);
      try {
        verifyChain(chain, { ca: [R.der], now: NOW, purpose: 'server', ...(hostname ? { hostname: 'leaf.example.com' } : {}) });
        ok++;
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
  t.log(`${ok} of 1,000 mutated chains still verified (every certificate in the chain must parse, signatures cover the rest)`);
  t.pass();
});
