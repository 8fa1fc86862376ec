/**
 * The same ASGI applications served by portico and by Debian's uvicorn
 * (0.17, the reference server), compared response for response: status,
 * the header fields that matter, body. A scope-echo application shows the
 * scopes agree field by field; the FastAPI application, that a real
 * framework cannot tell the two apart.
 *
 * What differs by design, and is left out: the client's and the server's
 * ports; asgi.spec_version (portico speaks 2.4, uvicorn 0.17 2.3); the
 * extensions offered (uvicorn 0.17 offers none); lifespan state (uvicorn
 * 0.17 has none, so FastAPI runs as `comparable_app`, without it); and the
 * framing fields each server chooses (Date, Server, Connection, Keep-Alive).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ASGI_FIXTURES, startAsgi } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { httpRequest, type HttpOptions, type HttpResult } from '../helpers/http-client.js';
import { startUvicorn, type Uvicorn } from '../helpers/uvicorn.js';

/** Header fields an application controls, or whose absence matters, compared between the servers. */
const COMPARED = new Set(['content-type', 'content-length', 'transfer-encoding', 'set-cookie', 'location', 'x-reason', 'x-head', 'x-route', 'allow', 'cache-control']);

interface Comparable {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

function comparable(result: HttpResult): Comparable {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < result.rawHeaders.length; i += 2) {
    const name = (result.rawHeaders[i] as string).toLowerCase();
    if (COMPARED.has(name)) headers.push([name, result.rawHeaders[i + 1] as string]);
  }
  // The order of different fields is the server's; that of one field's repeats (Set-Cookie) is the application's.
  headers.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { status: result.status, headers, body: result.body.toString('latin1') };
}

async function both(portico: string, uvicorn: string, path: string, options: HttpOptions = {}): Promise<[Comparable, Comparable]> {
  const [a, b] = await Promise.all([httpRequest(`${portico}${path}`, options), httpRequest(`${uvicorn}${path}`, options)]);
  return [comparable(a), comparable(b)];
}

/** The echoed scope, with what differs by design between two servers on two ports made equal. */
function normalisedScope(body: string, port: number): Record<string, unknown> {
  const scope = JSON.parse(body) as Record<string, unknown> & { asgi: Record<string, string>; client: [string, number]; server: [string, number] };
  assert.equal(scope.server[1], port, 'server is the (host, port) the request came to');
  assert.equal(typeof scope.client[1], 'number');
  const headers = (scope.headers as Array<[string, string]>).map(([name, value]) =>
    name === 'host' ? [name, value.replace(`:${port}`, ':port')] : [name, value]);
  return {
    ...scope,
    asgi: { version: scope.asgi.version },
    client: [scope.client[0], 'port'],
    server: [scope.server[0], 'port'],
    headers,
    extensions: 'not compared',
  };
}

describe('portico and uvicorn, the scope-echo application', { timeout: 60_000 }, () => {
  let portico: Portico;
  let uvicorn: Uvicorn;
  before(async () => {
    [portico, uvicorn] = await Promise.all([startAsgi('raw_app:app'), startUvicorn('raw_app:app', ASGI_FIXTURES)]);
  });
  after(async () => {
    await Promise.all([portico?.stop(), uvicorn?.stop()]);
  });

  const scopes: Array<[string, string, HttpOptions]> = [
    ['a GET with a query string and repeated, mixed-case header fields', '/scope?a=1&b=%C3%A9&a=2', {
      headers: { 'X-Mixed-Case': 'Value', 'x-dup': ['one', 'two'], Accept: 'application/json' },
    }],
    ['a percent-encoded UTF-8 path', '/scope/caf%C3%A9/cr%C3%A8me%20br%C3%BBl%C3%A9e', {}],
    ['a path with an encoded slash and an encoded percent sign', '/scope/a%2Fb/100%25', {}],
    ['a POST with a body', '/scope?form=1', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(70_000) }],
  ];
  for (const [what, path, options] of scopes) {
    it(`gives the same scope for ${what}`, async () => {
      const [a, b] = await Promise.all([httpRequest(`${portico.url}${path}`, options), httpRequest(`${uvicorn.url}${path}`, options)]);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.deepEqual(normalisedScope(a.text, portico.port), normalisedScope(b.text, uvicorn.port));
    });
  }

  it('answers GET, HEAD and an unknown path alike', async () => {
    for (const [path, method] of [['/hello', 'GET'], ['/hello', 'HEAD'], ['/nowhere', 'GET']] as const) {
      const [a, b] = await both(portico.url, uvicorn.url, path, { method });
      assert.deepEqual(a, b, `${method} ${path}`);
    }
  });
});

describe('portico and uvicorn, the FastAPI application', { timeout: 60_000 }, () => {
  let portico: Portico;
  let uvicorn: Uvicorn;
  before(async () => {
    [portico, uvicorn] = await Promise.all([startAsgi('fastapi_app:comparable_app'), startUvicorn('fastapi_app:comparable_app', ASGI_FIXTURES)]);
  });
  after(async () => {
    await Promise.all([portico?.stop(), uvicorn?.stop()]);
  });

  const json = (body: unknown): HttpOptions => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const boundary = 'portico-compare-7f1e';
  const upload = randomBytes(1024 * 1024);
  const multipartBody = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="document"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    upload,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const cases: Array<[string, HttpOptions]> = [
    ['/items/caf%C3%A9?q=%E2%9C%93&page=2', {}],
    ['/items/x?page=notanumber', {}],
    ['/orders', json({ item: 'tea', quantity: 3 })],
    ['/orders', json({ item: 'tea' })],
    ['/form', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=%C3%89mile&colour=red' }],
    ['/upload', { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body: multipartBody }],
    ['/stream?count=4&delay=0.01', {}],
    ['/background?mark=compare', { method: 'POST' }],
    ['/dependencies?limit=3', { headers: { 'X-Caller': 'both' } }],
    ['/dependencies', {}],
    ['/teapot?who=both', {}],
    ['/missing', {}],
    ['/cookies', {}],
    ['/head', { method: 'HEAD' }],
    ['/head', {}],
    ['/openapi.json', {}],
    ['/nowhere', {}],
    ['/items/1', { method: 'DELETE' }],
  ];
  it('answers every request alike', async () => {
    for (const [path, options] of cases) {
      const [a, b] = await both(portico.url, uvicorn.url, path, options);
      assert.deepEqual(a, b, `${options.method ?? 'GET'} ${path}`);
    }
  });

  it('answers an unhandled exception with 500 on both', async () => {
    // The body is the server's own error page, which each words its own way.
    const [a, b] = await both(portico.url, uvicorn.url, '/crash');
    assert.equal(a.status, 500);
    assert.equal(b.status, 500);
  });
});
