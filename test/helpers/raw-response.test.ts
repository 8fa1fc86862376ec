/**
 * The two readings of the one raw response parser, side by side on the same
 * bytes: where the lenient one forgives, the strict one names the problem.
 * (The strict reading's own cases are in test/conformance/fuzz.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { header, parseResponses, parseStrictResponses, type RawResponse } from './raw-response.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('parseResponses (lenient) and parseStrictResponses', () => {
  it('read well-formed pipelined responses alike, whatever their framing', () => {
    const wire = bytes(
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\nT: 1\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 200 OK\r\n\r\nto the close',
    );
    const lenient = parseResponses(wire, true);
    const strict = parseStrictResponses(wire, true);
    assert.equal(strict.problem, null);
    for (const { responses, rest } of [lenient, strict]) {
      assert.deepEqual(responses.map((r) => [r.status, r.framing, r.body.toString('latin1')]), [
        [100, 'none', ''],
        [200, 'content-length', 'hi'],
        [200, 'chunked', 'abc'],
        [204, 'none', ''],
        [200, 'close', 'to the close'],
      ]);
      assert.equal(rest.length, 0);
    }
  });

  it('leave a response still arriving as the rest while the connection is open', () => {
    const wire = bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi');
    assert.equal(parseResponses(wire, false).responses.length, 0);
    assert.equal(parseResponses(wire, false).rest.length, wire.length);
    assert.deepEqual(parseStrictResponses(wire, false), { responses: [], problem: null, rest: wire });
    assert.match(parseStrictResponses(wire, true).problem ?? '', /closed .* \(2 of 5 body bytes\)/);
  });

  it('differ where the lenient reading forgives: 0x Content-Length, HTTP/1.0, space before the colon', () => {
    const hex = bytes('HTTP/1.1 200 OK\r\nContent-Length: 0x2\r\n\r\nhi');
    const [read] = parseResponses(hex, true).responses;
    assert.equal(read?.body.toString(), 'hi');
    assert.equal(header(read as RawResponse, 'content-length'), '0x2');
    assert.match(parseStrictResponses(hex, true).problem ?? '', /Content-Length "0x2"/);
    const old = bytes('HTTP/1.0 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n');
    const [response] = parseResponses(old, true).responses;
    assert.equal(response?.version, 'HTTP/1.0');
    // The name as sent, space and all.
    assert.deepEqual(response?.headers[0], ['X-A ', '1']);
    assert.match(parseStrictResponses(old, true).problem ?? '', /bad status line/);
  });

  it('skip the body of a response to HEAD only when told, by position', () => {
    const wire = bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
    const { responses, rest } = parseResponses(wire, true, (index) => index === 0);
    assert.deepEqual(responses.map((r) => [r.framing, r.body.toString()]), [['none', ''], ['content-length', 'hi']]);
    assert.equal(rest.length, 0);
  });

  it('the lenient reading throws on bytes that are no response at all', () => {
    assert.throws(() => parseResponses(bytes('garbage\r\n\r\n'), true), /not an HTTP status line/);
    assert.throws(() => parseResponses(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), true), /bad chunk size line/);
  });
});
