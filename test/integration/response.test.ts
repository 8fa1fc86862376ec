/**
 * The response side of PEP 3333 as seen on the wire: write(), exc_info,
 * when headers go out, framing (Content-Length, chunked, close), and the
 * responses that carry no body.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { RawConnection, exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { header, parseResponses, splitHead, type RawResponse } from '../helpers/raw-response.js';

describe('response', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('response_app'));
  });
  after(async () => {
    await server?.stop();
  });

  async function exchange(request: string, count = 1, noBody?: (index: number) => boolean): Promise<RawResponse[]> {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(request);
      return await conn.readResponses(count, 10_000, noBody);
    } finally {
      conn.destroy();
    }
  }

  it('sends what the app passes to write() before the returned iterable', async () => {
    const result = await httpRequest(server.url + '/write');
    assert.equal(result.status, 200);
    assert.equal(result.text, 'hello world');
  });

  it('lets start_response with exc_info replace headers not yet sent', async () => {
    const [response] = await exchange(rawRequest('GET', '/exc-info-before-headers'));
    assert.equal(response?.status, 500);
    assert.equal(header(response, 'X-Second'), '1');
    assert.equal(header(response, 'X-First'), undefined, 'the replaced headers must not be sent');
    assert.equal(response.body.toString(), 'replaced');
  });

  it('re-raises exc_info once headers went out, and aborts the connection', async () => {
    const { received, text, closed } = await exchangeRaw(server.port, rawRequest('GET', '/exc-info-after-headers'));
    assert.ok(closed, 'the server closed the connection');
    // Aborted by FIN or RST; after an RST the client may not get the partial bytes.
    if (text !== '') assert.match(text, /^HTTP\/1\.1 200/);
    assert.ok(!text.includes('must never be sent'));
    assert.equal(parseResponses(received, false).responses.length, 0, `the response must not look complete: ${JSON.stringify(text)}`);
    await server.waitForLog(/too late to replace/, 5_000);
  });

  it('sends headers only with the first non-empty body chunk', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', '/empty-then-data?s=1'));
      const early = await conn.receivedAfter(400);
      assert.equal(early.length, 0, `headers went out before any body: ${JSON.stringify(early.toString('latin1'))}`);
      const [response] = await conn.readResponses(1, 5_000);
      assert.equal(response?.status, 200);
      assert.equal(header(response, 'X-Delayed'), '1');
      assert.equal(response.body.toString(), 'data');
      assert.ok((conn.firstByteDelayMs ?? 0) >= 800, `first byte after ${conn.firstByteDelayMs} ms`);
    } finally {
      conn.destroy();
    }
  });

  it("honours the app's Content-Length", async () => {
    const [response] = await exchange(rawRequest('GET', '/content-length'));
    assert.equal(response?.framing, 'content-length');
    assert.equal(header(response, 'Content-Length'), '5');
    assert.equal(header(response, 'Transfer-Encoding'), undefined);
    assert.equal(response.body.toString(), 'hello');
  });

  it('truncates a body longer than its Content-Length and closes the connection', async () => {
    // A second request pipelined behind it: were the connection kept alive
    // (it was, until the worker flagged the cut response), it would be answered.
    const { received, closed } = await exchangeRaw(server.port, rawRequest('GET', '/too-long') + rawRequest('GET', '/single'));
    assert.ok(closed, 'connection closed');
    const split = splitHead(received);
    assert.ok(split !== null, 'a response head arrived');
    assert.match(split.head, /^HTTP\/1\.1 200/);
    assert.match(split.head, /\r\ncontent-length: 5(\r\n|$)/i);
    assert.equal(split.afterHead.toString('latin1'), 'hello', 'exactly the declared bytes, and no response to the pipelined request');
    await server.waitForLog(/GET \/too-long: the application sent more than its Content-Length of 5 bytes/, 5_000);
  });

  it('closes the connection after a body cut at its Content-Length without waiting for the app to stop', async () => {
    // The app would go on yielding for 15 s: the response is decided at the
    // first excess byte, so the worker stops iterating, closes the iterable
    // and ends the stream, and the connection closes.
    const { received, closed } = await exchangeRaw(
      server.port,
      rawRequest('GET', '/too-long-endless') + rawRequest('GET', '/single'),
      10_000,
    );
    assert.ok(closed, 'connection closed');
    const split = splitHead(received);
    assert.ok(split !== null, 'a response head arrived');
    assert.equal(split.afterHead.toString('latin1'), 'hello');
  });

  it('closes the connection when the body is shorter than its Content-Length', async () => {
    const { received, closed } = await exchangeRaw(server.port, rawRequest('GET', '/too-short'));
    assert.ok(closed, 'connection closed');
    // An abort by RST may discard what had arrived: then the client sees an error, which is allowed.
    const split = splitHead(received);
    if (split !== null) {
      assert.match(split.head, /\r\ncontent-length: 10(\r\n|$)/i);
      assert.ok(split.afterHead.length < 10, 'never padded to the declared length');
    }
    assert.equal(parseResponses(received, true).responses.length, 0, 'the client sees a short body');
  });

  it('uses chunked encoding on HTTP/1.1 when the app gives no Content-Length', async () => {
    const [response] = await exchange(rawRequest('GET', '/chunked'));
    assert.equal(response?.framing, 'chunked');
    assert.equal(header(response, 'Content-Length'), undefined);
    assert.equal(response.body.toString(), 'onetwothree');
  });

  it('computes a Content-Length for a body that is a list of one bytes', async () => {
    const [response] = await exchange(rawRequest('GET', '/single-list'));
    assert.equal(response?.framing, 'content-length');
    assert.equal(header(response, 'Content-Length'), '11');
    assert.equal(header(response, 'Transfer-Encoding'), undefined);
    assert.equal(response.body.toString(), 'single body');
  });

  it('never sends chunked encoding to an HTTP/1.0 client', async () => {
    const { received, closed } = await exchangeRaw(server.port, 'GET /chunked HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
    assert.ok(closed);
    const [response] = parseResponses(received, true).responses;
    assert.equal(header(response as RawResponse, 'Transfer-Encoding'), undefined);
    assert.equal(response?.body.toString(), 'onetwothree');
  });

  it('sends no body for HEAD, and the connection stays usable', async () => {
    const responses = await exchange(rawRequest('HEAD', '/head-body') + rawRequest('GET', '/single'), 2, (i) => i === 0);
    assert.equal(responses[0]?.status, 200);
    assert.equal(responses[0]?.body.length, 0);
    assert.equal(responses[1]?.body.toString(), 'single body', 'no stray HEAD body bytes before the next response');
  });

  for (const code of [204, 304]) {
    it(`sends no body (and no chunked framing) for ${code}`, async () => {
      const responses = await exchange(rawRequest('GET', `/status?code=${code}`) + rawRequest('GET', '/single'), 2);
      assert.equal(responses[0]?.status, code);
      assert.equal(header(responses[0] as RawResponse, 'X-Status-App'), String(code));
      assert.equal(header(responses[0] as RawResponse, 'Transfer-Encoding'), undefined);
      assert.equal(responses[1]?.body.toString(), 'single body', 'nothing between the two responses');
    });
  }
});
