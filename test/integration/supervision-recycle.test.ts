/**
 * --max-requests and --max-requests-jitter: a worker that has served its
 * quota is replaced, which bounds the memory of an application that leaks.
 * Its successor is ready before it stops taking requests, and when no
 * successor can start it keeps serving. (That no request fails while
 * workers are recycled under load is in supervision-load.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import http from 'node:http';
import { eventually, sleep } from '../helpers/http-client.js';
import { requestOnce } from '../helpers/load-client.js';
import { TimedLog } from '../helpers/timed-log.js';
import { isRunning } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const LEAK_KIB = 2048;
/**
 * The access log on stdout: its line for a request is written after any
 * quota line for it (on stderr), so by the time the test has read the one it
 * has, in practice, read the other.
 */
const ACCESS_LOG = ['--access-logfile', '-', '--keep-alive', '60'];

/**
 * Sends `count` requests one after another. Whenever a worker reaches its
 * quota, waits until its successor is ready (the debug log says so) before
 * the next request: a worker keeps serving while its successor boots, and a
 * test that sends requests faster than a worker boots would see it serve
 * far past its quota.
 */
async function sendPaced(server: Portico, count: number): Promise<string[]> {
  // One keep-alive connection: a client that closes as soon as it has the
  // body can leave the front no 'finish' to write the access line on.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await sendPacedOn(agent, server, count);
  } finally {
    agent.destroy();
  }
}

async function sendPacedOn(agent: http.Agent, server: Portico, count: number): Promise<string[]> {
  const base = new URL(server.url);
  const bodies: string[] = [];
  let replacements = 0;
  const booted = (): number => server.logs().match(/booted (?:\w+ )?worker with pid/g)?.length ?? 0;
  for (let i = 0; i < count; i++) {
    const result = await requestOnce(agent, base, `/?i=${i}`, 10_000);
    assert.equal(result.status, 200, `request ${i}: ${result.body}`);
    bodies.push(result.body);
    // The response can overtake the log line saying it was the worker's last (see ACCESS_LOG).
    await server.waitForLog(new RegExp(`"GET /\\?i=${i} HTTP`), 5_000);
    // Out of the stdout callback, so that stderr's data of the same moment is read too.
    await sleep(5);
    const quotaLines = [...server.logs().matchAll(/worker (\d+) served its \d+ requests; replacing it/g)];
    if (quotaLines.length > replacements) {
      replacements = quotaLines.length;
      const replaced = Number(quotaLines.at(-1)?.[1]);
      // The first worker's own boot line, then one per replacement.
      await eventually('the replacement is ready', () => (booted() >= 1 + replacements ? true : undefined), 10_000, 20);
      // Retired once its successor is ready, the replaced worker takes no
      // more requests and exits: its exit is the sure sign of the first.
      await eventually(`replaced worker ${replaced} exited`, () => (isRunning(replaced) ? undefined : true), 10_000, 20);
    }
  }
  return bodies;
}

describe('--max-requests 10 with a leaking application', { timeout: 60_000 }, () => {
  let server: Portico;
  let log: TimedLog;
  before(async () => {
    const { app, args } = fixtureApp('leaky_app');
    server = await startPortico({ app, args: [...args, '-w', '1', '--max-requests', '10', '--log-level', 'debug', ...ACCESS_LOG], env: { LEAK_KB: String(LEAK_KIB) } });
    log = new TimedLog(server);
  });
  after(async () => {
    await server?.stop();
  });

  it('replaces the worker after its quota, which bounds its memory', async (t) => {
    const REQUESTS = 80;
    const served = (await sendPaced(server, REQUESTS)).map((text) => {
      const [pid, rss] = text.split(' ').map(Number);
      return { pid: pid as number, rssKiB: rss as number };
    });
    const perPid = new Map<number, number>();
    for (const { pid } of served) perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
    t.diagnostic(`requests per worker: ${[...perPid.values()].join(', ')}`);
    const first = served[0] as { pid: number; rssKiB: number };
    const runs = [...perPid.values()];
    assert.deepEqual(runs.slice(0, -1), Array(runs.length - 1).fill(10), 'each replaced worker served exactly its 10');
    assert.equal(perPid.size, REQUESTS / 10, `a new worker every 10 requests: ${perPid.size} pids over ${REQUESTS} requests`);
    // The pid changes only forwards: a replaced worker takes no more requests.
    const order = served.map((s) => s.pid).filter((pid, i, all) => i === 0 || all[i - 1] !== pid);
    assert.equal(order.length, perPid.size, `each worker served one unbroken run: ${order.join(' ')}`);
    const peak = Math.max(...served.map((s) => s.rssKiB));
    const unbounded = first.rssKiB + REQUESTS * LEAK_KIB;
    t.diagnostic(`first RSS ${first.rssKiB} KiB, peak ${peak} KiB; without recycling about ${unbounded} KiB`);
    assert.ok(peak < first.rssKiB + 15 * LEAK_KIB, `peak RSS ${peak} KiB is bounded`);
    assert.ok(log.matching(/served its 10 requests; replacing it/).length >= perPid.size - 1, 'the log says why each was replaced');
    assert.doesNotMatch(server.logs(), /starting a new one/, 'recycling is not a crash');
  });
});

