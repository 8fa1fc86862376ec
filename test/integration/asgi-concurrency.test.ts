/**
 * One ASGI worker runs its requests at once, as tasks of one event loop:
 * 100 requests that each await asyncio.sleep(1) finish together, in about a
 * second, where one WSGI worker would take 100. And --worker-connections
 * bounds how many one worker runs at once; the rest wait their turn.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAsgi } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';

interface Sleep {
  pid: number;
  /** The worker's clock (time.monotonic) as the request began and ended its sleep. */
  started: number;
  ended: number;
}

/**
 * `count` requests at once. Besides the client's wall time, what the worker
 * saw: how many slept at the same moment, and how long from the first
 * start to the last end. Those are the worker's concurrency, whatever else
 * the machine is doing to the client's clock.
 */
async function concurrently(url: string, count: number, path: (i: number) => string): Promise<{ elapsedMs: number; pids: Set<number>; statuses: number[]; mostAtOnce: number; workerSpanMs: number }> {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => httpRequest(`${url}${path(i)}`, { timeoutMs: 20_000 })));
  const elapsedMs = Date.now() - started;
  const sleeps = results.filter((r) => r.status === 200).map((r) => JSON.parse(r.text) as Sleep);
  const events = sleeps.flatMap((s) => [[s.started, 1], [s.ended, -1]] as Array<[number, number]>).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let mostAtOnce = 0;
  for (const [, step] of events) mostAtOnce = Math.max(mostAtOnce, (running += step));
  return {
    elapsedMs,
    statuses: results.map((r) => r.status),
    pids: new Set(sleeps.map((s) => s.pid)),
    mostAtOnce,
    workerSpanMs: (Math.max(...sleeps.map((s) => s.ended)) - Math.min(...sleeps.map((s) => s.started))) * 1000,
  };
}

describe('ASGI concurrency, one worker', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startAsgi('raw_app:app', ['-w', '1']);
  });
  after(async () => {
    await server?.stop();
  });

  it('finishes 100 concurrent requests that each await asyncio.sleep(1) in under 1.5 s', async (t) => {
    // A first request, so that the worker's first-request costs are not timed.
    await httpRequest(`${server.url}/sleep?s=0`);
    const { elapsedMs, pids, statuses, mostAtOnce, workerSpanMs } = await concurrently(server.url, 100, (i) => `/sleep?s=1&i=${i}`);
    t.diagnostic(`100 requests of 1 s each took ${elapsedMs} ms at the client, ${workerSpanMs.toFixed(0)} ms in the worker`);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(pids.size, 1, 'one worker served them all');
    assert.equal(mostAtOnce, 100, 'all 100 slept at the same time');
    assert.ok(workerSpanMs < 1_500, `the worker took ${workerSpanMs.toFixed(0)} ms from the first start to the last end`);
  });
});

describe('--worker-connections 10, one worker', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startAsgi('raw_app:app', ['-w', '1', '--worker-connections', '10']);
  });
  after(async () => {
    await server?.stop();
  });

  it('runs 10 at once: 30 requests of 0.5 s take three rounds, and none is refused', async (t) => {
    const { elapsedMs, statuses, mostAtOnce } = await concurrently(server.url, 30, (i) => `/sleep?s=0.5&i=${i}`);
    t.diagnostic(`30 requests of 0.5 s, 10 at once, took ${elapsedMs} ms`);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(mostAtOnce, 10, 'never more than --worker-connections at once, and that many');
    assert.ok(elapsedMs >= 1_450, `took ${elapsedMs} ms: more than 10 ran at once`);
  });
});
