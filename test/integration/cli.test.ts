/**
 * The command line: --help, --version, option errors (exit 2), binds,
 * worker count, and the options that shape the Python side (--chdir,
 * --pythonpath, -e, --python and its defaults).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FIXTURE_APPS, REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import { LISTENING_LINE, fixtureApp, runPortico, startPortico, type StartOptions } from '../helpers/portico.js';
import { getJson, httpRequest } from '../helpers/http-client.js';
import { freePort, hasIpv6Loopback } from '../helpers/free-port.js';
import { descendantsOf, isRunning } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface Echo {
  environ: Record<string, string>;
  cwd: string;
  executable: string;
  sys_path: string[];
  env: Record<string, string>;
}

/** Starts portico on `options`, returns the app's echo of GET /, and stops it. */
async function echoFrom(options: StartOptions): Promise<Echo> {
  const server = await startPortico(options);
  try {
    return await getJson<Echo>(`${server.url}/`);
  } finally {
    await server.stop();
  }
}

/** A stand-in interpreter: marks the environment, then runs Debian's python3. */
function writePythonWrapper(path: string, mark: string): void {
  writeFileSync(path, `#!/bin/sh\nPORTICO_TEST_PYTHON_WRAPPER=${mark}\nexport PORTICO_TEST_PYTHON_WRAPPER\nexec ${SYSTEM_PYTHON} "$@"\n`);
  chmodSync(path, 0o755);
}

describe('cli: --help and --version', { timeout: 30_000 }, () => {
  it('--help lists every option with its default, and exits 0', async () => {
    const result = await runPortico(['--help']);
    assert.equal(result.code, 0, result.stderr);
    const help = result.stdout + result.stderr;
    for (const flag of ['-b', '--bind', '-w', '--workers', '--chdir', '--pythonpath', '-e', '--env', '--python', '--access-logfile', '--error-logfile', '--log-level', '--keep-alive', '--version', '--help']) {
      assert.match(help, new RegExp(`(^|[\\s,])${flag}\\b(?!-)`, 'm'), `--help mentions ${flag}`);
    }
    assert.match(help, /127\.0\.0\.1:8000/, 'the default bind');
    assert.match(help, /WEB_CONCURRENCY/, 'where the default worker count comes from');
    const lines = help.split('\n');
    for (const flag of ['--bind', '--workers', '--log-level', '--keep-alive', '--python']) {
      const at = lines.findIndex((l) => new RegExp(`${flag}\\b(?!-)`).test(l));
      const block = lines.slice(at, at + 4).join('\n');
      assert.match(block, /default/i, `--help gives a default for ${flag}: ${block}`);
    }
  });

  it('--version prints the package version, and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runPortico(['--version']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((result.stdout + result.stderr).includes(version), `prints ${version}: ${result.stdout}`);
  });
});

