/**
 * Issue #19, "Serve your own app": the README's one install command, done
 * with the `npm pack` tarball into a temporary global prefix, then
 * `portico app:app` from a fresh directory that holds only a Flask app, one
 * 200, and `npm uninstall -g`. Nothing may depend on the clone's paths: the
 * worker reports where its runtime was imported from, and it must be the
 * installed package's python/.
 *
 * Nothing is fetched. A global install resolves the tarball's dependencies
 * by name from a registry, and neither a prefilled node_modules (as
 * package-import.test.ts uses for a project) nor --offline gets around that.
 * So the test serves a registry on loopback with exactly the production
 * dependencies this clone has installed, each packed from its
 * node_modules, and npm installs from it as it would from npmjs.org, with a
 * cache and a user config of its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.js';
import { baseEnv } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { serveOnce, systemPath, writeFlaskApp } from './distribution-helpers.js';

const run = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  [field: string]: unknown;
}

/**
 * A registry of the clone's production dependencies: one packument per
 * name, one tarball per version, packed as npm packs (a package/ folder),
 * without the module's own node_modules.
 */
async function localRegistry(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, timeout: 30_000 });
  const own = join(realpathSync(REPO_ROOT), 'node_modules') + sep;
  const folders = stdout.split('\n').filter((line) => line.startsWith(own));
  const packuments = new Map<string, { name: string; 'dist-tags': Record<string, string>; versions: Record<string, Manifest> }>();
  const tarballs = new Map<string, string>();
  mkdirSync(dir);
  await Promise.all(
    folders.map(async (folder, index) => {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Manifest;
      const file = join(dir, `${index}.tgz`);
      await run('tar', ['-czf', file, '--exclude=./node_modules', '--transform=s,^\\.,package,', '-C', folder, '.'], { timeout: 30_000 });
      const integrity = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
      tarballs.set(`/-/${index}.tgz`, file);
      const entry = packuments.get(manifest.name) ?? { name: manifest.name, 'dist-tags': {}, versions: {} };
      entry.versions[manifest.version] = { ...manifest, dist: { tarball: `/-/${index}.tgz`, integrity } };
      entry['dist-tags'].latest = manifest.version;
      packuments.set(manifest.name, entry);
    }),
  );
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://registry').pathname;
    const tarball = tarballs.get(path);
    if (tarball !== undefined) return void response.end(readFileSync(tarball));
    const packument = packuments.get(decodeURIComponent(path.slice(1)));
    if (packument === undefined) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const versions = Object.fromEntries(
      Object.entries(packument.versions).map(([version, manifest]) => [version, { ...manifest, dist: { ...(manifest.dist as object), tarball: base + (manifest.dist as { tarball: string }).tarball } }]),
    );
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...packument, versions }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('your own app: npm install -g of the packed tarball, then portico app:app', { timeout: 120_000 }, () => {
  const temp = makeTempDir('portico-global-');
  const prefix = join(temp.path, 'prefix');
  let registry: { url: string; close(): Promise<void> } | null = null;
  let npmArgs: string[] = [];

  before(async () => {
    registry = await localRegistry(join(temp.path, 'registry'));
    const userconfig = join(temp.path, 'npmrc');
    writeFileSync(userconfig, '');
    npmArgs = ['--prefix', prefix, '--registry', registry.url, '--cache', join(temp.path, 'cache'), '--userconfig', userconfig, '--no-audit', '--no-fund', '--loglevel=error'];
  });
  after(async () => {
    await registry?.close();
    temp.remove();
  });

  it('installs, serves a Flask app from a directory of its own with the installed runtime, and uninstalls', async () => {
    // --ignore-scripts: pack this build as it is, without a rebuild under other tests' feet.
    const packed = join(temp.path, 'packed');
    mkdirSync(packed);
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packed], { cwd: REPO_ROOT, timeout: 60_000 });
    const [tarball] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(tarball !== undefined, stdout);
    const shipped = tarball.files.map((file) => file.path);
    assert.ok(shipped.includes('dist/src/cli.js'), 'the compiled dist/ is shipped');
    assert.ok(shipped.includes('python/portico_worker.py'), 'the Python runtime is shipped');
    assert.deepEqual(shipped.filter((path) => path.includes('__pycache__')), [], 'no bytecode from this clone\'s test runs');

    const home = join(temp.path, 'home');
    mkdirSync(home);
    await run('npm', ['install', '-g', ...npmArgs, join(packed, tarball.filename)], { cwd: home, timeout: 90_000 });
    const command = join(prefix, 'bin', 'portico');
    const installed = join(realpathSync(prefix), 'lib', 'node_modules', 'portico');
    assert.equal(realpathSync(command), join(installed, 'bin', 'portico.js'), 'portico on PATH is the installed copy');

    const site = writeFlaskApp(join(temp.path, 'mysite'));
    const env = baseEnv({ PATH: systemPath(join(prefix, 'bin')), HOME: home, PORTICO_PYTHON: undefined });
    // As the README has it, `portico app:app`, on a free port rather than 8000.
    const served = await serveOnce('portico', ['-b', '127.0.0.1:0', 'app:app'], { cwd: site, env });
    assert.equal(served.status, 200, served.log);
    assert.equal(served.body, `hello from flask, runtime ${join(installed, 'python', 'portico', '__init__.py')}\n`);
    assert.equal(served.exitCode, 0, served.log);
    assert.ok(!served.log.includes(realpathSync(REPO_ROOT)), `nothing from the clone in the log:\n${served.log}`);

    await run('npm', ['uninstall', '-g', ...npmArgs, 'portico'], { cwd: home, timeout: 60_000 });
    assert.ok(!existsSync(command), 'the command is gone');
    assert.ok(!existsSync(installed), 'the package is gone');
  });
});
