/**
 * The lifecycle signals, sent to a real portico: SIGTERM and SIGINT drain
 * in-flight requests (refusing new connections) and exit 0 within
 * --graceful-timeout, cutting what outlives it; SIGQUIT stops at once;
 * SIGTTIN and SIGTTOU add and remove a worker. And readiness: one
 * "listening" line, only once every worker has imported the application.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { LISTENING_LINE, fixtureApp, spawnPortico, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest, type HttpResult } from '../helpers/http-client.js';
import { isRunning } from '../helpers/proc.js';
import { servingPids, sleepyPid } from '../helpers/serving-workers.js';
import { workerPids } from '../helpers/worker-tree.js';

function sleepyServer(extra: string[]): Promise<Portico> {
  const { app, args } = fixtureApp('sleepy_app');
  return startPortico({ app, args: [...args, ...extra] });
}

/** How a new TCP connection fares: 'connected', or the error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Settles a request to a status, or to the error that ended it. */
function outcome(pending: Promise<HttpResult>): Promise<number | string> {
  return pending.then((r) => r.status, (error: NodeJS.ErrnoException) => error.code ?? error.message);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describe(`${signal}`, { timeout: 40_000 }, () => {
    it('lets slow in-flight requests finish with 200, refuses new connections meanwhile, and exits 0 within --graceful-timeout', async () => {
      const server = await sleepyServer(['-w', '2', '--graceful-timeout', '10']);
      try {
        await servingPids(server.url, 2, '/sleep?s=0.2', sleepyPid);
        const workers = workerPids(server.pid);
        // Three on two workers: one waits behind another in the worker's own queue.
        const slow = [0, 1, 2].map((i) => outcome(httpRequest(`${server.url}/sleep?s=1.5&mark=${signal}-${i}`, { timeoutMs: 15_000 })));
        await server.waitForLog(new RegExp(`sleeping pid=\\d+ mark=${signal}-\\d[\\s\\S]*sleeping pid=\\d+ mark=${signal}-\\d`), 5_000);
        const sentAt = Date.now();
        process.kill(server.pid, signal);
        await server.waitForLog(new RegExp(`received ${signal}; stopping`), 3_000);
        // The log line can overtake the close that follows it in the same tick: allow a moment.
        const refused = await eventually('new connections refused', async () => ((await tryConnect(server.port)) === 'ECONNREFUSED' ? true : undefined), 1_000, 20).catch(() => false);
        assert.ok(refused, `new connections are refused while draining; log:\n${server.logs()}`);
        assert.equal(await tryConnect(server.port), 'ECONNREFUSED', 'and stay refused');
        assert.deepEqual(await Promise.all(slow), [200, 200, 200], `in-flight requests complete; log:\n${server.logs()}`);
        const status = await server.waitForExit(12_000);
        assert.deepEqual(status, { code: 0, signal: null }, server.logs());
        assert.ok(Date.now() - sentAt < 10_000, 'within --graceful-timeout');
        for (const pid of workers) await eventually(`worker ${pid} gone`, () => (isRunning(pid) ? undefined : true), 3_000);
      } finally {
        await server.stop();
      }
    });
  });
}

describe('SIGTERM with a request that outlives --graceful-timeout 3', { timeout: 30_000 }, () => {
  it('gives it the grace once, then cuts it and exits 0', async () => {
    const server = await sleepyServer(['-w', '1', '--graceful-timeout', '3', '--timeout', '0']);
    try {
      const stuck = outcome(httpRequest(`${server.url}/forever?mark=outlives`, { timeoutMs: 15_000 }));
      await server.waitForLog(/stuck pid=\d+ mark=outlives\b/, 5_000);
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      const status = await server.waitForExit(10_000);
      const elapsed = Date.now() - sentAt;
      assert.deepEqual(status, { code: 0, signal: null }, server.logs());
      assert.ok(elapsed >= 2_500, `exited ${elapsed} ms after SIGTERM, before the 3 s grace was over`);
      // One grace for the requests and the workers together, not one each (that took 6 s).
      assert.ok(elapsed < 5_000, `exited ${elapsed} ms after SIGTERM with a 3 s grace`);
      assert.notEqual(await stuck, 200, 'the request was cut');
      assert.deepEqual(workerPids(server.pid), []);
    } finally {
      await server.stop();
    }
  });
});

