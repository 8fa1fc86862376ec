/**
 * The text access log: the compiled format, one line per response, coloured
 * by status class for a terminal; it quotes the request line, Referer and
 * User-Agent with quoteForLog: one line, escaped, bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import type { RequestRecord } from '../../src/http/request-record.js';
import { ACCESS_LOG_QUOTE_LIMIT, AccessLog, openAccessLog } from '../../src/observability/access-log.js';
import { compileAccessLogFormat } from '../../src/observability/access-log-format.js';

/** The lines an AccessLog writes for one request with these head fields. */
function logLineFor(url: string, headers: Record<string, string>, log?: (stream: Writable) => AccessLog, status = 200): string {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const request = {
    req: { method: 'GET', url, httpVersion: '1.1', headers, socket: { remoteAddress: '192.0.2.7' } },
    res: { _header: null, getHeader: () => undefined },
    status,
    bodyBytes: 5,
    durationMs: 12.5,
    mount: '',
  } as unknown as RequestRecord;
  (log ?? ((s) => new AccessLog(s)))(stream).record(request);
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

  it('writes the compiled --access-logformat', () => {
    const line = logLineFor('/a?b=c', { 'x-id': '7' }, (s) => new AccessLog(s, false, compileAccessLogFormat('%(m)s %(U)s %(q)s %(s)s %(M)s %({X-Id}i)s')));
    assert.equal(line, 'GET /a b=c 200 12 7\n');
  });

  it('colours a line by its status class when asked', () => {
    const line = logLineFor('/x', {}, (s) => new AccessLog(s, true), 503);
    assert.ok(line.startsWith('\x1b[31m') && line.endsWith('\x1b[0m\n'), JSON.stringify(line));
  });

  it('is off without --access-logfile, and refuses a bad format when it is on', () => {
    assert.equal(openAccessLog({ accessLogfile: null, accessLogFormat: '%(zz)s', logFormat: 'text' }), null);
    assert.throws(() => openAccessLog({ accessLogfile: '-', accessLogFormat: '%(zz)s', logFormat: 'text' }), { code: 'PORTICO_ERR_CONFIG' });
  });
});
