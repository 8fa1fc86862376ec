/**
 * The spawner helper itself, with real scripts: what it refuses, how the
 * front survives losing it, and a kill that arrives before the pid does.
 * Everything a request sees through it is covered by the handler suite
 * (cgi-handler.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CgiSpawner, MAX_STARTING } from '../../src/cgi/cgi-spawner.js';
import type { CgiProcess } from '../../src/cgi/cgi-process.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import { eventually } from '../helpers/http-client.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { prepareCgiRoot, request, startCgiServer, type CgiRoot } from './cgi-test-server.js';

const ENV = { PATH: '/usr/bin:/bin', QUERY_STRING: 'x=1' };

function captureLog(): { log: ErrorLog; text: () => string } {
  let text = '';
  const stream = new PassThrough();
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { log: new ErrorLog(stream, 'debug'), text: () => text };
}

/** Runs `script` to its end: its stdout, and how it ended or why it never started. */
function run(launched: CgiProcess): Promise<{ stdout: string; code: number | null; signal: string | null; spawnError: string | null }> {
  let stdout = '';
  launched.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  launched.stderr.resume();
  launched.stdin.end();
  return new Promise((resolve) => {
    launched.onSpawnError((error) => resolve({ stdout, code: null, signal: null, spawnError: error.message }));
    launched.onClose((code, signal) => resolve({ stdout, code, signal, spawnError: null }));
  });
}

describe('CgiSpawner', { timeout: 30_000 }, () => {
  let cgi: CgiRoot;
  let spawner: CgiSpawner;
  const captured = captureLog();
  const script = (name: string) => ({ filename: join(cgi.root, name), directory: cgi.root });
  async function launch(file: { filename: string; directory: string }): Promise<CgiProcess> {
    const launched = await spawner.launch(file, ENV);
    assert.ok(launched !== null);
    return launched;
  }

  before(async () => {
    cgi = prepareCgiRoot();
    spawner = await CgiSpawner.start(SYSTEM_PYTHON, cgi.root, captured.log);
  });
  after(() => {
    spawner.stop();
    cgi.remove();
  });

  it('runs a script and reports its pid and exit status', async () => {
    const launched = await launch(script('hello.sh'));
    const result = await run(launched);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /hello from sh, query=x=1/);
    assert.ok((launched.pid ?? 0) > 0);
  });

  it('refuses a file outside its CGI directory, whatever the front asks', async () => {
    const result = await run(await launch({ filename: join(cgi.base, 'outside.sh'), directory: cgi.base }));
    assert.match(result.spawnError ?? '', /outside the CGI directory/);
    assert.equal(existsSync(cgi.outsideMarker), false);
  });

  it('kills the group of a script whose kill came before its pid', async () => {
    const launched = await launch(script('sleeper.sh'));
    launched.killGroup(); // the pid is not known yet
    const started = Date.now();
    const result = await run(launched);
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(Date.now() - started < 5_000, 'the sleeper was not left to run');
  });

  it('starts a burst of scripts larger than any accept queue without refusing one', async () => {
    // 300 at once would be 900 connections to the spawner's socket; unbounded,
    // those past its listen backlog (capped by the kernel) failed with EAGAIN
    // whenever the spawner fell behind, as on a saturated machine. Stopping
    // it while the burst arrives makes it as far behind as it can be.
    const pid = spawner.pid as number;
    process.kill(pid, 'SIGSTOP');
    const burst = Array.from({ length: 300 }, async () => run(await launch(script('hello.sh'))));
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid, 'SIGCONT');
    const results = await Promise.all(burst);
    const failed = results.filter((result) => result.code !== 0 || !result.stdout.includes('hello from sh'));
    assert.deepEqual(failed, []);
  });

  it('starts nothing for a request that left while waiting its turn, and passes the turn on', async () => {
    const ahead = await Promise.all(Array.from({ length: MAX_STARTING }, () => launch(script('hello.sh'))));
    let wanted = true;
    const waiting = spawner.launch(script('hello.sh'), ENV, { stillWanted: () => wanted });
    // Read as soon as it starts, which may be before the ones ahead are all done.
    const behind = spawner.launch(script('hello.sh'), ENV).then((next) => (next === null ? null : run(next)));
    wanted = false; // the client of the waiting request disconnects
    await Promise.all(ahead.map(run));
    assert.equal(await waiting, null);
    assert.match((await behind)?.stdout ?? '', /hello from sh/);
  });

  it('is replaced when it dies, and scripts start directly meanwhile', async () => {
    const first = spawner.pid as number;
    process.kill(first, 'SIGKILL');
    await eventually('the loss logged', () => (captured.text().includes('CGI spawner was killed by SIGKILL') ? true : undefined), 5_000, 20);
    const meanwhile = await run(await launch(script('hello.sh')));
    assert.match(meanwhile.stdout, /hello from sh/);
    const second = await eventually('a new spawner', () => (spawner.pid !== undefined && spawner.pid !== first ? spawner.pid : undefined), 10_000, 50);
    const later = await run(await launch(script('hello.sh')));
    assert.match(later.stdout, /hello from sh/);
    assert.notEqual(second, first);
  });
});

describe('CgiHandler without a Python for the spawner', { timeout: 30_000 }, () => {
  it('warns once and starts scripts itself', async () => {
    const cgi = prepareCgiRoot();
    const server = await startCgiServer(cgi.root, { python: join(cgi.base, 'no-such-python') });
    try {
      const reply = await request(server.port, '/cgi-bin/hello.sh?x=1');
      assert.equal(reply.text, 'hello from sh, query=x=1\n');
      assert.match(server.logs(), /CGI spawner for .* could not start with '.*no-such-python'.*Set --python/);
    } finally {
      await server.close();
      cgi.remove();
    }
  });
});
