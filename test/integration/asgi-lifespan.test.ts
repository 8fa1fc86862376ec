/**
 * ASGI lifespan in each worker: startup runs before the worker is ready
 * (its state reaches every request), shutdown after the last request. A
 * startup that fails, by lifespan.startup.failed or by raising, stops
 * portico with the application's message and exit status 4, without a
 * respawn loop (lifespan spec, "Startup Failed": log the message, exit).
 * --asgi-lifespan on requires an application that speaks lifespan; auto
 * carries on without one that does not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ASGI_ARGS, startAsgi } from '../helpers/asgi-fixtures.js';
import { httpRequest } from '../helpers/http-client.js';
import { runPortico } from '../helpers/portico.js';

/** Runs portico on an application whose startup fails; it must exit by itself. */
async function failingBoot(app: string, extra: string[] = []): Promise<{ code: number | null; stderr: string; elapsedMs: number }> {
  const result = await runPortico(['-b', '127.0.0.1:0', '-w', '2', ...ASGI_ARGS, ...extra, app], { timeoutMs: 15_000 });
  return { code: result.code, stderr: result.stderr, elapsedMs: result.elapsedMs };
}

describe('ASGI lifespan', { timeout: 60_000 }, () => {
  it('runs startup before the worker is ready, gives each request its state, and runs shutdown on SIGTERM', async () => {
    const server = await startAsgi('raw_app:app', ['-w', '2']);
    try {
      const logs = server.logs();
      const startups = [...logs.matchAll(/lifespan startup pid=(\d+)/g)].map((m) => Number(m[1]));
      assert.equal(startups.length, 2, 'each worker ran its own startup');
      assert.ok(logs.lastIndexOf('lifespan startup') < logs.indexOf('workers ready'), 'both before portico said it was ready');
      const answer = JSON.parse((await httpRequest(`${server.url}/state`)).text) as { state: { booted_pid: number; greeting: string }; pid: number };
      assert.equal(answer.state.greeting, 'set in startup');
      assert.equal(answer.state.booted_pid, answer.pid, "a worker's requests see its own startup's state");
      assert.ok(startups.includes(answer.pid));
    } finally {
      const status = await server.stop();
      assert.deepEqual(status, { code: 0, signal: null }, server.logs());
    }
    const shutdowns = [...server.logs().matchAll(/lifespan shutdown pid=(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(shutdowns.length, 2, `each worker ran its shutdown:\n${server.logs()}`);
  });

  it('--asgi-lifespan off: no lifespan scope at all', async () => {
    const server = await startAsgi('raw_app:app', ['--asgi-lifespan', 'off']);
    try {
      const answer = JSON.parse((await httpRequest(`${server.url}/state`)).text) as { state: Record<string, unknown> };
      assert.deepEqual(answer.state, {});
      assert.doesNotMatch(server.logs(), /lifespan startup/);
    } finally {
      await server.stop();
    }
  });

  it('lifespan.startup.failed stops portico with exit status 4 and the application\'s message, without a respawn loop', async () => {
    const { code, stderr, elapsedMs } = await failingBoot('lifespan_apps:startup_failed');
    assert.equal(code, 4, stderr);
    assert.ok(elapsedMs < 10_000, `exited after ${elapsedMs} ms`);
    assert.match(stderr, /lifespan startup failed \(lifespan\.startup\.failed\): database unreachable at db\.invalid:5432/);
    assert.doesNotMatch(stderr, /starting a new one/);
  });

  it('an exception in startup stops portico with exit status 4, its message and traceback', async () => {
    const { code, stderr, elapsedMs } = await failingBoot('lifespan_apps:startup_raises');
    assert.equal(code, 4, stderr);
    assert.ok(elapsedMs < 10_000, `exited after ${elapsedMs} ms`);
    assert.match(stderr, /RuntimeError: SECRET_KEY is not configured/);
    assert.match(stderr, /File "[^"]*lifespan_apps\.py", line \d+, in startup_raises/);
    assert.doesNotMatch(stderr, /starting a new one/);
  });

  it('--asgi-lifespan on with an application that does not support lifespan is a boot error', async () => {
    const { code, stderr } = await failingBoot('lifespan_apps:no_lifespan', ['--asgi-lifespan', 'on']);
    assert.equal(code, 4, stderr);
    assert.match(stderr, /--asgi-lifespan on, but the ASGI application raised ValueError: this application only handles http, not lifespan/);
  });

  it('--asgi-lifespan auto serves an application that does not support lifespan', async () => {
    const server = await startAsgi('lifespan_apps:no_lifespan');
    try {
      const result = await httpRequest(`${server.url}/`);
      assert.equal(result.status, 200);
      assert.equal(result.text, 'served');
      assert.doesNotMatch(server.logs(), /\[ERROR\]/, 'its refusal of the lifespan scope is no error');
    } finally {
      await server.stop();
    }
  });
});
