/**
 * --access-logformat compiled: each of gunicorn's atoms, header atoms, the
 * default being Apache combined, client data kept to one safe line, and
 * the errors for an unknown atom or a stray '%'.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../../src/errors.js';
import {
  ACCESS_LOG_QUOTE_LIMIT,
  basicAuthUser,
  compileAccessLogFormat,
  DEFAULT_ACCESS_LOG_FORMAT,
  type AccessEntry,
} from '../../src/observability/access-log-format.js';

interface EntryOptions {
  method?: string;
  url?: string;
  headers?: Record<string, string | string[]>;
  /** The head Node wrote, as `res._header` keeps it; null for a response not begun. */
  sentHead?: string | null;
  /** What res.getHeader finds. */
  headerMap?: Record<string, string | number | string[]>;
  status?: number;
  bodyBytes?: number;
  durationMs?: number;
  remoteAddress?: string;
}

function entry(options: EntryOptions = {}): AccessEntry {
  const map = Object.fromEntries(Object.entries(options.headerMap ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    req: {
      method: options.method ?? 'GET',
      url: options.url ?? '/items/5?q=x&y=2',
      httpVersion: '1.1',
      headers: options.headers ?? {},
      socket: { remoteAddress: options.remoteAddress ?? '192.0.2.7' },
    } as unknown as IncomingMessage,
    res: {
      _header: options.sentHead === undefined ? 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n' : options.sentHead,
      getHeader: (name: string) => map[name.toLowerCase()],
    } as unknown as ServerResponse,
    status: options.status ?? 200,
    bodyBytes: options.bodyBytes ?? 1234,
    durationMs: options.durationMs ?? 2345.6789,
    mount: '',
  };
}

const format = (spec: string, options?: EntryOptions): string => compileAccessLogFormat(spec)(entry(options));

describe('compileAccessLogFormat: the atoms', () => {
  const cases: Array<[atom: string, expected: string | RegExp, options?: EntryOptions]> = [
    ['h', '192.0.2.7'],
    ['l', '-'],
    ['u', '-'],
    ['u', 'aladdin', { headers: { authorization: `Basic ${Buffer.from('aladdin:open sesame').toString('base64')}` } }],
    ['t', /^\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]$/],
    ['r', 'GET /items/5?q=x&y=2 HTTP/1.1'],
    ['s', '404', { status: 404 }],
    ['b', '1234'],
    ['b', '-', { bodyBytes: 0 }],
    ['B', '1234'],
    ['B', '0', { bodyBytes: 0 }],
    ['f', 'http://example.test/', { headers: { referer: 'http://example.test/' } }],
    ['f', '-'],
    ['a', 'curl/8.0', { headers: { 'user-agent': 'curl/8.0' } }],
    ['a', '-'],
    ['T', '2'],
    ['D', '2345679'],
    ['M', '2345'],
    ['L', '2.345679'],
    ['p', `<${process.pid}>`],
    ['m', 'POST', { method: 'POST' }],
    ['U', '/items/5'],
    ['q', 'q=x&y=2'],
    ['q', '', { url: '/items/5' }],
    ['H', 'HTTP/1.1'],
  ];
  for (const [atom, expected, options] of cases) {
    it(`%(${atom})s${options === undefined ? '' : ` with ${JSON.stringify(options)}`}`, () => {
      const line = format(`%(${atom})s`, options);
      if (typeof expected === 'string') assert.equal(line, expected);
      else assert.match(line, expected);
    });
  }

  it('takes a request header by any case, joins repeats, and has - for a missing one', () => {
    const headers = { 'x-request-id': 'abc-123', accept: ['a', 'b'] };
    assert.equal(format('%({X-Request-Id}i)s', { headers }), 'abc-123');
    assert.equal(format('%({x-request-id}i)s', { headers }), 'abc-123');
    assert.equal(format('%({Accept}i)s', { headers }), 'a, b');
    assert.equal(format('%({X-Missing}i)s', { headers }), '-');
  });

  it('takes a response header as sent, repeats joined, or from the header map before the head is written', () => {
    assert.equal(format('%({content-type}o)s'), 'text/plain');
    assert.equal(format('%({Set-Cookie}o)s'), 'a=1, b=2');
    assert.equal(format('%({X-Missing}o)s'), '-');
    assert.equal(format('%({Content-Length}o)s', { sentHead: null, headerMap: { 'Content-Length': 42 } }), '42');
    assert.equal(format('%({Content-Type}o)s', { sentHead: null }), '-');
  });

  it('keeps the literals, and %% as a percent sign', () => {
    assert.equal(format('[%(s)s] 100%% "%(m)s"'), '[200] 100% "GET"');
    assert.equal(format('no atoms at all'), 'no atoms at all');
    assert.equal(format(''), '');
  });

  it('by default writes Apache combined, as the access log always has', () => {
    const line = format(DEFAULT_ACCESS_LOG_FORMAT, { headers: { referer: 'http://r.test/', 'user-agent': 'ua/1' } });
    assert.match(line, /^192\.0\.2\.7 - - \[[^\]]+\] "GET \/items\/5\?q=x&y=2 HTTP\/1\.1" 200 1234 "http:\/\/r\.test\/" "ua\/1"$/);
  });

  it('reads a Basic user only from a well-formed Basic header', () => {
    assert.equal(basicAuthUser(`basic ${Buffer.from('u:p:q').toString('base64')}`), 'u');
    assert.equal(basicAuthUser('Bearer abc'), undefined);
    assert.equal(basicAuthUser(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
    assert.equal(basicAuthUser(undefined), undefined);
  });
});

describe('compileAccessLogFormat: client data stays one safe line', () => {
  const evil = 'evil\r\n1.2.3.4 - - [x] "GET /forged" 200\x1b[2J\x9b31m\\';
  const every = '%(h)s %(u)s "%(r)s" "%(f)s" "%(a)s" %(m)s %(U)s %(q)s %({X-Evil}i)s %({X-Out}o)s';

  it('escapes CR, LF, quotes, backslashes, ANSI and C1 in every client-chosen atom', () => {
    const line = format(every, {
      url: `/p"a\\th?${evil}`,
      headers: {
        referer: evil,
        'user-agent': evil,
        'x-evil': evil,
        authorization: `Basic ${Buffer.from(`${evil}:pw`, 'latin1').toString('base64')}`,
      },
      sentHead: `HTTP/1.1 200 OK\r\nX-Out: ${evil.replace(/\r\n/g, '')}\r\n\r\n`,
    });
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
    assert.ok(line.includes('evil\\x0D\\x0A1.2.3.4 - - [x] \\x22GET /forged\\x22 200\\x1B[2J\\x9B31m\\x5C'), line);
    // Every '"' left is the format's own: 3 pairs.
    assert.equal(line.split('"').length - 1, 6, line);
  });

  it('bounds each field, and says how much it cut', () => {
    const referer = `http://example.test/${'r'.repeat(64 * 1024)}`;
    const line = format('"%(f)s" "%({Referer}i)s"', { headers: { referer } });
    assert.ok(line.length < 3 * ACCESS_LOG_QUOTE_LIMIT, `a line of ${line.length} characters`);
    assert.equal(line.split(`...[${referer.length - ACCESS_LOG_QUOTE_LIMIT} more bytes]"`).length, 3, 'both cuts are counted');
  });
});

describe('compileAccessLogFormat: errors', () => {
  const fails = (spec: string, flag: string | undefined, message: RegExp): void => {
    assert.throws(
      () => compileAccessLogFormat(spec, flag),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, 'PORTICO_ERR_CONFIG');
        assert.doesNotMatch(error.message, /\n/, 'one line');
        assert.match(error.message, message);
        return true;
      },
    );
  };

  it('refuses an unknown atom, naming the option and the atom', () => {
    fails('%(h)s %(zz)s', undefined, /^--access-logformat: unknown atom '%\(zz\)s'/);
    fails('%(h)s %(zz)s', '--access-log-format', /^--access-log-format: unknown atom '%\(zz\)s'/);
    fails('%({HOME}e)s', '$PORTICO_ACCESS_LOG_FORMAT', /^\$PORTICO_ACCESS_LOG_FORMAT: unknown atom '%\(\{HOME\}e\)s'/);
    fails('%({bad name}i)s', undefined, /unknown atom '%\(\{bad name\}i\)s'/);
    fails('%(h)d', undefined, /unknown atom '%\(h\)d'/);
  });

  it("refuses a '%' that starts no atom", () => {
    fails('100% done', undefined, /^--access-logformat: '%' at character 4 starts no atom/);
    fails('%(h', undefined, /starts no atom/);
    fails('trailing %', undefined, /starts no atom/);
  });
});
