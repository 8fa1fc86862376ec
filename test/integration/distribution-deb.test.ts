/**
 * Issue #19: the Debian package. Built by scripts/package-deb.mjs (what
 * `npm run package:deb` runs after building) with dpkg-deb and nothing
 * fetched, checked by lintian (which scripts/install-system-deps.sh
 * installs), installed with dpkg -i, a site served as portico@NAME.service
 * would serve it, the man page rendered, then purged: nothing of it may be
 * left behind.
 *
 * Installing needs root, which CI's `npm test` has; elsewhere it is
 * skipped. It refuses to run over a portico package installed already,
 * which it would otherwise replace and purge.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { serveOnce, systemPath, writeFlaskApp } from './distribution-helpers.js';

const run = promisify(execFile);

const succeeds = (command: string, ...args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const installed = (name: string): boolean => /^install ok installed/.test(spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout ?? '');

function whyNot(): string | false {
  if (process.getuid?.() !== 0) return 'installing a package needs root (npm test runs as root on CI)';
  if (!succeeds('dpkg-deb', '--version')) return 'no dpkg-deb: not a Debian system';
  return false;
}

/** nodejs (>= 20) as dpkg sees it: a Node installed otherwise (nvm, a tarball) is no package, and dpkg would refuse. */
function nodejsPackageSatisfies(): boolean {
  const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'nodejs'], { encoding: 'utf8' }).stdout ?? '';
  return installed('nodejs') && succeeds('dpkg', '--compare-versions', version, 'ge', '20');
}

/** The unit's User= and ExecStart=, with the instance name put in for %i. */
function unitService(unit: string, instance: string): { user: string; execStart: string[] } {
  const field = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(unit)?.[1] ?? '';
  return { user: field('User'), execStart: field('ExecStart').replace(/%i/g, instance).split(/\s+/) };
}

