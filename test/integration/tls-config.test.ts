/**
 * Configuring TLS (#16): several certificates picked by SNI from
 * [[certificate]] tables (openssl s_client -servername shows which), and
 * what start-up says about files that cannot serve: one line naming the
 * option and the file, exit status 2, as for any bad option; an expired
 * certificate only warns. Behind a TCP proxy, the PROXY header comes
 * before the handshake.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { httpsRequest, opensslClient, startHttps } from '../helpers/https-client.js';
import { FIXTURE_APPS } from '../helpers/paths.js';
import { spawnPortico, type Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

const HELLO = { app: 'hello_app:application', pythonpath: ['--pythonpath', FIXTURE_APPS] };

/** The subject CN of the certificate the server presents for `servername` (null: no SNI). */
async function certificateFor(port: number, servername: string | null): Promise<string> {
  const sni = servername === null ? ['-noservername'] : ['-servername', servername];
  const stdout = await opensslClient(port, sni);
  const subject = /^subject=.*CN ?= ?([^,\n]+)/m.exec(stdout);
  assert.ok(subject !== null, stdout);
  return subject[1] as string;
}

/** Runs portico expecting it to refuse to start; its exit status and what it wrote on stderr. */
async function refusedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const server = spawnPortico({ app: HELLO.app, args: [...HELLO.pythonpath, ...args] });
  try {
    const status = await server.waitForExit(15_000);
    return { code: status.code, stderr: server.stderr() };
  } finally {
    await server.stop();
  }
}

/**
 * GET /proxied over TLS behind a PROXY header: written on its own first, or
 * with the ClientHello in one write. The echo app's environ.
 */
async function proxiedRequest(port: number, header: string, together: boolean, ca: string): Promise<Record<string, string>> {
  const raw = connect({ port, host: '127.0.0.1' });
  await once(raw, 'connect');
  let prefix: Buffer | null = Buffer.from(header);
  if (!together) {
    raw.write(prefix);
    prefix = null;
  }
  // TLS writes through this stream, so that the first handshake bytes can go out with the header.
  const carrier = new Duplex({
    read: () => {},
    write: (chunk: Buffer, _encoding, done) => {
      raw.write(prefix === null ? chunk : Buffer.concat([prefix, chunk]), done);
      prefix = null;
    },
  });
  raw.on('data', (chunk: Buffer) => carrier.push(chunk));
  raw.on('end', () => carrier.push(null));
  const socket = tlsConnect({ socket: carrier, ca: readFileSync(ca), servername: 'localhost' });
  try {
    await once(socket, 'secureConnect');
    socket.write('GET /proxied HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    let response = Buffer.alloc(0);
    for (;;) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      response = Buffer.concat([response, chunk]);
      const text = response.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const length = /^content-length: (\d+)$/im.exec(text);
      if (end !== -1 && length !== null && response.length >= end + 4 + Number(length[1])) {
        assert.match(text, /^HTTP\/1\.1 200 /);
        return (JSON.parse(text.slice(end + 4)) as { environ: Record<string, string> }).environ;
      }
    }
  } finally {
    socket.destroy();
    raw.destroy();
  }
}

