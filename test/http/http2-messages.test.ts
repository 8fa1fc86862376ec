/**
 * What makes an HTTP/2 stream read as an HTTP/1.1 request, in the parts
 * that need no connection: which fields RFC 9113 §8.2.2 calls
 * connection-specific, and that a request is HTTP/2 by its class, never by
 * the version an HTTP/1.1 request line claims.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectionSpecific, isHttp2 } from '../../src/http/http2-messages.js';
import { fakeRequest } from '../helpers/fake-request.js';

describe('HTTP/2 messages', () => {
  it('call Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade and TE other than trailers connection-specific', () => {
    for (const name of ['Connection', 'keep-alive', 'Proxy-Connection', 'transfer-encoding', 'Upgrade']) assert.equal(isConnectionSpecific(name, 'x'), true, name);
    assert.equal(isConnectionSpecific('TE', 'gzip'), true);
    assert.equal(isConnectionSpecific('te', ' Trailers '), false);
    for (const name of ['content-length', 'cookie', 'host', 'x-connection']) assert.equal(isConnectionSpecific(name, 'x'), false, name);
  });

  it('take an HTTP/1.1 request line that says HTTP/2.0 for what it is: not HTTP/2', () => {
    const request = fakeRequest({ httpVersion: '2.0' });
    (request as { httpVersionMajor: number }).httpVersionMajor = 2;
    assert.equal(isHttp2(request), false);
  });
});
