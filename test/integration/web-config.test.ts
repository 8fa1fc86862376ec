/**
 * Where the mounts come from, through the real CLI: portico.toml found in
 * the working directory, [tool.portico] in pyproject.toml, -c/--config
 * FILE, and command-line settings laid over the file's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { runPortico, startPortico, type Portico, type StartOptions } from '../helpers/portico.js';
import { getJson, httpRequest } from '../helpers/http-client.js';
import { workerPids } from '../helpers/worker-tree.js';
import { BAD_CONFIGS, WEB_FIXTURES, WEB_SITE, WEB_SITE_CONFIG } from '../helpers/web-fixtures.js';

interface Echo {
  environ: Record<string, string>;
  env: Record<string, string>;
  pid: number;
}

const PUBLIC_HELLO = 'hello from public/\n';

async function withServer<T>(options: StartOptions, use: (server: Portico) => Promise<T>): Promise<T> {
  const server = await startPortico(options);
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}

/** The three mounts of site/portico.toml answer. */
async function assertSiteServed(server: Portico): Promise<void> {
  const echo = await getJson<Echo>(`${server.url}/app/x`);
  assert.equal(echo.environ.SCRIPT_NAME, '/app');
  assert.equal(echo.environ.PATH_INFO, '/x');
  const hello = await httpRequest(`${server.url}/static/hello.txt`);
  assert.equal(hello.status, 200);
  assert.equal(hello.text, PUBLIC_HELLO);
  const cgi = await httpRequest(`${server.url}/cgi-bin/where.sh`);
  assert.equal(cgi.status, 200, cgi.text);
  assert.match(cgi.text, /^SCRIPT_NAME=\/cgi-bin\/where\.sh$/m);
}

describe('web: where the mounts come from', { timeout: 60_000 }, () => {
  it('reads portico.toml from the working directory without -c', async () => {
    await withServer({ app: null, cwd: WEB_SITE }, async (server) => {
      await assertSiteServed(server);
      const echo = await getJson<Echo>(`${server.url}/app/`);
      assert.equal(echo.env.PORTICO_TEST_SOURCE, 'site/portico.toml');
      // Nothing is mounted at '/': the file's mounts are all there is.
      assert.equal((await httpRequest(`${server.url}/elsewhere`)).status, 404);
    });
  });

  it("reads [tool.portico] and [[tool.portico.mount]] from pyproject.toml in the working directory", async () => {
    await withServer({ app: null, cwd: join(WEB_FIXTURES, 'pyproject') }, async (server) => {
      const echo = await getJson<Echo>(`${server.url}/py/y`);
      assert.equal(echo.environ.SCRIPT_NAME, '/py');
      assert.equal(echo.environ.PATH_INFO, '/y');
      assert.equal(echo.env.PORTICO_TEST_SOURCE, 'pyproject.toml');
      const hello = await httpRequest(`${server.url}/files/hello.txt`);
      assert.equal(hello.status, 200);
      assert.equal(hello.text, PUBLIC_HELLO);
    });
  });

  it('reads -c FILE relative to the working directory, its paths relative to the file', async () => {
    await withServer({ app: null, cwd: REPO_ROOT, args: ['-c', 'test/fixtures/web/site/portico.toml'] }, assertSiteServed);
  });

  it('reads --config=FILE, a pyproject.toml too', async () => {
    await withServer({ app: null, cwd: REPO_ROOT, args: ['--config=test/fixtures/web/pyproject/pyproject.toml'] }, async (server) => {
      assert.equal((await getJson<Echo>(`${server.url}/py`)).env.PORTICO_TEST_SOURCE, 'pyproject.toml');
    });
  });

  it("lets the command line override the file's settings, and add mounts to its", async () => {
    const args = ['-c', WEB_SITE_CONFIG, '-w', '2', '-e', 'PORTICO_TEST_SOURCE=cli', '--static', '/more/=test/fixtures/static'];
    await withServer({ app: null, cwd: REPO_ROOT, args }, async (server) => {
      assert.equal(server.workers, 2, '-w 2 beats the file\'s workers = 1');
      assert.equal(workerPids(server.pid).length, 2, 'two workers in /proc');
      assert.equal((await getJson<Echo>(`${server.url}/app`)).env.PORTICO_TEST_SOURCE, 'cli', "-e beats the file's env");
      await assertSiteServed(server);
      const added = await httpRequest(`${server.url}/more/hello.txt`);
      assert.equal(added.status, 200);
      assert.equal(added.text.trim(), 'hello, static world');
    });
  });

  it('takes a pyproject.toml without [tool.portico] for no config at all', async () => {
    const result = await runPortico(['-b', '127.0.0.1:0'], { cwd: join(BAD_CONFIGS, 'pyproject-no-table'), timeoutMs: 10_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /missing the application/);
    assert.doesNotMatch(result.stderr, /pyproject/);
  });
});
