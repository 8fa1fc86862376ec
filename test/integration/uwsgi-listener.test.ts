/**
 * --protocol uwsgi behind a real nginx (uwsgi_pass with Debian's
 * uwsgi_params), as users keep it in front: the request arrives as the same
 * environ the HTTP listener gives, bodies of any size pass, peers
 * --uwsgi-allow-from does not name are refused, and a malformed packet
 * closes its connection while everyone else is served.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hasNginx, missingNginxPolicy, startNginx, type Nginx } from '../conformance/nginx.js';
import { httpRequest } from '../helpers/http-client.js';
import { FIXTURE_APPS } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';

const MOUNTS = ['--mount', '/env=echo_environ:application', '--mount', '/input=input_app:application'];

/** A uwsgi packet (modifier1 0) for `vars`, as nginx writes one. */
function uwsgiPacket(vars: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(vars)) {
    for (const text of [key, value]) {
      const bytes = Buffer.from(text, 'latin1');
      const length = Buffer.alloc(2);
      length.writeUInt16LE(bytes.length);
      parts.push(length, bytes);
    }
  }
  const body = Buffer.concat(parts);
  const header = Buffer.from([0, 0, 0, 0]);
  header.writeUInt16LE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Sends `bytes` to 127.0.0.1:`port` and reads until the server closes. */
function exchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(bytes));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    // A connection refused with bytes unread ends in a reset: as refused as a close.
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(received) : reject(error)));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no close within 5 s')));
  });
}

const policy = missingNginxPolicy();

describe('--protocol uwsgi behind nginx', { skip: hasNginx() ? false : policy.skip, timeout: 60_000 }, () => {
  let uwsgi: Portico;
  let http: Portico;
  let nginx: Nginx;

  before(async () => {
    assert.ok(hasNginx(), policy.message);
    uwsgi = await startPortico({ app: null, cwd: FIXTURE_APPS, args: ['--protocol', 'uwsgi', ...MOUNTS] });
    http = await startPortico({ app: null, cwd: FIXTURE_APPS, args: MOUNTS });
    nginx = await startNginx(uwsgi.port, 'uwsgi');
  });

  after(async () => {
    await nginx?.stop();
    await uwsgi?.stop();
    await http?.stop();
  });

  it('gives the application the environ the HTTP listener gives, from nginx\'s variables', async () => {
    const path = '/env/caf%C3%A9/x?q=1&r=%20s';
    const viaNginx = await httpRequest(`http://127.0.0.1:${nginx.port}${path}`, { headers: { 'X-Custom': 'one', Accept: 'text/plain' } });
    const direct = await httpRequest(`${http.url}${path}`, { headers: { 'X-Custom': 'one', Accept: 'text/plain' } });
    assert.equal(viaNginx.status, 200, viaNginx.text);
    const got = (JSON.parse(viaNginx.text) as { environ: Record<string, string> }).environ;
    const want = (JSON.parse(direct.text) as { environ: Record<string, string> }).environ;
    for (const key of ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'SERVER_PROTOCOL', 'HTTP_X_CUSTOM', 'HTTP_ACCEPT', 'wsgi.url_scheme']) {
      assert.equal(got[key], want[key], key);
    }
    assert.equal(got.REMOTE_ADDR, '127.0.0.1', 'the client nginx names, from REMOTE_ADDR');
    assert.match(got.HTTP_HOST ?? '', /^127\.0\.0\.1(:\d+)?$/, "the client's own Host, which nginx passes as HTTP_HOST, not the upstream's name");
  });

  it('passes a 10 MB POST body whole, as nginx buffers and sends it', async () => {
    const body = randomBytes(10 * 1024 * 1024);
    const result = await httpRequest(`http://127.0.0.1:${nginx.port}/input/sha256`, { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { length: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('says https to the application when nginx took the request over TLS (HTTPS=on)', async () => {
    const raw = await exchange(uwsgi.port, uwsgiPacket({ REQUEST_METHOD: 'GET', REQUEST_URI: '/env/', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'example.org', REMOTE_ADDR: '192.0.2.7', REMOTE_PORT: '4242', HTTPS: 'on' }));
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const environ = (JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { environ: Record<string, string> }).environ;
    assert.equal(environ['wsgi.url_scheme'], 'https');
    assert.equal(environ.REMOTE_ADDR, '192.0.2.7');
    assert.equal(environ.REMOTE_PORT, '4242');
  });

  it('never lets a variable make a header name with an underscore, or a second Host', async () => {
    const raw = await exchange(uwsgi.port, uwsgiPacket({ REQUEST_METHOD: 'GET', REQUEST_URI: '/env/', HTTP_HOST: 'a.example', HTTP_X_FORWARDED_FOR: '10.9.9.9', HTTP_X_API_KEY: 'k', REMOTE_ADDR: '192.0.2.1' }));
    const environ = (JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { environ: Record<string, string> }).environ;
    assert.equal(environ.HTTP_X_API_KEY, 'k', 'X-Api-Key, rebuilt with dashes');
    assert.equal(environ.REMOTE_ADDR, '192.0.2.1', 'an X-Forwarded-For from a client --forwarded-allow-ips does not name is not believed');
  });

  it('closes the connection on a malformed packet, and keeps serving', async () => {
    const twice = Buffer.concat([uwsgiPacket({ REQUEST_METHOD: 'GET', REQUEST_URI: '/env/' }).subarray(0, 4), Buffer.from([1, 0, 0x41, 1, 0, 0x42])]);
    twice.writeUInt16LE(twice.length - 4, 1);
    for (const bad of [Buffer.from([9, 0, 0, 0]), uwsgiPacket({ REQUEST_METHOD: 'GET /x', REQUEST_URI: '/env/' }), uwsgiPacket({ REQUEST_METHOD: 'GET', REQUEST_URI: '/env/', HTTP_X_EVIL: 'a\r\nInjected: 1' })]) {
      assert.equal(await exchange(uwsgi.port, bad), '', 'nothing is answered');
    }
    await uwsgi.waitForLog(/refused connection: closed PORTICO_ERR_UWSGI: uwsgi modifier1 9 is not 0/, 5_000);
    const ok = await httpRequest(`http://127.0.0.1:${nginx.port}/env/`);
    assert.equal(ok.status, 200);
  });
});

describe('--uwsgi-allow-from', { timeout: 30_000 }, () => {
  it('refuses a peer it does not name at once, before reading a byte', async () => {
    const server = await startPortico({ app: 'echo_environ:application', cwd: FIXTURE_APPS, args: ['--protocol', 'uwsgi', '--uwsgi-allow-from', '10.0.0.0/8'] });
    try {
      assert.equal(await exchange(server.port, uwsgiPacket({ REQUEST_METHOD: 'GET', REQUEST_URI: '/' })), '');
      await server.waitForLog(/PORTICO_ERR_UWSGI: uwsgi from 127\.0\.0\.1, which --uwsgi-allow-from does not name/, 5_000);
    } finally {
      await server.stop();
    }
  });

  it('cannot be combined with --proxy-protocol: exit 2 and a line that says why', async () => {
    const server = await import('../helpers/portico.js').then(({ runPortico }) => runPortico(['--protocol', 'uwsgi', '--proxy-protocol', 'echo_environ:application'], { cwd: FIXTURE_APPS }));
    assert.equal(server.code, 2);
    assert.match(server.stderr, /--proxy-protocol and --protocol uwsgi cannot be used together/);
  });
});
