// DESIGN §1: imports only point down. This test reads the import graph of src/ and workers/ and fails
// when a file imports across the layering rule, reaches for a forbidden module (node:*, @noble/*,
// prom-client…) below its layer, or — below L7 — touches a clock, timers or global randomness.
import test from 'ava';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type Layer = 'L0' | 'L1' | 'L2a' | 'L2b' | 'L3' | 'L4' | 'L5' | 'L6' | 'L7';

// Longest prefix wins.
const LAYER_PREFIXES: Array<[string, Layer]> = [
  ['src/util/', 'L0'],
  ['src/codec/', 'L1'],
  ['src/tls/wire/', 'L1'],
  ['src/qpack/', 'L1'],
  ['src/h3/wire/', 'L1'],
  ['src/crypto/', 'L2a'],
  ['src/transport/', 'L2b'],
  ['src/tls/', 'L3'],
  ['src/pki/', 'L3'],
  ['src/connection/', 'L4'],
  ['src/endpoint/', 'L5'],
  ['src/h3/', 'L6'],
  ['src/', 'L7'], // io/, server/, cli/, metrics/ and the package entry files
  ['workers/', 'L7'],
];

export function layerOf(path: string): Layer {
  let best: [string, Layer] | undefined;
  for (const e of LAYER_PREFIXES) if (path.startsWith(e[0]) && (!best || e[0].length > best[0].length)) best = e;
  if (!best) throw new Error(`no layer for ${path}`);
  return best[1];
}

const ALLOWED: Record<Layer, Layer[]> = {
  L0: ['L0'],
  L1: ['L0', 'L1'],
  L2a: ['L0', 'L1', 'L2a'],
  L2b: ['L0', 'L1', 'L2b'],
  L3: ['L0', 'L1', 'L2a', 'L3'],
  L4: ['L0', 'L1', 'L2a', 'L2b', 'L3', 'L4'],
  L5: ['L0', 'L1', 'L2a', 'L2b', 'L3', 'L4', 'L5'],
  L6: ['L0', 'L1', 'L6'], // plus the public surface of L4/L5, below
  L7: ['L0', 'L1', 'L2a', 'L2b', 'L3', 'L4', 'L5', 'L6', 'L7'],
};

/** The public surface of the sans-IO transport that HTTP/3 (L6) may import (DESIGN §1). */
const PUBLIC_SURFACE = new Set(['src/connection/index.ts', 'src/endpoint/index.ts']);

function externalAllowed(layer: Layer, spec: string): boolean {
  if (layer === 'L7') return true;
  if (spec.startsWith('node:')) return layer === 'L2a';
  if (spec.startsWith('@noble/')) return layer === 'L2a';
  return false; // prom-client, piscina, comlink and anything else: I/O layer only
}

const FORBIDDEN_GLOBALS: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'Date.now'],
  [/\bnew Date\s*\(\s*\)/, 'new Date()'],
  [/\bperformance\.now\s*\(/, 'performance.now'],
  [/\bMath\.random\s*\(/, 'Math.random'],
  [/\bsetTimeout\s*\(/, 'setTimeout'],
  [/\bsetInterval\s*\(/, 'setInterval'],
  [/\bsetImmediate\s*\(/, 'setImmediate'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
];

function walk(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const IMPORT_RE = /(?:^|\n|;)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(src: string): string[] {
  const out: string[] = [];
  const code = stripComments(src);
  for (const m of code.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2])!);
  return out;
}

export function violations(file: string, src: string): string[] {
  const layer = layerOf(file);
  const problems: string[] = [];
  for (const spec of importsOf(src)) {
    if (spec.startsWith('.')) {
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\\/g, '/').replace(/\.js$/, '.ts');
      const tl = layerOf(target);
      const ok = ALLOWED[layer].includes(tl) || (layer === 'L6' && PUBLIC_SURFACE.has(target));
      if (!ok) problems.push(`${file} (${layer}) imports ${target} (${tl})`);
    } else if (!externalAllowed(layer, spec)) {
      problems.push(`${file} (${layer}) imports external module ${spec}`);
    }
  }
  if (layer !== 'L7') {
    const code = stripComments(src);
    for (const [re, name] of FORBIDDEN_GLOBALS) if (re.test(code)) problems.push(`${file} (${layer}) uses ${name}`);
  }
  return problems;
}

test('every source file imports only down the layers (DESIGN §1)', (t) => {
  const files = [...walk(join(root, 'src')), ...walk(join(root, 'workers'))];
  t.true(files.length > 0);
  const problems: string[] = [];
  for (const abs of files) {
    const rel = relative(root, abs).replace(/\\/g, '/');
    problems.push(...violations(rel, readFileSync(abs, 'utf8')));
  }
  t.deepEqual(problems, []);
});

test('the checker itself catches violations', (t) => {
  t.deepEqual(violations('src/util/x.ts', "import { a } from '../codec/frames.js';"), [
    'src/util/x.ts (L0) imports src/codec/frames.ts (L1)',
  ]);
  t.is(violations('src/transport/x.ts', "import { seal } from '../crypto/aead.js';").length, 1);
  t.is(violations('src/connection/x.ts', "import dgram from 'node:dgram';").length, 1);
  t.is(violations('src/connection/x.ts', 'const t = Date.now();').length, 1);
  t.is(violations('src/endpoint/x.ts', 'const r = Math.random();').length, 1);
  t.is(violations('src/h3/conn.ts', "import { Connection } from '../connection/connection.js';").length, 1);
  t.deepEqual(violations('src/h3/conn.ts', "import type { Connection } from '../connection/index.js';"), []);
  t.deepEqual(violations('src/h3/conn.ts', "import { x } from '../qpack/encoder.js';"), []);
  t.deepEqual(violations('src/crypto/aead.ts', "import { createCipheriv } from 'node:crypto';"), []);
  t.is(violations('src/qpack/x.ts', "import { gcm } from '@noble/ciphers/aes.js';").length, 1);
  t.deepEqual(violations('src/io/udp.ts', "import dgram from 'node:dgram'; setTimeout(() => 0, 1);"), []);
  t.is(violations('src/tls/client.ts', "export * from '../transport/rtt.js';").length, 1);
  // comments do not count
  t.deepEqual(violations('src/connection/x.ts', '// Date.now() is never called here'), []);
});
