/**
 * The lifecycle controls of WSGI work for an ASGI mount alike (issue #13):
 * --preload forks ASGI workers that each run their own loop, --reload
 * serves changed code, and SIGTTIN/SIGTTOU add and remove an ASGI worker.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ASGI_ARGS, startAsgi } from '../helpers/asgi-fixtures.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { startPortico } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { workerPids } from '../helpers/worker-tree.js';

/** The pids that answer `count` requests to /pid of raw_app, which runs them at once. */
async function answeringPids(url: string, count: number): Promise<Set<number>> {
  const answers = await Promise.all(Array.from({ length: count }, () => httpRequest(`${url}/sleep?s=0.3`)));
  return new Set(answers.map((answer) => (JSON.parse(answer.text) as { pid: number }).pid));
}

describe('ASGI mounts under the lifecycle controls', { timeout: 60_000 }, () => {
  it('--preload: forked ASGI workers serve, each its own process', async () => {
    const server = await startAsgi('raw_app:app', ['--preload', '-w', '2', '--interface', 'asgi']);
    try {
      const answering = await eventually('both forked workers answer', async () => {
        const seen = new Set<number>();
        for (let i = 0; i < 5 && seen.size < 2; i++) for (const pid of await answeringPids(server.url, 20)) seen.add(pid);
        return seen.size === 2 ? seen : undefined;
      }, 10_000);
      assert.equal(answering.size, 2);
      for (const pid of answering) assert.notEqual(pid, server.pid, 'answered by a worker, not the front');
    } finally {
      await server.stop();
    }
  });

  it('--reload: a changed ASGI application is served without a restart of portico', async () => {
    const dir = makeTempDir('portico-asgi-reload-');
    const write = (text: string): void =>
      writeFileSync(
        join(dir.path, 'reloading_app.py'),
        `async def app(scope, receive, send):\n    if scope["type"] != "http":\n        return\n    await send({"type": "http.response.start", "status": 200, "headers": []})\n    await send({"type": "http.response.body", "body": b"${text}"})\n`,
      );
    write('first');
    const server = await startPortico({ app: 'reloading_app:app', args: ['--chdir', dir.path, '--python', SYSTEM_PYTHON, '--reload', '-w', '1'] });
    try {
      assert.equal((await httpRequest(`${server.url}/`)).text, 'first');
      write('second');
      await eventually('the new code answers', async () => ((await httpRequest(`${server.url}/`)).text === 'second' ? true : undefined), 15_000);
    } finally {
      await server.stop();
      dir.remove();
    }
  });

  it('SIGTTIN and SIGTTOU add and remove an ASGI worker', async () => {
    const server = await startPortico({ app: 'raw_app:app', args: [...ASGI_ARGS, '-w', '1'] });
    const count = (n: number): Promise<number[]> =>
      eventually(`${n} worker processes`, () => {
        const pids = workerPids(server.pid);
        return pids.length === n ? pids : undefined;
      }, 10_000);
    try {
      const [first] = await count(1);
      process.kill(server.pid, 'SIGTTIN');
      const two = await count(2);
      assert.ok(two.includes(first as number), 'the first worker serves on');
      await eventually('the new ASGI worker answers', async () => ((await answeringPids(server.url, 20)).size === 2 ? true : undefined), 10_000);
      process.kill(server.pid, 'SIGTTOU');
      const one = await count(1);
      assert.ok(two.includes(one[0] as number), 'removing one starts none');
      assert.equal((await httpRequest(`${server.url}/sleep?s=0`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});
