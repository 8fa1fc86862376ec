/**
 * ASGI applications that break the HTTP message format (test/fixtures/asgi/
 * bad_app.py, one case per path). While nothing was sent the client gets
 * 500; once the head and a chunk went out the connection is cut, with no
 * final chunk, so the client can tell the body is incomplete. Either way
 * the log names the violation and the same worker serves the next request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAsgi } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';
import { splitHead } from '../helpers/raw-response.js';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Cases broken before anything could be sent, and what the log must say about each. */
const BEFORE_ANYTHING: Array<[string, string]> = [
  ['body-before-start', 'ASGI protocol violation in GET /body-before-start: http.response.body before http.response.start'],
  ['start-twice', 'ASGI protocol violation in GET /start-twice: http.response.start was sent twice'],
  ['unknown-message', "ASGI protocol violation in GET /unknown-message: unknown message type 'http.response.teapot'"],
  ['str-body', 'ASGI protocol violation in GET /str-body: the response body must be bytes, got str'],
  ['str-header', 'ASGI protocol violation in GET /str-header: header name and value must be bytes'],
  ['crlf-header', 'ASGI protocol violation in GET /crlf-header: header x-split has a value with a control character'],
  ['nul-header', 'ASGI protocol violation in GET /nul-header: header x-nul has a value with a control character'],
  ['hop-by-hop-header', 'ASGI protocol violation in GET /hop-by-hop-header: hop-by-hop header connection'],
  ['no-body', 'ASGI protocol violation in GET /no-body: the application returned without completing the response'],
  ['raise-before-start', 'RuntimeError: bad_app raised before start'],
];

/** Cases broken after the head and a first chunk went out: asked for with POST, and a chunked body sent once the chunk arrived. */
const AFTER_FIRST_CHUNK: Array<[string, string]> = [
  ['raise-after-start', 'RuntimeError: bad_app raised after start'],
  ['return-mid-body', 'ASGI protocol violation in POST /return-mid-body: the application returned without completing the response'],
  ['str-body-later', 'ASGI protocol violation in POST /str-body-later: the response body must be bytes, got str'],
  ['unknown-message-later', "ASGI protocol violation in POST /unknown-message-later: unknown message type 'http.response.teapot'"],
];

describe('broken ASGI applications', { timeout: 60_000 }, () => {
  let server: Portico;
  let worker: number;
  before(async () => {
    server = await startAsgi('bad_app:app');
    worker = Number((await httpRequest(`${server.url}/pid`)).text);
  });
  after(async () => {
    await server?.stop();
  });

  const sameWorkerServes = async (): Promise<void> => {
    const next = await httpRequest(`${server.url}/pid`);
    assert.equal(next.status, 200);
    assert.equal(Number(next.text), worker, 'the same worker answers the next request');
  };

  for (const [name, logged] of BEFORE_ANYTHING) {
    it(`${name}: 500, the log names it, the worker serves on`, async () => {
      const result = await httpRequest(`${server.url}/${name}`);
      assert.equal(result.status, 500);
      assert.equal(result.headers['x-split'], undefined);
      assert.equal(result.headers['set-cookie'], undefined, 'nothing the application meant to send went out');
      await server.waitForLog(new RegExp(escape(logged)), 5_000);
      await sameWorkerServes();
    });
  }

  for (const [name, logged] of AFTER_FIRST_CHUNK) {
    it(`${name}: the connection is cut with no final chunk, the log names it, the worker serves on`, async () => {
      const conn = await RawConnection.open(server.port);
      try {
        // The application waits for the body after its first chunk: the chunk has reached the client before
        // it breaks. (Expect: 100-continue, so that the front hands the request over before any body came.)
        conn.write(rawRequest('POST', `/${name}`, [['Transfer-Encoding', 'chunked'], ['Expect', '100-continue']]));
        assert.ok(await conn.waitFor((buf) => buf.includes('first chunk'), 5_000), `the first chunk came: ${JSON.stringify(conn.text)}`);
        conn.write('0\r\n\r\n');
        assert.ok(await conn.waitForClose(5_000), 'the connection was closed');
        const parts = splitHead(conn.received);
        assert.ok(parts !== null, `a head went out: ${JSON.stringify(conn.text)}`);
        assert.match(parts.head, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(parts.head, /\r\nTransfer-Encoding: chunked/i);
        const body = parts.afterHead.toString('latin1');
        assert.ok(body.startsWith('c\r\nfirst chunk\n\r\n'), JSON.stringify(body));
        assert.ok(!body.includes('0\r\n\r\n'), `no last chunk: ${JSON.stringify(body)}`);
        assert.ok(!conn.text.includes('100 Continue'), 'no 100 Continue once the response began');
      } finally {
        conn.destroy();
      }
      await server.waitForLog(new RegExp(escape(logged)), 5_000);
      await sameWorkerServes();
    });
  }
});
