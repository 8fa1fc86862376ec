/** The access log quotes the request line, Referer and User-Agent with quoteForLog: one line, escaped, bounded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import type { RequestRecord } from '../../src/http/request-record.js';
import { ACCESS_LOG_QUOTE_LIMIT, AccessLog } from '../../src/observability/access-log.js';

/** The lines an AccessLog writes for one request with these head fields. */
function logLineFor(url: string, headers: Record<string, string>): string {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const request = {
    req: { method: 'GET', url, httpVersion: '1.1', headers, socket: { remoteAddress: '192.0.2.7' } },
    status: 200,
    bodyBytes: 5,
  } as unknown as RequestRecord;
  new AccessLog(stream).record(request);
  return text;
}

describe('AccessLog', () => {
  it('writes an ordinary request as Apache does, untouched', () => {
    const line = logLineFor('/a?b=c', { referer: 'http://example.test/', 'user-agent': 'curl/8.0' });
    assert.match(line, /^192\.0\.2\.7 - - \[[^\]]+\] "GET \/a\?b=c HTTP\/1\.1" 200 5 "http:\/\/example\.test\/" "curl\/8\.0"\n$/);
  });

  it('escapes CR, LF, quotes, ANSI and C1 escapes in the fields a client sends, so one request is one line', () => {
    const line = logLineFor('/x', { referer: 'a"b\\c', 'user-agent': 'evil\r\n1.2.3.4 - - [x] "GET /forged" 200\x1b[2J\x9b31m' });
    assert.equal(line.split('\n').length, 2, 'one line and its newline');
    assert.ok(line.includes('"a\\x22b\\x5Cc" "evil\\x0D\\x0A1.2.3.4 - - [x] \\x22GET /forged\\x22 200\\x1B[2J\\x9B31m"\n'), line);
    assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f\u007f-\u009f]/);
  });

  it('bounds each field, and says how much it cut', () => {
    const referer = `http://example.test/${'r'.repeat(64 * 1024)}`;
    const line = logLineFor('/x', { referer });
    assert.ok(line.length < 2 * ACCESS_LOG_QUOTE_LIMIT, `a line of ${line.length} characters`);
    assert.ok(line.includes(`...[${referer.length - ACCESS_LOG_QUOTE_LIMIT} more bytes]"`), 'the cut is counted');
  });
});
