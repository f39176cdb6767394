// Plain HTTP/1.1 GET for tests that scrape the TCP /metrics exporter.
import http from 'node:http';

export interface HttpGetResult {
  status: number;
  body: string;
  type: string | undefined;
}

/** GET `url` over HTTP/1.1; resolves with the status, the body as UTF-8 and the content type. */
export function httpGet(url: string): Promise<HttpGetResult> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
      })
      .on('error', reject);
  });
}
