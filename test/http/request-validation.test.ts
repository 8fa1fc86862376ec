/**
 * src/http/request-validation.ts: what the front refuses on top of Node's
 * parser, each refusal with its status and stable code. Requests are built
 * as Node would hand them over, so each rule is met alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../src/error-codes.js';
import { isRefusal } from '../../src/http/refusal.js';
import { checkConnect, checkRequest, checkTrailers, FORBIDDEN_TRAILER_FIELDS } from '../../src/http/request-validation.js';
import { fakeRequest, type FakeRequestOptions } from '../helpers/fake-request.js';

/** A valid HTTP/1.1 GET, changed by `options`; `rawHeaders` are added after Host. */
function check(options: FakeRequestOptions & { noHost?: boolean } = {}) {
  const rawHeaders = [...(options.noHost ? [] : ['Host', 'example.com']), ...(options.rawHeaders ?? [])];
  return checkRequest(fakeRequest({ ...options, rawHeaders }));
}

function assertRefused(result: ReturnType<typeof check>, status: number, code: ErrorCode): void {
  assert.ok(isRefusal(result), `refused with ${code}, not passed: ${JSON.stringify(result)}`);
  assert.equal(result.code, code);
  assert.equal(result.refuse, status);
}

describe('checkRequest: the HTTP version (RFC 9112 §2.3)', () => {
  it('serves HTTP/1.0 and HTTP/1.1', () => {
    assert.deepEqual(check({ httpVersion: '1.1' }), { targetAuthority: null });
    assert.deepEqual(check({ httpVersion: '1.0' }), { targetAuthority: null });
  });

  it('answers 505 for another major version, 400 for 0.9, 1.2 and nonsense', () => {
    assertRefused(check({ httpVersion: '2.0' }), 505, 'PORTICO_ERR_VERSION_NOT_SUPPORTED');
    assertRefused(check({ httpVersion: '9.9' }), 505, 'PORTICO_ERR_VERSION_NOT_SUPPORTED');
    assertRefused(check({ httpVersion: '0.9' }), 400, 'PORTICO_ERR_BAD_VERSION');
    assertRefused(check({ httpVersion: '1.2' }), 400, 'PORTICO_ERR_BAD_VERSION');
    assertRefused(check({ httpVersion: '1.10' }), 400, 'PORTICO_ERR_BAD_VERSION');
  });
});

describe('checkRequest: header fields (RFC 9110 §5)', () => {
  it('refuses a name that is not a token, and a control character other than HTAB in a value', () => {
    assertRefused(check({ rawHeaders: ['X A', 'v'] }), 400, 'PORTICO_ERR_BAD_FIELD_NAME');
    assertRefused(check({ rawHeaders: ['X-A:', 'v'] }), 400, 'PORTICO_ERR_BAD_FIELD_NAME');
    for (const ctl of ['\x00', '\r', '\n', '\x7f']) assertRefused(check({ rawHeaders: ['X-A', `a${ctl}b`] }), 400, 'PORTICO_ERR_BAD_FIELD_VALUE');
    assert.ok(!isRefusal(check({ rawHeaders: ['X-A', 'a\tb \xe9'] })), 'HTAB, SP and obs-text are field content');
  });
});

