/**
 * src/http/limits.ts: each limit met exactly at its boundary, with its own
 * status and code, and 0 meaning what --help says. (The same limits at the
 * real server are in limit-options.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bodyTooLarge,
  checkDeclaredBody,
  checkHeadLimits,
  DEFAULT_LIMITS,
  exceedsBodyLimit,
  MAX_REQUEST_FIELDS,
  maxHeaderSize,
  type RequestLimits,
} from '../../src/http/limits.js';
import { fakeRequest } from '../helpers/fake-request.js';

/** A GET whose request line (`GET target HTTP/1.1`, no CRLF) is exactly `length` bytes. */
const lineOf = (length: number) => fakeRequest({ url: '/' + 'a'.repeat(length - 'GET / HTTP/1.1'.length) });
/** `count` header fields. */
const fieldsOf = (count: number) => fakeRequest({ rawHeaders: Array.from({ length: count }, (_, i) => [`X-${i}`, 'v']).flat() });
/** One field whose line `X-Big: value` is exactly `size` bytes. */
const fieldOf = (size: number) => fakeRequest({ rawHeaders: ['X-Big', 'b'.repeat(size - 'X-Big: '.length)] });
const limits = (overrides: Partial<RequestLimits>): RequestLimits => ({ ...DEFAULT_LIMITS, ...overrides });

describe('DEFAULT_LIMITS', () => {
  it("are gunicorn's: 4094-byte line, 100 fields, 8190-byte field; and a 1 GiB body", () => {
    assert.deepEqual(DEFAULT_LIMITS, { requestLine: 4094, requestFields: 100, requestFieldSize: 8190, requestBody: 1024 ** 3 });
    assert.equal(MAX_REQUEST_FIELDS, 32768);
  });
});

describe('checkHeadLimits', () => {
  it('passes a request line at --limit-request-line and answers 414 one byte over', () => {
    assert.equal(checkHeadLimits(lineOf(4094), DEFAULT_LIMITS), null);
    const refused = checkHeadLimits(lineOf(4095), DEFAULT_LIMITS);
    assert.equal(refused?.refuse, 414);
    assert.equal(refused?.code, 'PORTICO_ERR_REQUEST_LINE_TOO_LONG');
    assert.match(refused?.reason ?? '', /4095 bytes is over --limit-request-line 4094/);
  });

  it('counts the request line in bytes, method and version included', () => {
    const line = fakeRequest({ method: 'DELETE', url: '/é', httpVersion: '1.0' });
    // 'DELETE /é HTTP/1.0' is 18 characters, and é one latin-1 byte.
    assert.equal(checkHeadLimits(line, limits({ requestLine: 18 })), null);
    assert.equal(checkHeadLimits(line, limits({ requestLine: 17 }))?.code, 'PORTICO_ERR_REQUEST_LINE_TOO_LONG');
  });

  it('passes --limit-request-fields fields and answers 431 for one more', () => {
    assert.equal(checkHeadLimits(fieldsOf(100), DEFAULT_LIMITS), null);
    const refused = checkHeadLimits(fieldsOf(101), DEFAULT_LIMITS);
    assert.equal(refused?.refuse, 431);
    assert.equal(refused?.code, 'PORTICO_ERR_TOO_MANY_FIELDS');
  });

  it('holds --limit-request-fields 0, and any value above it, to 32768 fields as gunicorn does', () => {
    for (const requestFields of [0, MAX_REQUEST_FIELDS + 1, 1_000_000]) {
      assert.equal(checkHeadLimits(fieldsOf(MAX_REQUEST_FIELDS), limits({ requestFields })), null, `--limit-request-fields ${requestFields}`);
      assert.equal(checkHeadLimits(fieldsOf(MAX_REQUEST_FIELDS + 1), limits({ requestFields }))?.code, 'PORTICO_ERR_TOO_MANY_FIELDS');
    }
  });

  it('passes a field line of --limit-request-field_size bytes, counted as `Name: value`, and answers 431 one byte over', () => {
    assert.equal(checkHeadLimits(fieldOf(8190), DEFAULT_LIMITS), null);
    const refused = checkHeadLimits(fieldOf(8191), DEFAULT_LIMITS);
    assert.equal(refused?.refuse, 431);
    assert.equal(refused?.code, 'PORTICO_ERR_FIELD_TOO_LARGE');
    assert.match(refused?.reason ?? '', /'X-Big' of 8191 bytes/);
  });

  it('takes 0 for no limit on the line and on a field', () => {
    const unlimited = limits({ requestLine: 0, requestFieldSize: 0 });
    assert.equal(checkHeadLimits(lineOf(100_000), unlimited), null);
    assert.equal(checkHeadLimits(fieldOf(100_000), unlimited), null);
  });

  it('checks the line first, then the count, then each field', () => {
    const everything = fakeRequest({ url: '/' + 'a'.repeat(5000), rawHeaders: Array.from({ length: 101 }, () => ['X-Big', 'b'.repeat(9000)]).flat() });
    assert.equal(checkHeadLimits(everything, DEFAULT_LIMITS)?.code, 'PORTICO_ERR_REQUEST_LINE_TOO_LONG');
    assert.equal(checkHeadLimits(everything, limits({ requestLine: 0 }))?.code, 'PORTICO_ERR_TOO_MANY_FIELDS');
    assert.equal(checkHeadLimits(everything, limits({ requestLine: 0, requestFields: 200 }))?.code, 'PORTICO_ERR_FIELD_TOO_LARGE');
  });
});

describe('maxHeaderSize', () => {
  it("is just large enough for a head at every limit: line, CRLF, each field and its CRLF, the last CRLF", () => {
    assert.equal(maxHeaderSize(DEFAULT_LIMITS), 4094 + 2 + 100 * (8190 + 2) + 2);
    assert.equal(maxHeaderSize(limits({ requestLine: 10, requestFields: 1, requestFieldSize: 20 })), 10 + 2 + 22 + 2);
  });

  it('stays within what Node accepts when every limit is 0', () => {
    assert.equal(maxHeaderSize({ requestLine: 0, requestFields: 0, requestFieldSize: 0, requestBody: 0 }), 2 ** 31 - 1);
  });
});

describe('the body limit', () => {
  it('is exceeded one byte over, never at it, and never with 0', () => {
    assert.equal(exceedsBodyLimit(100, 100), false);
    assert.equal(exceedsBodyLimit(101, 100), true);
    assert.equal(exceedsBodyLimit(Number.MAX_SAFE_INTEGER, 0), false);
  });

  it('refuses a declared Content-Length over --limit-request-body with 413 before anything reads it', () => {
    const declaring = (length: string) => fakeRequest({ method: 'POST', rawHeaders: ['Content-Length', length] });
    assert.equal(checkDeclaredBody(fakeRequest({ method: 'POST' }), DEFAULT_LIMITS), null);
    assert.equal(checkDeclaredBody(declaring(String(1024 ** 3)), DEFAULT_LIMITS), null);
    const refused = checkDeclaredBody(declaring(String(1024 ** 3 + 1)), DEFAULT_LIMITS);
    assert.deepEqual(refused, bodyTooLarge(1024 ** 3 + 1, 1024 ** 3));
    assert.equal(refused?.refuse, 413);
    assert.equal(refused?.code, 'PORTICO_ERR_BODY_TOO_LARGE');
    assert.equal(checkDeclaredBody(declaring(String(2 ** 40)), limits({ requestBody: 0 })), null);
  });
});
