// Interop harness (issue 7, case 9): drive the machine's headless Chromium (Debian's, /usr/bin/chromium)
// through playwright-core over CDP — no browser download — against an HTTP/3 server on loopback, and
// collect, request by request, the evidence that h3 was used:
//   - CDP Network.responseReceived → response.protocol ('h3') and connectionId,
//   - the page's own PerformanceResourceTiming/NavigationTiming nextHopProtocol ('h3'),
//   - in-page fetch() results (status, bytes, sha256 of the body computed in the page).
// Flags (INTEROP.md, Chromium 156): headless, --no-sandbox (root), a fresh --user-data-dir,
// --origin-to-force-quic-on=localhost:PORT (QUIC without Alt-Svc and no TCP fallback),
// --ignore-certificate-errors-spki-list=<base64 sha256 SPKI> (accepts the self-signed certificate),
// --host-resolver-rules mapping localhost to 127.0.0.1 and failing every other name locally.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { requirePeer } from './peers.js';

/** test-artifacts/ at the project root (gitignored); screenshots and NetLogs go here. */
export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-artifacts');

export const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--remote-debugging-pipe',
] as const;

export interface ChromiumFlagsInput {
  /** Origin host (a name: 'localhost'); IPv6 literals are not matched by --origin-to-force-quic-on. */
  host: string;
  port: number;
  /** base64 SHA-256 SPKI pins. */
  spki: string[];
  userDataDir: string;
  /** Address the host name resolves to (default 127.0.0.1). */
  resolveTo?: string;
  /** Write Chromium's NetLog here. */
  netlog?: string;
  extra?: string[];
}

export function chromiumFlags(i: ChromiumFlagsInput): string[] {
  const to = i.resolveTo ?? '127.0.0.1';
  const args: string[] = [
    ...BASE_FLAGS,
    `--user-data-dir=${i.userDataDir}`,
    '--enable-quic',
    `--origin-to-force-quic-on=${i.host}:${i.port}`,
    `--host-resolver-rules=MAP ${i.host} ${to.includes(':') ? `[${to}]` : to}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE ::1`,
  ];
  if (i.spki.length) args.push(`--ignore-certificate-errors-spki-list=${i.spki.join(',')}`);
  if (i.netlog) args.push(`--log-net-log=${i.netlog}`, '--net-log-capture-mode=Default');
  args.push(...(i.extra ?? []));
  return args;
}

/** The few browser globals the in-page functions use (the project compiles without the DOM lib). */
interface PageGlobals {
  location: { href: string };
  performance: { getEntriesByType(type: string): Array<{ name: string; nextHopProtocol: string }> };
}

export interface RequestRecord {
  phase: string;
  method: string;
  url: string;
  type: string;
  status: number | null;
  /** CDP response.protocol: 'h3' when HTTP/3 was used. */
  protocol: string | null;
  /** The page's PerformanceResourceTiming.nextHopProtocol for this URL. */
  nextHop: string | null;
  connectionId: number | null;
  securityProtocol: string | null;
  bodyBytes: number;
  done: boolean;
  error: string | null;
}

export interface PageFetchResult {
  url: string;
  method: string;
  status: number;
  bytes: number;
  sha256: string;
  ms: number;
  error?: string;
}

export interface BrowserRunOptions {
  /** Page URL, e.g. https://localhost:PORT/index.html. */
  url: string;
  spki: string[];
  /** Paths to fetch() from the page after load, one by one. */
  fetch?: string[];
  /** A POST from the page: `bytes` deterministic bytes ((i*31+7) & 0xff) to `path`. */
  post?: { path: string; bytes: number };
  /** File name under test-artifacts/ for a full-page screenshot. */
  screenshot?: string;
  /** File name under test-artifacts/ for Chromium's NetLog. */
  netlog?: string;
  timeoutMs?: number;
  extraFlags?: string[];
}

export interface BrowserRunResult {
  browserVersion: string;
  flags: string[];
  records: RequestRecord[];
  pageResults: PageFetchResult[];
  /** Navigation nextHopProtocol of the page itself. */
  navigationNextHop: string | null;
  screenshotPath: string | null;
  netlogPath: string | null;
  /** Everything that went wrong, in words (empty on success). */
  problems: string[];
}

/** sha256 (hex) of the POST body chromium sends: byte i = (i*31+7) & 0xff. */
export function postBodySha256(bytes: number): string {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + 7) & 0xff;
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Launch Chromium, load `url`, optionally fetch() files and POST a body from the page, take a
 * screenshot, and return what the browser itself reports. Protocol failures become `problems`;
 * only a missing browser throws (so the test fails with the install hint).
 */
