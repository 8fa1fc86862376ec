/**
 * PEP 3333 environ, as the app sees it: the fixture echoes its environ as
 * JSON (native strings as latin-1 code points) from behind wsgiref.validate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { getJson } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';

interface Echo {
  environ: Record<string, string>;
  keys: string[];
  wsgi: {
    version: number[];
    url_scheme: string;
    multithread: unknown;
    multiprocess: unknown;
    run_once: unknown;
    input_terminated: unknown;
    file_wrapper_callable: boolean;
    input_has_read: boolean;
    errors_has_write: boolean;
  };
  fresh: boolean;
  pid: number;
}

describe('environ', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('echo_environ'));
  });
  after(async () => {
    await server?.stop();
  });

  const echo = (target: string, init: Parameters<typeof getJson>[1] = {}): Promise<Echo> => getJson<Echo>(server.url + target, init);

  /** Sends exact request bytes; returns the echo and the client's local port. */
  async function echoRaw(request: string): Promise<{ echo: Echo; localPort: number }> {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(request);
      const [response] = await conn.readResponses(1);
      assert.equal(response?.status, 200, `raw request failed: ${conn.text.slice(0, 1000)}`);
      return { echo: JSON.parse(response.body.toString('latin1')) as Echo, localPort: conn.localPort };
    } finally {
      conn.destroy();
    }
  }

  it('carries the CGI variables of a plain GET at the root', async () => {
    const { environ } = await echo('/');
    assert.equal(environ.REQUEST_METHOD, 'GET');
    assert.equal(environ.SCRIPT_NAME, '');
    assert.equal(environ.PATH_INFO, '/');
    assert.equal(environ.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.ok(environ.SERVER_NAME !== undefined && environ.SERVER_NAME !== '', 'SERVER_NAME is set');
    assert.equal(environ.SERVER_PORT, String(server.port));
    assert.equal(environ.REMOTE_ADDR, '127.0.0.1');
    assert.match(environ.REMOTE_PORT ?? '', /^\d+$/);
    assert.equal(environ.REQUEST_URI, '/');
    assert.equal(environ.RAW_URI, '/');
  });

  it('gives REMOTE_PORT as the client side port of the connection', async () => {
    const { echo: result, localPort } = await echoRaw(rawRequest('GET', '/port'));
    assert.equal(result.environ.REMOTE_PORT, String(localPort));
  });

  it('passes the request method through', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const { environ } = await echo('/m', { method });
      assert.equal(environ.REQUEST_METHOD, method);
    }
  });

  it('says HTTP/1.0 in SERVER_PROTOCOL for an HTTP/1.0 request', async () => {
    const { echo: result } = await echoRaw('GET /old HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(result.environ.SERVER_PROTOCOL, 'HTTP/1.0');
  });

  it('percent-decodes PATH_INFO into bytes carried as latin-1 (/%C3%A9)', async () => {
    const { environ } = await echo('/caf%C3%A9');
    assert.equal(environ.PATH_INFO, '/caf\u00c3\u00a9');
  });

  it('carries an invalid UTF-8 byte in PATH_INFO as latin-1 (/%FF), without a 500', async () => {
    const { environ } = await echo('/%FF');
    assert.equal(environ.PATH_INFO, '/\u00ff');
  });

  it('decodes %2F to / in PATH_INFO while RAW_URI and REQUEST_URI keep the raw target', async () => {
    const { environ } = await echo('/a%2Fb/c?x=%2F');
    assert.equal(environ.PATH_INFO, '/a/b/c');
    assert.equal(environ.RAW_URI, '/a%2Fb/c?x=%2F');
    assert.equal(environ.REQUEST_URI, '/a%2Fb/c?x=%2F');
  });

  it('keeps QUERY_STRING raw and undecoded', async () => {
    const { environ } = await echo('/q?a=%20b&c=d+e&f=%C3%A9&g');
    assert.equal(environ.QUERY_STRING, 'a=%20b&c=d+e&f=%C3%A9&g');
    assert.equal(environ.PATH_INFO, '/q');
  });

  it('has an empty (or absent) QUERY_STRING without a query', async () => {
    const { environ } = await echo('/noquery');
    assert.ok(environ.QUERY_STRING === undefined || environ.QUERY_STRING === '', `QUERY_STRING=${environ.QUERY_STRING}`);
  });

  it('has no CONTENT_TYPE or CONTENT_LENGTH when the request has neither', async () => {
    const { environ, keys } = await echo('/nobody');
    assert.equal(environ.CONTENT_TYPE, undefined);
    assert.equal(environ.CONTENT_LENGTH, undefined);
    assert.ok(!keys.includes('HTTP_CONTENT_TYPE') && !keys.includes('HTTP_CONTENT_LENGTH'));
  });

  it('has CONTENT_TYPE and CONTENT_LENGTH, never HTTP_CONTENT_*, when the request has them', async () => {
    const { environ, keys } = await echo('/body', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: 'abc',
    });
    assert.equal(environ.CONTENT_TYPE, 'text/plain; charset=utf-8');
    assert.equal(environ.CONTENT_LENGTH, '3');
    assert.ok(!keys.includes('HTTP_CONTENT_TYPE'), 'no HTTP_CONTENT_TYPE');
    assert.ok(!keys.includes('HTTP_CONTENT_LENGTH'), 'no HTTP_CONTENT_LENGTH');
  });

  it('maps other headers to HTTP_* names', async () => {
    const { environ } = await echo('/h', { headers: { 'X-Custom-Header': 'value 1', 'User-Agent': 'portico-test', Accept: 'text/plain' } });
    assert.equal(environ.HTTP_X_CUSTOM_HEADER, 'value 1');
    assert.equal(environ.HTTP_USER_AGENT, 'portico-test');
    assert.equal(environ.HTTP_ACCEPT, 'text/plain');
    assert.match(environ.HTTP_HOST ?? '', /^127\.0\.0\.1:\d+$/);
  });

  it("joins repeated headers with ', ' and repeated Cookie headers with '; '", async () => {
    const { echo: result } = await echoRaw(
      rawRequest('GET', '/repeat', [
        ['X-Multi', 'a'],
        ['Cookie', 'one=1'],
        ['X-Multi', 'b'],
        ['Cookie', 'two=2'],
      ]),
    );
    assert.equal(result.environ.HTTP_X_MULTI, 'a, b');
    assert.equal(result.environ.HTTP_COOKIE, 'one=1; two=2');
  });

  it("drops header names that contain '_' (they would be confused with '-')", async () => {
    const { echo: result } = await echoRaw(
      rawRequest('GET', '/underscore', [
        ['X-Auth-User', 'honest'],
        ['X_Auth_User', 'spoofed'],
        ['X_Only_Underscore', 'dropped'],
      ]),
    );
    assert.equal(result.environ.HTTP_X_AUTH_USER, 'honest');
    assert.equal(result.environ.HTTP_X_ONLY_UNDERSCORE, undefined);
    assert.ok(!Object.values(result.environ).some((v) => v.includes('spoofed') || v.includes('dropped')));
  });

  it('has the wsgi.* keys with PEP 3333 values', async () => {
    const { wsgi, keys } = await echo('/wsgi');
    assert.deepEqual(wsgi.version, [1, 0]);
    assert.equal(wsgi.url_scheme, 'http');
    assert.equal(typeof wsgi.multithread, 'boolean');
    assert.equal(typeof wsgi.multiprocess, 'boolean');
    assert.equal(wsgi.run_once, false, 'workers are persistent');
    assert.equal(wsgi.input_terminated, true);
    assert.equal(wsgi.file_wrapper_callable, true);
    assert.equal(wsgi.input_has_read, true);
    assert.equal(wsgi.errors_has_write, true);
    for (const key of ['wsgi.input', 'wsgi.errors', 'wsgi.file_wrapper', 'wsgi.input_terminated']) assert.ok(keys.includes(key), key);
  });

  it('gives each request a fresh environ dict', async () => {
    const first = await echo('/fresh');
    const second = await echo('/fresh');
    assert.equal(first.pid, second.pid, 'one worker served both');
    assert.equal(second.fresh, true, 'the second request must not see the first request\u2019s environ');
  });
});
