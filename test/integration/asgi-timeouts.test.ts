/**
 * --timeout for ASGI workers. A request that awaits too long gets 504 and
 * only its task is cancelled: the worker, and its other requests, live on.
 * A coroutine that blocks the event loop (time.sleep) stops every request of
 * its worker; the loop's heartbeat finds it, the log shows the stack of the
 * blocking line, and the worker is replaced.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASGI_FIXTURES, fixtureSaid, startAsgi, uniqueMark } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { isReaped } from '../helpers/proc.js';

/** The line of raw_app.py that blocks the loop, as a traceback would name it. */
function blockingLine(): number {
  const lines = readFileSync(join(ASGI_FIXTURES, 'raw_app.py'), 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes('BLOCKS THE LOOP'));
  assert.ok(index >= 0);
  return index + 1;
}

describe('--timeout 2, one ASGI worker', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startAsgi('raw_app:app', ['-w', '1', '--timeout', '2']);
  });
  after(async () => {
    await server?.stop();
  });

  it('answers a request that awaits 10 s with 504 within 3 s; the same worker serves on, its other requests untouched', async () => {
    const worker = Number((await httpRequest(`${server.url}/pid`)).text);
    const mark = uniqueMark('await');
    const started = Date.now();
    const slow = httpRequest(`${server.url}/sleep?s=10&mark=${mark}`, { timeoutMs: 15_000 });
    await fixtureSaid(server, `sleeping mark=${mark}`);
    // Started after the slow one, finished while it waits: the loop runs on.
    const beside = await httpRequest(`${server.url}/sleep?s=0.5`);
    const result = await slow;
    const elapsed = Date.now() - started;
    assert.equal(result.status, 504);
    assert.ok(elapsed < 3_000, `504 after ${elapsed} ms`);
    assert.equal(beside.status, 200);
    assert.equal((JSON.parse(beside.text) as { pid: number }).pid, worker);
    await server.waitForLog(new RegExp(`GET /sleep\\?s=10&mark=${mark} timed out after 2s on worker ${worker}; cancelled its task`), 1_000);
    assert.equal(Number((await httpRequest(`${server.url}/pid`)).text), worker, 'the same worker answers the next request');
    assert.doesNotMatch(server.logs(), /starting a new one/, 'no worker was replaced');
  });

  it('replaces a worker whose coroutine calls time.sleep(10), with a traceback naming that line', async () => {
    const worker = Number((await httpRequest(`${server.url}/pid`)).text);
    const started = Date.now();
    const stuck = httpRequest(`${server.url}/block?s=10`, { timeoutMs: 15_000 });
    await fixtureSaid(server, 'blocking');
    const result = await stuck;
    // The request's own deadline and the loop's heartbeat both run out at about 2 s.
    assert.ok([502, 504].includes(result.status), `status ${result.status}`);
    assert.ok(Date.now() - started < 5_000, `answered after ${Date.now() - started} ms`);
    await server.waitForLog(new RegExp(`File "[^"]*raw_app\\.py", line ${blockingLine()} in block`), 5_000);
    await server.waitForLog(new RegExp(`worker ${worker} [^\\n]*; starting a new one`), 5_000);
    await eventually(`worker ${worker} reaped`, () => (isReaped(worker) ? true : undefined), 5_000);
    const next = await eventually('a new worker answers', async () => {
      const answer = await httpRequest(`${server.url}/pid`, { timeoutMs: 3_000 });
      return answer.status === 200 ? Number(answer.text) : undefined;
    }, 10_000);
    assert.notEqual(next, worker);
  });
});
