/**
 * Http2Request over a real in-process HTTP/2 connection: the body read
 * from the stream only once someone reads, counted for the body timeout,
 * trailers after it (RFC 9113 §8.1), the stream held back while the
 * request is paused (flow control, §5.2), and the socket stand-in that
 * is the connection's for reading and the stream's own for `destroyed`.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Http2Request } from '../../src/http/http2-request.js';
import { isClosing, markClosing } from '../../src/http/refusal.js';

describe('HTTP/2 request', () => {
  let server: Http2Server;
  let client: ClientHttp2Session;
  let handle: (req: Http2Request, stream: ServerHttp2Stream) => void = () => {};

  before(async () => {
    server = createServer();
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => handle(new Http2Request(stream, headers, rawHeaders), stream));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads the body with its trailers, counts its bytes, and reads as HTTP/1.1 fields', async () => {
    const seen = new Promise<{ body: string; bytes: number; trailers: string[]; host: unknown; url: string; version: string }>((resolve) => {
      handle = (req, stream) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          resolve({ body, bytes: req.bodyBytesRead, trailers: req.rawTrailers, host: req.headers.host, url: req.url, version: req.httpVersion });
          stream.respond({ ':status': 204 }, { endStream: true });
        });
      };
    });
    const stream = client.request({ ':method': 'POST', ':path': '/upload?x=1' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
    stream.end('hello, body');
    stream.resume();
    const got = await seen;
    assert.deepEqual(got, { body: 'hello, body', bytes: 11, trailers: ['x-checksum', 'abc'], host: got.host, url: '/upload?x=1', version: '2.0' });
    assert.match(String(got.host), /^127\.0\.0\.1:\d+$/);
  });

  it('holds the stream back while the request is paused, and lets it go on when resumed', async () => {
    const size = 256 * 1024;
    const done = new Promise<{ whilePaused: number; total: number }>((resolve) => {
      handle = (req, stream) => {
        let total = 0;
        req.on('data', (chunk: Buffer) => (total += chunk.length));
        req.pause();
        setTimeout(() => {
          const whilePaused = req.bodyBytesRead;
          req.on('end', () => {
            resolve({ whilePaused, total });
            stream.respond({ ':status': 204 }, { endStream: true });
          });
          req.resume();
        }, 100);
      };
    });
    const stream = client.request({ ':method': 'POST', ':path': '/' });
    stream.end(Buffer.alloc(size));
    stream.resume();
    const { whilePaused, total } = await done;
    // The stream's own window (65,535 bytes by default) and the request's buffer bound what arrives unread.
    assert.ok(whilePaused < size, `${whilePaused} bytes arrived while paused`);
    assert.equal(total, size);
  });

  it('ends a request without a body at once, and emits close with the stream', async () => {
    const events = await new Promise<string[]>((resolve) => {
      handle = (req, stream) => {
        const seen: string[] = [];
        req.on('end', () => seen.push(`end complete=${req.complete}`));
        req.on('close', () => {
          seen.push('close');
          resolve(seen);
        });
        req.resume();
        setTimeout(() => stream.respond({ ':status': 200 }, { endStream: true }), 20);
      };
      client.request({ ':path': '/' }).resume();
    });
    assert.deepEqual(events, ['end complete=true', 'close']);
  });

  it("gives each stream a socket of its own: the connection's address, the stream's destroyed, a refusal's mark on it alone", async () => {
    const sockets: Array<{ socket: object; address: unknown; destroyed: boolean }> = [];
    handle = (req, stream) => {
      sockets.push({ socket: req.socket, address: req.socket.remoteAddress, destroyed: req.socket.destroyed });
      stream.respond({ ':status': 200 }, { endStream: true });
    };
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve) => {
        const stream = client.request({ ':path': '/' });
        stream.resume();
        stream.on('close', () => resolve());
      });
    }
    const [first, second] = sockets as [(typeof sockets)[0], (typeof sockets)[0]];
    assert.equal(first.address, '127.0.0.1');
    assert.equal(first.destroyed, false);
    markClosing(first.socket);
    assert.equal(isClosing(first.socket), true);
    assert.equal(isClosing(second.socket), false);
  });
});
