/**
 * Each WSGI mount has its own pool with its own settings: interpreter,
 * chdir, pythonpath, env, workers, threads, timeout and max-requests
 * (mod_wsgi's WSGIDaemonProcess per application). One mount runs pyenv's
 * python3 with the stdlib probe, the other Debian's /usr/bin/python3 with a
 * Flask app (test/fixtures/web/pools/portico.toml).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FLASK_APP_DIR, SYSTEM_PYTHON } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually, getJson, httpRequest } from '../helpers/http-client.js';
import { servingPids } from '../helpers/serving-workers.js';
import { workerPids } from '../helpers/worker-tree.js';
import { WEB_APPS, WEB_FIXTURES, executableOf, type Whoami } from '../helpers/web-fixtures.js';

const pidOf = (body: string): number => (JSON.parse(body) as Whoami).pid;

describe('web: one pool per WSGI mount', { timeout: 60_000 }, () => {
  let server: Portico;
  let pyenv: Whoami;
  let system: Whoami;
  before(async () => {
    server = await startPortico({ app: null, args: ['-c', join(WEB_FIXTURES, 'pools', 'portico.toml')], readyTimeoutMs: 30_000 });
    pyenv = await getJson<Whoami>(`${server.url}/pyenv/whoami`);
    system = await getJson<Whoami>(`${server.url}/system/whoami`);
  });
  after(async () => {
    await server?.stop();
  });

  it('runs each mount on its own interpreter', () => {
    assert.equal(realpathSync(system.executable), realpathSync(SYSTEM_PYTHON));
    assert.notEqual(realpathSync(pyenv.executable), realpathSync(system.executable), 'python = "python3" is not /usr/bin/python3 here');
    assert.equal(system.flask, 'flask', 'the Flask app runs on the interpreter that has Flask');
  });

  it('starts each mount with its own worker count, as /proc shows', () => {
    assert.equal(server.workers, 5, 'the listening line counts 2 + 3 workers');
    const byExecutable = new Map<string, number>();
    for (const pid of workerPids(server.pid)) {
      const exe = executableOf(pid) ?? '?';
      byExecutable.set(exe, (byExecutable.get(exe) ?? 0) + 1);
    }
    assert.equal(byExecutable.get(realpathSync(pyenv.executable)), 2, `workers by interpreter: ${JSON.stringify([...byExecutable])}`);
    assert.equal(byExecutable.get(realpathSync(system.executable)), 3, `workers by interpreter: ${JSON.stringify([...byExecutable])}`);
  });

  it('serves each mount from as many distinct workers as it has', async () => {
    const pyenvPids = await servingPids(server.url, 2, '/pyenv/sleep?s=0.3', pidOf);
    const systemPids = await servingPids(server.url, 3, '/system/sleep?s=0.3', pidOf);
    assert.ok([...pyenvPids].every((pid) => !systemPids.has(pid)), 'no worker serves both mounts');
  });

  it('gives each mount its own chdir, pythonpath and env', () => {
    assert.equal(realpathSync(pyenv.cwd), realpathSync(WEB_APPS));
    assert.equal(realpathSync(system.cwd), realpathSync(FLASK_APP_DIR));
    const systemPath = system.sys_path.map((p) => resolve(p));
    assert.ok(systemPath.includes(WEB_APPS), `pythonpath "../web/apps", from the mount's chdir, is on sys.path: ${systemPath.join(', ')}`);
    assert.ok(!pyenv.sys_path.map((p) => resolve(p)).includes(FLASK_APP_DIR), "the other mount's directories are not on sys.path");
    assert.deepEqual(pyenv.env, { PORTICO_TEST_POOL: 'pyenv' });
    assert.deepEqual(system.env, { PORTICO_TEST_POOL: 'system', PORTICO_TEST_FLASK: 'yes' });
  });

  it('gives each mount its own threads', () => {
    assert.equal(pyenv.multithread, false, 'threads = 1');
    assert.equal(system.multithread, true, 'threads = 2');
  });

  it("applies each mount's own max-requests", async () => {
    const pidsOf = (executable: string): number[] => workerPids(server.pid).filter((pid) => executableOf(pid) === realpathSync(executable));
    const firstPyenv = pidsOf(pyenv.executable);
    const firstSystem = pidsOf(system.executable);
    // A worker past its quota serves on until its successor is ready, so keep asking until one has taken over.
    const successor = await eventually('a pyenv worker replaced after 2 requests', async () => {
      const { pid } = await getJson<Whoami>(`${server.url}/pyenv/whoami`);
      return firstPyenv.includes(pid) ? undefined : pid;
    }, 10_000, 50);
    assert.ok(successor > 0);
    const systemSeen = new Set<number>();
    for (let i = 0; i < 8; i++) systemSeen.add((await getJson<Whoami>(`${server.url}/system/whoami`)).pid);
    assert.ok([...systemSeen].every((pid) => firstSystem.includes(pid)), `no max-requests on /system: its workers stay (${firstSystem} -> ${[...systemSeen]})`);
    assert.deepEqual(pidsOf(system.executable), firstSystem);
  });

  it("applies each mount's own timeout", async () => {
    const [short, long] = await Promise.all([
      httpRequest(`${server.url}/pyenv/sleep?s=1.5`, { timeoutMs: 10_000 }),
      httpRequest(`${server.url}/system/sleep?s=1.5`, { timeoutMs: 10_000 }),
    ]);
    assert.equal(short.status, 504, 'timeout = 0.5 on /pyenv');
    assert.equal(long.status, 200, 'timeout = 10 on /system');
  });
});
