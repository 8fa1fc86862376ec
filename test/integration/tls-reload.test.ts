/**
 * SIGHUP and the certificates (#16): the files are read again, new
 * connections get the new certificate while a request in flight on the old
 * one completes, and a certificate that fails to load keeps the old one and
 * says why, without taking the site down.
 */
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpsRequest, startHttps } from '../helpers/https-client.js';
import { FIXTURE_APPS } from '../helpers/paths.js';
import type { Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

describe('TLS reload on SIGHUP', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let server: Portico;
  let certfile: string;
  let keyfile: string;

  /** Puts `pair` where --certfile and --keyfile point, as an operator renewing a certificate does. */
  const install = (pair: { cert: string; key: string }): void => {
    copyFileSync(pair.cert, certfile);
    copyFileSync(pair.key, keyfile);
  };

  /** SIGHUP, then the line it must log (each step's line is its own). */
  const hup = async (logged: RegExp): Promise<void> => {
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog(logged, 20_000);
  };

  before(async () => {
    pki = makeTestPki();
    certfile = join(pki.dir, 'live.crt');
    keyfile = join(pki.dir, 'live.key');
    install(pki.server);
    server = await startHttps({
      app: 'sleepy_app:application',
      args: ['--certfile', certfile, '--keyfile', keyfile, '--pythonpath', FIXTURE_APPS, '-w', '2', '--graceful-timeout', '20'],
    });
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
  });

  it('gives new connections the new certificate, and lets a request in flight during the HUP complete', async () => {
    assert.equal((await httpsRequest(`${server.url}/pid`, { ca: pki.ca.cert })).serverCn, 'portico-server-one');
    const inFlight = httpsRequest(`${server.url}/sleep?s=2&mark=tls-hup`, { ca: pki.ca.cert });
    await server.waitForLog(/sleeping pid=\d+ mark=tls-hup/);
    install(pki.second);
    await hup(/\[INFO\] TLS reloaded: CN=portico-server-two,O=Portico Tests for localhost \(default\)/);
    const fresh = await httpsRequest(`${server.url}/pid`, { ca: pki.ca.cert });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.serverCn, 'portico-server-two');
    assert.equal(fresh.alpn, 'http/1.1', 'the new context keeps the server\'s ALPN');
    const answered = await inFlight;
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.serverCn, 'portico-server-one', 'the connection in flight kept its certificate');
  });

  it('keeps the certificate it has when the new one fails to load, and logs why', async () => {
    copyFileSync(pki.otherKey, keyfile);
    await hup(/\[ERROR\] TLS reload failed: --keyfile \S+live\.key: the key does not match the certificate in --certfile \S+live\.crt \([^)]*\); the certificates loaded before still serve/);
    const answer = await httpsRequest(`${server.url}/pid`, { ca: pki.ca.cert });
    assert.equal(answer.status, 200);
    assert.equal(answer.serverCn, 'portico-server-two');

    rmSync(certfile);
    await hup(/\[ERROR\] TLS reload failed: --certfile \S+live\.crt: no such file; the certificates loaded before still serve/);
    assert.equal((await httpsRequest(`${server.url}/pid`, { ca: pki.ca.cert })).serverCn, 'portico-server-two');

    install(pki.server);
    await hup(/\[INFO\] TLS reloaded: CN=portico-server-one/);
    assert.equal((await httpsRequest(`${server.url}/pid`, { ca: pki.ca.cert })).serverCn, 'portico-server-one');
  });
});
