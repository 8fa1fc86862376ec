/**
 * What the supervisor says and does when a worker dies: the log names the
 * cause (exit code, signal, a SIGKILL it did not send), a new worker takes
 * the dead one's place while the other keeps serving, workers that keep
 * dying young are respawned ever more slowly, and a worker that can no
 * longer import the application stops the server (exit 4) instead of a
 * respawn loop. crashes.test.ts covers the statuses; this covers the rest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { isReaped, isRunning } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { servingPids } from '../helpers/serving-workers.js';
import { TimedLog } from '../helpers/timed-log.js';
import { workerPids } from '../helpers/worker-tree.js';
import { FIXTURE_APPS } from '../helpers/paths.js';

/** The supervisor's line for an unplanned death: `worker PID <why>; starting a new one`. */
const deathLine = (pid: number | string): RegExp => new RegExp(`worker ${pid} (.+); starting a new one`);

describe('worker deaths, -w 2', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('crash_app');
    server = await startPortico({ app, args: [...args, '-w', '2'] });
  });
  after(async () => {
    await server?.stop();
  });

  /**
   * Holds the one worker with a slow request (the bystander), makes the
   * other die by `fault`, and checks: the bystander is served, the log says
   * why the other died, and a new process takes its place under portico.
   */
  async function faultBesideBystander(mark: string, fault: () => Promise<number>): Promise<{ dead: number; why: string }> {
    const before = await servingPids(server.url, 2, '/sleep?s=0.4');
    const bystander = httpRequest(`${server.url}/sleep-announce?s=1.5&mark=${mark}`, { timeoutMs: 15_000 });
    const busy = Number((await server.waitForLog(new RegExp(`sleeping pid=(\\d+) mark=${mark}\\b`), 5_000))[1]);
    const dead = await fault();
    assert.notEqual(dead, busy, 'the fault hit the idle worker, not the bystander');
    assert.ok(before.has(dead) && before.has(busy));
    const why = (await server.waitForLog(deathLine(dead), 5_000))[1] as string;
    const answer = await bystander;
    assert.equal(answer.status, 200, 'the request on the other worker is unaffected');
    assert.equal(answer.text, 'woke up');
    await eventually(`worker ${dead} reaped`, () => (isReaped(dead) ? true : undefined), 5_000);
    const now = await eventually('a new worker process under portico', () => {
      const pids = workerPids(server.pid);
      return pids.length === 2 && !pids.includes(dead) && pids.includes(busy) ? pids : undefined;
    }, 10_000);
    const after = await servingPids(server.url, 2, '/sleep?s=0.4');
    assert.deepEqual([...after].sort((a, b) => a - b), now, 'the new process serves');
    return { dead, why };
  }

  it('logs the exit code of a worker that calls os._exit mid-request, and replaces it', async () => {
    const { why } = await faultBesideBystander('exit', async () => {
      const result = await httpRequest(`${server.url}/exit`);
      assert.equal(result.status, 502);
      return Number((await server.waitForLog(/worker (\d+) exited with code 3 while handling GET \/exit/, 5_000))[1]);
    });
    assert.equal(why, 'exited with code 3');
  });

  it('logs the signal of a worker that gets SIGSEGV, and replaces it', async () => {
    const { why } = await faultBesideBystander('segv', async () => {
      const result = await httpRequest(`${server.url}/segv`);
      assert.equal(result.status, 502);
      return Number((await server.waitForLog(/worker (\d+) was killed by SIGSEGV[^\n]* while handling GET \/segv/, 5_000))[1]);
    });
    assert.match(why, /^was killed by SIGSEGV \(signal 11\)$/, 'no out-of-memory hint for a segfault');
  });

  it('calls a SIGKILL it did not send "perhaps out of memory" (kill -9 from outside), and replaces the worker', async () => {
    const { why } = await faultBesideBystander('k9-bystander', async () => {
      const pending = httpRequest(`${server.url}/sleep-announce?s=10&mark=k9-victim`, { timeoutMs: 15_000 });
      const victim = Number((await server.waitForLog(/sleeping pid=(\d+) mark=k9-victim\b/, 5_000))[1]);
      process.kill(victim, 'SIGKILL');
      assert.equal((await pending).status, 502);
      return victim;
    });
    assert.equal(why, 'was killed by SIGKILL (signal 9) (perhaps out of memory)');
  });
});

describe('workers that keep dying young', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-doomed-');
  const doomFile = join(temp.path, 'doom');
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('doomed_app');
    server = await startPortico({ app, args: [...args, '-w', '1'], env: { DOOM_FILE: doomFile } });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('are respawned with a growing delay, and serve again once they stop dying', async (t) => {
    const log = new TimedLog(server);
    writeFileSync(doomFile, '');
    const [first] = workerPids(server.pid);
    assert.ok(first !== undefined);
    // Only workers started from now on are doomed: replace the healthy one.
    process.kill(first, 'SIGKILL');
    const deaths = await eventually('six young deaths', () => {
      const lines = log.matching(/worker \d+ exited with code 1; starting a new one/);
      return lines.length >= 6 ? lines.slice(0, 6) : undefined;
    }, 25_000, 50);
    const gaps = deaths.slice(1).map((d, i) => d.at - (deaths[i] as { at: number }).at);
    t.diagnostic(`gaps between young deaths (ms): ${gaps.join(', ')}`);
    assert.ok(isRunning(server.pid), 'the server keeps running');
    // Loose: with backoff the delays double (100 ms up to 10 s); without it every gap would be one boot.
    const earlyGap = Math.min(gaps[0] as number, gaps[1] as number);
    const lastGap = gaps[gaps.length - 1] as number;
    assert.ok(lastGap > earlyGap + 400, `respawns slow down: early gap ${earlyGap} ms, last ${lastGap} ms`);
    rmSync(doomFile);
    const answer = await eventually('a worker that lives serves', async () => {
      const result = await httpRequest(`${server.url}/`, { timeoutMs: 3_000 });
      return result.status === 200 ? result : undefined;
    }, 20_000, 200);
    assert.match(answer.text, /^\d+$/);
  });
});

describe('a worker that cannot import the application any more', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-mutable-');
  after(() => temp.remove());

  it('stops the whole server with the import error and exit status 4, without a respawn loop', async () => {
    const appFile = join(temp.path, 'mutable_app.py');
    writeFileSync(appFile, 'import os\n\ndef application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [str(os.getpid()).encode()]\n');
    const server = await startPortico({ app: 'mutable_app:application', args: ['--chdir', temp.path, '--pythonpath', FIXTURE_APPS, '-w', '2'] });
    try {
      const before = workerPids(server.pid);
      assert.equal(before.length, 2);
      assert.equal((await httpRequest(`${server.url}/`)).status, 200);
      writeFileSync(appFile, 'def application(environ, start_response:\n    pass\n');
      const started = Date.now();
      process.kill(before[0] as number, 'SIGKILL');
      const status = await server.waitForExit(15_000);
      assert.deepEqual(status, { code: 4, signal: null }, server.stderr());
      assert.ok(Date.now() - started < 10_000, 'stops promptly');
      assert.match(server.stderr(), /SyntaxError/);
      assert.match(server.stderr(), /mutable_app\.py/);
      assert.equal(server.stderr().match(/starting a new one/g)?.length, 1, `one respawn attempt:\n${server.stderr()}`);
      for (const pid of before) {
        await eventually(`worker ${pid} gone`, () => (isRunning(pid) ? undefined : true), 5_000);
      }
    } finally {
      await server.stop();
    }
  });
});
