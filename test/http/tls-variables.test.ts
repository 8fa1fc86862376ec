/**
 * HTTPS and mod_ssl's SSL_* variables, as both gateways give them: HTTPS
 * follows the scheme and sits in the WSGI environ's shared part with it, as
 * do the SSL_* variables that take few values (protocol, cipher, verify,
 * SNI); a client certificate's names, only once verified, are the
 * request's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCgiEnvironment } from '../../src/cgi/cgi-environment.js';
import { tlsVariables } from '../../src/http/gateway-variables.js';
import type { RequestContext } from '../../src/http/request-record.js';
import type { TlsFacts } from '../../src/http/tls-facts.js';
import { MountTable } from '../../src/routing/mount-table.js';
import type { MountHandler } from '../../src/routing/mount-handler.js';
import { buildEnviron } from '../../src/wsgi/environ.js';
import { fakeRequest } from '../helpers/fake-request.js';

const plain: RequestContext = { scheme: 'http', serverName: '127.0.0.1', serverPort: '8443', remoteAddr: '127.0.0.1', remotePort: '5000', forwardedHost: null };

const verified: TlsFacts = {
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  serverName: 'example.com',
  clientVerify: 'SUCCESS',
  clientSubject: 'CN=alice,O=Example',
  clientIssuer: 'CN=Example CA,O=Example',
};

const anonymous: TlsFacts = { ...verified, serverName: null, clientVerify: 'NONE', clientSubject: null, clientIssuer: null };

const rootMount = new MountTable([{ prefix: '', handler: { kind: 'app', handle: () => undefined } satisfies MountHandler }]);

describe('tlsVariables', () => {
  it('gives nothing over plain HTTP', () => {
    assert.deepEqual(tlsVariables(plain), []);
    assert.deepEqual(tlsVariables({ ...plain, tls: null }), []);
  });

  it('gives HTTPS=on alone when a trusted proxy says https', () => {
    assert.deepEqual(tlsVariables({ ...plain, scheme: 'https' }), [['HTTPS', 'on']]);
  });

  it("gives mod_ssl's variables over TLS, the client certificate's names once verified", () => {
    assert.deepEqual(new Map(tlsVariables({ ...plain, scheme: 'https', tls: verified })), new Map([
      ['HTTPS', 'on'],
      ['SSL_PROTOCOL', 'TLSv1.3'],
      ['SSL_CIPHER', 'TLS_AES_256_GCM_SHA384'],
      ['SSL_CLIENT_VERIFY', 'SUCCESS'],
      ['SSL_TLS_SNI', 'example.com'],
      ['SSL_CLIENT_S_DN', 'CN=alice,O=Example'],
      ['SSL_CLIENT_I_DN', 'CN=Example CA,O=Example'],
    ]));
    const names = tlsVariables({ ...plain, scheme: 'https', tls: anonymous }).map(([name]) => name);
    assert.deepEqual(names, ['HTTPS', 'SSL_PROTOCOL', 'SSL_CIPHER', 'SSL_CLIENT_VERIFY']);
  });

  it("puts HTTPS and the connection's few-valued SSL_* in the WSGI environ's shared part, a client certificate's names in the request's own", () => {
    const route = rootMount.route('/x');
    assert.equal(route.kind, 'mount');
    const { shared, own } = buildEnviron(fakeRequest({ url: '/x', rawHeaders: ['Host', 'example.com'] }), route.match, { ...plain, scheme: 'https', tls: verified });
    const sharedTls = shared.filter(([name]) => name === 'HTTPS' || name === 'wsgi.url_scheme' || name.startsWith('SSL_'));
    assert.deepEqual(sharedTls, [
      ['wsgi.url_scheme', 'https'],
      ['HTTPS', 'on'],
      ['SSL_PROTOCOL', 'TLSv1.3'],
      ['SSL_CIPHER', 'TLS_AES_256_GCM_SHA384'],
      ['SSL_CLIENT_VERIFY', 'SUCCESS'],
      ['SSL_TLS_SNI', 'example.com'],
    ]);
    assert.deepEqual(own.filter(([name]) => name.startsWith('SSL_')), [
      ['SSL_CLIENT_S_DN', 'CN=alice,O=Example'],
      ['SSL_CLIENT_I_DN', 'CN=Example CA,O=Example'],
    ]);
    // No name in both parts (docs/protocol.md "Shared environ").
    const sharedNames = new Set(shared.map(([name]) => name));
    assert.deepEqual(own.filter(([name]) => sharedNames.has(name)), []);
  });

  it('gives two connections with the same protocol, cipher and SNI the same shared part, whoever the client', () => {
    const route = rootMount.route('/x');
    assert.equal(route.kind, 'mount');
    const request = (tls: TlsFacts, remotePort: string) =>
      buildEnviron(fakeRequest({ url: '/x', rawHeaders: ['Host', 'example.com'] }), route.match, { ...plain, remotePort, scheme: 'https', tls });
    const alice = request(verified, '5000');
    const bob = request({ ...verified, clientSubject: 'CN=bob,O=Example' }, '5001');
    assert.deepEqual(alice.shared, bob.shared);
    assert.notDeepEqual(alice.own, bob.own);
    const anonymousNames = request(anonymous, '5002').shared.map(([name]) => name).filter((name) => name.startsWith('SSL_'));
    assert.deepEqual(anonymousNames, ['SSL_PROTOCOL', 'SSL_CIPHER', 'SSL_CLIENT_VERIFY']);
  });

  it('reaches a CGI script', () => {
    const route = rootMount.route('/x');
    assert.equal(route.kind, 'mount');
    const env = buildCgiEnvironment({
      req: fakeRequest({ url: '/x', rawHeaders: ['Host', 'example.com'] }),
      match: route.match,
      context: { ...plain, scheme: 'https', tls: verified },
      script: { filename: '/srv/cgi-bin/x', scriptPath: '/x', pathInfo: '', directory: '/srv/cgi-bin', nonParsedHeaders: false },
      root: '/srv/cgi-bin',
    });
    assert.equal(env.HTTPS, 'on');
    assert.equal(env.SSL_CLIENT_VERIFY, 'SUCCESS');
    assert.equal(env.SSL_CLIENT_S_DN, 'CN=alice,O=Example');
  });
});
