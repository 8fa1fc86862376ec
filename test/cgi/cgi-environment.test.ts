import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCgiEnvironment, CGI_WITHHELD_HEADERS, SAFE_PATH } from '../../src/cgi/cgi-environment.js';
import { headerVariables } from '../../src/http/request-headers.js';
import type { RequestContext } from '../../src/routing/mount-handler.js';
import { fakeRequest } from '../helpers/fake-request.js';

const context: RequestContext = {
  scheme: 'https',
  serverName: 'listener.local',
  serverPort: '8443',
  remoteAddr: '203.0.113.9',
  remotePort: '40000',
  forwardedHost: null,
};
const script = { scriptPath: '/t.sh', pathInfo: '', filename: '/srv/cgi/t.sh', directory: '/srv/cgi', nonParsedHeaders: false };
const match = { scriptName: '/cgi-bin', pathInfo: '/t.sh', query: 'a=%41' };

describe('headerVariables', () => {
  it('maps headers to HTTP_*, withholding Proxy, credentials, CONTENT_* and names with _', () => {
    const vars = headerVariables([
      'X-Forwarded-For', '1.2.3.4',
      'x-forwarded-for', '5.6.7.8',
      'Cookie', 'a=1',
      'cookie', 'b=2',
      'Proxy', 'http://evil:1',
      'PROXY', 'http://evil:2',
      'Authorization', 'Bearer t',
      'Proxy-Authorization', 'Basic x',
      'X_Forwarded_For', 'spoof',
      'Content-Type', 'text/plain',
      'Content-Length', '3',
      'User-Agent', '() { :; }; /bin/id',
    ], CGI_WITHHELD_HEADERS);
    assert.deepEqual(Object.fromEntries(vars), {
      HTTP_X_FORWARDED_FOR: '1.2.3.4, 5.6.7.8',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_USER_AGENT: '() { :; }; /bin/id',
    });
  });
});

describe('buildCgiEnvironment', () => {
  it('falls back to the listener name and port without Host, and sets only what it knows', () => {
    const env = buildCgiEnvironment({ req: fakeRequest({ httpVersion: '1.0' }), match, context, script, root: '/srv/cgi' });
    assert.deepEqual(env, {
      PATH: SAFE_PATH,
      GATEWAY_INTERFACE: 'CGI/1.1',
      PATH_INFO: '',
      QUERY_STRING: 'a=%41',
      REMOTE_ADDR: '203.0.113.9',
      REMOTE_HOST: '203.0.113.9',
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/cgi-bin/t.sh',
      SCRIPT_FILENAME: '/srv/cgi/t.sh',
      SERVER_NAME: 'listener.local',
      SERVER_PORT: '8443',
      SERVER_PROTOCOL: 'HTTP/1.0',
      SERVER_SOFTWARE: 'portico',
      HTTPS: 'on', // the context's scheme is https (mod_ssl's variable, gateway-variables.ts)
    });
  });

  it('sets CONTENT_LENGTH from Content-Length, or from a spooled chunked body, and not without a body (§4.1.2)', () => {
    const build = (rawHeaders: string[], spooledLength?: number) =>
      buildCgiEnvironment({ req: fakeRequest({ method: 'POST', rawHeaders }), match, context, script, root: '/srv/cgi', spooledLength });
    assert.equal(build(['Content-Length', '12']).CONTENT_LENGTH, '12');
    assert.equal(build(['Transfer-Encoding', 'chunked'], 1_048_577).CONTENT_LENGTH, '1048577');
    assert.equal(build(['Transfer-Encoding', 'chunked'], 0).CONTENT_LENGTH, '0');
    assert.equal(build([]).CONTENT_LENGTH, undefined);
  });

  it('takes AUTH_TYPE from the Authorization scheme but never the credentials', () => {
    const env = buildCgiEnvironment({ req: fakeRequest({ httpVersion: '1.0', rawHeaders: ['Authorization', 'Digest username="x"'] }), match, context, script, root: '/srv/cgi' });
    assert.equal(env.AUTH_TYPE, 'Digest');
    assert.equal(env.REMOTE_USER, undefined);
    assert.ok(!Object.values(env).some((value) => value.includes('username')));
  });

  it('uses the default port of the scheme for a Host without one, and a trusted forwarded host over Host', () => {
    const plain = buildCgiEnvironment({ req: fakeRequest({ httpVersion: '1.0', rawHeaders: ['Host', '[::1]'] }), match, context, script, root: '/srv/cgi' });
    assert.equal(plain.SERVER_NAME, '[::1]');
    assert.equal(plain.SERVER_PORT, '443');
    const forwarded = buildCgiEnvironment({
      req: fakeRequest({ httpVersion: '1.0', rawHeaders: ['Host', 'internal:8000'] }),
      match,
      context: { ...context, forwardedHost: 'public.example:9443' },
      script,
      root: '/srv/cgi',
    });
    assert.equal(forwarded.SERVER_NAME, 'public.example');
    assert.equal(forwarded.SERVER_PORT, '9443');
    assert.equal(forwarded.HTTP_HOST, 'public.example:9443');
  });

  it('maps PATH_INFO below the root for PATH_TRANSLATED (§4.1.6) and carries UTF-8 bytes as UTF-8', () => {
    const env = buildCgiEnvironment({
      req: fakeRequest({ httpVersion: '1.0' }),
      match: { scriptName: '/cgi-bin', pathInfo: '/t.sh/caf\xc3\xa9', query: '' },
      context,
      script: { ...script, pathInfo: '/caf\xc3\xa9' },
      root: '/srv/cgi/',
    });
    assert.equal(env.PATH_INFO, '/café');
    assert.equal(env.PATH_TRANSLATED, '/srv/cgi/café');
  });
});
