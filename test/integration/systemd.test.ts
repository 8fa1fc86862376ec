/**
 * systemd (#17), as far as a machine without systemd as pid 1 allows:
 * sd_notify messages to a fake NOTIFY_SOCKET (a Python datagram receiver
 * that also reads the sender's credentials), in order; socket activation
 * through systemd-socket-activate (Debian's systemd package) with a TCP and
 * a UNIX socket, and nothing else bound; -b fd://N through a small wrapper
 * that passes a listening socket the way a supervisor would.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine } from '../../src/config/cli-args.js';
import { parseBind } from '../../src/config/parse-bind.js';
import { ConfigError } from '../../src/errors.js';
import { FIXTURE_APPS, PORTICO_BIN } from '../helpers/paths.js';
import { baseEnv, fixtureApp, spawnPortico, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { freePort } from '../helpers/free-port.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { FakeNotifySocket } from '../helpers/fake-notify-socket.js';
import { workerPids } from '../helpers/worker-tree.js';

describe('sd_notify to NOTIFY_SOCKET', { timeout: 60_000 }, () => {
  it('READY=1 once the workers are ready, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1, STATUS= lines and WATCHDOG=1', async () => {
    const dir = makeTempDir();
    const socketPath = join(dir.path, 'notify');
    const systemd = new FakeNotifySocket(socketPath);
    let server: Portico | null = null;
    try {
      await systemd.bound;
      const { app, args } = fixtureApp('hello_app');
      server = await startPortico({ app, args: [...args, '-w', '2'], env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' } });
      await systemd.waitFor((l) => l.length >= 1, 'READY=1');
      const [ready] = systemd.lifecycle;
      assert.match(ready as string, /^READY=1\nSTATUS=listening on http:\/\/127\.0\.0\.1:\d+, 2 workers$/);
      // Not the workers': they must not take the notification socket for theirs.
      for (const pid of workerPids(server.pid)) {
        assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'latin1'), /NOTIFY_SOCKET|WATCHDOG_USEC/);
      }
      process.kill(server.pid, 'SIGHUP');
      await systemd.waitFor((l) => l.length >= 3, 'RELOADING=1 and READY=1');
      process.kill(server.pid, 'SIGTERM');
      assert.deepEqual(await server.waitForExit(10_000), { code: 0, signal: null }, server.logs());
      await systemd.waitFor((l) => l.length >= 4, 'STOPPING=1');
      const [, reloading, reloaded, stopping] = systemd.lifecycle;
      assert.match(reloading as string, /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading: starting new workers$/);
      assert.match(reloaded as string, /^READY=1\nSTATUS=reloaded; listening on http:\/\/127\.0\.0\.1:\d+, 2 workers$/);
      assert.match(stopping as string, /^STOPPING=1\nSTATUS=stopping: draining$/);
      assert.deepEqual(systemd.lifecycle.slice(4), []);
      const watchdogs = systemd.messages.filter((m) => m.message === 'WATCHDOG=1').length;
      assert.ok(watchdogs >= 3, `WATCHDOG=1 every 100 ms: ${watchdogs}`);
      // systemd's default NotifyAccess=main takes messages from the main pid only: as root the helper speaks for the front.
      if (process.getuid?.() === 0) assert.deepEqual([...new Set(systemd.messages.map((m) => m.pid))], [server.pid]);
    } finally {
      await server?.stop();
      systemd.close();
      dir.remove();
    }
  });

  it('reaches a socket in the abstract namespace (@name)', async () => {
    const name = `@portico-test-${process.pid}-${Date.now()}`;
    const systemd = new FakeNotifySocket(name);
    let server: Portico | null = null;
    try {
      await systemd.bound;
      const { app, args } = fixtureApp('hello_app');
      server = await startPortico({ app, args, env: { NOTIFY_SOCKET: name } });
      await systemd.waitFor((l) => l.length >= 1, 'READY=1');
      assert.match(systemd.lifecycle[0] as string, /^READY=1\nSTATUS=listening on /);
    } finally {
      await server?.stop();
      systemd.close();
    }
  });
});

const hasSocketActivate = spawnSync('systemd-socket-activate', ['--version']).status === 0;

describe('socket activation (LISTEN_FDS, LISTEN_PID)', { timeout: 60_000, skip: hasSocketActivate ? false : 'no systemd-socket-activate' }, () => {
  it('serves on the sockets systemd-socket-activate passes, a TCP and a UNIX one, and binds nothing else', async () => {
    const dir = makeTempDir();
    const port = await freePort();
    const unixPath = join(dir.path, 'portico.sock');
    // systemd-socket-activate execs portico on the first connection, with LISTEN_PID its own pid.
    const child = spawn(
      'systemd-socket-activate',
      ['-l', `127.0.0.1:${port}`, '-l', unixPath, '-E', 'PATH', '-E', 'PYTHONDONTWRITEBYTECODE',
        process.execPath, PORTICO_BIN, '--pythonpath', FIXTURE_APPS, 'hello_app:application'],
      { env: baseEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    try {
      await eventually('listening', () => (log.includes(`Listening on 127.0.0.1:${port}`) ? true : undefined), 5_000);
      const first = await httpRequest(`http://127.0.0.1:${port}/`, { timeoutMs: 20_000 });
      assert.equal(first.status, 200, log);
      // Node cannot name a UNIX socket it was handed (no getsockname for pipes): it is logged as passed.
      assert.match(log, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}, fd://4, 1 worker ready`));
      assert.doesNotMatch(log, /8000/);
      const overUnix = await httpRequest('http://localhost/', { socketPath: unixPath, timeoutMs: 5_000 });
      assert.equal(overUnix.status, 200);
      process.kill(child.pid as number, 'SIGTERM');
      const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (c) => resolve([c])));
      assert.equal(code, 0, log);
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
      dir.remove();
    }
  });
});

/** Binds a listening socket, puts it on fd `fd` and execs portico: what a supervisor passing a socket does. */
const PASS_SOCKET = `
import os, socket, sys
fd = int(sys.argv[1])
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(64)
os.dup2(sock.fileno(), fd)
print("port %d" % sock.getsockname()[1], flush=True)
os.execv(sys.argv[2], sys.argv[2:])
`;

