/**
 * --preload: the application is imported once, in a zygote, and the workers
 * are forked from it. Counted by the fixture's import-time side effect; and
 * the memory it saves is measured (PSS of 4 workers of a Django project,
 * with and without it) and reported, not asserted.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { pssKiB, workerPids } from '../helpers/worker-tree.js';
import { descendantsOf } from '../helpers/proc.js';


function importLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

describe('--preload imports the application once', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-preload-');
  after(() => temp.remove());

  for (const preload of [true, false]) {
    it(`${preload ? 'with' : 'without'} --preload, 4 workers cost ${preload ? 'one import' : 'four imports'}`, async () => {
      const log = join(temp.path, `imports-${preload}.log`);
      const { app, args } = fixtureApp('import_counter_app');
      const server = await startPortico({ app, args: [...args, '-w', '4', ...(preload ? ['--preload'] : [])], env: { IMPORT_LOG: log } });
      try {
        const workers = workerPids(server.pid);
        assert.equal(workers.length, 4, 'four worker processes');
        const imports = importLines(log);
        assert.equal(imports.length, preload ? 1 : 4, `imports: ${imports.join(', ')}`);
        if (preload) {
          assert.ok(!workers.includes(Number(imports[0])), 'imported in a process that is not a worker');
          // A respawn forks again from the zygote: still one import.
          process.kill(workers[0] as number, 'SIGKILL');
          await eventually('the worker replaced', () => {
            const now = workerPids(server.pid);
            return now.length === 4 && !now.includes(workers[0] as number) ? true : undefined;
          }, 10_000);
          assert.equal((await httpRequest(`${server.url}/`)).status, 200);
          assert.equal(importLines(log).length, 1, 'the replacement did not import the application again');
        } else {
          assert.deepEqual(imports.map(Number).sort((a, b) => a - b), workers, 'each worker imported it itself');
        }
      } finally {
        await server.stop();
      }
    });
  }
});

describe('--preload memory, Django, -w 4', { timeout: 120_000 }, () => {
  const temp = makeTempDir('portico-preload-django-');
  after(() => temp.remove());

  it('reports the total PSS of the workers with and without --preload', async (t) => {
    const generated = spawnSync(SYSTEM_PYTHON, ['-m', 'django', 'startproject', 'proj', temp.path], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(generated.status, 0, `startproject failed: ${generated.stderr}`);
    const figures: Record<string, { workersKiB: number[]; totalKiB: number; zygoteKiB: number | null }> = {};
    for (const preload of [false, true]) {
      const server = await startPortico({
        app: 'proj.wsgi:application',
        args: ['--chdir', temp.path, '--python', SYSTEM_PYTHON, '-w', '4', ...(preload ? ['--preload'] : [])],
        readyTimeoutMs: 60_000,
      });
      try {
        // Every worker serves a few pages, so each has touched what a request touches.
        for (let round = 0; round < 3; round++) {
          const pages = await Promise.all(Array.from({ length: 8 }, () => httpRequest(`${server.url}/admin/login/`, { timeoutMs: 20_000 })));
          assert.deepEqual(pages.map((p) => p.status), Array(8).fill(200), 'the project serves');
        }
        const workers = workerPids(server.pid);
        assert.equal(workers.length, 4);
        const workersKiB = workers.map((pid) => pssKiB(pid) ?? 0);
        const zygote = preload ? descendantsOf(server.pid).find((pid) => !workers.includes(pid)) : undefined;
        figures[preload ? 'preload' : 'no-preload'] = {
          workersKiB,
          totalKiB: workersKiB.reduce((a, b) => a + b, 0),
          zygoteKiB: zygote === undefined ? null : pssKiB(zygote),
        };
      } finally {
        await server.stop();
      }
    }
    for (const [name, f] of Object.entries(figures)) {
      t.diagnostic(`${name}: total PSS of 4 workers ${(f.totalKiB / 1024).toFixed(1)} MiB (${f.workersKiB.join(', ')} KiB)${f.zygoteKiB === null ? '' : `; zygote ${(f.zygoteKiB / 1024).toFixed(1)} MiB`}`);
      assert.ok(f.totalKiB > 0 && f.workersKiB.every((k) => k > 0), `${name}: PSS figures are positive`);
    }
    const dir = join(REPO_ROOT, 'test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'preload-pss.json'), JSON.stringify({ measuredAt: new Date().toISOString(), app: 'django startproject, GET /admin/login/', workers: 4, figures }, null, 2) + '\n');
  });
});