describe('--max-requests 5 --max-requests-jitter 5', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('leaky_app');
    server = await startPortico({ app, args: [...args, '-w', '1', '--max-requests', '5', '--max-requests-jitter', '5', '--log-level', 'debug', ...ACCESS_LOG], env: { LEAK_KB: '1' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('gives each worker a quota between N and N + J', async (t) => {
    const pids = (await sendPaced(server, 60)).map((text) => text.split(' ')[0]);
    const quotas = [...server.logs().matchAll(/served its (\d+) requests; replacing it/g)].map((m) => Number(m[1]));
    t.diagnostic(`quotas: ${quotas.join(', ')}`);
    assert.ok(quotas.length >= 4, `several replacements: ${quotas.length}`);
    assert.ok(quotas.every((q) => q >= 5 && q <= 10), `every quota in 5..10: ${quotas.join(', ')}`);
    const runs = pids.reduce<number[]>((acc, pid, i) => (i > 0 && pids[i - 1] === pid ? [...acc.slice(0, -1), (acc.at(-1) as number) + 1] : [...acc, 1]), []);
    assert.deepEqual(runs.slice(0, quotas.length), quotas, 'each worker served what the log says its quota was');
  });
});

/**
 * Answers with its pid, and says on stderr when its interpreter exits: a
 * worker exits only after the front has told it to stop, so in portico's
 * log (one stream, in order) this line comes after whatever the front had
 * logged before it sent STOP.
 */
const EXIT_TELLING_APP = `
import atexit
import os
import sys

atexit.register(lambda: print('exiting pid=%d' % os.getpid(), file=sys.stderr, flush=True))


def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

/** Sends GET / back to back on one keep-alive connection, no pause between them, until `enough` says so. */
async function sendBackToBack(server: Portico, enough: (pids: number[]) => boolean, limitMs: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(server.url);
  const pids: number[] = [];
  const until = Date.now() + limitMs;
  try {
    while (!enough(pids)) {
      assert.ok(Date.now() < until, `still going after ${limitMs} ms and ${pids.length} requests`);
      const result = await requestOnce(agent, base, `/?i=${pids.length}`, 10_000);
      assert.equal(result.status, 200, `request ${pids.length}: ${result.body}`);
      pids.push(Number(result.body));
    }
    return pids;
  } finally {
    agent.destroy();
  }
}

/** The pids in the order they first served, and how many requests each served. */
function runsOf(pids: number[]): Array<{ pid: number; count: number }> {
  const runs: Array<{ pid: number; count: number }> = [];
  for (const pid of pids) {
    const last = runs.at(-1);
    if (last?.pid === pid) last.count++;
    else runs.push({ pid, count: 1 });
  }
  return runs;
}

describe('--max-requests 20, -w 1, requests back to back', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-recycle-order-');
  let server: Portico;
  before(async () => {
    writeFileSync(join(temp.path, 'exit_telling_app.py'), EXIT_TELLING_APP);
    server = await startPortico({
      app: 'exit_telling_app:application',
      args: ['--chdir', temp.path, '-w', '1', '--max-requests', '20', '--log-level', 'debug', '--keep-alive', '60'],
    });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('starts each successor and has it ready before the old worker stops: every request is served, by one worker after the other', async (t) => {
    // Until three workers have been replaced and have exited, and a worker
    // still running has served since: the third one's successor may not
    // have had a request yet when its exit line appears.
    const exitedPids = (): number[] => [...server.logs().matchAll(/exiting pid=(\d+)/g)].map((m) => Number(m[1]));
    const pids = await sendBackToBack(
      server,
      (served) => {
        const exited = exitedPids();
        const last = served.at(-1);
        return exited.length >= 3 && last !== undefined && !exited.includes(last);
      },
      60_000,
    );
    const runs = runsOf(pids);
    t.diagnostic(`${pids.length} requests; served per worker: ${runs.map((r) => r.count).join(', ')}`);
    assert.equal(new Set(pids).size, runs.length, `each worker served one unbroken run: ${runs.map((r) => r.pid).join(' ')}`);
    assert.ok(runs.slice(0, -1).every((r) => r.count >= 20), 'none was replaced before its quota');
    // The order in portico's log: for each worker that exited, its quota
    // line, then the ready line of a successor, and only then its exit.
    const lines = server.logs().split('\n');
    const at = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));
    const gone = [...server.logs().matchAll(/exiting pid=(\d+)/g)].map((m) => Number(m[1]));
    for (const pid of gone) {
      const quota = at(new RegExp(`worker ${pid} served its \\d+ requests; replacing it`));
      const exit = at(new RegExp(`exiting pid=${pid}\\b`));
      assert.ok(quota !== -1 && quota < exit, `worker ${pid}: its quota line comes before its exit`);
      const successors = lines
        .slice(quota, exit)
        .map((line) => /booted (?:\w+ )?worker with pid (\d+)/.exec(line)?.[1])
        .filter((pid): pid is string => pid !== undefined);
      assert.ok(successors.length >= 1, `worker ${pid} exited before a successor was ready:\n${lines.slice(quota, exit + 1).join('\n')}`);
      assert.ok(pids.includes(Number(successors[0])), `its successor ${successors[0]} went on to serve`);
    }
    assert.doesNotMatch(server.logs(), /starting a new one|\[(WARNING|ERROR)\] (?!exiting pid)/, 'no crash, no complaint');
  });
});

describe('--max-requests 5, -w 1, when the replacement cannot start', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-recycle-broken-');
  const appFile = join(temp.path, 'exit_telling_app.py');
  let server: Portico;
  before(async () => {
    writeFileSync(appFile, EXIT_TELLING_APP);
    server = await startPortico({ app: 'exit_telling_app:application', args: ['--chdir', temp.path, '-w', '1', '--max-requests', '5', '--keep-alive', '60'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('keeps the old worker serving, says why, and tries again a quota later', async () => {
    const [worker] = await sendBackToBack(server, (pids) => pids.length >= 2, 10_000);
    // The next import fails: the replacement started at the quota cannot boot.
    writeFileSync(appFile, EXIT_TELLING_APP + '\ndef broken(:\n');
    const failed = (): boolean => /could not start a replacement for worker \d+; it keeps serving/.test(server.logs());
    const before = await sendBackToBack(server, failed, 20_000);
    const after = await sendBackToBack(server, (pids) => pids.length >= 20, 20_000);
    assert.deepEqual(new Set([...before, ...after]), new Set([worker]), 'the same worker served every request');
    assert.match(server.logs(), new RegExp(`worker ${worker} served its 5 requests; replacing it`));
    assert.match(server.logs(), new RegExp(`could not start a replacement for worker ${worker}; it keeps serving`));
    assert.match(server.logs(), /SyntaxError/, 'with the import error');
    assert.ok(isRunning(server.pid), 'the server stays up');
    assert.doesNotMatch(server.logs(), /exiting pid=/, 'the old worker was never stopped');
    // Fixed: a later try (one per quota of requests, each waiting for the
    // previous boot to fail) succeeds, and the worker is replaced after all.
    writeFileSync(appFile, EXIT_TELLING_APP);
    const fixed = await sendBackToBack(server, (pids) => pids.some((pid) => pid !== worker), 20_000);
    assert.notEqual(fixed.at(-1), worker);
  });
});
