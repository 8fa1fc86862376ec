/**
 * Which worker gets a request: an idle one first; when all are busy the
 * request waits in a bounded queue (--backlog), and past it gets 503.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico } from '../helpers/portico.js';
import { httpRequest, sleep } from '../helpers/http-client.js';

describe('scheduling', { timeout: 60_000 }, () => {
  it('sends a request to an idle worker rather than behind a busy one', async () => {
    const { app, args } = fixtureApp('crash_app');
    const server = await startPortico({ app, args: [...args, '-w', '2'] });
    try {
      const slow = httpRequest(`${server.url}/sleep-announce?s=2&mark=busy`);
      const busy = Number((await server.waitForLog(/sleeping pid=(\d+) mark=busy/, 5_000))[1]);
      const started = Date.now();
      const fast = await httpRequest(`${server.url}/pid`);
      const elapsed = Date.now() - started;
      assert.equal(fast.status, 200);
      assert.notEqual(Number(fast.text), busy, 'the idle worker answered');
      assert.ok(elapsed < 1_000, `answered in ${elapsed} ms, not after the busy worker`);
      assert.equal((await slow).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('queues requests while every worker is busy, and serves them all', async () => {
    const { app, args } = fixtureApp('crash_app');
    const server = await startPortico({ app, args: [...args, '-w', '1'] });
    try {
      const started = Date.now();
      const results = await Promise.all([0, 1, 2].map(() => httpRequest(`${server.url}/sleep?s=0.5`, { timeoutMs: 10_000 })));
      const elapsed = Date.now() - started;
      for (const result of results) assert.equal(result.status, 200);
      assert.equal(new Set(results.map((r) => r.text)).size, 1, 'one worker served all three');
      assert.ok(elapsed >= 1_400, `three 0.5 s requests on one worker took ${elapsed} ms: they ran one at a time`);
    } finally {
      await server.stop();
    }
  });

  it('answers 503 past the queue bound (--backlog)', async () => {
    const { app, args } = fixtureApp('crash_app');
    const server = await startPortico({ app, args: [...args, '-w', '1', '--backlog', '1'] });
    try {
      const busy = httpRequest(`${server.url}/sleep-announce?s=2&mark=backlog`, { timeoutMs: 10_000 });
      await server.waitForLog(/sleeping pid=\d+ mark=backlog/, 5_000);
      const queued = httpRequest(`${server.url}/sleep?s=0.1`, { timeoutMs: 10_000 });
      await sleep(300);
      const started = Date.now();
      const rejected = await httpRequest(`${server.url}/pid`, { timeoutMs: 10_000 });
      assert.equal(rejected.status, 503);
      assert.ok(Date.now() - started < 1_500, 'rejected at once, not after waiting');
      assert.equal((await busy).status, 200);
      assert.equal((await queued).status, 200, 'the queued request is served');
    } finally {
      await server.stop();
    }
  });
});
