/**
 * What portico writes: the error log's line layout, the access log in
 * Apache combined format (stdout or a file), --error-logfile and
 * --log-level.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_LOG_LINE, LISTENING_LINE, fixtureApp, spawnPortico, startPortico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { freePort } from '../helpers/free-port.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"` for the request the tests send. */
const ACCESS_LINE = /^127\.0\.0\.1 - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "GET \/access\?x=1 HTTP\/1\.1" 200 (\d+|-) "http:\/\/referrer\.example\/page" "portico-test-agent\/1\.0"$/m;

const accessRequest = (url: string): ReturnType<typeof httpRequest> =>
  httpRequest(`${url}/access?x=1`, { headers: { Referer: 'http://referrer.example/page', 'User-Agent': 'portico-test-agent/1.0' } });

describe('logging', { timeout: 60_000 }, () => {
  it('writes error log lines as [YYYY-MM-DD HH:MM:SS +0000] [PID] [LEVEL] message, with the front pid', async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args });
    try {
      const line = server.stderr().split('\n').find((l) => LISTENING_LINE.test(l));
      const parsed = ERROR_LOG_LINE.exec(line ?? '');
      assert.ok(parsed !== null, `listening line in the error log layout: ${JSON.stringify(line)}`);
      assert.equal(Number(parsed[2]), server.pid);
      assert.equal(parsed[3], 'INFO');
      const when = Date.parse((parsed[1] as string).replace(' ', 'T').replace(' +0000', 'Z'));
      assert.ok(Math.abs(Date.now() - when) < 5 * 60_000, `timestamp ${parsed[1]} is now, in UTC`);
    } finally {
      await server.stop();
    }
  });

  it("--access-logfile - writes Apache combined lines to stdout", async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args: [...args, '--access-logfile', '-'] });
    try {
      const result = await accessRequest(server.url);
      assert.equal(result.status, 200);
      const match = await server.waitForLog(ACCESS_LINE, 5_000);
      assert.ok(ACCESS_LINE.test(server.stdout()), `the access line is on stdout:\n${server.stdout()}`);
      assert.equal(match[2], String(result.body.length), 'the logged size is the body size');
    } finally {
      await server.stop();
    }
  });

  it('--access-logfile FILE writes the access log to FILE', async () => {
    const temp = makeTempDir();
    const file = join(temp.path, 'access.log');
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args: [...args, '--access-logfile', file] });
    try {
      assert.equal((await accessRequest(server.url)).status, 200);
      await eventually('access line in the file', () => (existsSync(file) && ACCESS_LINE.test(readFileSync(file, 'utf8')) ? true : undefined), 5_000);
    } finally {
      await server.stop();
      temp.remove();
    }
  });

  it('--error-logfile FILE writes the error log to FILE', async () => {
    const temp = makeTempDir();
    const file = join(temp.path, 'error.log');
    const port = await freePort();
    const { app, args } = fixtureApp('hello_app');
    const server = spawnPortico({ app, args: [...args, '-b', `127.0.0.1:${port}`, '--error-logfile', file] });
    try {
      const line = await eventually('listening line in the error log file', () => {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        return text.split('\n').find((l) => LISTENING_LINE.test(l));
      }, 20_000);
      assert.match(line, ERROR_LOG_LINE);
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/`)).status, 200);
    } finally {
      await server.stop();
      temp.remove();
    }
  });

  it('--log-level warning drops INFO lines but keeps errors', async () => {
    const port = await freePort();
    const { app, args } = fixtureApp('errors_app');
    const server = spawnPortico({ app, args: [...args, '-b', `127.0.0.1:${port}`, '--log-level', 'warning'] });
    try {
      const url = `http://127.0.0.1:${port}`;
      await eventually('server answers', async () => ((await httpRequest(`${url}/pid`, { timeoutMs: 2_000 })).status === 200 ? true : undefined), 20_000, 200);
      assert.equal((await httpRequest(`${url}/raise?mark=quiet`)).status, 500);
      await server.waitForLog(/Error handling request GET \/raise/, 5_000);
      await server.waitForLog(/RuntimeError: boom-quiet/, 5_000);
      assert.doesNotMatch(server.stderr(), /\[INFO\]/);
      assert.doesNotMatch(server.stderr(), LISTENING_LINE);
    } finally {
      await server.stop();
    }
  });
});
