/**
 * Stops however the signal arrives (#17). systemd's default
 * KillMode=control-group, `kill -- -PGID` and a terminal's Ctrl-C send
 * SIGTERM or SIGINT to every process of the tree at once: the workers, the
 * zygote and the CGI spawner leave stopping to the front, which drains
 * without a failed request and starts no worker meanwhile. And the other
 * way round: a front killed with SIGKILL leaves no process behind for more
 * than a second, however busy. Then --shutdown-delay and the drain's
 * closing of idle keep-alive connections.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { FIXTURE_APPS, REPO_ROOT } from '../helpers/paths.js';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { descendantsOf, isRunning } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const CGI_BIN = join(REPO_ROOT, 'test', 'fixtures', 'cgi-bin');
const ASGI_APPS = join(REPO_ROOT, 'test', 'python');

interface Tally {
  statuses: Record<number, number>;
  /** Failures: anything but a response, or a connection refused once the listener closed. */
  failures: string[];
  refused: number;
  retried: number;
}

/**
 * One keep-alive client sending back to back until the server refuses it.
 * A request on a reused connection that closes before any byte of a
 * response is sent again, as RFC 9112 §9.3.1 lets a client do (the race
 * every server's closing of an idle keep-alive connection has); anything
 * else that is not a response is a failure.
 */
async function keepSending(base: URL, paths: string[], tally: Tally, until: () => boolean): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let n = 0; !until(); n++) {
      const path = paths[n % paths.length] as string;
      const result = await getOnce(agent, base, path).catch(async (error: NodeJS.ErrnoException & { reused?: boolean }) => {
        if (error.reused && (error.code === 'ECONNRESET' || error.message === 'socket hang up')) {
          tally.retried++;
          return getOnce(agent, base, path);
        }
        throw error;
      }).catch((error: NodeJS.ErrnoException) => error);
      if (result instanceof Error) {
        if (result.code === 'ECONNREFUSED') {
          tally.refused++;
          return;
        }
        tally.failures.push(`${path}: ${result.code ?? result.message}`);
        return;
      }
      tally.statuses[result] = (tally.statuses[result] ?? 0) + 1;
      if (result !== 200) tally.failures.push(`${path}: ${result}`);
    }
  } finally {
    agent.destroy();
  }
}

function getOnce(agent: http.Agent, base: URL, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: base.hostname, port: base.port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('aborted', () => reject(Object.assign(new Error('response cut'), { code: 'ABORTED' })));
    });
    req.setTimeout(20_000, () => req.destroy(Object.assign(new Error('no response'), { code: 'TIMEOUT' })));
    req.on('error', (error) => reject(Object.assign(error, { reused: req.reusedSocket })));
  });
}

function siteConfig(dir: string): string {
  const file = join(dir, 'portico.toml');
  writeFileSync(
    file,
    [
      `pythonpath = "${FIXTURE_APPS},${ASGI_APPS}"`,
      'timeout = 0',
      // asgi_worker_apps routes on scope["path"], which includes a mount's prefix: it has '/'.
      '[[mount]]', 'path = "/"', 'app = "asgi_worker_apps:app"', 'interface = "asgi"',
      '[[mount]]', 'path = "/inline"', 'app = "sleepy_app:application"', 'workers = 2',
      '[[mount]]', 'path = "/threads"', 'app = "sleepy_app:application"', 'threads = 4',
      '[[mount]]', 'path = "/preload"', 'app = "sleepy_app:application"', 'preload = true', 'workers = 2',
      '[[mount]]', 'path = "/cgi-bin/"', `cgi = "${CGI_BIN}"`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Every process portico started. */
function treeOf(server: Portico): number[] {
  return descendantsOf(server.pid);
}

describe('SIGTERM to the whole process group under load', { timeout: 60_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: zero failed requests, nothing respawned, the CGI spawner and the zygote not lost, exit 0`, async () => {
      const dir = makeTempDir();
      const server = await startPortico({ app: null, args: ['-c', siteConfig(dir.path), '--graceful-timeout', '20'] });
      try {
        const base = new URL(server.url);
        const paths = ['/inline/sleep?s=0.02', '/threads/sleep?s=0.02', '/preload/sleep?s=0.02', '/cgi-bin/hello.sh', '/'];
        const tally: Tally = { statuses: {}, failures: [], refused: 0, retried: 0 };
        let done = false;
        const clients = Array.from({ length: 8 }, (_, i) => keepSending(base, paths.slice(i % paths.length).concat(paths), tally, () => done));
        // Slow ones in flight when the signal comes: they finish too.
        const slow = ['/inline/sleep?s=1.5', '/threads/sleep?s=1.5', '/preload/sleep?s=1.5'].map((path) => httpRequest(`${server.url}${path}`, { timeoutMs: 15_000 }).then((r) => r.status, (e: Error) => e.message));
        await new Promise((resolve) => setTimeout(resolve, 700));
        const before = Object.values(tally.statuses).reduce((a, b) => a + b, 0);
        assert.ok(before > 20, `load is running (${before} responses)`);
        process.kill(-server.pid, signal);
        const status = await server.waitForExit(25_000);
        done = true;
        await Promise.all(clients);
        assert.deepEqual(await Promise.all(slow), [200, 200, 200], server.logs());
        assert.deepEqual(tally.failures, [], `failed requests; log:\n${server.logs()}`);
        assert.deepEqual(status, { code: 0, signal: null }, server.logs());
        assert.doesNotMatch(server.logs(), /starting a new one|killed by SIG|CGI spawner .*;|zygote .*; a new one/, 'nothing died of the signal, nothing was respawned');
        assert.match(server.logs(), new RegExp(`received ${signal}; stopping`));
      } finally {
        await server.stop();
        dir.remove();
      }
    });
  }
});

describe('SIGKILL of the front', { timeout: 60_000 }, () => {
  it('leaves no worker, zygote or CGI spawner a second later, even when every worker is busy', async () => {
    const dir = makeTempDir();
    const server = await startPortico({ app: null, args: ['-c', siteConfig(dir.path)] });
    try {
      // Busy everywhere: inline and threaded WSGI workers and --preload forks in requests that never end, an ASGI loop blocked.
      const busy = ['/inline/forever', '/inline/forever', '/threads/forever', '/preload/forever', '/preload/forever', '/block?30'];
      for (const path of busy) void httpRequest(`${server.url}${path}`, { timeoutMs: 30_000 }).catch(() => {});
      await eventually('every worker busy', () => ((server.logs().match(/stuck pid=/g) ?? []).length >= 5 ? true : undefined), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the ASGI loop is in its blocking call
      // One more CGI request, so the spawner has run a script.
      assert.equal((await httpRequest(`${server.url}/cgi-bin/hello.sh`)).status, 200);
      const tree = treeOf(server);
      assert.ok(tree.length >= 8, `workers, the zygote and the spawner: ${tree.join(' ')}`);
      const killedAt = Date.now();
      process.kill(server.pid, 'SIGKILL');
      const left = await eventually('every process gone', () => {
        const alive = tree.filter(isRunning);
        return alive.length === 0 ? alive : undefined;
      }, 3_000, 20).catch(() => tree.filter(isRunning));
      const elapsed = Date.now() - killedAt;
      assert.deepEqual(left, [], `still running ${elapsed} ms after the front's SIGKILL`);
      assert.ok(elapsed < 1_000, `the last process went ${elapsed} ms after the front's SIGKILL`);
    } finally {
      await server.stop();
      dir.remove();
    }
  });
});

