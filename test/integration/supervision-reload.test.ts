/**
 * SIGHUP: a graceful reload. New workers import the application afresh
 * (the test edits its file between reloads), the old ones finish what they
 * hold, the listening socket never closes, and code that no longer loads
 * leaves the old workers serving; with --preload the zygote is replaced too.
 * And --reload, which does the same when a Python file (or a
 * --reload-extra-file) changes, and serves an error page with the traceback
 * while the changed code does not load.
 */
import { after, before, describe, it } from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest, sleep } from '../helpers/http-client.js';
import { versionedApp, versionedPid } from '../helpers/versioned-app.js';
import { childrenOf, isReaped, isRunning } from '../helpers/proc.js';
import { workerPids } from '../helpers/worker-tree.js';
import { servingPids } from '../helpers/serving-workers.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { requestOnce } from '../helpers/load-client.js';

const pidOf = versionedPid;

/** `v1 1234` from the first request that answers with `version`, polling while the reload happens. */
function untilVersion(server: Portico, version: string, timeoutMs = 15_000): Promise<number> {
  return eventually(`${version} answers`, async () => {
    const result = await httpRequest(`${server.url}/`);
    return result.status === 200 && result.text.startsWith(`${version} `) ? pidOf(result.text) : undefined;
  }, timeoutMs, 100);
}

/** The --preload zygote: the child of portico whose children are the workers. */
function zygoteOf(server: Portico): number | undefined {
  const workers = workerPids(server.pid);
  return childrenOf(server.pid).find((pid) => childrenOf(pid).some((child) => workers.includes(child)));
}

/** Opens a TCP connection every few ms until stopped; counts the ones that failed. */
function probeListener(port: number): { stop(): Promise<{ tries: number; failures: string[] }> } {
  let running = true;
  let tries = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      tries++;
      const result = await new Promise<string>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      if (result !== 'connected') failures.push(result);
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { tries, failures };
    },
  };
}

describe('SIGHUP, -w 2', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-reload-');
  const app = versionedApp(temp.path);
  let server: Portico;
  let reloads = 0;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, '-w', '2', '--graceful-timeout', '10'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  /** Sends SIGHUP and waits for the log to say the new workers are ready. */
  async function reload(): Promise<void> {
    reloads++;
    process.kill(server.pid, 'SIGHUP');
    await eventually(`reload ${reloads} done`, () => ((server.logs().match(/reloaded: new workers ready/g)?.length ?? 0) >= reloads ? true : undefined), 15_000, 50);
  }

  it('brings new workers with freshly imported code; old ones finish their requests; the listener never closes', async () => {
    const old = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    const inflight = httpRequest(`${server.url}/slow?s=2`, { timeoutMs: 15_000 });
    await sleep(200);
    app.setVersion('v2');
    const probe = probeListener(server.port);
    await reload();
    const fresh = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    const probed = await probe.stop();
    assert.deepEqual(probed.failures, [], `every connection attempt during the reload succeeded (${probed.tries} tries)`);
    assert.ok([...fresh].every((pid) => !old.has(pid)), 'two new workers');
    const answers = await Promise.all([0, 1].map(() => httpRequest(`${server.url}/slow?s=0.3`)));
    assert.deepEqual(answers.map((a) => a.text.split(' ')[0]), ['v2', 'v2'], 'the new code answers');
    const held = await inflight;
    assert.equal(held.status, 200, 'the request in flight during the reload completes');
    assert.match(held.text, /^v1 /, 'on the old code');
    assert.ok(old.has(pidOf(held.text)));
    for (const pid of old) await eventually(`old worker ${pid} exits`, () => (isReaped(pid) ? true : undefined), 10_000);
    assert.doesNotMatch(server.logs(), /starting a new one/, 'no worker crashed');
  });

  it('reloads again and again', async () => {
    for (const version of ['v3', 'v4']) {
      app.setVersion(version);
      await reload();
      const answers = await Promise.all([0, 1].map(() => httpRequest(`${server.url}/slow?s=0.2`)));
      assert.deepEqual(answers.map((a) => a.text.split(' ')[0]), [version, version]);
    }
  });

  it('keeps the old workers serving when the new code does not load', async () => {
    app.setVersion('v4');
    await reload();
    const before = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    app.breakIt();
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog(/reload failed; the current workers keep serving/, 15_000);
    await server.waitForLog(/SyntaxError/, 2_000);
    assert.ok(isRunning(server.pid));
    const after = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    assert.deepEqual([...after].sort(), [...before].sort(), 'the same workers serve');
    assert.equal((await httpRequest(`${server.url}/`)).text.split(' ')[0], 'v4');
    app.setVersion('v5');
    await reload();
    assert.equal((await httpRequest(`${server.url}/`)).text.split(' ')[0], 'v5', 'a later reload with good code works');
  });
});

