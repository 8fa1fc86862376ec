/**
 * --fronts N (#18), against the real server: the fronts share the
 * listening socket and each serves with its own workers; the parent alone
 * answers the control listener, /metrics with every front's counts; a
 * front killed with SIGKILL is replaced while the others serve; SIGTERM to
 * the whole process group drains every front without a failed request and
 * without cutting --shutdown-delay short; SIGQUIT stops them all at once;
 * SIGHUP reloads every front, and SIGTTIN and SIGTTOU add and remove a
 * worker in every front; no front outlives a parent killed with SIGKILL.
 * And --fronts 1 is today's server, with no parent process; a bad count is
 * a usage error; an application that cannot load halts every front rather
 * than respawn them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fixtureApp, runPortico, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, getJson, httpRequest, sleep } from '../helpers/http-client.js';
import { childrenOf, descendantsOf, isRunning } from '../helpers/proc.js';

/** The parent's line once every front is ready: its first group is the host, its second the port. */
const ALL_READY = /all (\d+) fronts ready: listening on http:\/\/([^\s:/]+):(\d+)/;

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

async function startFronts(fronts: number, extra: string[]): Promise<Portico & { control: string }> {
  const { app, args } = fixtureApp('sleepy_app');
  const server = await startPortico({ app, args: [...args, '--fronts', String(fronts), '--control-bind', '127.0.0.1:0', ...extra], ready: ALL_READY });
  const [, , host, port] = ALL_READY.exec(server.logs()) as RegExpExecArray;
  server.url = `http://${host}:${port}`;
  const control = /control listener on (http:\/\/\S+):/.exec(server.logs());
  assert.ok(control !== null, server.logs());
  return Object.assign(server, { control: (control[1] as string).replace(/,$/, '') });
}

/** The front (the worker's parent) that served one request on a connection of its own. */
async function servingFront(url: string): Promise<number> {
  const result = await httpRequest(`${url}/sleep?s=0.01`, { headers: { connection: 'close' }, timeoutMs: 10_000 });
  assert.equal(result.status, 200, result.text);
  const worker = (JSON.parse(result.text) as { pid: number }).pid;
  return parentOf(worker) ?? -1;
}

interface Tally {
  ok: number;
  failures: string[];
  refused: number;
}

/**
 * One keep-alive client sending back to back until told to stop or
 * refused. A request on a reused connection that closes before any byte
 * of a response is sent again (RFC 9112 §9.3.1), as in
 * operations-stop.test.ts; anything else that is not a 200 is a failure.
 */
async function keepSending(url: string, tally: Tally, until: () => boolean): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(url);
  const once = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: base.hostname, port: base.port, path: '/sleep?s=0.005', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('aborted', () => reject(Object.assign(new Error('response cut'), { code: 'ABORTED' })));
      });
      req.setTimeout(15_000, () => req.destroy(Object.assign(new Error('no response'), { code: 'TIMEOUT' })));
      req.on('error', (error) => reject(Object.assign(error, { reused: req.reusedSocket })));
    });
  try {
    while (!until()) {
      const status = await once()
        .catch((error: NodeJS.ErrnoException & { reused?: boolean }) => {
          if (error.reused && (error.code === 'ECONNRESET' || error.message === 'socket hang up')) return once();
          throw error;
        })
        .catch((error: NodeJS.ErrnoException) => error);
      if (status instanceof Error) {
        if (status.code === 'ECONNREFUSED') tally.refused++;
        else tally.failures.push(status.code ?? status.message);
        return;
      }
      if (status === 200) tally.ok++;
      else tally.failures.push(String(status));
    }
  } finally {
    agent.destroy();
  }
}

