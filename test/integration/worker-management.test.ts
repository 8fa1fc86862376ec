/**
 * Worker management (#17) with real workers under load: --max-worker-memory
 * and --max-worker-lifetime replace a worker with its successor ready
 * first, and --workers-max scales a pool up while requests queue and back
 * down when idle; in each, not one request fails, and the control listener
 * tells why workers left and between which bounds the pool moves. Every
 * wait is on a log line or a status, never a fixed sleep.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { requestOnce } from '../helpers/load-client.js';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { isRunning } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const CONTROL_LINE = /control listener on (http:\/\/[^\s,:]+:\d+)/;

/**
 * Answers with its pid; /hog makes it hold 64 MiB more, filled so that the
 * pages are resident. Says on stderr when its interpreter exits, which it
 * does only once the front has told it to stop.
 */
const HOG_APP = `
import atexit
import os
import sys

atexit.register(lambda: print('exiting pid=%d' % os.getpid(), file=sys.stderr, flush=True))
_held = []


def application(environ, start_response):
    if environ['PATH_INFO'] == '/hog':
        _held.append(b'\\x5a' * (64 * 1024 * 1024))
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

interface Load {
  /** Ends the load; resolves with what every request got. */
  stop(): Promise<{ total: number; failures: string[]; pids: Set<string> }>;
  readonly total: number;
}

/** `clients` keep-alive clients sending GET `path` back to back until stopped, every outcome kept. */
function startLoad(url: string, clients: number, path: string): Load {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const failures: string[] = [];
  const pids = new Set<string>();
  let total = 0;
  let running = true;
  const client = async (): Promise<void> => {
    while (running) {
      try {
        const { status, body } = await requestOnce(agent, base, path, 15_000);
        if (status === 200) pids.add(body.split(' ')[0] ?? '');
        else failures.push(`${status} ${body.slice(0, 200)}`);
      } catch (error) {
        failures.push(`${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`);
      }
      total++;
    }
  };
  const done = Promise.all(Array.from({ length: clients }, client));
  return {
    get total() {
      return total;
    },
    async stop() {
      running = false;
      await done;
      agent.destroy();
      return { total, failures, pids };
    },
  };
}

interface PoolStatus {
  target: number;
  workersMin: number;
  workersMax: number;
  workers: Array<{ pid: number; state: string }>;
  exits: Record<string, number>;
}

async function poolStatus(control: string): Promise<PoolStatus> {
  const result = await httpRequest(`${control}/status.json`);
  assert.equal(result.status, 200, result.text);
  return (JSON.parse(result.text) as { mounts: PoolStatus[] }).mounts[0] as PoolStatus;
}

/** The value of one sample of a scrape, by its name and labels as printed. */
async function metric(control: string, line: string): Promise<number | undefined> {
  const text = (await httpRequest(`${control}/metrics`)).text;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

/** Lines of portico's log (one stream, in order) and the index of the first matching `pattern`. */
function logIndex(server: Portico, pattern: RegExp): number {
  return server.logs().split('\n').findIndex((line) => pattern.test(line));
}

/**
 * `pid` was replaced for `reason`: its "replacing it" line, then its
 * successor's ready line, then its retirement and its exit, in that order.
 * Returns the successor's pid.
 */
function assertSuccessorFirst(server: Portico, pid: number, reason: string): number {
  const retired = new RegExp(`worker ${pid} retired after \\d+ requests, \\d+ of them while worker (\\d+) booted \\(${reason}\\)`).exec(server.logs());
  assert.ok(retired !== null, `worker ${pid} was retired for ${reason}:\n${server.logs()}`);
  const successor = Number(retired[1]);
  const replacing = logIndex(server, new RegExp(`worker ${pid} .*; replacing it`));
  const ready = logIndex(server, new RegExp(`booted \\w+ worker with pid ${successor}\\b`));
  const retiredAt = logIndex(server, new RegExp(`worker ${pid} retired after`));
  const exit = logIndex(server, new RegExp(`exiting pid=${pid}\\b`));
  assert.ok(replacing !== -1 && replacing < ready && ready < retiredAt, `worker ${pid}: replacing, then ${successor} ready, then retired`);
  if (exit !== -1) assert.ok(retiredAt < exit, `worker ${pid} exited only after its successor was ready`);
  return successor;
}

describe('--max-worker-memory 48, -w 2, under load', { timeout: 30_000 }, () => {
  const temp = makeTempDir('portico-memory-');
  let server: Portico;
  let control: string;
  before(async () => {
    writeFileSync(join(temp.path, 'hog_app.py'), HOG_APP);
    server = await startPortico({
      app: 'hog_app:application',
      args: ['--chdir', temp.path, '-w', '2', '--max-worker-memory', '48', '--log-level', 'debug', '--control-bind', '127.0.0.1:0'],
    });
    control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('replaces the worker that stays over the limit, its successor ready first, and no request fails', async () => {
    const load = startLoad(server.url, 4, '/');
    const hog = Number((await httpRequest(`${server.url}/hog`)).text);
    const why = await server.waitForLog(new RegExp(`worker ${hog} has (\\d+) MiB resident, over --max-worker-memory 48 MiB in 3 samples 1 s apart; replacing it`), 10_000);
    assert.ok(Number(why[1]) > 48, `its RSS: ${why[1]} MiB`);
    await server.waitForLog(new RegExp(`exiting pid=${hog}\\b`), 10_000);
    await eventually('the exit counted as memory', async () => ((await metric(control, 'portico_worker_exits_total{mount="/",reason="memory"}')) === 1 ? true : undefined));
    const result = await load.stop();
    assert.deepEqual(result.failures, [], `${result.total} requests`);
    assert.ok(result.total > 20, `the load ran throughout: ${result.total} requests`);
    assertSuccessorFirst(server, hog, 'memory');
    assert.equal(isRunning(hog), false);
    const pool = await poolStatus(control);
    assert.equal(pool.workers.filter((w) => w.state === 'ready').length, 2);
    assert.equal(pool.exits.memory, 1);
    assert.equal(pool.exits.crash, 0);
    assert.doesNotMatch(server.logs(), /starting a new one/, 'a replacement, not a respawn');
  });
});

describe('--max-worker-lifetime 2 --max-worker-lifetime-jitter 1, -w 2, under load', { timeout: 30_000 }, () => {
  const temp = makeTempDir('portico-lifetime-');
  let server: Portico;
  let control: string;
  before(async () => {
    writeFileSync(join(temp.path, 'hog_app.py'), HOG_APP);
    server = await startPortico({
      app: 'hog_app:application',
      args: ['--chdir', temp.path, '-w', '2', '--max-worker-lifetime', '2', '--max-worker-lifetime-jitter', '1', '--log-level', 'debug', '--control-bind', '127.0.0.1:0'],
    });
    control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('replaces every worker after 2 to 3 s, each successor ready first, and no request fails', async (t) => {
    const load = startLoad(server.url, 4, '/');
    const replacing = /worker (\d+) has run for ([\d.]+) s, its --max-worker-lifetime; replacing it/g;
    const replaced = (): RegExpExecArray[] => [...server.logs().matchAll(replacing)];
    // Both first workers, then at least one of their successors.
    await eventually('three lifetime replacements', () => (replaced().length >= 3 ? true : undefined), 15_000);
    const first = replaced().slice(0, 3).map((m) => Number(m[1]));
    await eventually('the first two replaced workers have exited', () => (first.slice(0, 2).every((pid) => !isRunning(pid)) ? true : undefined), 10_000);
    const result = await load.stop();
    t.diagnostic(`${result.total} requests over ${result.pids.size} workers; lifetimes ${replaced().map((m) => m[2]).join(', ')} s`);
    assert.deepEqual(result.failures, []);
    for (const match of replaced()) {
      const seconds = Number(match[2]);
      assert.ok(seconds >= 2 && seconds <= 3, `a lifetime of 2 s plus 0..1: ${seconds}`);
    }
    for (const pid of first.slice(0, 2)) assertSuccessorFirst(server, pid, 'lifetime');
    assert.ok(result.pids.size >= 3, `successors served: ${[...result.pids].join(' ')}`);
    assert.ok(((await metric(control, 'portico_worker_exits_total{mount="/",reason="lifetime"}')) ?? 0) >= 2);
    assert.doesNotMatch(server.logs(), /starting a new one/);
  });
});

describe('--workers-max 3 -w 1 --workers-idle-timeout 1, queued load, then idle', { timeout: 40_000 }, () => {
  let server: Portico;
  let control: string;
  before(async () => {
    const { app, args } = fixtureApp('sleepy_app');
    server = await startPortico({
      app,
      args: [...args, '-w', '1', '--workers-max', '3', '--workers-idle-timeout', '1', '--control-bind', '127.0.0.1:0'],
    });
    control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
  });
  after(async () => {
    await server?.stop();
  });

  it('scales up to 3 while requests queue, never past it, back down to 1 when idle, and loses no request', async () => {
    const bounds = await poolStatus(control);
    assert.deepEqual([bounds.target, bounds.workersMin, bounds.workersMax], [1, 1, 3]);
    // Six clients on requests of 0.2 s: even three workers leave some waiting.
    const load = startLoad(server.url, 6, '/sleep?s=0.2');
    await server.waitForLog(/scaling up to 2 workers \(of 1\.\.3\): a request waited \d+ ms in the queue/, 10_000);
    await server.waitForLog(/scaling up to 3 workers \(of 1\.\.3\)/, 10_000);
    await eventually('three ready workers', async () => ((await poolStatus(control)).workers.filter((w) => w.state === 'ready').length === 3 ? true : undefined), 10_000);
    assert.equal(await metric(control, 'portico_workers_target{mount="/"}'), 3);
    assert.equal(await metric(control, 'portico_workers_max{mount="/"}'), 3);
    const servedBy = load.total;
    // Still queueing at the bound: a moment more (a few requests' worth), and no fourth.
    await eventually('more requests at three workers', () => (load.total >= servedBy + 30 ? true : undefined), 10_000);
    const result = await load.stop();
    assert.deepEqual(result.failures, [], `${result.total} requests`);
    assert.doesNotMatch(server.logs(), /scaling up to 4/);

    await server.waitForLog(/scaling down to 2 workers \(of 1\.\.3\): worker \d+ was idle for \d+ s/, 10_000);
    await server.waitForLog(/scaling down to 1 worker \(of 1\.\.3\)/, 10_000);
    await eventually('one worker left', async () => {
      const pool = await poolStatus(control);
      return pool.workers.length === 1 && pool.exits.scale_down === 2 ? pool : undefined;
    }, 10_000);
    assert.equal(await metric(control, 'portico_workers_target{mount="/"}'), 1);
    assert.equal(await metric(control, 'portico_worker_exits_total{mount="/",reason="scale_down"}'), 2);
    assert.equal(await metric(control, 'portico_worker_exits_total{mount="/",reason="crash"}'), 0);
  });

  it('moves the bounds with SIGTTIN and SIGTTOU: past --workers-max raises it, and never below 1', async () => {
    process.kill(server.pid, 'SIGTTOU');
    await server.waitForLog(/SIGTTOU: 1 worker already, the fewest/, 5_000);
    let pool = await poolStatus(control);
    assert.deepEqual([pool.target, pool.workersMin, pool.workersMax], [1, 1, 3], 'one worker is the least');
    // One at a time: signals sent together may arrive as one.
    for (const step of ['2 workers \\(of 1\\.\\.3\\)', '3 workers \\(of 1\\.\\.3\\)', '4 workers \\(of 1\\.\\.4\\)']) {
      process.kill(server.pid, 'SIGTTIN');
      await server.waitForLog(new RegExp(`SIGTTIN: ${step}`), 5_000);
    }
    pool = await poolStatus(control);
    assert.deepEqual([pool.target, pool.workersMin, pool.workersMax], [4, 1, 4]);
    assert.equal(await metric(control, 'portico_workers_max{mount="/"}'), 4);
  });
});