describe('SIGHUP while a threaded worker finishes many requests at once, -w 1 --threads 16', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-reload-race-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, '-w', '1', '--threads', '16', '--keep-alive', '60'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  // The retired worker sends its last responses and exits at once: the
  // front must deliver every response the worker sent before it exited, and
  // keep the client's connection for its next request.
  it('delivers every response the retired worker finished, and keeps the connections', async () => {
    const CLIENTS = 16;
    const ROUNDS = 16;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const base = new URL(server.url);
    const outcomes: Record<string, number> = {};
    const note = (what: string): void => {
      outcomes[what] = (outcomes[what] ?? 0) + 1;
    };
    const get = (path: string): Promise<void> =>
      requestOnce(agent, base, path, 10_000).then(
        (r) => note(String(r.status)),
        (error: NodeJS.ErrnoException) => note(error.code ?? error.message),
      );
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const clients = Array.from({ length: CLIENTS }, (_, i) => get(`/slow?s=0.4&round=${round}&i=${i}`).then(() => get(`/?after=${round}`)));
        await sleep(150);
        process.kill(server.pid, 'SIGHUP');
        await Promise.all(clients);
        await eventually(`reload ${round} done`, () => ((server.logs().match(/reloaded: new workers ready/g)?.length ?? 0) >= round ? true : undefined), 15_000, 20);
      }
    } finally {
      agent.destroy();
    }
    const complaints = server.logs().split('\n').filter((line) => /\[(WARNING|ERROR)\]/.test(line)).slice(0, 5).join('\n');
    assert.deepEqual(outcomes, { 200: 2 * CLIENTS * ROUNDS }, `outcomes ${JSON.stringify(outcomes)}; server said:\n${complaints}`);
  });
});

describe('--reload', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-autoreload-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, '-w', '2', '--reload'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('restarts the workers with the new code when the application file changes', async () => {
    const old = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    const inflight = httpRequest(`${server.url}/slow?s=1.5`, { timeoutMs: 15_000 });
    await sleep(200);
    app.setVersion('v2');
    const answer = await eventually('the new code answers', async () => {
      const result = await httpRequest(`${server.url}/`);
      return result.text.startsWith('v2 ') ? result : undefined;
    }, 15_000, 100);
    assert.equal(answer.status, 200);
    const held = await inflight;
    assert.equal(held.status, 200, 'the request in flight during the reload completes');
    const fresh = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    assert.ok([...fresh].every((pid) => !old.has(pid)), 'all workers replaced');
  });
});

describe('SIGHUP with --preload, -w 2', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-reload-preload-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, '-w', '2', '--preload'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('replaces the zygote too: the new code is imported in a new zygote, and the old zygote and its workers are gone', async () => {
    const oldWorkers = workerPids(server.pid);
    const oldZygote = zygoteOf(server);
    assert.equal(oldWorkers.length, 2);
    assert.ok(oldZygote !== undefined, 'a zygote above the workers');
    assert.match((await httpRequest(`${server.url}/`)).text, /^v1 /);
    // In flight across the reload: its old worker finishes it after its zygote was stopped.
    const inFlight = httpRequest(`${server.url}/slow?s=1.5`, { timeoutMs: 15_000 });
    await sleep(300);
    app.setVersion('v2');
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog(/reloaded: new workers ready/, 15_000);
    const finished = await inFlight;
    assert.equal(finished.status, 200);
    assert.match(finished.text, /^v1 /, 'the request in flight finished on the old code');
    // Not reaped by portico: the old zygote ends before its workers, which
    // then belong to init; gone from the living is what counts.
    for (const pid of [oldZygote, ...oldWorkers]) await eventually(`old process ${pid} gone`, () => (isRunning(pid) ? undefined : true), 10_000);
    const zygote = zygoteOf(server);
    assert.ok(zygote !== undefined && zygote !== oldZygote, `a new zygote (${zygote}, was ${oldZygote})`);
    const workers = await eventually('two workers', () => {
      const pids = workerPids(server.pid);
      return pids.length === 2 ? pids : undefined;
    }, 10_000);
    assert.deepEqual(childrenOf(zygote).sort((a, b) => a - b), workers, 'the workers are forked from the new zygote');
    const served = await servingPids(server.url, 2, '/slow?s=0.3', pidOf);
    assert.deepEqual([...served].sort((a, b) => a - b), workers, 'they serve');
    const answers = await Promise.all([0, 1].map(() => httpRequest(`${server.url}/slow?s=0.2`)));
    assert.deepEqual(answers.map((a) => a.text.split(' ')[0]), ['v2', 'v2'], 'the new code answers');
    assert.doesNotMatch(server.logs(), /starting a new one/, 'no worker crashed');
    assert.doesNotMatch(server.logs(), /the --preload zygote/, 'the replaced zygote ending is no surprise');
  });
});