describe('cli: bad options exit 2 with one line naming the option', { timeout: 60_000 }, () => {
  const cases: Array<[string[], RegExp]> = [
    [['--no-such-option', 'hello_app'], /--no-such-option/],
    [['-w', 'abc', 'hello_app'], /-w|--workers/],
    [['-w', '0', 'hello_app'], /-w|--workers/],
    [['--keep-alive', 'soon', 'hello_app'], /--keep-alive/],
    [['-b', 'not-an-address', 'hello_app'], /-b|--bind/],
    [['-b', '127.0.0.1:99999', 'hello_app'], /-b|--bind/],
    [['-e', 'NO_EQUALS_SIGN', 'hello_app'], /-e|--env/],
    [['--log-level', 'loud', 'hello_app'], /--log-level/],
  ];
  for (const [argv, names] of cases) {
    it(argv.slice(0, -1).join(' '), async () => {
      const result = await runPortico(['--pythonpath', FIXTURE_APPS, ...argv], { timeoutMs: 10_000 });
      assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(result.stderr)}`);
      assert.match(lines[0] ?? '', names);
    });
  }
});

describe('cli: binds', { timeout: 60_000 }, () => {
  it('binds 127.0.0.1:8000 by default', async (t) => {
    let port8000Free = true;
    try {
      await new Promise<void>((resolve, reject) => {
        const probe = createServer().once('error', reject).listen(8000, '127.0.0.1', () => probe.close(() => resolve()));
      });
    } catch {
      port8000Free = false;
    }
    if (!port8000Free) {
      t.skip('port 8000 is in use on this machine');
      return;
    }
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args, addBind: false });
    try {
      assert.equal(server.host, '127.0.0.1');
      assert.equal(server.port, 8000);
      assert.equal((await httpRequest('http://127.0.0.1:8000/')).text, 'hello from application');
    } finally {
      await server.stop();
    }
  });

  it('binds 0.0.0.0:$PORT when PORT is set', async () => {
    const port = await freePort('0.0.0.0');
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args, addBind: false, env: { PORT: String(port) } });
    try {
      assert.equal(server.host, '0.0.0.0');
      assert.equal(server.port, port);
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/`)).text, 'hello from application');
    } finally {
      await server.stop();
    }
  });

  it('reports the real port for -b 127.0.0.1:0', async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args: [...args, '-b', '127.0.0.1:0'] });
    try {
      assert.ok(server.port > 0);
      assert.equal((await httpRequest(`${server.url}/`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('listens on every -b: IPv4, [::1] and a unix socket', async (t) => {
    const ipv6 = await hasIpv6Loopback();
    const temp = makeTempDir();
    const socketPath = join(temp.path, 'portico.sock');
    const port4 = await freePort('127.0.0.1');
    const binds = ['-b', `127.0.0.1:${port4}`, '-b', `unix:${socketPath}`];
    let port6 = 0;
    if (ipv6) {
      port6 = await freePort('::1');
      binds.push('-b', `[::1]:${port6}`);
    } else {
      t.diagnostic('no IPv6 loopback here: [::1] not tested');
    }
    const { app, args } = fixtureApp('echo_environ');
    const server = await startPortico({ app, args: [...args, ...binds], ready: /workers? ready/ });
    try {
      const v4 = await getJson<Echo>(`http://127.0.0.1:${port4}/v4`);
      assert.equal(v4.environ.REMOTE_ADDR, '127.0.0.1');
      const viaUnix = await httpRequest('/unix', { socketPath });
      assert.equal(viaUnix.status, 200, viaUnix.text);
      assert.equal((JSON.parse(viaUnix.text) as Echo).environ.PATH_INFO, '/unix');
      if (ipv6) {
        const v6 = await getJson<Echo>(`http://[::1]:${port6}/v6`);
        assert.equal(v6.environ.REMOTE_ADDR, '::1');
      }
    } finally {
      await server.stop();
      temp.remove();
    }
  });
});

describe('cli: workers', { timeout: 60_000 }, () => {
  it('-w N starts N workers and logs exactly one listening line', async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args: [...args, '-w', '3'] });
    try {
      assert.equal(server.workers, 3);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((server.logs().match(new RegExp(LISTENING_LINE.source, 'g')) ?? []).length, 1);
    } finally {
      await server.stop();
    }
  });

  it('defaults to $WEB_CONCURRENCY workers', async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args, env: { WEB_CONCURRENCY: '2' } });
    try {
      assert.equal(server.workers, 2);
    } finally {
      await server.stop();
    }
  });

  it('defaults to 1 worker without $WEB_CONCURRENCY', async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args });
    try {
      assert.equal(server.workers, 1);
    } finally {
      await server.stop();
    }
  });
});

describe('cli: shutdown', { timeout: 30_000 }, () => {
  it('SIGTERM stops portico and every worker it started', async () => {
    const { app, args } = fixtureApp('hello_app');
    const server = await startPortico({ app, args: [...args, '-w', '2'] });
    try {
      const workers = descendantsOf(server.pid);
      assert.ok(workers.length >= 2, `two workers running: ${workers.join(', ')}`);
      server.process.kill('SIGTERM');
      const status = await server.waitForExit(10_000);
      assert.ok(status.code === 0 || status.signal === 'SIGTERM', `clean exit: ${JSON.stringify(status)}`);
      const survivors = workers.filter(isRunning);
      assert.deepEqual(survivors, [], 'no worker outlives portico');
    } finally {
      await server.stop();
    }
  });
});

