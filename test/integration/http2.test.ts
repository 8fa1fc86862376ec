/**
 * HTTP/2 end to end (#16): over TLS by ALPN, and h2c with prior knowledge
 * from a trusted proxy, with Node's http2, curl, nghttp, h2load and openssl
 * s_client as clients. A stream is a request as on HTTP/1.1: the WSGI
 * environ says HTTP/2 and the ASGI scope "2", :authority is Host, bodies
 * stream both ways with and without Content-Length, and --limit-request-*
 * hold; what HTTP/2 forbids (connection-specific fields, RFC 9113 §8.2.2)
 * is refused. --http-protocols decides what ALPN offers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ASGI_FIXTURES } from '../helpers/asgi-fixtures.js';
import { closeSession, h2Request, openSession } from '../helpers/http2-client.js';
import { httpsRequest, opensslClient, startHttps } from '../helpers/https-client.js';
import { FIXTURE_APPS, REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

const run = promisify(execFile);
const ATTACK_CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http2', 'h2_attack.py');

/** A CGI script that says what it was given. */
const PROTOCOL_SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
printf 'SERVER_PROTOCOL=%s\\nHTTPS=%s\\nCONTENT_LENGTH=%s\\n' "$SERVER_PROTOCOL" "$HTTPS" "$CONTENT_LENGTH"
`;

type Environ = Record<string, string>;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('HTTP/2', { timeout: 120_000 }, () => {
  let pki: TestPki;
  /** TLS, --http-protocols h2,h1 (the default). */
  let both: Portico;
  /** TLS, --http-protocols h1. */
  let h1only: Portico;
  /** Plain HTTP, --http2-cleartext prior-knowledge, loopback trusted. */
  let h2c: Portico;
  /** The same, trusting another address only. */
  let untrusted: Portico;
  /** TLS behind a TCP proxy (--proxy-protocol). */
  let proxied: Portico;
  /** TLS, --http-protocols h2. */
  let h2only: Portico;
  let session: ClientHttp2Session;

  before(async () => {
    pki = makeTestPki();
    const cgiDir = join(pki.dir, 'cgi-bin');
    mkdirSync(cgiDir);
    writeFileSync(join(cgiDir, 'protocol.sh'), PROTOCOL_SCRIPT);
    chmodSync(join(cgiDir, 'protocol.sh'), 0o755);
    const tls = ['--certfile', pki.server.chain, '--keyfile', pki.server.key];
    const apps = [
      '--python', SYSTEM_PYTHON, '--pythonpath', `${FIXTURE_APPS},${ASGI_FIXTURES}`, '-w', '1',
      '--mount', '/env=echo_environ:application', '--mount', '/stream=stream_app:application', '--mount', '/asgi=raw_app:app',
      '--cgi', `/cgi-bin/=${cgiDir}`, '--limit-request-body', '10000000',
    ];
    const cleartext = ['--python', SYSTEM_PYTHON, '--pythonpath', FIXTURE_APPS, '-w', '1', '--http2-cleartext', 'prior-knowledge'];
    [both, h1only, h2c, untrusted, proxied, h2only] = await Promise.all([
      startHttps({ app: null, args: [...tls, ...apps] }),
      startHttps({ app: 'echo_environ:application', args: [...tls, '--python', SYSTEM_PYTHON, '--pythonpath', FIXTURE_APPS, '-w', '1', '--http-protocols', 'h1'] }),
      startPortico({ app: 'echo_environ:application', args: cleartext }),
      startPortico({ app: 'echo_environ:application', args: [...cleartext, '--forwarded-allow-ips', '192.0.2.1'] }),
      startHttps({ app: 'echo_environ:application', args: [...tls, '--python', SYSTEM_PYTHON, '--pythonpath', FIXTURE_APPS, '-w', '1', '--proxy-protocol'] }),
      startHttps({ app: 'echo_environ:application', args: [...tls, '--python', SYSTEM_PYTHON, '--pythonpath', FIXTURE_APPS, '-w', '1', '--http-protocols', 'h2'] }),
    ]);
    session = await openSession(both.url, { ca: pki.ca.cert });
  });

  after(async () => {
    if (session !== undefined) await closeSession(session);
    await Promise.all([both?.stop(), h1only?.stop(), h2c?.stop(), untrusted?.stop(), proxied?.stop(), h2only?.stop()]);
    pki?.remove();
  });

  it('serves a WSGI app over h2: SERVER_PROTOCOL HTTP/2, :authority as HTTP_HOST, cookie crumbs joined, the https scheme', async () => {
    const answer = await h2Request(session, '/env/x?q=1', { headers: { cookie: ['a=1', 'b=2'], 'x-custom': 'yes' } });
    assert.equal(answer.status, 200, answer.text);
    const environ = (JSON.parse(answer.text) as { environ: Environ }).environ;
    assert.equal(environ.SERVER_PROTOCOL, 'HTTP/2');
    assert.equal(environ.REQUEST_METHOD, 'GET');
    assert.equal(environ.PATH_INFO, '/x');
    assert.equal(environ.QUERY_STRING, 'q=1');
    assert.equal(environ.HTTP_HOST, `localhost:${both.port}`);
    assert.equal(environ.SERVER_NAME, 'localhost');
    assert.equal(environ.HTTP_COOKIE, 'a=1; b=2', 'RFC 9113 §8.2.3: crumbs are joined with "; "');
    assert.equal(environ.HTTP_X_CUSTOM, 'yes');
    assert.equal(environ['wsgi.url_scheme'], 'https');
    assert.equal(environ.HTTPS, 'on');
    assert.match(environ.SSL_PROTOCOL ?? '', /^TLSv1\.[23]$/);
    assert.equal(environ.REMOTE_ADDR, '127.0.0.1');
    for (const name of Object.keys(environ)) assert.doesNotMatch(name, /^HTTP_:/, 'no pseudo-header field reaches the environ');
  });

  it('serves an ASGI app over h2 with http_version "2"', async () => {
    const answer = await h2Request(session, '/asgi/scope');
    assert.equal(answer.status, 200, answer.text);
    const scope = JSON.parse(answer.text) as { http_version: string; scheme: string; headers: Array<[string, string]> };
    assert.equal(scope.http_version, '2');
    assert.equal(scope.scheme, 'https');
    assert.ok(scope.headers.some(([name, value]) => name === 'host' && value === `localhost:${both.port}`), JSON.stringify(scope.headers));
  });

  it('carries an ASGI early hint as a 103 before the response, and trailers after the body', async () => {
    const stream = session.request({ ':path': '/asgi/hints-and-trailers', te: 'trailers' });
    const informational: number[] = [];
    stream.on('headers', (head) => informational.push(Number(head[':status'])));
    const trailers = new Promise<Record<string, unknown>>((resolve) => stream.on('trailers', (fields) => resolve(fields)));
    const status = new Promise<number>((resolve) => stream.on('response', (head) => resolve(Number(head[':status']))));
    stream.resume();
    assert.equal(await status, 200);
    assert.deepEqual(informational, [103]);
    assert.ok(Object.keys(await trailers).length > 0, 'trailers arrive in a HEADERS frame after the DATA');
  });

  it('streams bodies both ways: an upload with and without Content-Length, and a 10 MiB download', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const declared = await h2Request(session, '/stream/upload', { method: 'POST', body, headers: { 'content-length': String(body.length) } });
    assert.equal(declared.status, 200, declared.text);
    assert.deepEqual(JSON.parse(declared.text).sha256, sha256(body));
    const undeclared = await h2Request(session, '/stream/upload', { method: 'POST', body });
    assert.equal(undeclared.status, 200, undeclared.text);
    assert.equal((JSON.parse(undeclared.text) as { length: number }).length, body.length);
    assert.deepEqual(JSON.parse(undeclared.text).sha256, sha256(body));
    const download = await h2Request(session, '/stream/download?blocks=160');
    assert.equal(download.status, 200);
    assert.equal(download.body.length, 160 * 65536);
  });

  it('gives a CGI script SERVER_PROTOCOL HTTP/2 and a body without Content-Length, spooled, with its length', async () => {
    const answer = await h2Request(session, '/cgi-bin/protocol.sh', { method: 'POST', body: 'x'.repeat(5000) });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^SERVER_PROTOCOL=HTTP\/2$/m);
    assert.match(answer.text, /^HTTPS=on$/m);
    assert.match(answer.text, /^CONTENT_LENGTH=5000$/m);
  });

  it('holds --limit-request-*: too many fields 431, a declared body over the limit 413, a long target 414; the connection serves on', async () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 120; i++) fields[`x-field-${i}`] = 'v';
    assert.equal((await h2Request(session, '/env/', { headers: fields })).status, 431);
    const tooLarge = await h2Request(session, '/stream/upload', { method: 'POST', headers: { 'content-length': '20000000' }, body: null, keepOpen: true });
    assert.equal(tooLarge.status, 413);
    assert.equal((await h2Request(session, `/env/${'a'.repeat(5000)}`)).status, 414);
    assert.equal((await h2Request(session, '/env/')).status, 200, 'a refusal ends its stream, not the connection');
    assert.equal(session.destroyed, false);
  });

  it('refuses connection-specific fields (RFC 9113 §8.2.2), and a Host that is not :authority; TE: trailers is allowed', async () => {
    const { stdout } = await run(SYSTEM_PYTHON, [ATTACK_CLIENT, '127.0.0.1', String(both.port), 'conn-header', '--path', '/env/', '--seconds', '5']);
    const result = JSON.parse(stdout) as { resets: Record<string, number>; responses: number };
    assert.equal(result.responses, 0, 'no response for a request with Connection');
    assert.equal(result.resets['1'], 1, 'the stream is reset with PROTOCOL_ERROR');
    const mismatch = await run(SYSTEM_PYTHON, [ATTACK_CLIENT, '127.0.0.1', String(both.port), 'host-mismatch', '--path', '/env/', '--seconds', '5']);
    assert.equal((JSON.parse(mismatch.stdout) as { status: number }).status, 400);
    assert.equal((await h2Request(session, '/env/', { headers: { te: 'trailers' } })).status, 200);
  });

  it('answers curl --http2 over TLS and curl --http1.1 on the same port', async () => {
    const curl = async (version: string): Promise<string> =>
      (await run('curl', ['-sS', version, '--cacert', pki.ca.cert, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://localhost:${both.port}/env/`])).stdout;
    assert.equal(await curl('--http2'), '2 200');
    assert.equal(await curl('--http1.1'), '1.1 200');
  });

  it('answers nghttp, and h2load with many streams on few connections', async () => {
    const { stdout } = await run('nghttp', ['-nv', `https://127.0.0.1:${both.port}/env/`], { timeout: 15_000 });
    assert.match(stdout, /recv SETTINGS frame[\s\S]*SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):100/);
    assert.match(stdout, /:status: 200/);
    const load = await run('h2load', ['-n', '400', '-c', '4', '-m', '16', `https://127.0.0.1:${both.port}/env/`], { timeout: 60_000 });
    assert.match(load.stdout, /requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored/);
    assert.match(load.stdout, /Application protocol: h2/);
  });

  it('offers h2 and http/1.1 by ALPN (openssl s_client), h2 first; refuses TLS 1.0 and 1.1', async () => {
    const both1 = await opensslClient(both.port, ['-alpn', 'h2,http/1.1', '-CAfile', pki.ca.cert, '-servername', 'localhost']);
    assert.match(both1, /^ALPN protocol: h2$/m);
    const reversed = await opensslClient(both.port, ['-alpn', 'http/1.1,h2', '-CAfile', pki.ca.cert, '-servername', 'localhost']);
    assert.match(reversed, /^ALPN protocol: h2$/m, "the server's preference decides");
    const h1 = await opensslClient(both.port, ['-alpn', 'http/1.1', '-CAfile', pki.ca.cert, '-servername', 'localhost']);
    assert.match(h1, /^ALPN protocol: http\/1\.1$/m);
    for (const version of ['-tls1', '-tls1_1']) {
      const said = await opensslClient(both.port, ['-alpn', 'h2', version, '-cipher', 'DEFAULT@SECLEVEL=0']);
      assert.doesNotMatch(said, /^ALPN protocol:/m, `${version} is refused`);
      assert.match(said, /alert|no protocols available|handshake failure|wrong version/i);
    }
  });

  it('with --http-protocols h1, offers only http/1.1: an h2 client falls back to HTTP/1.1', async () => {
    const said = await opensslClient(h1only.port, ['-alpn', 'h2,http/1.1', '-CAfile', pki.ca.cert, '-servername', 'localhost']);
    assert.match(said, /^ALPN protocol: http\/1\.1$/m);
    const { stdout } = await run('curl', ['-sS', '--http2', '--cacert', pki.ca.cert, '-o', '/dev/null', '-w', '%{http_version}', `https://localhost:${h1only.port}/`]);
    assert.equal(stdout, '1.1');
    const answer = await httpsRequest(`${h1only.url}/`, { ca: pki.ca.cert, servername: 'localhost' });
    assert.equal(answer.status, 200);
  });

  it('with --http-protocols h2, offers only h2: an HTTP/1.1 client, by ALPN or with none, is refused', async () => {
    const said = await opensslClient(h2only.port, ['-alpn', 'http/1.1', '-CAfile', pki.ca.cert, '-servername', 'localhost']);
    assert.doesNotMatch(said, /^ALPN protocol: http\/1\.1$/m);
    await assert.rejects(httpsRequest(`${h2only.url}/`, { ca: pki.ca.cert, servername: 'localhost' }), 'Node https, offering http/1.1 alone, gets no answer');
    await assert.rejects(run('curl', ['-sS', '--http1.1', '--max-time', '5', '--cacert', pki.ca.cert, `https://localhost:${h2only.port}/`]));
    await assert.rejects(run('curl', ['-sS', '--no-alpn', '--max-time', '5', '--cacert', pki.ca.cert, `https://localhost:${h2only.port}/`]));
    await h2only.waitForLog(/refused connection: closed PORTICO_ERR_HTTP_PROTOCOL: no ALPN on a listener that speaks HTTP\/2 only/);
    const { stdout } = await run('curl', ['-sS', '--http2', '--cacert', pki.ca.cert, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://localhost:${h2only.port}/`]);
    assert.equal(stdout, '2 200');
  });

  it('with --http2-cleartext prior-knowledge, serves h2c to a trusted peer and HTTP/1.1 on the same port', async () => {
    const h2 = await run('curl', ['-sS', '--http2-prior-knowledge', '-w', '\n%{http_version}', `${h2c.url}/`]);
    const [json, version] = h2.stdout.split('\n');
    assert.equal(version, '2');
    const environ = (JSON.parse(json as string) as { environ: Environ }).environ;
    assert.equal(environ.SERVER_PROTOCOL, 'HTTP/2');
    assert.equal(environ['wsgi.url_scheme'], 'http');
    const h1 = await run('curl', ['-sS', '--http1.1', '-o', '/dev/null', '-w', '%{http_version}', `${h2c.url}/`]);
    assert.equal(h1.stdout, '1.1');
    const node = await openSession(h2c.url);
    try {
      assert.equal((await h2Request(node, '/')).status, 200);
    } finally {
      await closeSession(node);
    }
  });

  it('refuses h2c from a peer --forwarded-allow-ips does not name (HTTP_1_1_REQUIRED), and serves it HTTP/1.1', async () => {
    await assert.rejects(run('curl', ['-sS', '--http2-prior-knowledge', '--max-time', '5', `${untrusted.url}/`]));
    await untrusted.waitForLog(/refused connection: closed PORTICO_ERR_HTTP_PROTOCOL: h2c from 127\.0\.0\.1, which --forwarded-allow-ips does not name/);
    const h1 = await run('curl', ['-sS', '--http1.1', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${untrusted.url}/`]);
    assert.equal(h1.stdout, '1.1 200');
  });

  it('behind a TCP proxy (--proxy-protocol), takes the client the PROXY header names for every stream of an h2 connection', async () => {
    const remote = await new Promise<ClientHttp2Session>((resolve, reject) => {
      const client = connect(`https://localhost:${proxied.port}`, {
        createConnection: () => {
          const raw = netConnect({ port: proxied.port, host: '127.0.0.1' });
          raw.write('PROXY TCP4 203.0.113.9 127.0.0.1 50000 443\r\n');
          return tlsConnect({ socket: raw, ca: readFileSync(pki.ca.cert), servername: 'localhost', ALPNProtocols: ['h2'] });
        },
      });
      client.once('connect', () => resolve(client));
      client.once('error', reject);
    });
    try {
      for (const path of ['/a', '/b']) {
        const answer = await h2Request(remote, path);
        const environ = (JSON.parse(answer.text) as { environ: Environ }).environ;
        assert.equal(environ.REMOTE_ADDR, '203.0.113.9', path);
        assert.equal(environ.SERVER_PROTOCOL, 'HTTP/2');
        assert.equal(environ['wsgi.url_scheme'], 'https');
      }
    } finally {
      await closeSession(remote);
    }
  });
});
