/**
 * --log-format json: every error-log and access-log line is one JSON object
 * with the stable keys the README documents; a mount's events, its
 * workers' output among them, carry the mount and the worker's pid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { AccessEntry } from '../../src/observability/access-log-format.js';
import { openAccessLog } from '../../src/observability/access-log.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import { ACCESS_LOG_KEYS, JsonAccessLog } from '../../src/observability/json-access-log.js';

/** A stream that keeps what is written, and its lines parsed. */
function capture(): { stream: Writable; lines: () => string[]; objects: () => Array<Record<string, unknown>> } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const lines = (): string[] => {
    assert.ok(text.endsWith('\n'), 'every line ends');
    return text.slice(0, -1).split('\n');
  };
  return { stream, lines, objects: () => lines().map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function entry(url: string, headers: Record<string, string>, mount: string | null = '/api'): AccessEntry {
  return {
    req: { method: 'GET', url, httpVersion: '1.1', headers, socket: { remoteAddress: '192.0.2.7' } } as unknown as IncomingMessage,
    res: { _header: null, getHeader: () => undefined } as unknown as ServerResponse,
    status: 201,
    bodyBytes: 5,
    durationMs: 1.23456,
    mount,
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ERROR_KEYS = ['level', 'time', 'pid', 'msg'];

describe('JSON access log', () => {
  it('writes one object per response, with the stable keys in order', () => {
    const out = capture();
    const log = new JsonAccessLog(out.stream);
    log.record(entry('/a/b?c=d', { referer: 'http://r.test/', 'user-agent': 'ua/1' }));
    log.record(entry('/', {}, ''));
    log.record(entry('/x', {}, null));
    const [first, root, unrouted] = out.objects();
    assert.deepEqual(Object.keys(first as object), [...ACCESS_LOG_KEYS]);
    assert.match(first?.time as string, ISO_TIME);
    assert.deepEqual(
      { ...first, time: undefined },
      {
        time: undefined, remote_addr: '192.0.2.7', method: 'GET', path: '/a/b', query: 'c=d', protocol: 'HTTP/1.1',
        status: 201, bytes: 5, duration_ms: 1.235, referer: 'http://r.test/', user_agent: 'ua/1', mount: '/api',
      },
    );
    assert.deepEqual(Object.keys(root as object), [...ACCESS_LOG_KEYS], 'the same keys when headers are missing');
    assert.equal(root?.referer, null);
    assert.equal(root?.user_agent, null);
    assert.equal(root?.query, '');
    assert.equal(root?.mount, '/');
    assert.equal(unrouted?.mount, null);
  });

  it('keeps client data to one safe, bounded line', () => {
    const out = capture();
    const evil = 'evil\r\n{"forged":1}\x1b[2J\x9b31m"\\';
    new JsonAccessLog(out.stream).record(entry(`/p?${evil}`, { 'user-agent': evil, referer: `http://r/${'r'.repeat(64 * 1024)}` }));
    const [line] = out.lines();
    assert.equal(out.lines().length, 1);
    assert.doesNotMatch(line as string, /[\u0000-\u001f\u007f-\u009f]/);
    assert.ok((line as string).length < 16 * 1024, `a line of ${(line as string).length} characters`);
    const parsed = JSON.parse(line as string) as Record<string, string>;
    assert.equal(parsed.user_agent, 'evil\\x0D\\x0A{\\x22forged\\x22:1}\\x1B[2J\\x9B31m\\x22\\x5C');
    assert.equal(parsed.query, parsed.user_agent);
    assert.match(parsed.referer as string, /\.\.\.\[\d+ more bytes\]$/);
  });

  it('is what openAccessLog gives for --log-format json, whatever --access-logformat says', () => {
    const log = openAccessLog({ accessLogfile: '-', accessLogFormat: '%(h)s', logFormat: 'json' });
    assert.ok(log instanceof JsonAccessLog);
  });
});

describe('JSON error log', () => {
  it('writes the front\'s events with time, level, pid and msg', () => {
    const out = capture();
    const log = new ErrorLog(out.stream, 'info', 'json');
    log.info('listening on http://127.0.0.1:8000, 1 worker ready');
    log.warning('careful');
    log.critical('down');
    log.debug('not shown: under --log-level');
    const objects = out.objects();
    assert.equal(objects.length, 3);
    for (const object of objects) {
      assert.deepEqual(Object.keys(object), ERROR_KEYS);
      assert.match(object.time as string, ISO_TIME);
      assert.equal(object.pid, process.pid);
    }
    assert.deepEqual(objects.map((o) => [o.level, o.msg]), [
      ['info', 'listening on http://127.0.0.1:8000, 1 worker ready'],
      ['warning', 'careful'],
      ['critical', 'down'],
    ]);
  });

  it("gives a worker's print() its pid and mount, whatever --log-level says", () => {
    const out = capture();
    const log = new ErrorLog(out.stream, 'critical', 'json');
    const mount = log.forMount('/api');
    mount.appOutput('info', 'hello from print()', 4321);
    mount.appOutput('error', 'Traceback (most recent call last):\n  File "app.py", line 1\nValueError: x\n', 4321);
    mount.error('worker 4321 exited with code 1', 4321);
    mount.critical('the mount gave up');
    const objects = out.objects();
    assert.equal(objects.length, 3, 'the error under --log-level is not written; the rest are');
    const [printed, traceback, own] = objects;
    assert.deepEqual(printed, { level: 'info', time: printed?.time, pid: process.pid, mount: '/api', worker_pid: 4321, msg: 'hello from print()' });
    assert.equal(traceback?.msg, 'Traceback (most recent call last):\n  File "app.py", line 1\nValueError: x', 'a message of several lines stays one object');
    assert.equal(traceback?.worker_pid, 4321);
    assert.deepEqual(Object.keys(own as object), ['level', 'time', 'pid', 'mount', 'msg']);
  });

  it('leaves text as it was: the mount is not shown, the pid is the worker\'s', () => {
    const out = capture();
    new ErrorLog(out.stream, 'info').forMount('/api').appOutput('info', 'a\nb', 4321);
    const lines = out.lines();
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line, /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000\] \[4321\] \[INFO\] [ab]$/);
  });
});