describe('cli: the Python side', { timeout: 90_000 }, () => {
  it('--chdir runs the workers in DIR and imports the app from it', async () => {
    const temp = makeTempDir();
    try {
      writeFileSync(join(temp.path, 'chdir_app.py'), 'from echo_environ import application\n');
      const echo = await echoFrom({ app: 'chdir_app', args: ['--chdir', temp.path, '--pythonpath', FIXTURE_APPS] });
      assert.equal(realpathSync(echo.cwd), realpathSync(temp.path));
    } finally {
      temp.remove();
    }
  });

  it('--pythonpath takes a comma-separated list of directories', async () => {
    const first = makeTempDir();
    const second = makeTempDir();
    try {
      writeFileSync(join(first.path, 'pp_app.py'), 'import pp_helper\nfrom echo_environ import application\n');
      writeFileSync(join(second.path, 'pp_helper.py'), 'VALUE = 1\n');
      const echo = await echoFrom({ app: 'pp_app', args: ['--pythonpath', `${first.path},${second.path},${FIXTURE_APPS}`] });
      assert.ok(echo.sys_path.includes(first.path) && echo.sys_path.includes(second.path), `sys.path: ${echo.sys_path.join(':')}`);
    } finally {
      first.remove();
      second.remove();
    }
  });

  it('-e K=V sets environment variables for the app (repeatable, value may hold =)', async () => {
    const { app, args } = fixtureApp('echo_environ');
    const echo = await echoFrom({ app, args: [...args, '-e', 'PORTICO_TEST_A=1', '--env', 'PORTICO_TEST_B=two=2', '-e', 'PORTICO_TEST_EMPTY='] });
    assert.deepEqual(echo.env, { PORTICO_TEST_A: '1', PORTICO_TEST_B: 'two=2', PORTICO_TEST_EMPTY: '' });
  });

  it('--python runs the workers with that interpreter', async () => {
    const temp = makeTempDir();
    try {
      const python = join(temp.path, 'my-python');
      writePythonWrapper(python, 'explicit');
      const { app, args } = fixtureApp('echo_environ');
      const echo = await echoFrom({ app, args: [...args, '--python', python], env: { VIRTUAL_ENV: undefined } });
      assert.equal(echo.env.PORTICO_TEST_PYTHON_WRAPPER, 'explicit');
    } finally {
      temp.remove();
    }
  });

  it('defaults to $VIRTUAL_ENV/bin/python', async () => {
    const venv = makeTempDir();
    try {
      mkdirSync(join(venv.path, 'bin'));
      writePythonWrapper(join(venv.path, 'bin', 'python'), 'virtualenv');
      const { app, args } = fixtureApp('echo_environ');
      const echo = await echoFrom({ app, args, env: { VIRTUAL_ENV: venv.path } });
      assert.equal(echo.env.PORTICO_TEST_PYTHON_WRAPPER, 'virtualenv');
    } finally {
      venv.remove();
    }
  });

  it('defaults to python3 on PATH without $VIRTUAL_ENV', async () => {
    const bin = makeTempDir();
    try {
      writePythonWrapper(join(bin.path, 'python3'), 'path');
      const { app, args } = fixtureApp('echo_environ');
      const echo = await echoFrom({ app, args, env: { VIRTUAL_ENV: undefined, PATH: `${bin.path}:${process.env.PATH ?? ''}` } });
      assert.equal(echo.env.PORTICO_TEST_PYTHON_WRAPPER, 'path');
    } finally {
      bin.remove();
    }
  });

  it('fails fast, naming the interpreter, when --python does not exist', async () => {
    const { app, args } = fixtureApp('hello_app');
    const result = await runPortico(['-b', '127.0.0.1:0', ...args, '--python', '/nonexistent/python9', app], { timeoutMs: 15_000 });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /\/nonexistent\/python9/);
  });
});
