/**
 * src/http/request-headers.ts: request headers as HTTP_* variables, one set
 * of rules for the WSGI environ and the CGI meta-variables, and the
 * SERVER_NAME / SERVER_PORT both derive from Host.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestContext } from '../../src/http/request-record.js';
import { headerVariables, serverNameAndPort } from '../../src/http/request-headers.js';

const context: RequestContext = { scheme: 'http', serverName: 'listener.local', serverPort: '8000', remoteAddr: '127.0.0.1', remotePort: '1', forwardedHost: null };

describe('headerVariables', () => {
  it('names each header HTTP_ plus its name upper-cased with - as _, value untouched', () => {
    assert.deepEqual([...headerVariables(['User-Agent', ' x  y ', 'x-lower', 'v'])], [['HTTP_USER_AGENT', ' x  y '], ['HTTP_X_LOWER', 'v']]);
  });

  it("joins a repeated field with ', ' (RFC 9110 §5.3), cookies with '; ' (RFC 6265 §5.4), whatever the case of the name", () => {
    const vars = headerVariables(['Accept', 'a', 'ACCEPT', 'b', 'Cookie', 'x=1', 'cookie', 'y=2']);
    assert.equal(vars.get('HTTP_ACCEPT'), 'a, b');
    assert.equal(vars.get('HTTP_COOKIE'), 'x=1; y=2');
  });

  it('always withholds Proxy (httpoxy) and Content-Type / Content-Length (they are CONTENT_*)', () => {
    assert.deepEqual([...headerVariables(['Proxy', 'http://evil', 'Content-Type', 'text/plain', 'Content-Length', '3', 'X-Kept', '1'])], [['HTTP_X_KEPT', '1']]);
    // A gateway's own list adds to these, never replaces them.
    const vars = headerVariables(['Authorization', 'Basic x', 'PROXY', 'http://evil', 'X-Kept', '1'], new Set(['authorization']));
    assert.deepEqual([...vars], [['HTTP_X_KEPT', '1']]);
  });

  it("drops names with '_', which would pass for the '-' form a proxy vouches for", () => {
    assert.deepEqual([...headerVariables(['X_Forwarded_For', 'spoof', 'X-Forwarded-For', '1.2.3.4'])], [['HTTP_X_FORWARDED_FOR', '1.2.3.4']]);
  });

  it('ignores a name without a value at the end', () => {
    assert.deepEqual([...headerVariables(['X-A', '1', 'X-B'])], [['HTTP_X_A', '1']]);
  });
});

describe('serverNameAndPort', () => {
  const of = (host: string | undefined, overrides: Partial<RequestContext> = {}) => {
    const headers = new Map(host === undefined ? [] : [['HTTP_HOST', host]]);
    return { ...serverNameAndPort(headers, { ...context, ...overrides }), host: headers.get('HTTP_HOST') };
  };

  it('falls back to the listener without Host, or with an empty one', () => {
    assert.deepEqual(of(undefined), { name: 'listener.local', port: '8000', host: undefined });
    assert.deepEqual(of(''), { name: 'listener.local', port: '8000', host: '' });
  });

  it("takes name and port from Host, and the scheme's default port when Host has none", () => {
    assert.deepEqual(of('example.org:8080'), { name: 'example.org', port: '8080', host: 'example.org:8080' });
    assert.deepEqual(of('example.org'), { name: 'example.org', port: '80', host: 'example.org' });
    assert.deepEqual(of('example.org:'), { name: 'example.org', port: '80', host: 'example.org:' });
    assert.deepEqual(of('[::1]', { scheme: 'https' }), { name: '[::1]', port: '443', host: '[::1]' });
    assert.deepEqual(of('[::1]:9000'), { name: '[::1]', port: '9000', host: '[::1]:9000' });
  });

  it("puts a trusted proxy's forwarded host in place of Host, in HTTP_HOST too", () => {
    assert.deepEqual(of('internal:8000', { forwardedHost: 'public.example:9443' }), { name: 'public.example', port: '9443', host: 'public.example:9443' });
    assert.deepEqual(of(undefined, { forwardedHost: 'public.example', scheme: 'https' }), { name: 'public.example', port: '443', host: 'public.example' });
  });
});