describe('SIGQUIT', { timeout: 30_000 }, () => {
  it('stops at once, without waiting for in-flight requests', async () => {
    const server = await sleepyServer(['-w', '2', '--graceful-timeout', '20']);
    try {
      const slow = outcome(httpRequest(`${server.url}/sleep?s=8&mark=quit`, { timeoutMs: 15_000 }));
      await server.waitForLog(/sleeping pid=\d+ mark=quit\b/, 5_000);
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGQUIT');
      const status = await server.waitForExit(10_000);
      const elapsed = Date.now() - sentAt;
      assert.ok(elapsed < 3_000, `exited ${elapsed} ms after SIGQUIT`);
      assert.equal(status.code, 0, server.logs());
      assert.notEqual(await slow, 200, 'the in-flight request was not waited for');
    } finally {
      await server.stop();
    }
  });
});

describe('SIGTTIN and SIGTTOU', { timeout: 40_000 }, () => {
  it('add and remove one worker each', async () => {
    const server = await sleepyServer(['-w', '2']);
    const count = (n: number): Promise<number[]> =>
      eventually(`${n} worker processes`, () => {
        const pids = workerPids(server.pid);
        return pids.length === n ? pids : undefined;
      }, 10_000);
    try {
      await count(2);
      process.kill(server.pid, 'SIGTTIN');
      await count(3);
      process.kill(server.pid, 'SIGTTIN');
      const four = await count(4);
      assert.equal((await servingPids(server.url, 4, '/sleep?s=0.5', sleepyPid)).size, 4, 'all four serve');
      process.kill(server.pid, 'SIGTTOU');
      const three = await count(3);
      assert.ok(three.every((pid) => four.includes(pid)), 'removing one starts none');
      // One at a time: a second signal that arrives while the first is pending is merged into it.
      process.kill(server.pid, 'SIGTTOU');
      await count(2);
      process.kill(server.pid, 'SIGTTOU');
      await count(1);
      process.kill(server.pid, 'SIGTTOU');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(workerPids(server.pid).length, 1, 'never below one');
      assert.equal((await httpRequest(`${server.url}/pid`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('readiness', { timeout: 40_000 }, () => {
  it('logs one "listening" line, only once every worker has imported the application', async () => {
    const importDelayS = 1.5;
    const startedAt = Date.now();
    const { app, args } = fixtureApp('slow_import_sleepy_app');
    const server = spawnPortico({ app, args: [...args, '-w', '3'], env: { IMPORT_DELAY: String(importDelayS) } });
    try {
      const match = await server.waitForLog(LISTENING_LINE, 20_000);
      const readyAfter = Date.now() - startedAt;
      assert.equal(match[3], '3');
      assert.ok(readyAfter >= importDelayS * 1000, `ready after ${readyAfter} ms, before a ${importDelayS} s import could finish`);
      const url = `http://127.0.0.1:${match[2]}`;
      // At once: three requests, three idle workers, so three pids. A worker
      // still importing would leave its request to another worker.
      const pids = await Promise.all([0, 1, 2].map(() => httpRequest(`${url}/`)));
      assert.deepEqual(pids.map((p) => p.status), [200, 200, 200]);
      assert.equal(new Set(pids.map((p) => p.text)).size, 3, `three workers answered: ${pids.map((p) => p.text).join(', ')}`);
      // A reload brings new workers but says nothing about listening again.
      process.kill(server.pid, 'SIGHUP');
      await server.waitForLog(/reloaded: new workers ready/, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(server.logs().match(new RegExp(LISTENING_LINE.source, 'g'))?.length, 1, server.logs());
    } finally {
      await server.stop();
    }
  });
});
