// L7: fetch-style handlers on the HTTP/3 server — `(request: Request) => Response | Promise<Response>`
// with Node's WHATWG globals (Request, Response, Headers, ReadableStream). The request body is the
// Http3IncomingMessage as a web ReadableStream (Readable.toWeb, so QUIC flow control still pushes
// back); the response body streams out through the ServerResponse with write() backpressure.
import { Readable } from 'node:stream';
import type { Http3IncomingMessage } from './incoming-message.js';
import type { Http3ServerResponse } from './server-response.js';
import { fromWebHeaders } from './headers.js';

export type FetchHandler = (request: Request, info: { remoteAddress: string; remotePort: number }) => Response | Promise<Response>;

/** Build the WHATWG Request for an incoming HTTP/3 request. */
export function toWebRequest(req: Http3IncomingMessage, signal: AbortSignal): Request {
  const authority = req.authority ?? (req.headers['host'] as string | undefined) ?? 'localhost';
  const url = `${req.scheme ?? 'https'}://${authority}${req.url ?? '/'}`;
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    } catch {
      // A value WHATWG Headers refuses: not visible to the fetch handler.
    }
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  } else {
    req.resume();
  }
  return new Request(url, init);
}

/** Send a WHATWG Response through a ServerResponse. */
export async function sendWebResponse(response: Response, res: Http3ServerResponse): Promise<void> {
  if (!(response instanceof Response)) throw new TypeError(`handler: expected a Response, got ${typeof response}`);
  res.statusCode = response.status;
  for (const [name, value] of fromWebHeaders(response.headers)) res.appendHeader(name, value);
  const body = response.body;
  if (body === null || res.req.method === 'HEAD') {
    if (body !== null) await body.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (res.destroyed) throw new Error('response destroyed');
      if (!res.write(value)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = (): void => {
            res.off('close', onClose);
            resolve();
          };
          const onClose = (): void => {
            res.off('drain', onDrain);
            reject(new Error('response closed'));
          };
          res.once('drain', onDrain);
          res.once('close', onClose);
        });
      }
    }
    res.end();
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}
