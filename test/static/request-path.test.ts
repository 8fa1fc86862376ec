/** The request-path rules on their own, as data (the HTTP tests show them on the wire). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUrlPath, parseRequestPath } from '../../src/static/request-path.js';

describe('parseRequestPath', () => {
  it('splits PATH_INFO into UTF-8 file names, dropping empty segments', () => {
    assert.deepEqual(parseRequestPath('/docs//caf\xc3\xa9.txt'), {
      ok: true,
      segments: ['docs', 'caf\xc3\xa9.txt'],
      names: ['docs', 'café.txt'],
      trailingSlash: false,
    });
    assert.deepEqual(parseRequestPath(''), { ok: true, segments: [], names: [], trailingSlash: false });
    assert.deepEqual(parseRequestPath('/'), { ok: true, segments: [], names: [], trailingSlash: true });
    assert.deepEqual(parseRequestPath('/%2e%2e'), { ok: true, segments: ['%2e%2e'], names: ['%2e%2e'], trailingSlash: false });
  });

  const refused: Array<[string, number]> = [
    ['/a\0b', 400],
    ['/..', 404],
    ['/a/../b', 404],
    ['/.', 404],
    ['/.env', 404],
    ['/a/.git/config', 404],
    ['/a\\..\\b', 404],
    ['a', 404],
    ['/\xff', 404],
    ['/\xc0\xae', 404],
  ];
  for (const [pathInfo, status] of refused) {
    it(`refuses ${JSON.stringify(pathInfo)} with ${status}`, () => {
      const result = parseRequestPath(pathInfo);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.status, status);
    });
  }
});

describe('encodeUrlPath', () => {
  it('encodes bytes outside RFC 3986 pchar, and collapses leading slashes', () => {
    assert.equal(encodeUrlPath('/static/a b/caf\xc3\xa9/%/?#/'), '/static/a%20b/caf%C3%A9/%25/%3F%23/');
    assert.equal(encodeUrlPath("/a-._~!$&'()*+,;=:@/"), "/a-._~!$&'()*+,;=:@/");
    assert.equal(encodeUrlPath('//evil.example/'), '/evil.example/');
  });
});
