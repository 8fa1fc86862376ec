import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnviron } from '../../src/wsgi/environ.js';
import { MountTable } from '../../src/routing/mount-table.js';
import type { MountHandler } from '../../src/routing/mount-handler.js';
import { fakeRequest } from '../helpers/fake-request.js';

const listener = {
  scheme: 'http' as const,
  serverName: '127.0.0.1',
  serverPort: '8000',
  remoteAddr: '127.0.0.1',
  remotePort: '54321',
  forwardedHost: null,
};

const rootMount = new MountTable([{ prefix: '', handler: { kind: 'app', handle: () => undefined } satisfies MountHandler }]);

function environOf(url: string, rawHeaders: string[] = []): Map<string, string> {
  const route = rootMount.route(url);
  assert.equal(route.kind, 'mount');
  const { shared, own } = buildEnviron(fakeRequest({ url, rawHeaders }), route.match, listener);
  const names = [...shared, ...own].map(([name]) => name);
  assert.equal(new Set(names).size, names.length, 'no variable is in both parts, or twice');
  return new Map([...shared, ...own]);
}

describe('buildEnviron', () => {
  it('sets the CGI variables PEP 3333 requires', () => {
    const environ = environOf('/a%20b?x=%41', ['Host', 'example.com:8080']);
    assert.equal(environ.get('REQUEST_METHOD'), 'GET');
    assert.equal(environ.get('SCRIPT_NAME'), '');
    assert.equal(environ.get('PATH_INFO'), '/a b');
    assert.equal(environ.get('QUERY_STRING'), 'x=%41');
    assert.equal(environ.get('RAW_URI'), '/a%20b?x=%41');
    assert.equal(environ.get('REQUEST_URI'), '/a%20b?x=%41');
    assert.equal(environ.get('SERVER_NAME'), 'example.com');
    assert.equal(environ.get('SERVER_PORT'), '8080');
    assert.equal(environ.get('SERVER_PROTOCOL'), 'HTTP/1.1');
    assert.equal(environ.get('REMOTE_ADDR'), '127.0.0.1');
    assert.equal(environ.get('REMOTE_PORT'), '54321');
    assert.equal(environ.get('wsgi.url_scheme'), 'http');
  });

  it('falls back to the listener address without a Host header', () => {
    const environ = environOf('/');
    assert.equal(environ.get('SERVER_NAME'), '127.0.0.1');
    assert.equal(environ.get('SERVER_PORT'), '8000');
  });

  it('maps Content-Type and Content-Length without the HTTP_ prefix', () => {
    const environ = environOf('/', ['Content-Type', 'text/plain', 'Content-Length', '5']);
    assert.equal(environ.get('CONTENT_TYPE'), 'text/plain');
    assert.equal(environ.get('CONTENT_LENGTH'), '5');
    assert.equal(environ.has('HTTP_CONTENT_TYPE'), false);
    assert.equal(environ.has('HTTP_CONTENT_LENGTH'), false);
    assert.equal(environOf('/').has('CONTENT_LENGTH'), false);
  });

  it('joins repeated headers and drops names with underscores', () => {
    const environ = environOf('/', ['X-Tag', 'a', 'x-tag', 'b', 'Cookie', 'a=1', 'Cookie', 'b=2', 'X-Foo_Bar', 'spoof', 'X-Foo-Bar', 'real']);
    assert.equal(environ.get('HTTP_X_TAG'), 'a, b');
    assert.equal(environ.get('HTTP_COOKIE'), 'a=1; b=2');
    assert.equal(environ.get('HTTP_X_FOO_BAR'), 'real');
  });
});
