/**
 * -t/--timeout: a request stuck in the application gets 504 and its worker
 * is replaced, with a stack dump in the log that shows where it was stuck;
 * requests waiting behind it move to other workers; 0 turns it off. And
 * --threads: T requests at once per worker, with the timeout still per
 * request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { isReaped } from '../helpers/proc.js';
import { servingPids, sleepyPid } from '../helpers/serving-workers.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';

interface Identity {
  pid: number;
  thread: number;
  multithread: boolean;
  multiprocess: boolean;
}

/** A stuck request's timing and what the log said about its worker. */
async function expectTimedOut(server: Portico, mark: string, limitMs: number): Promise<number> {
  const started = Date.now();
  const result = await httpRequest(`${server.url}/forever?mark=${mark}`, { timeoutMs: 20_000 });
  const elapsed = Date.now() - started;
  assert.equal(result.status, 504, result.text);
  assert.ok(elapsed < limitMs, `504 after ${elapsed} ms, limit ${limitMs} ms`);
  const stuck = Number((await server.waitForLog(new RegExp(`stuck pid=(\\d+) mark=${mark}\\b`), 1_000))[1]);
  await server.waitForLog(new RegExp(`GET /forever\\?mark=${mark} timed out after \\d+s on worker ${stuck}`), 2_000);
  // faulthandler's dump of the stuck thread: file and function, innermost first.
  await server.waitForLog(/File "[^"]*sleepy_app\.py", line \d+ in stuck_forever/, 5_000);
  const why = (await server.waitForLog(new RegExp(`worker ${stuck} (was killed by [^\\n]*)`), 5_000))[1] as string;
  assert.match(why, /SIGKILL.*timed out/, 'the log says the timeout killed it');
  assert.doesNotMatch(why, /out of memory/);
  await eventually(`stuck worker ${stuck} reaped`, () => (isReaped(stuck) ? true : undefined), 5_000);
  return stuck;
}

