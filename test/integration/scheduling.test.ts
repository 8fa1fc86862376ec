/**
 * Which worker gets a request: an idle one first; when all are busy the
 * request waits in a bounded queue (--backlog), and past it gets 503; a
 * request that waits goes to the first worker that frees up, never behind
 * one that is stuck in a long request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico } from '../helpers/portico.js';
import { httpRequest, sleep } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * An app whose /gate?name=N requests run until the test creates the file
 * open-N beside it: a long request that ends when the test says, not after a
 * guessed time.
 */
const GATE_APP = `
import os
import sys
import time
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))


def application(environ, start_response):
    if environ['PATH_INFO'] == '/gate':
        name = parse_qs(environ['QUERY_STRING'])['name'][0]
        print('gated pid=%d name=%s' % (os.getpid(), name), file=sys.stderr, flush=True)
        while not os.path.exists(os.path.join(HERE, 'open-' + name)):
            time.sleep(0.01)
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

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

  it('gives a waiting request to the first worker that frees up, not to one stuck in a long request', async () => {
    const dir = makeTempDir();
    writeFileSync(join(dir.path, 'gate_app.py'), GATE_APP);
    const open = (name: string): void => writeFileSync(join(dir.path, `open-${name}`), '');
    const server = await startPortico({ app: 'gate_app:application', args: ['--chdir', dir.path, '-w', '2'] });
    try {
      // The probe: a long request on one worker, a shorter one on the other, then a fast one.
      const long = httpRequest(`${server.url}/gate?name=long`, { timeoutMs: 30_000 });
      const longPid = Number((await server.waitForLog(/gated pid=(\d+) name=long/))[1]);
      const short = httpRequest(`${server.url}/gate?name=short`, { timeoutMs: 30_000 });
      const shortPid = Number((await server.waitForLog(/gated pid=(\d+) name=short/))[1]);
      assert.notEqual(shortPid, longPid, 'the second request went to the idle worker');
      // Both requests have now run for far longer than a pipelining worker
      // may go without finishing one: neither worker is a place to wait.
      await sleep(200);
      const fast = httpRequest(`${server.url}/pid`, { timeoutMs: 20_000 });
      await sleep(100);
      open('short');
      assert.equal((await short).text, String(shortPid));
      // The long request is still gated: the fast one can only be answered if it did not wait behind it.
      const answer = await fast;
      assert.equal(answer.status, 200);
      assert.equal(answer.text, String(shortPid), 'served by the worker that freed up');
      open('long');
      assert.equal((await long).text, String(longPid));
    } finally {
      open('short');
      open('long');
      await server.stop();
      dir.remove();
    }
  });
});