describe('--fronts 2', { timeout: 40_000 }, () => {
  it('spreads connections over both fronts, each with its own workers; the parent alone answers the control listener; SIGKILL of a front: replaced, the other serves on; SIGHUP reloads both; SIGTTIN and SIGTTOU reach both; none outlives the parent', async () => {
    const server = await startFronts(2, ['-w', '1']);
    try {
      const fronts = childrenOf(server.pid);
      assert.equal(fronts.length, 2, `two fronts under the parent: ${fronts}`);
      const seen = new Set<number>();
      let seenRequests = 0;
      for (let round = 0; round < 10 && seen.size < 2; round++) {
        for (const front of await Promise.all(Array.from({ length: 8 }, () => servingFront(server.url)))) seen.add(front);
        seenRequests += 8;
      }
      assert.deepEqual([...seen].sort(), [...fronts].sort(), 'every request served by a worker of one of the fronts, and both fronts served');

      assert.equal((await httpRequest(`${server.control}/readyz`)).status, 200);
      const status = await getJson<{ pid: number; fronts: Array<{ pid: number; state: string; workers: number; status: { pid: number } | null }> }>(`${server.control}/status.json`);
      assert.equal(status.pid, server.pid);
      assert.deepEqual(status.fronts.map((front) => front.pid).sort(), [...fronts].sort());
      assert.ok(status.fronts.every((front) => front.state === 'ready' && front.workers === 1 && front.status?.pid === front.pid), JSON.stringify(status));
      // Every front's counts, each labelled, under one TYPE line a family: not one front's share.
      const metrics = (await httpRequest(`${server.control}/metrics`)).text;
      const served = [...metrics.matchAll(/^portico_http_requests_total\{front="(\d)",[^}]*\} (\d+)$/gm)];
      assert.deepEqual([...new Set(served.map((m) => m[1]))].sort(), ['1', '2'], metrics);
      assert.equal(served.reduce((sum, m) => sum + Number(m[2]), 0), seenRequests, metrics);
      assert.equal((metrics.match(/^# TYPE portico_http_requests_total /gm) ?? []).length, 1);

      // SIGKILL one front under load: the other keeps serving; the dead one is replaced.
      const [victim, survivor] = fronts as [number, number];
      const victimWorkers = descendantsOf(victim);
      const tally: Tally = { ok: 0, failures: [], refused: 0 };
      let done = false;
      const clients = Array.from({ length: 4 }, () => keepSending(server.url, tally, () => done));
      await sleep(300);
      process.kill(victim, 'SIGKILL');
      await server.waitForLog(new RegExp(`front \\d \\(pid ${victim}\\) was killed by SIGKILL.*starting another`));
      await server.waitForLog(/front \d \(pid \d+\) ready again/, 15_000);
      const okAtRestart = tally.ok;
      await sleep(300);
      done = true;
      await Promise.all(clients);
      assert.ok(tally.ok > okAtRestart, 'requests were served after the restart');
      // At most the requests in flight on the killed front fail: one per client.
      assert.ok(tally.failures.length <= 4, `failures: ${tally.failures.join(', ')}`);
      const replaced = childrenOf(server.pid);
      assert.equal(replaced.length, 2);
      assert.ok(replaced.includes(survivor) && !replaced.includes(victim), `${replaced}`);
      await eventually('the killed front\'s workers are gone', () => (victimWorkers.every((pid) => !isRunning(pid)) ? true : undefined), 5_000);
      for (let n = 0; n < 10; n++) assert.ok(replaced.includes(await servingFront(server.url)));

      // SIGHUP: every front replaces its workers.
      const before = replaced.flatMap((front) => childrenOf(front));
      process.kill(server.pid, 'SIGHUP');
      await eventually('both fronts reloaded', () => ((server.logs().match(/reloaded: new workers ready/g) ?? []).length === 2 ? true : undefined), 15_000);
      // The old workers finish what they hold, then go.
      const after = await eventually('only the new workers left', () => {
        const workers = childrenOf(server.pid).flatMap((front) => childrenOf(front));
        return workers.length === 2 ? workers : undefined;
      }, 10_000);
      assert.ok(after.every((pid) => !before.includes(pid)), `new workers: ${before} -> ${after}`);

      // SIGTTIN and SIGTTOU: one worker more, then fewer, in every front.
      const workersEach = (count: number) => () => (replaced.every((front) => childrenOf(front).length === count) ? true : undefined);
      process.kill(server.pid, 'SIGTTIN');
      await eventually('two workers in each front', workersEach(2), 10_000);
      process.kill(server.pid, 'SIGTTOU');
      await eventually('one worker in each front again', workersEach(1), 10_000);

      // The parent killed: its fronts, and their workers, do not outlive it.
      const tree = descendantsOf(server.pid);
      process.kill(server.pid, 'SIGKILL');
      await eventually('every front and worker gone', () => (tree.every((pid) => !isRunning(pid)) ? true : undefined), 3_000);
    } finally {
      await server.stop();
    }
  });

  it('SIGTERM to the whole process group under load: --shutdown-delay served in full, zero failed requests, every front drained, exit 0', async () => {
    const server = await startFronts(2, ['-w', '2', '--shutdown-delay', '1.5']);
    try {
      const tree = descendantsOf(server.pid);
      const tally: Tally = { ok: 0, failures: [], refused: 0 };
      let done = false;
      const clients = Array.from({ length: 8 }, () => keepSending(server.url, tally, () => done));
      await sleep(500);
      assert.ok(tally.ok > 20, `load is running (${tally.ok})`);
      const sent = Date.now();
      // As systemd's control-group stop and Ctrl-C do: the parent and every front and worker at once.
      process.kill(-server.pid, 'SIGTERM');
      await eventually('not ready', async () => ((await httpRequest(`${server.control}/readyz`).catch(() => null))?.status === 503 ? true : undefined), 1_000, 50);
      const exit = await server.waitForExit(20_000);
      const took = Date.now() - sent;
      done = true;
      await Promise.all(clients);
      assert.deepEqual(tally.failures, [], server.logs());
      assert.deepEqual(exit, { code: 0, signal: null }, server.logs());
      assert.ok(took >= 1_400, `the fronts served through --shutdown-delay (${took} ms): the group's SIGTERM did not end it early`);
      assert.equal((server.logs().match(/received SIGTERM; stopping$/gm) ?? []).length, 2, 'each front stopped once');
      assert.doesNotMatch(server.logs(), /received SIGTERM again/);
      await eventually('every process gone', () => (tree.every((pid) => !isRunning(pid)) ? true : undefined), 3_000);
    } finally {
      await server.stop();
    }
  });
});

describe('--fronts 2 and SIGQUIT', { timeout: 20_000 }, () => {
  it('stops every front at once, cutting what is in flight', async () => {
    const server = await startFronts(2, ['-w', '1', '--graceful-timeout', '30']);
    try {
      const slow = httpRequest(`${server.url}/sleep?s=20`, { timeoutMs: 15_000 }).then((r) => r.status, (error: NodeJS.ErrnoException) => error.code ?? error.message);
      await sleep(500);
      const sent = Date.now();
      process.kill(server.pid, 'SIGQUIT');
      const exit = await server.waitForExit(10_000);
      assert.ok(Date.now() - sent < 5_000, 'not after --graceful-timeout');
      assert.notEqual(await slow, 200);
      assert.equal((server.logs().match(/received SIGQUIT; stopping$/gm) ?? []).length, 2, server.logs());
      assert.deepEqual(exit, { code: 0, signal: null }, server.logs());
    } finally {
      await server.stop();
    }
  });
});

describe('--fronts', { timeout: 30_000 }, () => {
  it('1 is the server itself: no parent process, the workers are its children', async () => {
    const { app, args } = fixtureApp('sleepy_app');
    const server = await startPortico({ app, args: [...args, '--fronts', '1', '-w', '1'] });
    try {
      assert.equal(await servingFront(server.url), server.pid);
      assert.doesNotMatch(server.logs(), /fronts/);
    } finally {
      await server.stop();
    }
  });

  it('a count that is not a whole number of at least 1 is a usage error', async () => {
    for (const bad of ['0', 'two', '-1']) {
      const result = await runPortico(['--fronts', bad, 'hello_app:application']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /--fronts: expected a whole number of at least 1/);
    }
  });

  it('an application that cannot be loaded halts every front with exit status 4, none respawned', async () => {
    const { app, args } = fixtureApp('raises_on_import');
    const result = await runPortico([...args, '-b', '127.0.0.1:0', '--fronts', '2', app], { timeoutMs: 20_000 });
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /stopping every front/);
    assert.doesNotMatch(result.stderr, /starting another/);
  });
});
