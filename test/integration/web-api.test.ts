/**
 * The programmatic API, as a JavaScript caller uses it: createServer() with
 * typed options, listen() and close() promises, address(), and the events
 * 'start', 'workerExit' and 'reload'. The workers are this test process's
 * own children, so every pid seen is remembered and killed at the end if
 * close() left it behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppLoadError, ConfigError, createServer, type Server, type ServerOptions } from '../../src/index.js';
import { FIXTURE_APPS } from '../helpers/paths.js';
import { eventually, getJson, httpRequest } from '../helpers/http-client.js';
import { isRunning, startTime } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { WEB_APPS, WEB_CGI_BIN, WEB_FIXTURES, WEB_PUBLIC, type Whoami } from '../helpers/web-fixtures.js';

/** Every worker pid seen, with its start time, so that a reused pid is never killed. */
const seenPids = new Map<number, string | null>();
process.on('exit', () => {
  for (const [pid, since] of seenPids) {
    if (since === null || startTime(pid) !== since) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** How many 'reload' events one server.reload() call emits. */
async function reloadEvents(server: Server): Promise<number> {
  let reloads = 0;
  const count = (): void => void reloads++;
  server.on('reload', count);
  try {
    await server.reload();
  } finally {
    server.off('reload', count);
  }
  return reloads;
}

function remember(server: Server): number[] {
  for (const pid of server.workerPids) if (!seenPids.has(pid)) seenPids.set(pid, startTime(pid));
  return server.workerPids;
}

describe('web: the programmatic API', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-api-');
  const errorLog = join(temp.path, 'error.log');
  let server: Server;
  let started: Promise<unknown[]>;

  before(async () => {
    const options: Partial<ServerOptions> = {
      app: 'echo_environ:application',
      pythonpath: [FIXTURE_APPS],
      bind: ['127.0.0.1:0'],
      workers: 2,
      errorLogfile: errorLog,
      gracefulTimeout: 5,
      mounts: [
        { kind: 'app', path: '/probe', app: 'pool_probe:application', settings: { chdir: WEB_APPS, workers: 1, env: { PORTICO_TEST_POOL: 'api' } } },
        { kind: 'cgi', path: '/cgi-bin/', root: WEB_CGI_BIN },
        { kind: 'static', path: '/static/', root: WEB_PUBLIC },
      ],
    };
    server = createServer(options);
    started = once(server, 'start');
    await server.listen();
    remember(server);
  });

  after(async () => {
    await server?.close(2_000);
    temp.remove();
  });

  it('takes typed options', () => {
    // @ts-expect-error workers is a number: this file does not compile if the type lets a string through
    const wrong: Partial<ServerOptions> = { workers: 'two' };
    // @ts-expect-error a mount's kind is 'app', 'cgi' or 'static'
    const wrongMount: Partial<ServerOptions> = { mounts: [{ kind: 'php', path: '/x', root: '/tmp' }] };
    assert.ok(wrong && wrongMount);
  });

  it("emits 'start' with the bound URLs, which address() returns", async () => {
    const [urls] = await started;
    const addresses = server.address();
    assert.deepEqual(urls, addresses);
    assert.equal(addresses.length, 1);
    assert.match(addresses[0] as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(addresses[0], 'http://127.0.0.1:0', 'the real port, not 0');
  });

  it('serves every mount once listen() has resolved', async () => {
    const url = server.address()[0] as string;
    const root = await getJson<{ environ: Record<string, string> }>(`${url}/x`);
    assert.deepEqual([root.environ.SCRIPT_NAME, root.environ.PATH_INFO], ['', '/x']);
    const probe = await getJson<Whoami>(`${url}/probe/y`);
    assert.deepEqual([probe.script_name, probe.path_info, probe.env.PORTICO_TEST_POOL], ['/probe', '/y', 'api']);
    assert.equal(server.workerPids.length, 3, 'two workers at / and one at /probe');
    assert.match((await httpRequest(`${url}/cgi-bin/where.sh`)).text, /^SCRIPT_NAME=\/cgi-bin\/where\.sh$/m);
    assert.equal((await httpRequest(`${url}/static/hello.txt`)).text, 'hello from public/\n');
    assert.match(readFileSync(errorLog, 'utf8'), /listening on http:\/\/127\.0\.0\.1:\d+, 3 workers ready/, 'the error log went to errorLogfile');
  });

  it("emits 'workerExit' when a worker dies, and replaces it", async () => {
    const before = remember(server);
    const victim = before[0] as number;
    const exited = once(server, 'workerExit');
    process.kill(victim, 'SIGKILL');
    const [pid, description] = (await exited) as [number, string];
    assert.equal(pid, victim);
    assert.equal(typeof description, 'string');
    assert.ok(description.length > 0, 'the event says how the worker ended');
    const after = await eventually('a replacement worker', () => {
      const pids = remember(server);
      return pids.length === before.length && !pids.includes(victim) ? pids : undefined;
    });
    assert.equal(after.length, 3);
  });

  it("emits 'reload' when reload() brings new workers, and resolves once they serve", async () => {
    const old = remember(server);
    const reloads = await reloadEvents(server);
    assert.ok(reloads >= 1, "'reload' was emitted");
    const fresh = remember(server);
    assert.equal(fresh.length, old.length);
    assert.ok(fresh.every((pid) => !old.includes(pid)), `all workers are new: ${old} -> ${fresh}`);
    assert.equal((await httpRequest(`${server.address()[0]}/probe/`)).status, 200);
  });

  it("emits 'reload' once per reload() call, however many WSGI mounts there are", async () => {
    const reloads = await reloadEvents(server);
    remember(server);
    assert.equal(reloads, 1, `'reload' events for one reload() of a server with two WSGI mounts`);
  });

  it('close() resolves once every worker is gone and the port is closed', async () => {
    const url = server.address()[0] as string;
    const pids = remember(server);
    await server.close(2_000);
    assert.deepEqual(pids.filter(isRunning), [], 'no worker left');
    await assert.rejects(httpRequest(`${url}/`, { timeoutMs: 2_000 }), /ECONNREFUSED/);
  });
});

describe('web: the programmatic API refuses what cannot work', { timeout: 30_000 }, () => {
  it('throws ConfigError from createServer() for a directory that does not exist', () => {
    assert.throws(
      () => createServer({ bind: ['127.0.0.1:0'], mounts: [{ kind: 'static', path: '/static/', root: join(WEB_FIXTURES, 'no-such-dir') }] }),
      (error: unknown) => error instanceof ConfigError && error.code === 'PORTICO_ERR_CONFIG' && /no-such-dir/.test(error.message),
    );
  });

  it('throws ConfigError from createServer() for two mounts on one prefix', () => {
    assert.throws(
      () =>
        createServer({
          bind: ['127.0.0.1:0'],
          mounts: [
            { kind: 'static', path: '/a', root: WEB_APPS },
            { kind: 'static', path: '/a/', root: WEB_APPS },
          ],
        }),
      (error: unknown) => error instanceof ConfigError && error.code === 'PORTICO_ERR_CONFIG',
    );
  });

  it('rejects listen() with AppLoadError when the application does not import, and leaves no worker', async () => {
    const temp = makeTempDir('portico-api-fail-');
    const server = createServer({ app: 'raises_on_import:application', pythonpath: [FIXTURE_APPS], bind: ['127.0.0.1:0'], errorLogfile: join(temp.path, 'error.log') });
    try {
      await assert.rejects(server.listen(), (error: unknown) => error instanceof AppLoadError && error.code === 'PORTICO_ERR_APP_LOAD');
      await eventually('no worker left', () => (server.workerPids.filter(isRunning).length === 0 ? true : undefined), 5_000);
    } finally {
      remember(server);
      await server.close(1_000);
      temp.remove();
    }
  });
});