describe('TLS configuration', { timeout: 120_000 }, () => {
  let pki: TestPki;

  before(() => (pki = makeTestPki()));
  after(() => pki?.remove());

  describe('SNI with [[certificate]] tables', () => {
    let server: Portico;

    before(async () => {
      // Relative names: found from the config file's directory.
      const config = join(pki.dir, 'portico.toml');
      writeFileSync(
        config,
        [
          'certfile = "server.crt"',
          'keyfile = "server.key"',
          'ca-certs = "ca.crt"',
          'cert-reqs = 1',
          '',
          '[[certificate]]',
          'certfile = "alpha.crt"',
          'keyfile = "alpha.key"',
          '',
          '[[certificate]]',
          'certfile = "beta.crt"',
          'keyfile = "beta.key"',
          'hosts = ["beta.test", "*.beta.test", "other.example"]',
          '',
        ].join('\n'),
      );
      server = await startHttps({ app: 'echo_environ:application', args: [...HELLO.pythonpath, '-c', config] });
    });

    after(async () => {
      await server?.stop();
    });

    it('picks the certificate by the name the client asks for, and the first for any other', async () => {
      assert.equal(await certificateFor(server.port, 'alpha.test'), 'alpha.test');
      assert.equal(await certificateFor(server.port, 'ALPHA.test'), 'alpha.test', 'host names are case-insensitive');
      assert.equal(await certificateFor(server.port, 'beta.test'), 'beta.test');
      assert.equal(await certificateFor(server.port, 'www.beta.test'), 'beta.test', 'a wildcard of hosts');
      assert.equal(await certificateFor(server.port, 'other.example'), 'beta.test', 'a name hosts gives, not the certificate');
      assert.equal(await certificateFor(server.port, 'unknown.test'), 'portico-server-one');
      assert.equal(await certificateFor(server.port, null), 'portico-server-one');
    });

    it('serves requests under the certificate SNI picked, verifying client certificates there too', async () => {
      const client = { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key };
      const answer = await httpsRequest(`${server.url}/`, { ...client, servername: 'alpha.test', headers: { host: 'alpha.test' } });
      assert.equal(answer.status, 200);
      assert.equal(answer.serverCn, 'alpha.test');
      const environ = (JSON.parse(answer.text) as { environ: Record<string, string> }).environ;
      assert.equal(environ.SSL_TLS_SNI, 'alpha.test');
      assert.equal(environ.SSL_CLIENT_S_DN, pki.client.dn);
      const stranger = { ca: pki.ca.cert, cert: pki.stranger.cert, key: pki.stranger.key, servername: 'alpha.test' };
      await assert.rejects(httpsRequest(`${server.url}/`, stranger));
    });

    it('logs every certificate with the names it is for', () => {
      assert.match(server.logs(), /TLS: CN=portico-server-one,O=Portico Tests for localhost \(default\), until [\d-]+; CN=alpha\.test,O=Portico Tests for alpha\.test, until [\d-]+; CN=beta\.test,O=Portico Tests for beta\.test, \*\.beta\.test, other\.example, until [\d-]+; TLS 1\.2 and up; client certificates optional/);
    });
  });

  describe('behind a TCP proxy (--proxy-protocol)', () => {
    let server: Portico;

    before(async () => {
      server = await startHttps({ app: 'echo_environ:application', args: [...HELLO.pythonpath, '--certfile', pki.server.cert, '--keyfile', pki.server.key, '--proxy-protocol'] });
    });

    after(async () => {
      await server?.stop();
    });

    it('reads the PROXY header before the handshake: the client is the one it names, over https', { timeout: 15_000 }, async () => {
      // Alone, and in the same packet as the ClientHello, as HAProxy often sends it.
      for (const together of [false, true]) {
        const environ = await proxiedRequest(server.port, 'PROXY TCP4 203.0.113.7 127.0.0.1 50000 443\r\n', together, pki.ca.cert);
        assert.equal(environ.REMOTE_ADDR, '203.0.113.7', `together: ${together}`);
        assert.equal(environ['wsgi.url_scheme'], 'https');
        assert.equal(environ.HTTPS, 'on');
      }
    });
  });

  describe('start-up', () => {
    it('stops with one line naming the option and the file when a file is missing', async () => {
      const missing = join(pki.dir, 'missing.crt');
      const { code, stderr } = await refusedStart(['--certfile', missing, '--keyfile', pki.server.key]);
      assert.equal(code, 2, stderr);
      assert.equal(stderr, `portico: error: --certfile ${missing}: no such file\n`);
    });

    it('stops with one line when the key does not match the certificate', async () => {
      const { code, stderr } = await refusedStart(['--certfile', pki.server.cert, '--keyfile', pki.otherKey]);
      assert.equal(code, 2, stderr);
      assert.equal(stderr, `portico: error: --keyfile ${pki.otherKey}: the key does not match the certificate in --certfile ${pki.server.cert} (${pki.server.dn})\n`);
    });

    it('names the [[certificate]] entry whose file is missing', async () => {
      const missing = join(pki.dir, 'missing-too.key');
      const { code, stderr } = await refusedStart(['--certfile', pki.server.cert, '--keyfile', pki.server.key, '--certificate', `${pki.alpha.cert},${missing}`]);
      assert.equal(code, 2, stderr);
      assert.equal(stderr, `portico: error: certificate[0].keyfile ${missing}: no such file\n`);
    });

    it('refuses TLS options that cannot work, and a cipher list OpenSSL does not know', async () => {
      const tls = ['--certfile', pki.server.cert, '--keyfile', pki.server.key];
      const cases: Array<[string[], RegExp]> = [
        [[...tls, '--cert-reqs', '2'], /^portico: error: --cert-reqs 2 needs --ca-certs/],
        [['--cert-reqs', '3'], /^portico: error: --cert-reqs: expected 0 \(none\), 1 \(optional\) or 2 \(required\), got '3'/],
        [['--keyfile', pki.server.key], /^portico: error: --keyfile needs --certfile/],
        [['--ca-certs', pki.ca.cert], /^portico: error: --ca-certs is for TLS/],
        [[...tls, '--ciphers', 'NO-SUCH-CIPHER'], /^portico: error: --ciphers 'NO-SUCH-CIPHER': /],
      ];
      for (const [args, message] of cases) {
        const { code, stderr } = await refusedStart(args);
        assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
        assert.match(stderr, message);
        assert.equal(stderr.split('\n').length, 2, `one line: ${stderr}`);
      }
    });

    it('serves an expired certificate, with a warning naming it', async () => {
      const server = await startHttps({ app: HELLO.app, args: [...HELLO.pythonpath, '--certfile', pki.expired.cert, '--keyfile', pki.expired.key] });
      try {
        assert.match(server.logs(), new RegExp(`\\[WARNING\\] --certfile ${pki.expired.cert}: the certificate expired on Jan {1,2}2 00:00:00 2020 GMT \\([^)]*\\); clients will refuse it`));
      } finally {
        await server.stop();
      }
    });
  });
});
