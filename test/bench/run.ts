// `npm run bench`: runs every test/bench/*.bench.ts module (compiled to dist/) in turn. Each module
// prints its own table and compares against a peer in the same run (DESIGN §6): ratios hold on a
// noisy machine, absolute times do not. `npm run bench -- crypto qpack` runs a subset by name.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

console.log(`quiver bench — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
let failed = 0;
for (const f of modules) {
  console.log(`\n## ${f.replace(/\.bench\.js$/, '')}`);
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => Promise<void> };
    if (typeof mod.run !== 'function') throw new Error(`${f} exports no run()`);
    await mod.run();
  } catch (e) {
    failed++;
    console.error(`bench ${f} failed:`, e);
  }
}
if (modules.length === 0) console.log('no benchmarks matched');
process.exitCode = failed ? 1 : 0;