describe('--timeout 2, -w 1, two requests on one worker', { timeout: 60_000 }, () => {
  it('never times out a request that finished while the next one runs, and runs each once', async () => {
    const { app, args } = fixtureApp('sleepy_app');
    const server = await startPortico({ app, args: [...args, '-w', '1', '--timeout', '2'] });
    try {
      const worker = sleepyPid((await httpRequest(`${server.url}/sleep?s=0`)).text);
      // Together they take 2.2 s, each alone well under the timeout. A's
      // response must leave while B runs: were it held until B ended, A
      // would look stuck past its deadline and B would be run again.
      const [a, b] = await Promise.all([
        httpRequest(`${server.url}/sleep?s=0.5&mark=first`, { timeoutMs: 10_000 }),
        httpRequest(`${server.url}/sleep?s=1.7&mark=second`, { timeoutMs: 10_000 }),
      ]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(sleepyPid(a.text), worker);
      assert.equal(sleepyPid(b.text), worker);
      assert.doesNotMatch(server.logs(), /timed out/);
      assert.equal(server.logs().match(/sleeping pid=\d+ mark=second\b/g)?.length, 1, 'the second request ran once');
      assert.equal(sleepyPid((await httpRequest(`${server.url}/sleep?s=0`)).text), worker, 'the worker was not replaced');
    } finally {
      await server.stop();
    }
  });
});

describe('--timeout 2, -w 2', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('sleepy_app');
    server = await startPortico({ app, args: [...args, '-w', '2', '--timeout', '2'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('answers a stuck request 504 within about the timeout, dumps its stack, and replaces its worker; the other worker is unaffected', async () => {
    const before = await servingPids(server.url, 2, '/sleep?s=0.3', sleepyPid);
    const bystander = httpRequest(`${server.url}/sleep?s=1.5&mark=bystander`);
    await server.waitForLog(/sleeping pid=\d+ mark=bystander\b/, 5_000);
    const stuck = await expectTimedOut(server, 'alone', 4_000);
    assert.ok(before.has(stuck));
    const answer = await bystander;
    assert.equal(answer.status, 200);
    assert.notEqual(sleepyPid(answer.text), stuck);
    const after = await servingPids(server.url, 2, '/sleep?s=0.3', sleepyPid);
    assert.ok(!after.has(stuck), 'a new worker serves in its place');
  });
});

describe('--timeout 2, -w 1, requests pipelined behind a stuck one', { timeout: 60_000 }, () => {
  // A fresh worker (no pace known yet) given three requests in one turn of
  // the front's event loop: the dispatch policy (pickWorker) sends the two
  // after the first onto the same worker's channel, as their turn seems
  // only microseconds away. The first never ends: the two wait on the stuck
  // worker's channel, unstarted, until the timeout replaces it.
  it('moves them to the replacement, where each runs once and is served: only the stuck one gets 504', async () => {
    const { app, args } = fixtureApp('sleepy_app');
    const server = await startPortico({ app, args: [...args, '-w', '1', '--timeout', '2', '--keep-alive', '60'] });
    const conn = await RawConnection.open(server.port);
    try {
      const started = Date.now();
      // One write, so the front parses (and dispatches) all three at once.
      conn.write(['/forever?mark=head', '/sleep?s=0&mark=behind-1', '/sleep?s=0&mark=behind-2'].map((target) => rawRequest('GET', target)).join(''));
      const stuck = Number((await server.waitForLog(/stuck pid=(\d+) mark=head\b/, 5_000))[1]);
      const responses = await conn.readResponses(3, 20_000);
      const elapsed = Date.now() - started;
      assert.deepEqual(responses.map((r) => r.status), [504, 200, 200], 'the stuck one timed out, the two behind it were served');
      const servedBy = responses.slice(1).map((r) => sleepyPid(r.body.toString('utf8')));
      assert.ok(servedBy.every((pid) => pid !== stuck), `served by the replacement, not the stuck worker ${stuck}: ${servedBy.join(', ')}`);
      // The stuck one's 2 s, the 1 s grace before SIGKILL, and a worker's boot; never a second timeout.
      assert.ok(elapsed < 8_000, `all answered after ${elapsed} ms`);
      await eventually(`stuck worker ${stuck} reaped`, () => (isReaped(stuck) ? true : undefined), 5_000);
      // What a worker prints can come after its response: wait for the line, then count.
      for (const mark of ['behind-1', 'behind-2']) {
        const ran = new RegExp(`sleeping pid=(\\d+) mark=${mark}\\b`, 'g');
        await server.waitForLog(new RegExp(ran.source), 5_000);
        assert.deepEqual([...server.logs().matchAll(ran)].map((m) => Number(m[1])), [servedBy[0]], `${mark} ran once, on the replacement`);
      }
      assert.equal(server.logs().match(/timed out after/g)?.length, 1, 'only the stuck request timed out');
    } finally {
      conn.destroy();
      await server.stop();
    }
  });
});

describe('--timeout 0', { timeout: 30_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('sleepy_app');
    server = await startPortico({ app, args: [...args, '-w', '1', '--timeout', '0'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('lets a long request run to the end', async () => {
    const result = await httpRequest(`${server.url}/sleep?s=3`, { timeoutMs: 15_000 });
    assert.equal(result.status, 200);
    assert.doesNotMatch(server.logs(), /timed out/);
  });
});

describe('--threads 4, -w 1, --timeout 3', { timeout: 40_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('sleepy_app');
    server = await startPortico({ app, args: [...args, '-w', '1', '--threads', '4', '--timeout', '3'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('runs 4 requests at once in one worker, with wsgi.multithread True', async () => {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 4 }, () => httpRequest(`${server.url}/sleep?s=1`)));
    const elapsed = Date.now() - started;
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
    const ids = answers.map((a) => JSON.parse(a.text) as Identity);
    assert.equal(new Set(ids.map((i) => i.pid)).size, 1, 'one worker');
    assert.equal(new Set(ids.map((i) => i.thread)).size, 4, 'four threads');
    assert.ok(ids.every((i) => i.multithread === true), 'wsgi.multithread is True');
    // Together in about one sleep; one after another would take 4 s.
    assert.ok(elapsed < 2_500, `4 × 1 s sleeps took ${elapsed} ms`);
  });

  it('still times out a stuck request', async () => {
    await expectTimedOut(server, 'threaded', 7_000);
    const after = await httpRequest(`${server.url}/sleep?s=0.1`);
    assert.equal(after.status, 200, 'a new worker serves');
  });
});
