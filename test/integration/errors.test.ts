/**
 * An app that raises gets a 500 (or, once the body started, an aborted
 * connection), a traceback in the log, and a worker that keeps serving.
 * What the app prints is logged with the worker's pid.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_LOG_LINE, fixtureApp, spawnPortico, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { freePort } from '../helpers/free-port.js';
import { exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { parseResponses } from '../helpers/raw-response.js';

describe('app errors', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('errors_app'));
  });
  after(async () => {
    await server?.stop();
  });

  const pid = async (): Promise<number> => Number((await httpRequest(`${server.url}/pid`)).text);

  it('answers 500 with a short body, logs the traceback and the request, and keeps the worker', async () => {
    const before = await pid();
    const result = await httpRequest(`${server.url}/raise?mark=m1`);
    assert.equal(result.status, 500);
    assert.ok(result.body.length > 0 && result.body.length < 1024, `short body, got ${result.body.length} bytes`);
    assert.ok(!/Traceback|boom-m1/.test(result.text), 'no traceback leaks to the client');
    await server.waitForLog(/Error handling request GET \/raise/, 5_000);
    await server.waitForLog(/Traceback[^]*RuntimeError: boom-m1/, 5_000);
    assert.equal(await pid(), before, 'the same worker serves the next request');
  });

  it('answers 500 when the app raises after start_response but before any body', async () => {
    const result = await httpRequest(`${server.url}/raise-after-start?mark=m2`);
    assert.equal(result.status, 500);
    await server.waitForLog(/RuntimeError: boom-after-start-m2/, 5_000);
  });

  it('answers 500 when the iterable raises before its first chunk', async () => {
    const result = await httpRequest(`${server.url}/raise-in-iter-first?mark=m3`);
    assert.equal(result.status, 500);
    await server.waitForLog(/RuntimeError: boom-iter-first-m3/, 5_000);
  });

  it('aborts the connection when the iterable raises after the body started', async () => {
    const { received, text, closed } = await exchangeRaw(server.port, rawRequest('GET', '/raise-in-iter-late?mark=m4'));
    assert.ok(closed, 'connection closed');
    if (text !== '') assert.match(text, /^HTTP\/1\.1 200/);
    assert.equal(parseResponses(received, false).responses.length, 0, `no complete response: ${JSON.stringify(text)}`);
    await server.waitForLog(/RuntimeError: boom-iter-late-m4/, 5_000);
    const next = await httpRequest(`${server.url}/pid`);
    assert.equal(next.status, 200);
  });

  it("logs what the app prints even with --log-level warning, which hides portico's own info lines", async () => {
    const { app, args } = fixtureApp('errors_app');
    // At this level not even the listening line is logged: a fixed port, and ready once it answers.
    const port = await freePort();
    const quiet = spawnPortico({ app, args: [...args, '-b', `127.0.0.1:${port}`, '--log-level', 'warning'] });
    try {
      const result = await eventually('an answer', () => httpRequest(`http://127.0.0.1:${port}/print?mark=q7`), 20_000, 100);
      assert.equal(result.status, 200);
      for (const text of ['stdout-q7', 'stderr-q7', 'wsgi-errors-q7']) await quiet.waitForLog(new RegExp(text), 5_000);
      assert.doesNotMatch(quiet.stderr(), /listening on/, 'portico itself logged an info line');
    } finally {
      await quiet.stop();
    }
  });

  it("logs the app's stdout, stderr and wsgi.errors with the worker's pid", async () => {
    const result = await httpRequest(`${server.url}/print?mark=m5`);
    assert.equal(result.status, 200);
    const workerPid = Number(result.text);
    assert.notEqual(workerPid, server.pid);
    for (const text of ['stdout-m5', 'stderr-m5', 'wsgi-errors-m5']) {
      await server.waitForLog(new RegExp(text), 5_000);
      const line = server.stderr().split('\n').find((l) => l.includes(text));
      const parsed = ERROR_LOG_LINE.exec(line ?? '');
      assert.ok(parsed !== null, `"${text}" is logged as an error log line on stderr, got ${JSON.stringify(line)}`);
      assert.equal(Number(parsed[2]), workerPid, `"${text}" carries the worker's pid`);
    }
  });
});
