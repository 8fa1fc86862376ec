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
import { eventually, httpRequest, sleep } from '../helpers/http-client.js';
import { isReaped, isRunning } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { servingPids } from '../helpers/serving-workers.js';
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

/**
 * While the file $DOOM_FILE exists when a worker imports it, the worker dies
 * (exit 1) a second after it is ready. Each worker prints, with the time in
 * ms, when it was imported and when it dies: the gap between one's death and
 * the next one's import is the respawn delay plus what a start costs, never
 * less than the delay, whatever the load on the machine.
 */
const DOOMED_APP = `
import os
import sys
import threading
import time


def _say(what):
    print('%s pid=%d at=%d' % (what, os.getpid(), int(time.time() * 1000)), file=sys.stderr, flush=True)


def _die_soon():
    # Long enough after the import for the worker to have reported ready: a
    # worker that never gets ready is a boot failure, which stops the server.
    time.sleep(1.0)
    _say('dying')
    os._exit(1)


_say('imported')
if os.path.exists(os.environ['DOOM_FILE']):
    threading.Thread(target=_die_soon, daemon=True).start()


def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

/** The respawn delay after the nth death in a row of workers that die young: none after the first, then 100 ms doubling. */
const documentedDelay = (n: number): number => (n <= 1 ? 0 : 100 * 2 ** (n - 2));

describe('workers that keep dying young', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-doomed-');
  const doomFile = join(temp.path, 'doom');
  let server: Portico;
  before(async () => {
    writeFileSync(join(temp.path, 'doomed_app.py'), DOOMED_APP);
    writeFileSync(doomFile, '');
    server = await startPortico({ app: 'doomed_app:application', args: ['--chdir', temp.path, '-w', '1'], env: { DOOM_FILE: doomFile } });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  const events = (what: 'imported' | 'dying'): Array<{ pid: number; at: number }> =>
    [...server.logs().matchAll(new RegExp(`${what} pid=(\\d+) at=(\\d+)`, 'g'))].map((m) => ({ pid: Number(m[1]), at: Number(m[2]) }));

  it('are respawned with a growing delay, reset once a worker lives; then serve again', async (t) => {
    const DEATHS = 6;
    await eventually(`${DEATHS} deaths`, () => (events('dying').length >= DEATHS ? true : undefined), 40_000, 50);
    // The next worker is imported at least 1.6 s from now: it lives.
    rmSync(doomFile);
    const imports = await eventually(`${DEATHS + 1} imports`, () => {
      const all = events('imported');
      return all.length >= DEATHS + 1 ? all : undefined;
    }, 20_000, 50);
    const deaths = events('dying').slice(0, DEATHS);
    assert.deepEqual(deaths.map((d) => d.pid), imports.slice(0, DEATHS).map((i) => i.pid), 'one worker at a time, each dying once');
    const delays = deaths.map((death, i) => (imports[i + 1] as { at: number }).at - death.at);
    t.diagnostic(`from each death to the next import (ms): ${delays.join(', ')}; documented delays: ${delays.map((_, i) => documentedDelay(i + 1)).join(', ')}`);
    for (const [i, delay] of delays.entries()) {
      assert.ok(delay >= documentedDelay(i + 1), `respawn ${i + 1} came ${delay} ms after the death, before its ${documentedDelay(i + 1)} ms backoff`);
    }
    for (const pid of deaths.map((d) => d.pid)) assert.match(server.logs(), deathLine(pid), `worker ${pid}'s death is logged`);
    assert.ok(isRunning(server.pid), 'the server keeps running');

    // A worker that lived past the healthy lifetime (5 s) resets the backoff:
    // its successor comes at once, not after the 3.2 s the 7th death in a row would wait.
    const healthy = imports[DEATHS] as { pid: number; at: number };
    const answer = await eventually('the living worker serves', async () => {
      const result = await httpRequest(`${server.url}/`, { timeoutMs: 3_000 });
      return result.status === 200 ? result : undefined;
    }, 20_000, 200);
    assert.equal(Number(answer.text), healthy.pid);
    await sleep(Math.max(0, healthy.at + 5_500 - Date.now()));
    const killedAt = Date.now();
    process.kill(healthy.pid, 'SIGKILL');
    const next = await eventually('its successor imported', () => events('imported').find((i) => i.at >= killedAt && i.pid !== healthy.pid), 20_000, 50);
    t.diagnostic(`after a healthy worker's death the next import came ${next.at - killedAt} ms later`);
    assert.ok(next.at - killedAt < 2_500, `backoff reset: ${next.at - killedAt} ms, where a 7th young death waits 3200 ms`);
    const served = await eventually('the successor serves', async () => {
      const result = await httpRequest(`${server.url}/`, { timeoutMs: 3_000 });
      return result.status === 200 ? result : undefined;
    }, 20_000, 200);
    assert.equal(Number(served.text), next.pid);
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

/** /corrupt writes bytes that are no frame on the worker's channel (fd 3), as a stray write by the application would. */
const CHANNEL_CORRUPTING_APP = `
import os


def application(environ, start_response):
    if environ['PATH_INFO'] == '/corrupt':
        os.write(3, b'\\xff' * 12)
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

describe('a worker killed for a corrupt channel', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-corrupt-');
  after(() => temp.remove());

  // The kill is portico's own: "perhaps out of memory" is for a SIGKILL it did
  // not send. WorkerProcess#receive kills without giving a reason, which
  // describeExit then takes for the OOM killer's; worker-process.ts is for
  // its owner to change.
  it('is not called "perhaps out of memory", and is replaced', async () => {
    writeFileSync(join(temp.path, 'corrupting_app.py'), CHANNEL_CORRUPTING_APP);
    const server = await startPortico({ app: 'corrupting_app:application', args: ['--chdir', temp.path, '-w', '1'] });
    try {
      const worker = Number((await httpRequest(`${server.url}/`)).text);
      // 502, or 200 when the whole response was read before the bytes that are no frame.
      assert.ok([200, 502].includes((await httpRequest(`${server.url}/corrupt`)).status));
      await server.waitForLog(/worker channel is corrupt/, 5_000);
      const why = (await server.waitForLog(deathLine(worker), 5_000))[1] as string;
      assert.match(why, /^was killed by SIGKILL/);
      assert.doesNotMatch(why, /out of memory/);
      const next = await eventually('a new worker serves', async () => {
        const result = await httpRequest(`${server.url}/`, { timeoutMs: 3_000 });
        return result.status === 200 ? Number(result.text) : undefined;
      }, 10_000, 100);
      assert.notEqual(next, worker);
    } finally {
      await server.stop();
    }
  });
});
