/**
 * Supervision of ASGI workers under load, as for WSGI: a worker that dies
 * (os._exit) fails exactly its own in-flight requests, with 502, and is
 * replaced; SIGHUP and --max-requests replace workers under load without
 * losing a request; SIGTERM lets in-flight requests finish, then runs
 * lifespan shutdown and exits 0.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureSaid, startAsgi, uniqueMark } from '../helpers/asgi-fixtures.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { describeLoad, runLoad } from '../helpers/load-client.js';
import { workerPids } from '../helpers/worker-tree.js';

/** `/pid` mostly, and a request that takes a moment every fourth time, so some are in flight whenever workers change. */
const mixedPath = (n: number): string => (n % 4 === 0 ? `/sleep?s=0.2&n=${n}` : `/pid?n=${n}`);

describe('ASGI supervision', { timeout: 90_000 }, () => {
  it("a worker's crash gives 502 to each of its in-flight requests, and to none of the other worker's", async () => {
    const server = await startAsgi('raw_app:app', ['-w', '2']);
    try {
      const marks = Array.from({ length: 10 }, () => uniqueMark('inflight'));
      const pending = marks.map((mark) => httpRequest(`${server.url}/sleep?s=3&mark=${mark}`, { timeoutMs: 15_000 }));
      const servedBy = await Promise.all(marks.map(async (mark) => (await fixtureSaid(server, `sleeping mark=${mark}`)).pid));
      const exit = httpRequest(`${server.url}/exit-after?s=0.2`, { timeoutMs: 15_000 });
      const dead = (await fixtureSaid(server, 'exiting')).pid;
      assert.equal((await exit).status, 502);
      const statuses = (await Promise.all(pending)).map((r) => r.status);
      const onDead = statuses.filter((_, i) => servedBy[i] === dead);
      const onOther = statuses.filter((_, i) => servedBy[i] !== dead);
      assert.ok(onDead.length > 0, `requests in flight on the dead worker ${dead}: served by ${servedBy.join(', ')}`);
      assert.deepEqual(onDead, onDead.map(() => 502), `the dead worker's requests: ${onDead.join(', ')}`);
      assert.deepEqual(onOther, onOther.map(() => 200), `the other worker's requests: ${onOther.join(', ')}`);
      await server.waitForLog(new RegExp(`worker ${dead} exited with code 3[^\\n]*; starting a new one`), 5_000);
      await eventually('two workers again, the dead one replaced', () => {
        const pids = workerPids(server.pid);
        return pids.length === 2 && !pids.includes(dead) ? pids : undefined;
      }, 10_000);
    } finally {
      await server.stop();
    }
  });

  it('SIGHUP under load loses nothing, and new workers take over', async () => {
    const server = await startAsgi('raw_app:app', ['-w', '2']);
    try {
      const before = new Set(workerPids(server.pid));
      let signalled = false;
      const result = await runLoad({
        url: server.url,
        clients: 16,
        requests: 600,
        pathFor: mixedPath,
        keepGoing: () => !/reloaded: new workers ready/.test(server.logs()),
        onProgress: (done) => {
          if (done === 100 && !signalled) {
            signalled = true;
            process.kill(server.pid, 'SIGHUP');
          }
        },
      });
      assert.deepEqual(result.statuses, { 200: result.completed }, describeLoad(result));
      assert.deepEqual(result.errors, {}, describeLoad(result));
      await server.waitForLog(/reloaded: new workers ready/, 10_000);
      const after = workerPids(server.pid);
      assert.ok(after.every((pid) => !before.has(pid)), `old ${[...before]}, now ${after}`);
      assert.doesNotMatch(server.logs(), /starting a new one/);
    } finally {
      await server.stop();
    }
  });

  it('--max-requests under load replaces workers and loses nothing', async () => {
    // The retirements are logged at debug level.
    const server = await startAsgi('raw_app:app', ['-w', '2', '--max-requests', '60', '--log-level', 'debug']);
    try {
      const first = workerPids(server.pid);
      const retired = (): string[] => [...server.logs().matchAll(/worker (\d+) retired after \d+ requests/g)].map((m) => m[1] as string);
      // Past its quota a worker serves on while its successor boots (README, --max-requests): load until both were retired.
      const result = await runLoad({ url: server.url, clients: 16, requests: 480, pathFor: mixedPath, keepGoing: () => retired().length < 2 });
      assert.deepEqual(result.statuses, { 200: result.completed }, describeLoad(result));
      assert.deepEqual(result.errors, {}, describeLoad(result));
      assert.equal(first.length, 2);
      for (const pid of first) assert.ok(retired().includes(String(pid)), `worker ${pid} was retired:\n${server.logs()}`);
      assert.doesNotMatch(server.logs(), /starting a new one/);
    } finally {
      await server.stop();
    }
  });

  it('SIGTERM lets in-flight requests finish, then runs lifespan shutdown and exits 0', async () => {
    const server = await startAsgi('raw_app:app', ['-w', '1', '--graceful-timeout', '10']);
    const marks = Array.from({ length: 5 }, () => uniqueMark('drain'));
    const pending = marks.map((mark) => httpRequest(`${server.url}/sleep?s=1.5&mark=${mark}`, { timeoutMs: 15_000 }));
    try {
      for (const mark of marks) await fixtureSaid(server, `sleeping mark=${mark}`);
      const signalledAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      const results = await Promise.all(pending);
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
      const status = await server.waitForExit(10_000);
      assert.deepEqual(status, { code: 0, signal: null }, server.logs());
      const shutdown = await fixtureSaid(server, 'lifespan shutdown', 1_000);
      assert.ok(shutdown.at >= signalledAt + 1_000, 'shutdown ran after the requests finished');
    } finally {
      await server.stop();
    }
  });
});
