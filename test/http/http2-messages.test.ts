/**
 * What makes an HTTP/2 stream read as an HTTP/1.1 request, in the parts
 * that need no connection: which fields RFC 9113 §8.2.2 calls
 * connection-specific, and that a request is HTTP/2 by its class, never by
 * the version an HTTP/1.1 request line claims; and how a response head
 * reaches the stream, over a real in-process HTTP/2 connection.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Http2Request, isConnectionSpecific, isHttp2 } from '../../src/http/http2-messages.js';
import { Http2Response } from '../../src/http/http2-response.js';
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

  it("send a worker's head in one go: connection-specific fields dropped, repeated ones kept, readable after, and no trailers asked for with a declared length", async () => {
    const seen = await exchange((res) => {
      res.writeHead(200, 'OK', ['Content-Type', 'text/plain', 'Connection', 'close', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '2']);
      const fields = { type: res.getHeader('content-type'), cookies: res.getHeader('Set-Cookie'), inherited: res.getHeader('constructor'), names: res.getHeaderNames().sort() };
      res.end('hi');
      return fields;
    });
    assert.equal(seen.headers[':status'], 200);
    assert.equal(seen.headers['content-type'], 'text/plain');
    assert.equal(seen.headers.connection, undefined);
    assert.deepEqual(seen.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(seen.body, 'hi');
    assert.deepEqual(seen.server, { type: 'text/plain', cookies: ['a=1', 'b=2'], inherited: undefined, names: ['content-length', 'content-type', 'set-cookie'] });
    assert.equal(seen.wantedTrailers, false);
  });

  it('still send trailers after a head without a declared length', async () => {
    const seen = await exchange((res) => {
      // A name that a plain object inherits is a field like any other.
      res.writeHead(200, ['Content-Type', 'text/plain', 'toString', 'x', 'toString', 'y']);
      res.addTrailers([['X-Checksum', 'abc']]);
      res.end('hi');
    });
    assert.equal(seen.body, 'hi');
    assert.equal(seen.wantedTrailers, true);
    assert.equal(seen.trailers['x-checksum'], 'abc');
    assert.equal(seen.headers.tostring, 'x, y');
  });

  it('leave nothing of a head nghttp2 refused to the refusal written after it', async () => {
    const seen = await exchange((res) => {
      assert.throws(() => res.writeHead(200, ['Content-Type', 'a', 'Content-Type', 'b', 'Content-Length', '0']), { code: 'ERR_HTTP2_HEADER_SINGLE_VALUE' });
      res.writeHead(502, { 'content-length': '0' });
      const type = res.getHeader('content-type');
      res.end();
      return type;
    });
    assert.equal(seen.headers[':status'], 502);
    assert.equal(seen.headers['content-type'], undefined);
    assert.equal(seen.server, undefined);
  });

  it('keep fields set before the head, and names that are not plain tokens, on the general writeHead path', async () => {
    const seen = await exchange((res) => {
      res.setHeader('X-Before', '1');
      res.writeHead(201, [' X-Spaced ', 'v', 'Content-Length', '0']);
      res.end();
    });
    assert.equal(seen.headers[':status'], 201);
    assert.equal(seen.headers['x-before'], '1');
    assert.equal(seen.headers['x-spaced'], 'v');
  });
});

interface Seen {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: string;
  wantedTrailers: boolean;
  server: unknown;
}

/** One request to an in-process HTTP/2 server that answers with `respond`, over Http2Response on the stream API, as http2-sessions.ts serves it. */
async function exchange(respond: (res: Http2Response) => unknown): Promise<Seen> {
  let server: unknown;
  let wantedTrailers = false;
  const h2 = createServer();
  h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    stream.once('wantTrailers', () => (wantedTrailers = true));
    server = respond(new Http2Response(stream, new Http2Request(stream, headers, rawHeaders)));
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  const client = connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
  try {
    const request = client.request({ ':path': '/' });
    request.end();
    const [headers, trailers, body] = await Promise.all([
      new Promise<IncomingHttpHeaders>((resolve) => request.once('response', resolve)),
      new Promise<IncomingHttpHeaders>((resolve) => {
        request.once('trailers', resolve);
        request.once('close', () => resolve({}));
      }),
      new Promise<string>((resolve, reject) => {
        let text = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (text += chunk));
        request.once('end', () => resolve(text));
        request.once('error', reject);
      }),
    ]);
    return { headers, trailers, body, wantedTrailers, server };
  } finally {
    client.close();
    await new Promise((resolve) => h2.close(resolve));
  }
}