/** Opens a keep-alive connection, sends one request on it and leaves it idle; resolves with a promise of the time it closes. */
async function idleKeepAlive(port: number): Promise<{ closed: Promise<number> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => socket.once('data', resolve));
  socket.resume();
  return { closed: new Promise((resolve) => socket.once('close', () => resolve(Date.now()))) };
}

describe('--shutdown-delay and the drain', { timeout: 60_000 }, () => {
  it('serves on for the delay after SIGTERM, then refuses connections, closes idle ones at once, and ends keep-alive', async () => {
    const { app, args } = fixtureApp('sleepy_app');
    const server = await startPortico({ app, args: [...args, '-w', '2', '--shutdown-delay', '1.5', '--keep-alive', '30'] });
    try {
      const idleClosed = await idleKeepAlive(server.port);
      const slow = httpRequest(`${server.url}/sleep?s=2.5&mark=drained`, { timeoutMs: 10_000 });
      await server.waitForLog(/sleeping pid=\d+ mark=drained/, 5_000);
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      await server.waitForLog(/serving on for --shutdown-delay 1.5 s/, 2_000);
      // During the delay: new connections served as ever.
      const during = await httpRequest(`${server.url}/pid`, { timeoutMs: 3_000 });
      assert.equal(during.status, 200);
      assert.ok(Date.now() - sentAt < 1_200);
      // Then the drain: idle keep-alive connections closed at once, new connections refused.
      const closedAt = await idleClosed.closed;
      assert.ok(closedAt - sentAt >= 1_400, `the idle connection closed ${closedAt - sentAt} ms after SIGTERM, inside the delay`);
      assert.ok(closedAt - sentAt < 2_500, `the idle connection closed ${closedAt - sentAt} ms after SIGTERM`);
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ port: server.port, host: '127.0.0.1' });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? ''));
      });
      assert.equal(refused, 'ECONNREFUSED');
      // The request in flight finishes, and is told the connection closes.
      const finished = await slow;
      assert.equal(finished.status, 200);
      assert.equal(finished.headers['connection'], 'close');
      assert.deepEqual(await server.waitForExit(10_000), { code: 0, signal: null }, server.logs());
    } finally {
      await server.stop();
    }
  });

  it('a second SIGTERM ends the delay and drains at once', async () => {
    const { app, args } = fixtureApp('sleepy_app');
    const server = await startPortico({ app, args: [...args, '--shutdown-delay', '30'] });
    try {
      process.kill(server.pid, 'SIGTERM');
      await server.waitForLog(/serving on for --shutdown-delay 30 s/, 2_000);
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      await server.waitForLog(/received SIGTERM again; draining now/, 2_000);
      assert.deepEqual(await server.waitForExit(10_000), { code: 0, signal: null }, server.logs());
      assert.ok(Date.now() - sentAt < 5_000);
    } finally {
      await server.stop();
    }
  });
});
