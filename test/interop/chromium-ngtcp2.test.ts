// Browser harness self-test (issue 7, case 9 groundwork): headless Chromium 156 (Debian) loads a page
// with subresources from ngtcp2's gtlsserver over HTTP/3, fetch()es 10 MB and POSTs 1 MB from the
// page, and every request must have used h3 by CDP's response.protocol and the page's
// nextHopProtocol. Proves test/interop/chromium.ts before Quiver's server exists; a missing Chromium
// fails the test.
import test from 'ava';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFavicon, runChromium } from './chromium.js';
import { MB, Scope, makeCert, makeWww, requirePeer, startGtlsServer } from './peers.js';

const scope = new Scope();
test.after.always(() => scope.close());

test('Chromium loads a page, fetches 10 MB and POSTs 1 MB over h3 from gtlsserver', async (t) => {
  requirePeer('chromium');
  const dir = scope.tempDir('quiver-chromium-ngtcp2-');
  const www = makeWww(join(dir, 'www'), { '1mb.bin': MB, '10mb.bin': 10 * MB });
  const cert = makeCert(dir);
  const server = await startGtlsServer(scope, { www: www.dir, cert });
  const res = await runChromium({
    url: `https://localhost:${server.port}/index.html`,
    spki: [cert.spki],
    fetch: ['/10mb.bin'],
    // gtlsserver answers a POST to an existing path with that file, after the whole body arrived.
    post: { path: '/1mb.bin', bytes: MB },
    screenshot: 'chromium-ngtcp2.png',
  });
  t.log(`Chromium ${res.browserVersion}`);
  for (const r of res.records) t.log(`${r.phase.padEnd(5)} ${r.method.padEnd(4)} ${r.status ?? '-'} ${r.protocol ?? '-'} hop=${r.nextHop ?? '-'} conn=${r.connectionId ?? '-'} ${r.bodyBytes} B ${r.url}${r.error ? ` ERROR ${r.error}` : ''}`);
  t.deepEqual(res.problems, []);
  t.is(res.navigationNextHop, 'h3');
  const judged = res.records.filter((r) => !isFavicon(r.url));
  // index.html, style.css, app.js, pixel.svg, the fetch and the POST
  t.true(judged.length >= 6, `${judged.length} requests`);
  t.true(judged.every((r) => r.protocol === 'h3' && r.securityProtocol === 'QUIC'));
  const [get, post] = res.pageResults;
  t.is(get?.status, 200);
  t.is(get?.sha256, www.files.get('10mb.bin')!.sha256);
  t.is(post?.method, 'POST');
  t.is(post?.status, 200);
  t.is(post?.sha256, www.files.get('1mb.bin')!.sha256);
  t.true(res.screenshotPath !== null && existsSync(res.screenshotPath) && statSync(res.screenshotPath).size > 0);
});
