/**
 * src/http/error-response.ts: the short responses the server writes itself,
 * read off a real loopback socket: status line, a one-line body that names
 * the status and nothing else, no body for HEAD, Connection: close when
 * asked (and the connection then marked closing), and a cut connection
 * when a response has already begun.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { escapeHtml, sendDevelopmentPage, sendErrorResponse } from '../../src/http/error-response.js';
import { isClosing } from '../../src/http/refusal.js';
import { exchangeRaw, RawConnection, rawRequest } from '../helpers/raw-connection.js';
import { parseResponses, parseStrictResponses } from '../helpers/raw-response.js';

describe('sendErrorResponse and sendDevelopmentPage', () => {
  let server: http.Server;
  let port: number;
  const closingMarked: boolean[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const status = Number(url.searchParams.get('status') ?? 500);
      if (url.pathname === '/error') {
        sendErrorResponse(res, status, { close: url.searchParams.has('close') });
        closingMarked.push(isClosing(req.socket));
      } else if (url.pathname === '/after-head') {
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('partial');
        sendErrorResponse(res, 500);
      } else {
        sendDevelopmentPage(res, status, { title: '<title> & "more"', explanation: "it's <b>bold</b>", sections: [{ heading: 'Trace', text: '</pre><script>x</script>' }] });
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function responseTo(method: string, target: string) {
    const raw = await exchangeRaw(port, rawRequest(method, target, [['Connection', 'close']]));
    const parsed = parseStrictResponses(raw.received, raw.closed);
    assert.equal(parsed.problem, null);
    assert.equal(parsed.responses.length, 1);
    return parsed.responses[0] as NonNullable<(typeof parsed.responses)[0]>;
  }

  it('answers the status with a text body naming it, and nothing else', async () => {
    for (const status of [400, 404, 500, 503]) {
      const response = await responseTo('GET', `/error?status=${status}`);
      assert.equal(response.status, status);
      assert.equal(response.body.toString(), `${status} ${http.STATUS_CODES[status]}\n`);
      assert.deepEqual(
        response.headers.filter(([name]) => !/^(date|connection)$/i.test(name)),
        [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(response.body.length)]],
      );
    }
  });

  it('sends the same head and no body to HEAD', async () => {
    const raw = await exchangeRaw(port, rawRequest('HEAD', '/error?status=404', [['Connection', 'close']]));
    const parsed = parseStrictResponses(raw.received, raw.closed);
    // Read as a GET would be: a body after the head of a HEAD response would be seen.
    assert.match(parsed.problem ?? '', /closed \d+ bytes into response 1 \(0 of 14 body bytes\)/);
    assert.match(raw.text, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.ok(raw.text.endsWith('\r\n\r\n'));
  });

  it('closes the connection, and marks it closing, only when asked', async () => {
    closingMarked.length = 0;
    const kept = await RawConnection.open(port);
    try {
      kept.write(rawRequest('GET', '/error?status=400'));
      assert.ok(await kept.waitFor((received) => parseResponses(received, false).responses.length === 1, 5_000));
      assert.doesNotMatch(kept.text, /^Connection: close/im);
      assert.equal(kept.closed, false);
    } finally {
      kept.destroy();
    }
    const closed = await exchangeRaw(port, rawRequest('GET', '/error?status=400&close'));
    assert.match(closed.text, /^Connection: close\r$/im);
    assert.ok(closed.closed);
    assert.deepEqual(closingMarked, [false, true]);
  });

  it('cuts the connection when the response has already begun, and sends no second head', async () => {
    const raw = await exchangeRaw(port, rawRequest('GET', '/after-head'));
    assert.ok(raw.closed);
    // The cut may be a reset, which can drop what was sent: at most the first head arrives, never a 500.
    assert.ok((raw.text.match(/HTTP\/1\.1 /g)?.length ?? 0) <= 1);
    assert.doesNotMatch(raw.text, / 500 /);
    assert.ok(!raw.text.includes('partial') || raw.text.startsWith('HTTP/1.1 200 OK'));
  });

  it('escapes every byte of a development page', async () => {
    const response = await responseTo('GET', '/page?status=500');
    const html = response.body.toString();
    assert.equal(response.status, 500);
    assert.match(html, /<title>&#60;title&#62; &#38; &#34;more&#34;<\/title>/);
    assert.match(html, /<p>it&#39;s &#60;b&#62;bold&#60;\/b&#62;<\/p>/);
    assert.doesNotMatch(html, /<script>|<\/pre><script/);
  });
});

describe('escapeHtml', () => {
  it('replaces each of & < > " \' with a character reference, and nothing else', () => {
    assert.equal(escapeHtml(`&<>"' é\n`), '&#38;&#60;&#62;&#34;&#39; é\n');
  });
});
