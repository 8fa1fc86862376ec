/**
 * The logs' formats through the real server: --access-logformat with
 * gunicorn's atoms, --log-format json on both logs (a worker's print()
 * with its pid and mount), and the command-line errors for either.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_APPS } from '../helpers/paths.js';
import { fixtureApp, runPortico, startPortico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ACCESS_KEYS = ['time', 'remote_addr', 'method', 'path', 'query', 'protocol', 'status', 'bytes', 'duration_ms', 'referer', 'user_agent', 'mount'];

/** Every non-empty line of `text`, parsed: a line that is not JSON fails the test, naming it. */
function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${JSON.stringify(line)}`);
      }
    });
}

describe('log formats', { timeout: 60_000 }, () => {
  it('--access-logformat writes gunicorn atoms, header atoms among them, client data escaped', async () => {
    const { app, args } = fixtureApp('hello_app');
    const format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(B)s "%(f)s" "%(a)s" %(T)s %(D)s %(M)s %(L)s %(p)s %(m)s %(U)s q=%(q)s %(H)s "%({X-Request-Id}i)s" "%({Content-Type}o)s" 100%%';
    const server = await startPortico({ app, args: [...args, '--access-logfile', '-', '--access-log-format', format] });
    try {
      const result = await httpRequest(`${server.url}/some/path?x=1`, {
        headers: {
          Authorization: `Basic ${Buffer.from('bob:secret').toString('base64')}`,
          Referer: 'http://referrer.example/',
          'User-Agent': 'agent "quoted"\\',
          'X-Request-Id': 'req-42',
        },
      });
      assert.equal(result.status, 200);
      const line = await server.waitForLog(/^127\.0\.0\.1 .*100%$/m, 5_000);
      const fields =
        /^127\.0\.0\.1 - bob \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/some\/path\?x=1 HTTP\/1\.1" 200 (\d+) (\d+) "http:\/\/referrer\.example\/" "agent \\x22quoted\\x22\\x5C" (\d+) (\d+) (\d+) (\d+\.\d{6}) <(\d+)> GET \/some\/path q=x=1 HTTP\/1\.1 "req-42" "text\/plain" 100%$/.exec(line[0]);
      assert.ok(fields !== null, `the line: ${line[0]}`);
      const [, b, B, T, D, M, L, p] = fields.map(Number);
      assert.equal(b, result.body.length);
      assert.equal(B, result.body.length);
      assert.equal(p, server.pid, '%(p)s is the front, which writes the line');
      assert.ok(Math.abs((T as number) - (D as number) / 1e6) < 1 && Math.abs((M as number) - (D as number) / 1e3) < 1, `T ${T}, M ${M} and D ${D} agree`);
      assert.ok(Math.abs((L as number) * 1e6 - (D as number)) <= 1, `L ${L} and D ${D} agree`);
      assert.ok(!server.stdout().includes('\n\n') && server.stdout().split('\n').filter(Boolean).length === 1, 'one line');
    } finally {
      await server.stop();
    }
  });

  it('--log-format json: every line of both logs is a JSON object with stable keys; print() carries the worker pid and mount', async () => {
    const server = await startPortico({
      app: null,
      args: ['--pythonpath', FIXTURE_APPS, '--mount', '/app=errors_app:application', '--log-format', 'json', '--access-logfile', '-'],
    });
    try {
      const printed = await httpRequest(`${server.url}/app/print?mark=jsonmark`, { headers: { 'User-Agent': 'evil\u00ff"ua' } });
      assert.equal(printed.status, 200);
      const workerPid = Number(printed.body.toString());
      const missing = await httpRequest(`${server.url}/nowhere`);
      assert.equal(missing.status, 404);
      await server.waitForLog(/"path":"\/nowhere"/, 5_000);
      await server.waitForLog(/wsgi-errors-jsonmark/, 5_000);

      const access = jsonLines(server.stdout());
      assert.equal(access.length, 2, server.stdout());
      for (const line of access) assert.deepEqual(Object.keys(line), ACCESS_KEYS);
      const [app, unrouted] = access;
      assert.deepEqual({ ...app, time: 0, duration_ms: 0 }, {
        time: 0, remote_addr: '127.0.0.1', method: 'GET', path: '/app/print', query: 'mark=jsonmark', protocol: 'HTTP/1.1',
        status: 200, bytes: printed.body.length, duration_ms: 0, referer: null, user_agent: 'evil\\xFF\\x22ua', mount: '/app',
      });
      assert.equal(typeof app?.duration_ms, 'number');
      assert.equal(unrouted?.mount, null);
      assert.equal(unrouted?.status, 404);

      const errors = jsonLines(server.stderr());
      for (const line of errors) {
        assert.deepEqual(Object.keys(line).filter((key) => !['mount', 'worker_pid'].includes(key)), ['level', 'time', 'pid', 'msg'], JSON.stringify(line));
        assert.equal(line.pid, server.pid);
      }
      const output = (text: string): Record<string, unknown> | undefined => errors.find((line) => line.msg === text);
      assert.deepEqual(output('stdout-jsonmark'), { level: 'info', time: output('stdout-jsonmark')?.time, pid: server.pid, mount: '/app', worker_pid: workerPid, msg: 'stdout-jsonmark' });
      for (const text of ['stderr-jsonmark', 'wsgi-errors-jsonmark']) {
        assert.equal(output(text)?.level, 'error', text);
        assert.equal(output(text)?.worker_pid, workerPid, text);
        assert.equal(output(text)?.mount, '/app', text);
      }
      assert.ok(errors.some((line) => /^listening on http:/.test(line.msg as string) && !('mount' in line)), 'the front\'s own events have no mount');
    } finally {
      await server.stop();
    }
  });
});

describe('log formats: bad options exit 2 with one line naming the option and the atom', { timeout: 60_000 }, () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['an unknown atom', ['--access-logformat', '%(h)s %(zz)s'], {}, /^portico: error: --access-logformat: unknown atom '%\(zz\)s'/],
    ['an unknown atom, by the other spelling', ['--access-log-format', '%(h)s %({X-Id}e)s'], {}, /--access-log-format: unknown atom '%\(\{X-Id\}e\)s'/],
    ['a stray percent sign', ['--access-logformat', '100% %(h)s'], {}, /--access-logformat: '%' at character 4 starts no atom/],
    ['an unknown atom from the environment', [], { PORTICO_ACCESS_LOG_FORMAT: '%(nope)s' }, /\$PORTICO_ACCESS_LOG_FORMAT: unknown atom '%\(nope\)s'/],
    ['an unknown --log-format', ['--log-format', 'xml'], {}, /--log-format: expected one of text, json, got 'xml'/],
  ];
  for (const [what, argv, env, message] of cases) {
    it(what, async () => {
      const result = await runPortico(['--pythonpath', FIXTURE_APPS, ...argv, 'hello_app'], { env, timeoutMs: 10_000 });
      assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(result.stderr)}`);
      assert.match(lines[0] ?? '', message);
    });
  }

  it('an unknown atom in the config file', async () => {
    const temp = makeTempDir();
    try {
      const config = join(temp.path, 'portico.toml');
      writeFileSync(config, `access-logformat = '%(h)s %(X)s'\n`);
      const result = await runPortico(['-c', config, '--pythonpath', FIXTURE_APPS, 'hello_app'], { timeoutMs: 10_000 });
      assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /access-logformat.*unknown atom '%\(X\)s'/);
    } finally {
      temp.remove();
    }
  });
});
