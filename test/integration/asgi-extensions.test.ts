/**
 * The ASGI extensions as a client sees them through the front (issue #13):
 * http.response.early_hint is a 103 Early Hints before the response on
 * HTTP/1.1 (RFC 8297), and http.response.trailers are trailer fields after
 * a chunked body (RFC 9112 §7.1.2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAsgi } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { exchangeRaw, rawRequest } from '../helpers/raw-connection.js';

describe('ASGI extensions through the front', { timeout: 30_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startAsgi('raw_app:app', ['--interface', 'asgi']);
  });
  after(async () => {
    await server?.stop();
  });

  it('sends the early hint as a 103 before the response, and the trailers after the last chunk', async () => {
    const { text } = await exchangeRaw(server.port, rawRequest('GET', '/hints-and-trailers', [['TE', 'trailers'], ['Connection', 'close']]));
    const hints = text.indexOf('HTTP/1.1 103 Early Hints\r\n');
    const final = text.indexOf('HTTP/1.1 200 OK\r\n');
    assert.ok(hints === 0, `the 103 comes first:\n${text}`);
    assert.match(text.slice(hints, final), /\r\nLink: <\/style\.css>; rel=preload; as=style\r\n/i);
    assert.ok(final > hints, 'then the response');
    const head = text.slice(final, text.indexOf('\r\n\r\n', final));
    assert.match(head, /\r\nTransfer-Encoding: chunked/i);
    const body = text.slice(text.indexOf('\r\n\r\n', final) + 4);
    assert.match(body, /^a\r\npart one, \r\n8\r\npart two\r\n0\r\nx-checksum: abc123\r\n\r\n$/i, `the chunked body ends with the trailer:\n${JSON.stringify(body)}`);
  });
});
