/** Limits, trusted forwarding headers and the PROXY protocol, end to end against portico. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startEchoServer, type EchoServer } from '../conformance/conformance-server.js';
import { exchange } from '../conformance/raw-exchange.js';
import { headerValues } from '../helpers/raw-response.js';
import { fixtureApp, startPortico } from '../helpers/portico.js';
import { parsePreface } from '../../src/http/proxy-protocol.js';
import { compileTrust, parseForwarded } from '../../src/http/proxy-headers.js';

const req = (head: string): Buffer[] => [Buffer.from(head, 'latin1')];
const environOf = async (port: number, bytes: Buffer[]): Promise<{ status: number; environ: Record<string, string> }> => {
  const result = await exchange(port, bytes, (finals) => finals.length >= 1);
  const response = result.finals[0];
  return { status: response?.status ?? 0, environ: response?.status === 200 ? JSON.parse(response.body.toString('latin1')) : {} };
};

describe('limits', { timeout: 30_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer(['--limit-request-line', '100', '--limit-request-fields', '10', '--limit-request-field_size', '200', '--limit-request-body', '10', '--body-timeout', '1']);
  });
  after(async () => server?.stop());

  test('414, 431, 413, and nothing reaches the app', async () => {
    const port = server.portico.port;
    const fields = Array.from({ length: 11 }, (_, i) => `X-${i}: v\r\n`).join('');
    const cases: Array<[string, number]> = [
      [`GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`, 431],
      [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(200)}\r\n\r\n`, 431],
      [`GET / HTTP/1.1\r\nHost: a\r\n${'X-Many: 1\r\n'.repeat(3000)}\r\n`, 431],
      ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world', 413],
      // A chunked body declares nothing: it is counted as it arrives, before any worker sees the request.
      [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n`, 413],
    ];
    for (const [head, status] of cases) {
      const result = await exchange(port, req(head), () => false);
      assert.equal(result.finals[0]?.status, status, head.slice(0, 40));
      assert.ok(result.closed);
    }
    assert.deepEqual(server.seen(), []);
    // Within the limits: every header field arrives (none silently dropped).
    const ok = await environOf(port, req(`GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 9 }, (_, i) => `X-${i}: v${i}\r\n`).join('')}\r\n`));
    assert.equal(ok.status, 200);
    assert.equal(ok.environ.HTTP_X_8, 'v8');
  });

  test('clients that trickle their bodies never hold the worker: a request behind them is served first', async () => {
    const port = server.portico.port;
    const before = server.seen().length;
    // One worker. Each trickler sends its 8-byte body a byte every 150 ms
    // (under --body-timeout 1), so each takes over a second to arrive.
    const tricklers = Array.from({ length: 3 }, async (_, n) => {
      const socket = connect({ port, host: '127.0.0.1' });
      await once(socket, 'connect');
      let received = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
      socket.write(`POST /trickle-${n} HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\nConnection: close\r\n\r\n`);
      for (const byte of 'abcdefgh') {
        await delay(150);
        socket.write(byte);
      }
      await once(socket, 'close');
      return { finishedAt: Date.now(), status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0) };
    });
    await delay(100);
    const quick = await exchange(port, req('GET /quick HTTP/1.1\r\nHost: a\r\n\r\n'), (finals) => finals.length >= 1);
    const quickAt = Date.now();
    const trickled = await Promise.all(tricklers);
    assert.equal(quick.finals[0]?.status, 200);
    assert.deepEqual(trickled.map((t) => t.status), [200, 200, 200]);
    for (const t of trickled) assert.ok(quickAt < t.finishedAt, 'the quick request waited for a trickled body');
    // The app saw each trickled request once, whole, after the quick one.
    await server.settle(before + 3);
    const seen = server.seen().slice(before).map(([, uri]) => uri);
    assert.equal(seen[0], '/quick');
    assert.deepEqual(seen.slice(1).sort(), ['/trickle-0', '/trickle-1', '/trickle-2']);
  });

  test('a body that stops arriving gets 408 after --body-timeout', async () => {
    const result = await exchange(server.portico.port, req('POST /slow-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe'), () => false, 5_000);
    assert.equal(result.finals[0]?.status, 408);
    assert.ok(result.closed);
  });
});

describe('--body-timeout once the response has begun', { timeout: 30_000 }, () => {
  test('closes the connection: the response cannot be replaced by a 408', async () => {
    const { app, args } = fixtureApp('early_answer_app');
    const server = await startPortico({ app, args: [...args, '--body-timeout', '1'] });
    try {
      // Over BODY_PREFETCH, so the request reaches the application before its body is all here.
      const declared = 256 * 1024;
      const head = `POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: ${declared}\r\n\r\n`;
      const result = await exchange(server.port, [Buffer.from(head, 'latin1'), Buffer.alloc(96 * 1024, 0x61)], () => false, 10_000);
      assert.ok(result.closed, 'the connection was closed');
      const text = result.received.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /started\n/);
      assert.doesNotMatch(text, /read \d+ bytes|408/);
      assert.doesNotMatch(text, /\r\n0\r\n\r\n$/, 'no final chunk: the client can tell the response is cut');
      await server.waitForLog(/PORTICO_ERR_BODY_TIMEOUT|no request body bytes/, 5_000);
    } finally {
      await server.stop();
    }
  });
});

describe('request targets that name no resource', { timeout: 30_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer();
  });
  after(async () => server?.stop());

  test('OPTIONS * is answered by the server itself; CONNECT gets 501; neither reaches the app', async () => {
    const port = server.portico.port;
    const options = await exchange(port, req('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n'), (finals) => finals.length >= 2);
    assert.equal(options.finals[0]?.status, 200);
    const allowed = options.finals[0] ? headerValues(options.finals[0], 'allow') : [];
    assert.match(allowed.join(), /\bGET\b.*\bOPTIONS\b/);
    assert.equal(options.finals[0]?.body.length, 0);
    assert.equal(options.finals[1]?.status, 200, 'the connection stays usable');
    const tunnel = await exchange(port, req('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), () => false);
    assert.equal(tunnel.finals[0]?.status, 501);
    await server.settle(1);
    assert.deepEqual(server.seen(), [['GET', '/after']]);
  });
});

describe('forwarding headers and the PROXY protocol', { timeout: 30_000 }, () => {
  let trusted: EchoServer;
  let proxied: EchoServer;
  before(async () => {
    trusted = await startEchoServer(['--forwarded-allow-ips', '127.0.0.1, 10.0.0.0/8']);
    proxied = await startEchoServer(['--proxy-protocol', '--forwarded-allow-ips', '192.0.2.1']);
  });
  after(async () => {
    await trusted?.stop();
    await proxied?.stop();
  });

  test('from a trusted peer: right-most untrusted hop, scheme, host', async () => {
    const { environ } = await environOf(
      trusted.portico.port,
      req('GET /p HTTP/1.1\r\nHost: inner\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9, 10.1.2.3\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example:8443\r\n\r\n'),
    );
    assert.equal(environ.REMOTE_ADDR, '203.0.113.9');
    assert.equal(environ['wsgi.url_scheme'], 'https');
    assert.equal(environ.SERVER_NAME, 'shop.example');
    assert.equal(environ.SERVER_PORT, '8443');
    assert.equal(environ.HTTP_X_FORWARDED_FOR, '6.6.6.6, 203.0.113.9, 10.1.2.3');
  });

  test('Forwarded (RFC 7239), and conflicts get 400', async () => {
    const port = trusted.portico.port;
    const { environ } = await environOf(port, req('GET / HTTP/1.1\r\nHost: a\r\nForwarded: for="[2001:db8::1]:4711";proto=https;host=b.example\r\n\r\n'));
    assert.equal(environ.REMOTE_ADDR, '2001:db8::1');
    assert.equal(environ.REMOTE_PORT, '4711');
    assert.equal(environ['wsgi.url_scheme'], 'https');
    assert.equal(environ.HTTP_HOST, 'b.example');
    const conflict = await environOf(port, req('GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\nForwarded: proto=http\r\n\r\n'));
    assert.equal(conflict.status, 400);
    const badScheme = await environOf(port, req('GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: gopher\r\n\r\n'));
    assert.equal(badScheme.status, 400);
  });

  test('PROXY v1 and v2 give the peer, which forwarded-allow-ips then judges; a bad preface closes', async () => {
    const port = proxied.portico.port;
    const v1 = await environOf(port, [Buffer.from('PROXY TCP4 198.51.100.7 192.0.2.9 5555 80\r\nGET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n', 'latin1')]);
    assert.equal(v1.environ.REMOTE_ADDR, '198.51.100.7', 'untrusted PROXY source: X-Forwarded-For ignored');
    assert.equal(v1.environ.REMOTE_PORT, '5555');
    const header = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 192, 0, 2, 1, 192, 0, 2, 9, 0x30, 0x39, 0x00, 0x50]);
    const v2 = await environOf(port, [header, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n', 'latin1')]);
    assert.equal(v2.environ.REMOTE_ADDR, '203.0.113.5', 'trusted PROXY source: X-Forwarded-For believed');
    const bad = await exchange(port, req('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), () => false);
    assert.equal(bad.finals.length, 0);
    assert.ok(bad.closed);
  });

  test('parsers', () => {
    assert.deepEqual(parsePreface(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'done', peer: null, length: 15 });
    assert.equal(parsePreface(Buffer.from('PROXY TCP4 1.2.3')).kind, 'incomplete');
    assert.equal(parsePreface(Buffer.from('PROXY TCP4 1.2.3.4 ::1 1 2\r\n')).kind, 'invalid');
    assert.deepEqual(parseForwarded('for=a;proto=https, for="[::1]"'), [{ for: 'a', proto: 'https' }, { for: '[::1]' }]);
    assert.equal(parseForwarded('for=a;for=b'), null);
    assert.equal(compileTrust('*')('8.8.8.8', 0), true);
    assert.equal(compileTrust('')('127.0.0.1', 0), false);
    assert.throws(() => compileTrust('10.0.0.0/99'), { code: 'PORTICO_ERR_CONFIG' });
  });
});
