/**
 * --fronts N under systemd (#18): the fronts share the sockets systemd
 * passes (LISTEN_FDS, a TCP and a UNIX one, through Debian's
 * systemd-socket-activate), and the parent alone speaks to NOTIFY_SOCKET:
 * one READY=1 once every front is ready, RELOADING=1 and one READY=1 around
 * a SIGHUP that reloads every front, STOPPING=1 at SIGTERM.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_APPS, PORTICO_BIN } from '../helpers/paths.js';
import { baseEnv } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { FakeNotifySocket } from '../helpers/fake-notify-socket.js';
import { freePort } from '../helpers/free-port.js';
import { childrenOf } from '../helpers/proc.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const hasSocketActivate = spawnSync('systemd-socket-activate', ['--version']).status === 0;

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('--fronts 2 under systemd', { timeout: 40_000, skip: hasSocketActivate ? false : 'no systemd-socket-activate' }, () => {
  it("shares systemd's TCP and UNIX sockets; one READY=1 once both fronts are ready; SIGHUP reloads both between RELOADING=1 and one READY=1; STOPPING=1", async () => {
    const dir = makeTempDir();
    const port = await freePort();
    const unixPath = join(dir.path, 'portico.sock');
    const notifyPath = join(dir.path, 'notify');
    const systemd = new FakeNotifySocket(notifyPath);
    await systemd.bound;
    // systemd-socket-activate execs portico on the first connection, with LISTEN_PID its own pid.
    const child = spawn(
      'systemd-socket-activate',
      ['-l', `127.0.0.1:${port}`, '-l', unixPath, '-E', 'PATH', '-E', 'PYTHONDONTWRITEBYTECODE', '-E', `NOTIFY_SOCKET=${notifyPath}`,
        process.execPath, PORTICO_BIN, '--fronts', '2', '-w', '1', '--pythonpath', FIXTURE_APPS, 'sleepy_app:application'],
      { env: baseEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const parent = child.pid as number;
    let log = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    try {
      await eventually('listening', () => (log.includes(`Listening on 127.0.0.1:${port}`) ? true : undefined), 5_000);
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/pid`, { timeoutMs: 20_000 })).status, 200, log);
      await systemd.waitFor((l) => l.length >= 1, 'READY=1');
      assert.match(systemd.lifecycle[0] as string, new RegExp(`^READY=1\\nSTATUS=listening on http://127\\.0\\.0\\.1:${port}, fd://4, 2 fronts, 2 workers$`));
      // Beside them, the helper that speaks to NOTIFY_SOCKET.
      const fronts = childrenOf(parent).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('front-entry'));
      assert.equal(fronts.length, 2, log);
      for (const pid of fronts) assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'latin1'), /NOTIFY_SOCKET|LISTEN_FDS|LISTEN_PID/);

      // Both fronts accept on the UNIX socket systemd passed.
      const seen = new Set<number>();
      for (let n = 0; n < 60 && seen.size < 2; n++) {
        const result = await httpRequest('http://localhost/pid', { socketPath: unixPath, headers: { connection: 'close' }, timeoutMs: 5_000 });
        seen.add(parentOf(Number(result.text)));
      }
      assert.deepEqual([...seen].sort(), [...fronts].sort(), log);

      process.kill(parent, 'SIGHUP');
      await systemd.waitFor((l) => l.length >= 3, 'RELOADING=1 and READY=1');
      // Each front logs before it tells the parent, which then tells systemd.
      await eventually('both fronts reloaded', () => ((log.match(/reloaded: new workers ready/g) ?? []).length === 2 ? true : undefined), 2_000);
      process.kill(parent, 'SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 0, log);
      await systemd.waitFor((l) => l.length >= 4, 'STOPPING=1');
      const [, reloading, reloaded, stopping] = systemd.lifecycle;
      assert.match(reloading as string, /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading: starting new workers$/);
      assert.match(reloaded as string, /^READY=1\nSTATUS=reloaded; listening on .*, 2 fronts, 2 workers$/);
      assert.match(stopping as string, /^STOPPING=1\nSTATUS=stopping: draining$/);
      assert.deepEqual(systemd.lifecycle.slice(4), []);
      // NotifyAccess=main: as root the helper's credentials are the parent's, the main pid.
      if (process.getuid?.() === 0) assert.deepEqual([...new Set(systemd.messages.map((m) => m.pid))], [parent]);
    } finally {
      try {
        process.kill(-parent, 'SIGKILL');
      } catch {
        // gone
      }
      systemd.close();
      dir.remove();
    }
  });
});