export async function runChromium(o: BrowserRunOptions): Promise<BrowserRunResult> {
  const executablePath = requirePeer('chromium');
  const u = new URL(o.url);
  if (u.protocol !== 'https:') throw new TypeError('o.url: expected an https:// URL');
  const timeout = o.timeoutMs ?? 30_000;
  const userDataDir = mkdtempSync(join(tmpdir(), 'quiver-chromium-'));
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const netlogPath = o.netlog ? join(ARTIFACTS_DIR, o.netlog) : null;
  const flags = chromiumFlags({
    host: u.hostname,
    port: Number(u.port || 443),
    spki: o.spki,
    userDataDir,
    ...(netlogPath ? { netlog: netlogPath } : {}),
    ...(o.extraFlags ? { extra: o.extraFlags } : {}),
  });
  const records: RequestRecord[] = [];
  const byId = new Map<string, RequestRecord>();
  const pageResults: PageFetchResult[] = [];
  const problems: string[] = [];
  let phase = 'load';
  let browser: Browser | undefined;
  let browserVersion = '';
  let navigationNextHop: string | null = null;
  let screenshotPath: string | null = null;
  try {
    browser = await chromium.launch({ executablePath, args: flags, ignoreDefaultArgs: true, headless: true, timeout });
    browserVersion = browser.version();
    const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    cdp.on('Network.requestWillBeSent', (e) => {
      if (!/^https?:/.test(e.request.url)) return;
      const r: RequestRecord = {
        phase, method: e.request.method, url: e.request.url, type: e.type ?? '', status: null, protocol: null, nextHop: null,
        connectionId: null, securityProtocol: null, bodyBytes: 0, done: false, error: null,
      };
      records.push(r);
      byId.set(e.requestId, r);
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.status = e.response.status;
      r.protocol = e.response.protocol ?? null;
      r.connectionId = e.response.connectionId ?? null;
      r.securityProtocol = e.response.securityDetails?.protocol ?? null;
    });
    cdp.on('Network.dataReceived', (e) => {
      const r = byId.get(e.requestId);
      if (r) r.bodyBytes += e.dataLength;
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = byId.get(e.requestId);
      if (r) r.done = true;
    });
    cdp.on('Network.loadingFailed', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.done = true;
      r.error ??= e.errorText + (e.canceled ? ' (canceled)' : '');
    });
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    const nextHops = async (since: number): Promise<void> => {
      const entries = await page.evaluate(() => {
        const perf = (globalThis as unknown as PageGlobals).performance;
        return [...perf.getEntriesByType('navigation'), ...perf.getEntriesByType('resource')].map((e) => ({ name: e.name, p: e.nextHopProtocol }));
      });
      const pool = new Map<string, string[]>();
      for (const en of entries) {
        const q = pool.get(en.name) ?? [];
        q.push(en.p);
        pool.set(en.name, q);
      }
      for (const r of records.slice(since)) {
        const q = pool.get(r.url);
        if (q && q.length) r.nextHop = q.shift()!;
      }
    };

    let loaded = false;
    try {
      const resp = await page.goto(o.url, { waitUntil: 'load', timeout });
      if (!resp) problems.push('navigation returned no response');
      else loaded = true;
    } catch (e) {
      problems.push(`navigation failed: ${String((e as Error).message).split('\n')[0]}`);
    }
    if (loaded) {
      await nextHops(0);
      navigationNextHop = records.find((r) => r.url === page.url())?.nextHop ?? null;
      const inPage = (reqs: Array<{ path: string; postBytes?: number }>) =>
        page.evaluate(
          async ({ reqs, timeout }) => {
            const out: Array<{ url: string; method: string; status: number; bytes: number; sha256: string; ms: number; error?: string }> = [];
            for (const q of reqs) {
              const url = new URL(q.path, (globalThis as unknown as PageGlobals).location.href).href;
              const t0 = performance.now();
              const init: Record<string, unknown> = { cache: 'no-store', signal: AbortSignal.timeout(timeout) };
              if (q.postBytes !== undefined) {
                const body = new Uint8Array(q.postBytes);
                for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
                Object.assign(init, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
              }
              const method = (init['method'] as string | undefined) ?? 'GET';
              try {
                const res = await fetch(url, init as RequestInit);
                const buf = await res.arrayBuffer();
                const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
                const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
                out.push({ url, method, status: res.status, bytes: buf.byteLength, sha256, ms: performance.now() - t0 });
              } catch (e) {
                out.push({ url, method, status: 0, bytes: 0, sha256: '', ms: performance.now() - t0, error: String(e) });
              }
            }
            return out;
          },
          { reqs, timeout },
        );
      if (o.fetch?.length) {
        phase = 'fetch';
        const since = records.length;
        pageResults.push(...(await inPage(o.fetch.map((path) => ({ path })))));
        await nextHops(since);
      }
      if (o.post) {
        phase = 'post';
        const since = records.length;
        pageResults.push(...(await inPage([{ path: o.post.path, postBytes: o.post.bytes }])));
        await nextHops(since);
      }
      for (const pr of pageResults) if (pr.error) problems.push(`${pr.method} ${pr.url}: page fetch() failed: ${pr.error}`);
      // trailing CDP events (loadingFinished) may lag the page's promise
      for (let i = 0; i < 40 && records.some((r) => !r.done && !isFavicon(r.url)); i++) await new Promise((r) => setTimeout(r, 25));
      if (o.screenshot) {
        screenshotPath = join(ARTIFACTS_DIR, o.screenshot);
        await page.screenshot({ path: screenshotPath, fullPage: true });
      }
    }
    await context.close();
  } catch (e) {
    problems.push(`browser: ${String((e as Error).message ?? e).split('\n')[0]}`);
  } finally {
    if (browser) await browser.close().catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true });
  }
  for (const r of records) {
    if (isFavicon(r.url)) continue;
    const why: string[] = [];
    if (r.error) why.push(`failed: ${r.error}`);
    else if (!r.done) why.push('did not finish');
    if (r.protocol !== 'h3') why.push(`protocol ${r.protocol ?? 'none'}`);
    if (r.nextHop !== null && r.nextHop !== 'h3') why.push(`nextHopProtocol ${r.nextHop}`);
    if (why.length) problems.push(`${r.phase} ${r.method} ${r.url}: ${why.join('; ')}`);
  }
  return { browserVersion, flags, records, pageResults, navigationNextHop, screenshotPath, netlogPath, problems };
}

export function isFavicon(url: string): boolean {
  try {
    return new URL(url).pathname === '/favicon.ico';
  } catch {
    return false;
  }
}
