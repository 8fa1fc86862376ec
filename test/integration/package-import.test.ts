/**
 * Issue #20: `import { createServer } from 'portico'` from another project,
 * installed the two ways the README gives: `npm install /path/to/portico`
 * (a link to the clone) and the `npm pack` tarball. Each project is a fresh
 * temporary directory, and npm fetches nothing: the link needs nothing, and
 * for the tarball the runtime dependencies are copied from this clone's
 * node_modules first (the npm cache here may not hold their metadata). In
 * each, a script imports portico by name and serves one request through a
 * real worker, so the package must carry its Python runtime too.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_APPS, REPO_ROOT } from '../helpers/paths.js';
import { baseEnv } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
/** No audit, no funding notice, nothing from the network, and no `prepare` rebuilding the clone under other tests. */
const NPM_QUIET = ['--no-audit', '--no-fund', '--offline', '--ignore-scripts', '--loglevel=error'];

/** Imports portico by name, says where it found it, and serves one request. */
const CONSUMER = `
import http from 'node:http';
import { createServer } from 'portico';
console.log('resolved ' + import.meta.resolve('portico'));
const server = createServer({ app: 'hello_app:application', chdir: process.env.FIXTURE_APPS, bind: ['127.0.0.1:0'] });
await server.listen();
const answer = await new Promise((resolve) => {
  http.get(server.address()[0] + '/', { agent: false }, (response) => {
    let body = '';
    response.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve(response.statusCode + ' ' + body));
  }).on('error', (error) => resolve(error.message));
});
console.log('answer ' + answer);
await server.close();
`;

/** A project directory with its own package.json and the consumer script. */
function newProject(path: string): string {
  mkdirSync(path);
  writeFileSync(join(path, 'package.json'), JSON.stringify({ name: 'portico-consumer', private: true, type: 'module' }));
  writeFileSync(join(path, 'consumer.mjs'), CONSUMER);
  return path;
}

async function runConsumer(project: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['consumer.mjs'], {
    cwd: project,
    env: baseEnv({ FIXTURE_APPS }),
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return stdout;
}

describe('portico imported by name from another project', { timeout: 120_000 }, () => {
  const temp = makeTempDir('portico-import-');
  after(() => temp.remove());

  it('resolves nowhere without an install, which is why the README says how', async () => {
    const project = newProject(join(temp.path, 'bare'));
    await assert.rejects(runConsumer(project), /ERR_MODULE_NOT_FOUND|Cannot find package 'portico'/);
  });

  it('works installed from the clone: npm install /path/to/portico', async () => {
    const project = newProject(join(temp.path, 'linked'));
    await run('npm', ['install', ...NPM_QUIET, REPO_ROOT], { cwd: project, timeout: 60_000 });
    assert.equal(realpathSync(join(project, 'node_modules', 'portico')), realpathSync(REPO_ROOT), 'a link to the clone');
    const output = await runConsumer(project);
    assert.match(output, /^answer 200 hello from application$/m, output);
  });

  it('works installed from the npm pack tarball, which carries the build and the Python runtime', async () => {
    const packed = join(temp.path, 'packed');
    mkdirSync(packed);
    // --ignore-scripts: pack this build as it is, without a rebuild under other tests' feet.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packed], { cwd: REPO_ROOT, timeout: 60_000 });
    const filename = (JSON.parse(stdout) as Array<{ filename: string }>)[0]?.filename;
    assert.ok(filename !== undefined, `npm pack made a tarball: ${stdout}`);
    const project = newProject(join(temp.path, 'from-tarball'));
    const modules = join(project, 'node_modules');
    // Copies, not links: npm prunes and rearranges what it finds in node_modules, and must never reach into this clone's.
    const listed = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, timeout: 30_000 });
    const ownModules = join(realpathSync(REPO_ROOT), 'node_modules') + sep;
    for (const path of listed.stdout.split('\n').filter((line) => line.startsWith(ownModules))) {
      cpSync(path, join(modules, path.slice(ownModules.length)), { recursive: true });
    }
    await run('npm', ['install', ...NPM_QUIET, '--no-save', join(packed, filename)], { cwd: project, timeout: 60_000 });
    assert.ok(readdirSync(join(modules, 'portico', 'python')).includes('portico_worker.py'), 'the tarball has the Python runtime');
    const output = await runConsumer(project);
    assert.match(output, new RegExp(`^resolved file://${realpathSync(modules)}/portico/`, 'm'), `the installed copy, not the clone:\n${output}`);
    assert.match(output, /^answer 200 hello from application$/m, output);
  });
});
