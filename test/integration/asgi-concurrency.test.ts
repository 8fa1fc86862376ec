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

async function concurrently(url: string, count: number, path: (i: number) => string): Promise<{ elapsedMs: number; pids: Set<number>; statuses: number[] }> {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => httpRequest(`${url}${path(i)}`, { timeoutMs: 20_000 })));
  const elapsedMs = Date.now() - started;
  return {
    elapsedMs,
    statuses: results.map((r) => r.status),
    pids: new Set(results.filter((r) => r.status === 200).map((r) => (JSON.parse(r.text) as { pid: number }).pid)),
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
    const { elapsedMs, pids, statuses } = await concurrently(server.url, 100, (i) => `/sleep?s=1&i=${i}`);
    t.diagnostic(`100 requests of 1 s each took ${elapsedMs} ms`);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(pids.size, 1, 'one worker served them all');
    assert.ok(elapsedMs < 1_500, `took ${elapsedMs} ms`);
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
    const { elapsedMs, statuses } = await concurrently(server.url, 30, (i) => `/sleep?s=0.5&i=${i}`);
    t.diagnostic(`30 requests of 0.5 s, 10 at once, took ${elapsedMs} ms`);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.ok(elapsedMs >= 1_450, `took ${elapsedMs} ms: more than 10 ran at once`);
    assert.ok(elapsedMs < 3_000, `took ${elapsedMs} ms`);
  });
});