function uidOf(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith(`${user}:`));
  assert.ok(line !== undefined, `user ${user} exists`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const skip = whyNot();

describe('the Debian package', { skip, timeout: 120_000 }, () => {
  const temp = makeTempDir('portico-deb-');
  const instance = `disttest-${process.pid}`;
  const siteFile = `/etc/portico/${instance}.toml`;
  let deb = '';
  let ownedPaths: string[] = [];
  let weInstalled = false;

  before(async () => {
    assert.ok(!installed('portico'), 'a portico package is installed already; this test would replace and purge it, so it stops (dpkg --purge portico, then run it again)');
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'scripts', 'package-deb.mjs'), '--out', temp.path], { timeout: 90_000 });
    deb = stdout.trim();
  });

  after(async () => {
    rmSync(siteFile, { force: true });
    if (weInstalled && installed('portico')) spawnSync('dpkg', ['--purge', 'portico'], { stdio: 'ignore' });
    temp.remove();
  });

  it('declares what it needs and ships what #19 lists', async () => {
    const { stdout: control } = await run('dpkg-deb', ['--field', deb]);
    assert.match(control, /^Package: portico$/m);
    assert.match(control, /^Architecture: all$/m);
    assert.match(control, /^Depends: nodejs \(>= 20\), python3\b/m);
    const { stdout: contents } = await run('dpkg-deb', ['--contents', deb], { maxBuffer: 16 << 20 });
    for (const path of [
      './usr/bin/portico -> ../lib/portico/bin/portico.js',
      './usr/lib/portico/dist/src/cli.js',
      './usr/lib/portico/python/portico_worker.py',
      './usr/lib/portico/node_modules/ws/package.json',
      './lib/systemd/system/portico@.service',
      './lib/systemd/system/portico@.socket',
      './usr/share/man/man1/portico.1.gz',
      './usr/share/bash-completion/completions/portico',
      './usr/share/doc/portico/copyright',
      './usr/share/doc/portico/README.md',
      './usr/share/doc/portico/docs/index.md',
      './usr/share/doc/portico/changelog.gz',
      './usr/share/doc/portico/changelog.Debian.gz',
      './usr/share/lintian/overrides/portico',
    ]) {
      assert.ok(contents.includes(` ${path}\n`), `${path} in the package`);
    }
    assert.doesNotMatch(contents, /__pycache__|\.pyc\n|node_modules\/(typescript|@types|playwright-core)\//, 'no bytecode, no development dependency');
  });

  it('lintian finds no error, and no warning the package does not override', async () => {
    assert.ok(succeeds('lintian', '--version'), 'lintian is installed (scripts/install-system-deps.sh installs it: npm test runs that first)');
    // What is meant is overridden in packaging/lintian-overrides, with its reason; --fail-on counts the rest.
    const result = spawnSync('lintian', ['--fail-on', 'error,warning', '--no-tag-display-limit', deb], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.error, undefined, `lintian ran to its end: ${result.error?.message}`);
    assert.doesNotMatch(result.stdout, /^[EW]: /m, result.stdout);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('installs, serves a site as portico@NAME.service would, and purges to nothing', async () => {
    const install = ['-i', deb];
    // The package depends on Debian's nodejs (>= 20); this Node may come from elsewhere, with no package to satisfy it.
    if (!nodejsPackageSatisfies()) install.unshift('--force-depends');
    weInstalled = true;
    await run('dpkg', install, { timeout: 60_000 });
    const { stdout: listed } = await run('dpkg', ['-L', 'portico'], { maxBuffer: 16 << 20 });
    ownedPaths = listed.split('\n').filter((path) => path.startsWith('/') && path !== '/.');

    const { stdout: version } = await run('/usr/bin/portico', ['--version'], { env: { PATH: systemPath() } });
    assert.match(version, /^portico \d+\.\d+\.\d+\nNode\.js v/);
    assert.match(version, /^Python 3\.\d+\.\d+\S* \(python3 is \/usr\/bin\/python3/m, version);

    // No systemd here to run the unit: run its ExecStart, as its User, with the PATH systemd gives, from /.
    const { user, execStart } = unitService(readFileSync('/lib/systemd/system/portico@.service', 'utf8'), instance);
    assert.deepEqual(execStart, ['/usr/bin/portico', '-c', siteFile]);
    const site = writeFlaskApp(join(temp.path, 'mysite'));
    chmodSync(temp.path, 0o755);
    writeFileSync(siteFile, `app = "app:app"\nchdir = "${site}"\nbind = "127.0.0.1:0"\nworkers = 1\n`);
    const served = await serveOnce(execStart[0] as string, execStart.slice(1), { cwd: '/', env: { PATH: systemPath(), LANG: 'C.UTF-8' }, ...uidOf(user) });
    assert.equal(served.status, 200, served.log);
    assert.equal(served.body, 'hello from flask, runtime /usr/lib/portico/python/portico/__init__.py\n');
    assert.equal(served.exitCode, 0, served.log);

    if (succeeds('systemd-analyze', '--version')) {
      const verify = spawnSync('systemd-analyze', ['verify', `portico@${instance}.service`, `portico@${instance}.socket`], { encoding: 'utf8' });
      assert.equal(verify.status, 0, verify.stderr);
      assert.equal(verify.stderr, '', 'systemd finds nothing wrong with the units');
    }

    const man = spawnSync('man', ['--warnings', '-l', '/usr/share/man/man1/portico.1.gz'], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' } });
    assert.equal(man.status, 0, man.stderr);
    assert.equal(man.stderr, '');
    assert.match(man.stdout, /^PORTICO\(1\)[\s\S]*portico@NAME\.service/);
    const completion = spawnSync('bash', ['--norc', '-c', '. /usr/share/bash-completion/completions/portico; COMP_WORDS=(portico --inter); COMP_CWORD=1; _portico; echo "${COMPREPLY[*]}"'], { encoding: 'utf8' });
    assert.equal(completion.stdout, '--interface\n');

    // As root, a worker caches the runtime's bytecode beside it, as postinst does for www-data: purge removes that too.
    await serveOnce('/usr/bin/portico', ['-b', '127.0.0.1:0', '--chdir', site, 'app:app'], { cwd: '/', env: { PATH: systemPath() } });
    rmSync(siteFile);
    await run('dpkg', ['--purge', 'portico'], { timeout: 60_000 });
    assert.ok(!installed('portico'), 'purged');
    const left = ownedPaths.filter((path) => existsSync(path) && !isShared(path));
    assert.deepEqual(left, [], 'nothing of the package is left');
    for (const path of ['/usr/lib/portico', '/etc/portico', '/usr/bin/portico']) assert.ok(!existsSync(path), `${path} is gone`);
  });
});

/** Directories other packages own too (/usr, /usr/share/man...), which a purge leaves, rightly. */
function isShared(path: string): boolean {
  const owners = spawnSync('dpkg-query', ['-S', path], { encoding: 'utf8' });
  return owners.status === 0;
}
