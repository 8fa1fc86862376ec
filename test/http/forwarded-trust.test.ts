/**
 * --forwarded-allow-ips end to end: which peers are believed by default,
 * from $FORWARDED_ALLOW_IPS, with '*' and with CIDR ranges, and what a
 * trusted peer's X-Forwarded-Proto may say. Untrusted peers are real: the
 * whole of 127.0.0.0/8 is loopback on Linux, so a client bound to
 * 127.0.0.2 is a different peer from one on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CONFORMANCE_APPS } from '../conformance/corpus.js';
import { parseResponses } from '../helpers/raw-response.js';
import { startPortico, type Portico } from '../helpers/portico.js';

interface Answer {
  status: number;
  environ: Record<string, string>;
}

/** One request from `localAddress` to `host:port`; the echo app's environ when it answers 200. */
async function ask(port: number, request: string, { from = '127.0.0.1', host = '127.0.0.1' } = {}): Promise<Answer> {
  const socket = connect({ port, host, localAddress: from });
  socket.on('error', () => {});
  await once(socket, 'connect');
  let received = Buffer.alloc(0);
  let closed = false;
  try {
    const answered = new Promise<void>((resolve) => {
      const check = (): void => {
        if (closed || parseResponses(received, closed).responses.length > 0) resolve();
      };
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        check();
      });
      socket.on('close', () => {
        closed = true;
        check();
      });
    });
    socket.write(Buffer.from(request, 'latin1'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([answered, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
    clearTimeout(timer);
    const response = parseResponses(received, closed).responses[0];
    assert.ok(response !== undefined, `no response from ${host}:${port} to ${JSON.stringify(request.slice(0, 60))}`);
    return { status: response.status, environ: response.status === 200 ? JSON.parse(response.body.toString('latin1')) : {} };
  } finally {
    socket.destroy();
  }
}

const withHeaders = (...lines: string[]): string => `GET /who HTTP/1.1\r\nHost: a\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
const XFF = withHeaders('X-Forwarded-For: 203.0.113.9');

/** The echo app on IPv4 and IPv6 loopback, with `args` and the environment given (FORWARDED_ALLOW_IPS unset unless given). */
async function startEcho(args: string[], env: Record<string, string | undefined> = {}): Promise<{ portico: Portico; v4: number; v6: number }> {
  const portico = await startPortico({
    app: 'conformance_echo:application',
    args: ['--pythonpath', CONFORMANCE_APPS, '-b', '127.0.0.1:0', '-b', '[::1]:0', ...args],
    env: { FORWARDED_ALLOW_IPS: undefined, ...env },
    ready: /listening on http:\/\/(127\.0\.0\.1):(\d+), http:\/\/\[::1\]:\d+, (\d+) workers? ready/,
  });
  const v6 = /http:\/\/\[::1\]:(\d+)/.exec(portico.logs());
  assert.ok(v6 !== null, `no [::1] listener in:\n${portico.logs()}`);
  return { portico, v4: portico.port, v6: Number(v6[1]) };
}

describe('--forwarded-allow-ips', { timeout: 45_000 }, () => {
  let byDefault: Awaited<ReturnType<typeof startEcho>>;
  let fromEnv: Awaited<ReturnType<typeof startEcho>>;
  let overridden: Awaited<ReturnType<typeof startEcho>>;
  let everyone: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    [byDefault, fromEnv, overridden, everyone] = await Promise.all([
      startEcho([]),
      startEcho([], { FORWARDED_ALLOW_IPS: '127.0.0.2' }),
      // Ranges, IPv4 and IPv6, on the command line over $FORWARDED_ALLOW_IPS.
      startEcho(['--forwarded-allow-ips', '127.0.0.4/30, ::1/128'], { FORWARDED_ALLOW_IPS: '127.0.0.2' }),
      startEcho(['--forwarded-allow-ips', '*']),
    ]);
  });
  after(async () => {
    await Promise.all([byDefault, fromEnv, overridden, everyone].map((server) => server?.portico.stop()));
  });

  test('by default 127.0.0.1 and ::1 are believed, and no other peer', async () => {
    const v4 = await ask(byDefault.v4, XFF);
    assert.equal(v4.environ.REMOTE_ADDR, '203.0.113.9');
    assert.equal(v4.environ.REMOTE_PORT, '0');
    const v6 = await ask(byDefault.v6, XFF, { from: '::1', host: '::1' });
    assert.equal(v6.environ.REMOTE_ADDR, '203.0.113.9');
    const other = await ask(byDefault.v4, withHeaders('X-Forwarded-For: 203.0.113.9', 'X-Forwarded-Proto: https'), { from: '127.0.0.2' });
    assert.equal(other.environ.REMOTE_ADDR, '127.0.0.2');
    assert.equal(other.environ['wsgi.url_scheme'], 'http');
    assert.equal(other.environ.HTTP_X_FORWARDED_FOR, '203.0.113.9', 'passed through untouched');
  });

  test('$FORWARDED_ALLOW_IPS replaces the default', async () => {
    assert.equal((await ask(fromEnv.v4, XFF, { from: '127.0.0.2' })).environ.REMOTE_ADDR, '203.0.113.9');
    assert.equal((await ask(fromEnv.v4, XFF)).environ.REMOTE_ADDR, '127.0.0.1', 'loopback is no longer trusted');
    assert.equal((await ask(fromEnv.v6, XFF, { from: '::1', host: '::1' })).environ.REMOTE_ADDR, '::1');
  });

  test('the command line replaces $FORWARDED_ALLOW_IPS; CIDR ranges take in exactly their addresses', async () => {
    const remoteAddr = async (from: string): Promise<string | undefined> => (await ask(overridden.v4, XFF, { from })).environ.REMOTE_ADDR;
    assert.equal(await remoteAddr('127.0.0.2'), '127.0.0.2', "$FORWARDED_ALLOW_IPS's peer is not trusted");
    assert.equal(await remoteAddr('127.0.0.1'), '127.0.0.1');
    assert.equal(await remoteAddr('127.0.0.3'), '127.0.0.3');
    assert.equal(await remoteAddr('127.0.0.4'), '203.0.113.9');
    assert.equal(await remoteAddr('127.0.0.7'), '203.0.113.9');
    assert.equal(await remoteAddr('127.0.0.8'), '127.0.0.8');
    assert.equal((await ask(overridden.v6, XFF, { from: '::1', host: '::1' })).environ.REMOTE_ADDR, '203.0.113.9');
    // A range also vouches for hops inside the chain: 127.0.0.5 is a proxy, 198.51.100.1 the client.
    const chain = await ask(overridden.v4, withHeaders('X-Forwarded-For: 6.6.6.6, 198.51.100.1, 127.0.0.5'), { from: '127.0.0.4' });
    assert.equal(chain.environ.REMOTE_ADDR, '198.51.100.1');
  });

  test("'*' believes every peer, and so every hop: the client is the left-most address", async () => {
    for (const from of ['127.0.0.1', '127.0.0.2', '127.0.0.200']) {
      const { environ } = await ask(everyone.v4, withHeaders('X-Forwarded-For: 203.0.113.9', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: shop.example'), { from });
      assert.equal(environ.REMOTE_ADDR, '203.0.113.9', from);
      assert.equal(environ['wsgi.url_scheme'], 'https', from);
      assert.equal(environ.SERVER_NAME, 'shop.example', from);
    }
    const chain = await ask(everyone.v4, withHeaders('X-Forwarded-For: 6.6.6.6, 198.51.100.1'), { from: '127.0.0.2' });
    assert.equal(chain.environ.REMOTE_ADDR, '6.6.6.6');
  });

  // Why a list in X-Forwarded-Proto is a conflict and one in Forwarded is not: resolveClient in proxy-headers.ts.
  test('a trusted X-Forwarded-Proto that disagrees with itself gets 400; one that agrees is served', async () => {
    const port = everyone.v4;
    const cases: Array<[string[], number, string?]> = [
      [['X-Forwarded-Proto: https, http'], 400],
      [['X-Forwarded-Proto: http,https'], 400],
      [['X-Forwarded-Proto: https', 'X-Forwarded-Proto: http'], 400],
      [['X-Forwarded-For: 203.0.113.9, 10.0.0.1', 'X-Forwarded-Proto: https, http'], 400],
      [['X-Forwarded-Proto: https', 'X-Forwarded-Proto: https'], 200, 'https'],
      [['X-Forwarded-Proto: https, HTTPS'], 200, 'https'],
      [['X-Forwarded-Proto: http'], 200, 'http'],
      // Per hop in Forwarded: the client's element (the left-most, every hop being trusted) says https.
      [['Forwarded: for=203.0.113.9;proto=https, for=10.0.0.1;proto=http'], 200, 'https'],
    ];
    for (const [lines, status, scheme] of cases) {
      const answer = await ask(port, withHeaders(...lines));
      assert.equal(answer.status, status, lines.join(' | '));
      if (scheme !== undefined) assert.equal(answer.environ['wsgi.url_scheme'], scheme, lines.join(' | '));
    }
    // From an untrusted peer the same headers are only headers.
    const untrusted = await ask(byDefault.v4, withHeaders('X-Forwarded-Proto: https', 'X-Forwarded-Proto: http'), { from: '127.0.0.2' });
    assert.equal(untrusted.status, 200);
    assert.equal(untrusted.environ['wsgi.url_scheme'], 'http');
    assert.equal(untrusted.environ.HTTP_X_FORWARDED_PROTO, 'https, http');
  });
});
