/**
 * HTTPS end to end (#16), on certificates openssl makes for the run:
 * requests through a WSGI app, a CGI script and an ASGI app over TLS, with
 * Node's https, curl and openssl s_client as clients. The scheme follows
 * TLS (wsgi.url_scheme, HTTPS=on, the ASGI scope); client certificates are
 * asked for as --cert-reqs says, and a verified one reaches the
 * application as mod_ssl names it; TLS 1.0 and 1.1 are refused. A
 * WebSocket over TLS is wss.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ASGI_FIXTURES } from '../helpers/asgi-fixtures.js';
import { httpsRequest, opensslClient, startHttps } from '../helpers/https-client.js';
import { FIXTURE_APPS, SYSTEM_PYTHON } from '../helpers/paths.js';
import { startTogether, type Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { WS_ARGS } from '../helpers/websocket-fixtures.js';
import WebSocket from 'ws';

const run = promisify(execFile);

/** A CGI script that prints the TLS variables it was given. */
const TLS_ENV_SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
printf 'HTTPS=%s\\nSSL_CLIENT_VERIFY=%s\\nSSL_CLIENT_S_DN=%s\\nSSL_PROTOCOL=%s\\n' "$HTTPS" "$SSL_CLIENT_VERIFY" "$SSL_CLIENT_S_DN" "$SSL_PROTOCOL"
`;

type Environ = Record<string, string>;

/** scope["extensions"]["tls"], as the asgiref TLS extension names its keys. */
interface AsgiTls {
  tls_version: number | null;
  cipher_suite: number | null;
  server_cert: string | null;
  client_cert_chain: string[];
  client_cert_name: string | null;
  client_cert_error: string | null;
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

function environOf(text: string): Environ {
  return (JSON.parse(text) as { environ: Environ }).environ;
}

describe('TLS', { timeout: 120_000 }, () => {
  let pki: TestPki;
  /** --cert-reqs 2: a client certificate is required. */
  let required: Portico;
  /** --cert-reqs 1: one is optional, but verified when given. */
  let optional: Portico;

  before(async () => {
    pki = makeTestPki();
    const cgiDir = join(pki.dir, 'cgi-bin');
    mkdirSync(cgiDir);
    writeFileSync(join(cgiDir, 'tls-env.sh'), TLS_ENV_SCRIPT);
    chmodSync(join(cgiDir, 'tls-env.sh'), 0o755);
    const args = (certReqs: string): string[] => [
      '--certfile', pki.server.chain, '--keyfile', pki.server.key, '--ca-certs', pki.ca.cert, '--cert-reqs', certReqs,
      '--python', SYSTEM_PYTHON, '--pythonpath', `${FIXTURE_APPS},${ASGI_FIXTURES}`, '-w', '1',
      '--mount', '/env=echo_environ:application', '--mount', '/input=input_app:application', '--mount', '/asgi=raw_app:app',
      '--cgi', `/cgi-bin/=${cgiDir}`,
    ];
    [required, optional] = await startTogether([startHttps({ app: null, args: args('2') }), startHttps({ app: null, args: args('1') })]);
  });

  after(async () => {
    await required?.stop();
    await optional?.stop();
    pki?.remove();
  });

  const client = (): { ca: string; cert: string; key: string } => ({ ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key });

  it('logs the certificate it serves, and listens on an https:// address', () => {
    assert.match(required.logs(), /\[INFO\] TLS: CN=portico-server-one,O=Portico Tests for localhost \(default\), until \d{4}-\d\d-\d\d; TLS 1\.2 and up; client certificates required/);
    assert.match(required.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('GET through a WSGI app: https scheme, HTTPS=on, and the verified client certificate as mod_ssl names it', async () => {
    const answer = await httpsRequest(`${required.url}/env/x?q=1`, { ...client(), servername: 'localhost' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.serverCn, 'portico-server-one');
    assert.equal(answer.alpn, 'http/1.1');
    assert.match(answer.protocol ?? '', /^TLSv1\.[23]$/);
    const environ = environOf(answer.text);
    assert.equal(environ['wsgi.url_scheme'], 'https');
    assert.equal(environ.HTTPS, 'on');
    assert.equal(environ.SSL_CLIENT_VERIFY, 'SUCCESS');
    assert.equal(environ.SSL_CLIENT_S_DN, pki.client.dn);
    assert.equal(environ.SSL_CLIENT_I_DN, pki.ca.dn);
    assert.equal(environ.SSL_TLS_SNI, 'localhost');
    assert.equal(environ.SSL_PROTOCOL, answer.protocol);
    assert.equal(environ.SERVER_PORT, String(required.port));
    assert.equal(environ.REMOTE_ADDR, '127.0.0.1');
  });

  it('POST through a WSGI app: the body arrives whole', async () => {
    const body = 'x'.repeat(200_000);
    const answer = await httpsRequest(`${required.url}/input/read-n?n=65536`, { ...client(), method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal((JSON.parse(answer.text) as { data: string }).data.length, body.length);
  });

  it('with --cert-reqs 2, refuses a client without a certificate, or with one from another CA, at the handshake', async () => {
    await assert.rejects(httpsRequest(`${required.url}/env/`, { ca: pki.ca.cert }), (error: NodeJS.ErrnoException) => error.code !== undefined);
    await assert.rejects(httpsRequest(`${required.url}/env/`, { ca: pki.ca.cert, cert: pki.stranger.cert, key: pki.stranger.key }));
    await required.waitForLog(/refused connection: closed PORTICO_ERR_TLS_HANDSHAKE: no client certificate, and --cert-reqs 2 requires one/);
    await required.waitForLog(/refused connection: closed PORTICO_ERR_TLS_HANDSHAKE: client certificate not verified against --ca-certs/);
  });

  it('with --cert-reqs 1, serves a client without a certificate (SSL_CLIENT_VERIFY=NONE) and one with (SUCCESS)', async () => {
    const without = environOf((await httpsRequest(`${optional.url}/env/`, { ca: pki.ca.cert })).text);
    assert.equal(without.SSL_CLIENT_VERIFY, 'NONE');
    assert.equal(without.SSL_CLIENT_S_DN, undefined);
    assert.equal(without.SSL_TLS_SNI, undefined, 'no SNI name for an address');
    assert.equal(without.HTTPS, 'on');
    const withCert = environOf((await httpsRequest(`${optional.url}/env/`, client())).text);
    assert.equal(withCert.SSL_CLIENT_VERIFY, 'SUCCESS');
    assert.equal(withCert.SSL_CLIENT_S_DN, pki.client.dn);
  });

  it('with --cert-reqs 1, still refuses a certificate that does not verify', async () => {
    await assert.rejects(httpsRequest(`${optional.url}/env/`, { ca: pki.ca.cert, cert: pki.stranger.cert, key: pki.stranger.key }));
  });

  it('keeps the https scheme when a trusted proxy names the client but no scheme, and takes the scheme it names', async () => {
    const viaProxy = environOf((await httpsRequest(`${optional.url}/env/`, { ca: pki.ca.cert, headers: { 'X-Forwarded-For': '203.0.113.5' } })).text);
    assert.equal(viaProxy.REMOTE_ADDR, '203.0.113.5', 'loopback is trusted by default');
    assert.equal(viaProxy['wsgi.url_scheme'], 'https');
    assert.equal(viaProxy.HTTPS, 'on');
    const saysHttp = environOf((await httpsRequest(`${optional.url}/env/`, { ca: pki.ca.cert, headers: { 'X-Forwarded-Proto': 'http' } })).text);
    assert.equal(saysHttp['wsgi.url_scheme'], 'http');
    assert.equal(saysHttp.HTTPS, undefined);
    assert.equal(saysHttp.SSL_CLIENT_VERIFY, 'NONE', 'the connection is still TLS');
  });

  it('gives a CGI script HTTPS=on and the client certificate', async () => {
    const answer = await httpsRequest(`${required.url}/cgi-bin/tls-env.sh`, client());
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^HTTPS=on$/m);
    assert.match(answer.text, /^SSL_CLIENT_VERIFY=SUCCESS$/m);
    assert.match(answer.text, new RegExp(`^SSL_CLIENT_S_DN=${pki.client.dn}$`, 'm'));
    assert.match(answer.text, /^SSL_PROTOCOL=TLSv1\.[23]$/m);
  });

  it("gives an ASGI app the scheme https", async () => {
    const answer = await httpsRequest(`${optional.url}/asgi/scope`, { ca: pki.ca.cert });
    assert.equal(answer.status, 200, answer.text);
    const scope = JSON.parse(answer.text) as { scheme: string; server: [string, number] };
    assert.equal(scope.scheme, 'https');
    assert.equal(scope.server[1], optional.port);
  });

  it('gives an ASGI app the TLS extension: version and cipher as numbers, the server certificate and the client chain as PEM, the subject as RFC 4514', async () => {
    const answer = await httpsRequest(`${required.url}/asgi/scope`, client());
    assert.equal(answer.status, 200, answer.text);
    const tls = (JSON.parse(answer.text) as { tls?: AsgiTls }).tls;
    assert.ok(tls !== undefined, answer.text);
    assert.equal(tls.tls_version, answer.protocol === 'TLSv1.3' ? 0x0304 : 0x0303);
    assert.equal(typeof tls.cipher_suite, 'number');
    assert.equal(fingerprint(tls.server_cert ?? ''), fingerprint(readFileSync(pki.server.cert, 'latin1')));
    assert.equal(fingerprint(tls.client_cert_chain[0] ?? ''), fingerprint(readFileSync(pki.client.cert, 'latin1')));
    assert.equal(tls.client_cert_name, pki.client.dn);
    assert.equal(tls.client_cert_error, null);
    // Without a client certificate: no chain and no name; over plain HTTP, no extension at all (test_asgi_scope.py).
    const anonymous = await httpsRequest(`${optional.url}/asgi/scope`, { ca: pki.ca.cert });
    const bare = (JSON.parse(anonymous.text) as { tls?: AsgiTls }).tls;
    assert.deepEqual([bare?.client_cert_chain, bare?.client_cert_name], [[], null]);
  });

  it('answers curl, which verifies the chain and presents the client certificate', async () => {
    const { stdout } = await run('curl', [
      '-sS', '--cacert', pki.ca.cert, '--cert', pki.client.cert, '--key', pki.client.key,
      '--resolve', `localhost:${required.port}:127.0.0.1`, '-w', '\n%{http_code} %{scheme}', `https://localhost:${required.port}/env/curl`,
    ]);
    const [json, status] = stdout.split('\n');
    assert.equal(status, '200 HTTPS');
    assert.equal(environOf(json as string).SSL_CLIENT_S_DN, pki.client.dn);
    await assert.rejects(run('curl', ['-sS', '--cacert', pki.ca.cert, '--resolve', `localhost:${required.port}:127.0.0.1`, `https://localhost:${required.port}/env/`]));
  });

  it('refuses TLS 1.0 and 1.1 (openssl s_client), and speaks TLS 1.2 and 1.3 with ALPN http/1.1', async () => {
    // SECLEVEL=0 lets this client offer the old protocols at all: the refusal must be the server's.
    for (const version of ['-tls1', '-tls1_1']) {
      const said = await opensslClient(optional.port, ['-alpn', 'http/1.1', version, '-cipher', 'DEFAULT@SECLEVEL=0']);
      assert.match(said, /alert protocol version/, `${version}:\n${said}`);
      assert.doesNotMatch(said, /^New, TLSv1/m);
    }
    for (const [version, name] of [['-tls1_2', 'TLSv1.2'], ['-tls1_3', 'TLSv1.3']] as const) {
      const said = await opensslClient(optional.port, ['-alpn', 'http/1.1', version, '-CAfile', pki.ca.cert, '-servername', 'localhost']);
      assert.match(said, new RegExp(`^New, ${name.replace('.', '\\.')}, Cipher is `, 'm'), said);
      assert.match(said, /^ALPN protocol: http\/1\.1$/m);
      assert.match(said, /Verify return code: 0 \(ok\)/);
    }
    await optional.waitForLog(/refused connection: closed PORTICO_ERR_TLS_HANDSHAKE: TLS handshake failed: unsupported protocol/);
  });
});

describe('WebSockets over TLS', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let server: Portico;

  before(async () => {
    pki = makeTestPki();
    server = await startHttps({ app: 'raw_ws:app', args: [...WS_ARGS, '-w', '1', '--certfile', pki.server.cert, '--keyfile', pki.server.key] });
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
  });

  it('gives the ASGI app the scheme wss', async () => {
    const socket = new WebSocket(`wss://127.0.0.1:${server.port}/scope`, { ca: readFileSync(pki.ca.cert) });
    try {
      const [message] = (await once(socket, 'message')) as [Buffer];
      const scope = JSON.parse(message.toString('utf8')) as { scheme: string; path: string };
      assert.equal(scope.scheme, 'wss');
      assert.equal(scope.path, '/scope');
    } finally {
      socket.close();
    }
  });
});