describe('checkRequest: framing (RFC 9112 §6)', () => {
  const post = (rawHeaders: string[], httpVersion = '1.1') => check({ method: 'POST', httpVersion, rawHeaders });

  it('serves chunked alone, in any case, and one Content-Length of digits', () => {
    assert.ok(!isRefusal(post(['Transfer-Encoding', 'chunked'])));
    assert.ok(!isRefusal(post(['Transfer-Encoding', 'Chunked'])));
    assert.ok(!isRefusal(post(['Content-Length', '0'])));
    assert.ok(!isRefusal(post(['Content-Length', '123'])));
  });

  it('refuses Transfer-Encoding on HTTP/1.0, and with Content-Length', () => {
    assertRefused(post(['Transfer-Encoding', 'chunked'], '1.0'), 400, 'PORTICO_ERR_TE_ON_HTTP10');
    assertRefused(post(['Transfer-Encoding', 'chunked', 'Content-Length', '3']), 400, 'PORTICO_ERR_TE_AND_CL');
  });

  it('refuses a coding list with an empty element or not ending in chunked; 501 for another coding before chunked', () => {
    assertRefused(post(['Transfer-Encoding', ',chunked']), 400, 'PORTICO_ERR_BAD_TE');
    assertRefused(post(['Transfer-Encoding', '']), 400, 'PORTICO_ERR_BAD_TE');
    assertRefused(post(['Transfer-Encoding', 'chunked, gzip']), 400, 'PORTICO_ERR_BAD_TE');
    assertRefused(post(['Transfer-Encoding', 'gzip']), 400, 'PORTICO_ERR_BAD_TE');
    assertRefused(post(['Transfer-Encoding', 'gzip, chunked']), 501, 'PORTICO_ERR_TE_NOT_IMPLEMENTED');
    // Lines of one field are one list (RFC 9110 §5.3).
    assertRefused(post(['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked']), 501, 'PORTICO_ERR_TE_NOT_IMPLEMENTED');
    assertRefused(post(['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), 501, 'PORTICO_ERR_TE_NOT_IMPLEMENTED');
  });

  it('refuses several Content-Length fields, even equal, and one that is not 1*DIGIT', () => {
    assertRefused(post(['Content-Length', '3', 'Content-Length', '3']), 400, 'PORTICO_ERR_BAD_CONTENT_LENGTH');
    for (const value of ['+3', '-3', '0x3', '3.0', '3 ', '', '3,3']) assertRefused(post(['Content-Length', value]), 400, 'PORTICO_ERR_BAD_CONTENT_LENGTH');
  });
});

describe('checkRequest: Content-Type, a singleton (RFC 9110 §5.3, §8.3)', () => {
  const post = (rawHeaders: string[]) => check({ method: 'POST', rawHeaders: ['Content-Length', '2', ...rawHeaders] });

  it('serves one, whatever its parameters', () => {
    assert.ok(!isRefusal(post(['Content-Type', 'text/plain'])));
    assert.ok(!isRefusal(post(['Content-Type', 'multipart/form-data; boundary=x'])));
    assert.ok(!isRefusal(post([])));
  });

  it('refuses two, equal or not, in any case and anywhere in the head', () => {
    assertRefused(post(['Content-Type', 'text/plain', 'Content-Type', 'application/json']), 400, 'PORTICO_ERR_MANY_CONTENT_TYPES');
    assertRefused(post(['Content-Type', 'text/plain', 'content-type', 'text/plain']), 400, 'PORTICO_ERR_MANY_CONTENT_TYPES');
    assertRefused(post(['CONTENT-TYPE', 'a/b', 'X-Other', '1', 'Content-type', '']), 400, 'PORTICO_ERR_MANY_CONTENT_TYPES');
  });
});

describe('checkTrailers: the trailer section of a chunked body (RFC 9110 §6.5.1)', () => {
  it('serves none, and fields that may be trailers', () => {
    assert.equal(checkTrailers([]), null);
    assert.equal(checkTrailers(['X-Checksum', 'abc', 'Server-Timing', 'db;dur=53', 'Content-Type', 'text/plain']), null);
  });

  it('refuses framing, routing, authentication and Expect, in any case', () => {
    for (const name of ['Host', 'Content-Length', 'Transfer-Encoding', 'Trailer', 'TE', 'Connection', 'Upgrade', 'Authorization', 'Proxy-Authorization', 'Expect']) {
      for (const spelled of [name, name.toLowerCase(), name.toUpperCase()]) {
        const refused = checkTrailers(['X-Fine', '1', spelled, 'v']);
        assert.ok(refused !== null, `${spelled} in trailers`);
        assert.deepEqual([refused.refuse, refused.code], [400, 'PORTICO_ERR_FORBIDDEN_TRAILER'], spelled);
      }
    }
    assert.equal(FORBIDDEN_TRAILER_FIELDS.size, 10);
  });

  it("holds trailer names and values to the head's grammar", () => {
    assert.equal(checkTrailers(['X A', 'v'])?.code, 'PORTICO_ERR_BAD_FIELD_NAME');
    assert.equal(checkTrailers(['X-A', 'a\x00b'])?.code, 'PORTICO_ERR_BAD_FIELD_VALUE');
  });
});

describe('checkRequest: the request target (RFC 9112 §3.2)', () => {
  it('serves origin-form, and asterisk-form for OPTIONS only', () => {
    assert.deepEqual(check({ url: '/a/b?c=d' }), { targetAuthority: null });
    assert.deepEqual(check({ method: 'OPTIONS', url: '*' }), { targetAuthority: null });
    assertRefused(check({ method: 'GET', url: '*' }), 400, 'PORTICO_ERR_BAD_TARGET');
  });

  it('takes the authority of an absolute-form http(s) target, which then stands for Host', () => {
    assert.deepEqual(check({ url: 'http://example.org:8080/x?y' }), { targetAuthority: 'example.org:8080' });
    assert.deepEqual(check({ url: 'HTTPS://[::1]' }), { targetAuthority: '[::1]' });
  });

  it('refuses a fragment, a target in no form, another scheme, userinfo and an empty or bad authority', () => {
    for (const url of ['/a#b', 'a/b', 'ftp://example.org/', 'http://user@example.org/', 'http:///x', 'http://exa mple.org/', 'mailto:x@example.org']) {
      assertRefused(check({ url }), 400, 'PORTICO_ERR_BAD_TARGET');
    }
  });
});

describe('checkRequest: Host (RFC 9112 §3.2)', () => {
  it('requires one on HTTP/1.1, not on HTTP/1.0', () => {
    assertRefused(check({ noHost: true }), 400, 'PORTICO_ERR_NO_HOST');
    assert.ok(!isRefusal(check({ noHost: true, httpVersion: '1.0' })));
  });

  it('refuses several, even equal, and one that is no host[:port]', () => {
    assertRefused(check({ rawHeaders: ['Host', 'example.com'] }), 400, 'PORTICO_ERR_MANY_HOSTS');
    for (const host of ['exa mple.com', 'a/b', 'user@host', '[::1', 'host:port']) {
      assertRefused(check({ noHost: true, rawHeaders: ['Host', host] }), 400, 'PORTICO_ERR_BAD_HOST');
    }
    for (const host of ['', 'example.com:', '127.0.0.1:8000', '[::1]:443', 'xn--bcher-kva.example']) {
      assert.ok(!isRefusal(check({ noHost: true, rawHeaders: ['Host', host] })), `Host '${host}'`);
    }
  });
});

describe('checkRequest: order', () => {
  it('reports the version before the fields, the fields before the framing, the framing before the target and Host', () => {
    const everything = { httpVersion: '2.0', url: 'bad', noHost: true, rawHeaders: ['X A', 'v', 'Content-Length', 'x'] };
    assert.equal((check(everything) as { code: string }).code, 'PORTICO_ERR_VERSION_NOT_SUPPORTED');
    assert.equal((check({ ...everything, httpVersion: '1.1' }) as { code: string }).code, 'PORTICO_ERR_BAD_FIELD_NAME');
    assert.equal((check({ ...everything, httpVersion: '1.1', rawHeaders: ['Content-Length', 'x'] }) as { code: string }).code, 'PORTICO_ERR_BAD_CONTENT_LENGTH');
    assert.equal((check({ ...everything, httpVersion: '1.1', rawHeaders: [] }) as { code: string }).code, 'PORTICO_ERR_BAD_TARGET');
  });
});

describe('checkConnect', () => {
  it('answers 501 for an authority-form CONNECT, 400 for any other target (RFC 9110 §9.3.6)', () => {
    assert.deepEqual(
      [checkConnect('example.org:443'), checkConnect('[::1]:8080')].map((r) => [r.refuse, r.code]),
      [[501, 'PORTICO_ERR_CONNECT_NOT_IMPLEMENTED'], [501, 'PORTICO_ERR_CONNECT_NOT_IMPLEMENTED']],
    );
    for (const target of ['example.org', '/path', 'http://example.org/', 'example.org:']) {
      const refused = checkConnect(target);
      assert.deepEqual([refused.refuse, refused.code], [400, 'PORTICO_ERR_BAD_TARGET'], target);
    }
  });
});