describe('-b fd://N', { timeout: 30_000 }, () => {
  it('serves on a listening socket inherited as file descriptor N', async () => {
    const child = spawn('python3', ['-c', PASS_SOCKET, '5', process.execPath, PORTICO_BIN, '-b', 'fd://5', '--pythonpath', FIXTURE_APPS, 'hello_app:application'], {
      env: baseEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    try {
      const port = await eventually('the socket passed', () => /port (\d+)/.exec(log)?.[1], 5_000);
      await eventually('listening', () => (/listening on http:\/\/127\.0\.0\.1:\d+, 1 worker ready/.test(log) ? true : undefined), 20_000);
      assert.match(log, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}, 1 worker ready`));
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/`)).status, 200);
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('exits 2 naming --bind when N is not an inherited socket, or not a number', async () => {
    for (const [bind, message] of [
      ['fd://9', /--bind fd:\/\/9: file descriptor 9 is not a socket this process inherited/],
      ['fd://x', /-b: 'fd:\/\/' needs a file descriptor number/],
    ] as const) {
      const server = spawnPortico({ app: 'hello_app:application', args: ['--pythonpath', FIXTURE_APPS, '-b', bind] });
      try {
        const status = await server.waitForExit(15_000);
        assert.equal(status.code, 2, server.logs());
        assert.match(server.logs(), message);
        assert.equal(server.logs().trim().split('\n').length, 1, server.logs());
      } finally {
        await server.stop();
      }
    }
  });
});

describe('the binds systemd passes', () => {
  it('are fd://3 onwards when LISTEN_PID is this process, and the usual default otherwise', () => {
    const ours = { LISTEN_FDS: '2', LISTEN_PID: String(process.pid) };
    assert.deepEqual(parseCommandLine(['app'], ours).options.bind, ['fd://3', 'fd://4']);
    assert.deepEqual(parseCommandLine(['app'], { ...ours, PORT: '5000' }).options.bind, ['fd://3', 'fd://4']);
    assert.deepEqual(parseCommandLine(['app'], { LISTEN_FDS: '2', LISTEN_PID: '1' }).options.bind, ['127.0.0.1:8000']);
    assert.deepEqual(parseCommandLine(['-b', '127.0.0.1:9000', 'app'], ours).options.bind, ['127.0.0.1:9000']);
  });

  it('parse as fd binds, and a bad one names its flag', () => {
    assert.deepEqual(parseBind('fd://3'), { kind: 'fd', fd: 3, text: 'fd://3', tls: null, protocol: 'http/1.1' });
    assert.throws(() => parseBind('fd://', '--bind'), (e: unknown) => e instanceof ConfigError && /^--bind: 'fd:\/\/' needs/.test(e.message));
    assert.throws(() => parseBind('fd://-1', '-b'), ConfigError);
  });
});