describe('--reload when the changed code does not load, -w 1', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-autoreload-broken-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, '-w', '1', '--reload'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('stays up serving a 500 page with the traceback, and recovers by itself once the file is fixed', async () => {
    assert.match((await httpRequest(`${server.url}/`)).text, /^v1 /);
    app.breakIt();
    const page = await eventually('the error page', async () => {
      const result = await httpRequest(`${server.url}/`);
      return result.status === 500 ? result : undefined;
    }, 15_000, 100);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /failed to load/);
    assert.match(page.text, /versioned_app\.py/, 'the traceback names the file');
    assert.match(page.text, /SyntaxError/, 'and the error');
    assert.match(page.text, /def oops\(:/, 'and the offending line');
    await server.waitForLog(/the changed code failed to load/, 5_000);
    assert.equal((await httpRequest(`${server.url}/slow?s=0`)).status, 500, 'every page shows it while the code is broken');
    assert.ok(isRunning(server.pid), 'the server stays up');
    app.setVersion('v2');
    await untilVersion(server, 'v2');
    await server.waitForLog(/the application loads again/, 5_000);
    assert.equal((await httpRequest(`${server.url}/slow?s=0`)).status, 200);
  });
});

// gunicorn: reload_extra_files "extends --reload"; without --reload it turns it on, and says so.
for (const reloadFlag of [['--reload'], []]) {
  describe(`--reload-extra-file${reloadFlag.length === 0 ? ' alone' : ' with --reload'}`, { timeout: 60_000 }, () => {
    const temp = makeTempDir('portico-reload-extra-');
    // Read once, when the application is imported: only a reload shows a change.
    const APP = [
      'import os',
      "with open(os.environ['GREETING_FILE']) as f:",
      '    GREETING = f.read().strip()',
      'def application(environ, start_response):',
      "    body = ('%s %d' % (GREETING, os.getpid())).encode()",
      "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])",
      '    return [body]',
      '',
    ].join('\n');
    const code = join(temp.path, 'code');
    // Outside --chdir and not a .py file: only --reload-extra-file can notice it.
    const greeting = join(temp.path, 'conf', 'greeting.txt');
    let server: Portico;
    before(async () => {
      mkdirSync(code);
      mkdirSync(join(temp.path, 'conf'));
      writeFileSync(join(code, 'greeting_app.py'), APP);
      writeFileSync(greeting, 'hello\n');
      server = await startPortico({
        app: 'greeting_app:application',
        args: ['--chdir', code, '-w', '1', ...reloadFlag, '--reload-extra-file', greeting],
        env: { GREETING_FILE: greeting },
      });
    });
    after(async () => {
      await server?.stop();
      temp.remove();
    });

    it('reloads the workers when the extra file changes', async () => {
      const first = await untilVersion(server, 'hello');
      writeFileSync(greeting, 'bonjour\n');
      const second = await untilVersion(server, 'bonjour');
      assert.notEqual(second, first, 'a new worker read it');
      assert.match(server.logs(), /greeting\.txt changed; reloading/);
    });

    it(reloadFlag.length === 0 ? 'says at start-up that it implies --reload' : 'says nothing of an implied --reload', () => {
      const implied = /\[INFO\] --reload-extra-file implies --reload/;
      if (reloadFlag.length === 0) assert.match(server.logs(), implied);
      else assert.doesNotMatch(server.logs(), implied);
    });
  });
}

describe('--reload with APP given as a file outside --chdir and --pythonpath', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-reload-script-');
  const script = (version: string): string =>
    [
      'import os',
      `VERSION = '${version}'`,
      'def application(environ, start_response):',
      "    body = ('%s %d' % (VERSION, os.getpid())).encode()",
      "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])",
      '    return [body]',
      '',
    ].join('\n');
  after(() => temp.remove());

  // A .py named by a relative path, and a mod_wsgi .wsgi by an absolute one.
  for (const [name, appArg] of [
    ['site_app.py', '../site/site_app.py'],
    ['site.wsgi', join(temp.path, 'site', 'site.wsgi')],
  ] as const) {
    it(`restarts the workers when ${name} changes`, async () => {
      const site = join(temp.path, 'site');
      const run = join(temp.path, 'run');
      mkdirSync(site, { recursive: true });
      mkdirSync(run, { recursive: true });
      const file = join(site, name);
      writeFileSync(file, script('v1'));
      const server = await startPortico({ app: appArg, args: ['--chdir', run, '-w', '1', '--reload'] });
      try {
        const first = await untilVersion(server, 'v1');
        writeFileSync(file, script('v2'));
        const second = await untilVersion(server, 'v2');
        assert.notEqual(second, first, 'a new worker imported the file');
        assert.match(server.logs(), new RegExp(`${name.replace('.', '\\.')} changed; reloading`));
      } finally {
        await server.stop();
      }
    });
  }
});
