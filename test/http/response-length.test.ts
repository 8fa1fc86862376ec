import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closeAfterBody, fitToDeclaredLength } from '../../src/http/response-length.js';
import { exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { splitHead } from '../helpers/raw-response.js';

describe('fitToDeclaredLength', () => {
  const chunk = Buffer.from('hello');

  it('lets everything through when no length was declared', () => {
    assert.deepEqual(fitToDeclaredLength(chunk, null, 100), { within: chunk, overran: false, complete: false });
  });

  it('says when a chunk reaches the declared length exactly', () => {
    assert.deepEqual(fitToDeclaredLength(chunk, 8, 3), { within: chunk, overran: false, complete: true });
    assert.deepEqual(fitToDeclaredLength(chunk, 9, 3), { within: chunk, overran: false, complete: false });
  });

  it('cuts a chunk at the declared length, and says bytes were dropped', () => {
    const fitted = fitToDeclaredLength(chunk, 5, 2);
    assert.equal(fitted.within.toString(), 'hel');
    assert.equal(fitted.overran, true);
    assert.equal(fitted.complete, true);
  });

  it('lets nothing more through once the declared length is reached', () => {
    const fitted = fitToDeclaredLength(chunk, 5, 5);
    assert.equal(fitted.within.length, 0);
    assert.equal(fitted.overran, true);
  });
});

describe('closeAfterBody', () => {
  let server: http.Server;
  let port: number;

  before(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Length': '5' });
      if (req.url === '/ended') {
        res.end('hello');
        closeAfterBody(req, res);
      } else {
        res.write('hel');
        closeAfterBody(req, res, Buffer.from('lo'));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const path of ['/last', '/ended']) {
    it(`sends the body and then closes a keep-alive connection, the next pipelined request unanswered (${path})`, async () => {
      const { received, closed } = await exchangeRaw(port, rawRequest('GET', path) + rawRequest('GET', path));
      assert.ok(closed, 'connection closed');
      assert.equal(splitHead(received)?.afterHead.toString('latin1'), 'hello');
    });
  }
});
