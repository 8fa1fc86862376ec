/**
 * src/http/rfc9112.ts: each named rule against strings just inside and just
 * outside its ABNF.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ABSOLUTE_HTTP_URI,
  AUTHORITY_FORM,
  CONTENT_LENGTH,
  FIELD_VALUE,
  FORWARDED_PAIR,
  HOST,
  HTTP_VERSION,
  SCHEME_PREFIX,
  TOKEN,
} from '../../src/http/rfc9112.js';

function holds(rule: RegExp, inside: string[], outside: string[]): void {
  for (const text of inside) assert.ok(rule.test(text), `${rule} should take ${JSON.stringify(text)}`);
  for (const text of outside) assert.ok(!rule.test(text), `${rule} should refuse ${JSON.stringify(text)}`);
}

describe('rfc9112 rules', () => {
  it('token = 1*tchar (RFC 9110 §5.6.2)', () => {
    holds(TOKEN, ["!#$%&'*+-.^_`|~", 'Content-Type', 'x'], ['', 'a b', 'a:b', 'a"b', 'a(b', 'a/b', 'a\tb', 'é']);
  });

  it('field-value: any octet but a CTL other than HTAB (RFC 9110 §5.5)', () => {
    holds(FIELD_VALUE, ['', 'a b\tc', '\x80\xff', '~'], ['\x00', 'a\rb', 'a\nb', '\x1f', '\x7f']);
  });

  it('Content-Length = 1*DIGIT (RFC 9110 §8.6)', () => {
    holds(CONTENT_LENGTH, ['0', '007', '18446744073709551616'], ['', '+1', '-1', '1.0', '0x1', ' 1', '1,1']);
  });

  it('HTTP-version as Node reports it: one digit, a dot, one digit (RFC 9112 §2.3)', () => {
    holds(HTTP_VERSION, ['1.1', '1.0', '0.9', '2.0'], ['', '1', '11.1', '1.10', 'HTTP/1.1', '1.x']);
  });

  it('Host = uri-host [ ":" port ], empty allowed (RFC 9110 §7.2)', () => {
    holds(
      HOST,
      ['', 'example.com', 'example.com:', 'example.com:8080', '127.0.0.1', '[::1]', '[::ffff:1.2.3.4]:80', '[v1.x]', 'a%20b', "!$&'()*+,;="],
      ['exa mple.com', 'a/b', 'user@host', '[::1', '[zz]', 'host:port', 'host:80:80', 'a%2'],
    );
  });

  it('authority-form = uri-host ":" port, the port required (RFC 9112 §3.2.3)', () => {
    // reg-name may be empty (RFC 3986 §3.2.2), so ':443' is in the grammar.
    holds(AUTHORITY_FORM, ['example.com:443', '[::1]:8080', '10.0.0.1:1', ':443'], ['example.com', 'example.com:', '/x', 'a b:1', 'a:1:2']);
  });

  it('absolute-form: an http(s) URI split into scheme, authority and the rest (RFC 9112 §3.2.2)', () => {
    assert.deepEqual([...(ABSOLUTE_HTTP_URI.exec('HTTP://example.com:8080/a?b') ?? [])].slice(1), ['HTTP', 'example.com:8080', '/a?b']);
    assert.deepEqual([...(ABSOLUTE_HTTP_URI.exec('https://example.com?q') ?? [])].slice(1), ['https', 'example.com', '?q']);
    holds(ABSOLUTE_HTTP_URI, ['http://x', 'https://x/'], ['ftp://x/', 'http:/x', 'httpx://x', '//x/']);
    holds(SCHEME_PREFIX, ['http:', 'a+b-c.d:x'], ['1http:', ':x', '/x:']);
  });

  it('forwarded-pair = token "=" ( token / quoted-string ) (RFC 7239 §4)', () => {
    const pair = (text: string) => FORWARDED_PAIR.exec(text)?.slice(1, 3);
    assert.deepEqual(pair('for=192.0.2.60'), ['for', '192.0.2.60']);
    assert.deepEqual(pair(' for="[2001:db8::1]:4711" '), ['for', '"[2001:db8::1]:4711"']);
    assert.deepEqual(pair('by="a\\"b"'), ['by', '"a\\"b"']);
    holds(FORWARDED_PAIR, [], ['for=', '=x', 'for=a b', 'for="unterminated', 'for="a"b"', 'fo r=x']);
  });
});
