/**
 * sd_notify(3) for a service run by systemd (Type=notify): READY=1 once
 * every worker is ready, RELOADING=1 then READY=1 around a SIGHUP reload,
 * STOPPING=1 when a stop begins, a STATUS= line with each, and WATCHDOG=1
 * every half WATCHDOG_USEC for as long as the event loop turns.
 *
 *   front ──one JSON string a line (stdin)──▶ systemd_notify.py ──datagram──▶ NOTIFY_SOCKET
 *
 * Node has no UNIX datagram sockets, so a small helper in the Python that
 * portico runs anyway sends them (python/portico/systemd_notify.py says why
 * that and not another way). Started only when NOTIFY_SOCKET is set.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ErrorLog } from '../observability/error-log.js';

const NOTIFY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python', 'portico', 'systemd_notify.py');

/** What systemd told this process through its environment. */
export interface SystemdEnvironment {
  /** NOTIFY_SOCKET: a path, or '@name' in the abstract namespace; null when not run as Type=notify. */
  notifySocket: string | null;
  /** How often to send WATCHDOG=1 (half of WATCHDOG_USEC), when the watchdog is this process's; else null. */
  watchdogIntervalMs: number | null;
}

/**
 * Reads systemd's variables and takes them out of the environment, as
 * sd_notify and sd_listen_fds do when asked to unset it: the workers, CGI
 * scripts and the applications' own children inherit process.env, and
 * must not take the notification socket, the watchdog or the passed
 * sockets for theirs. (The passed sockets themselves were read already:
 * they are the default --bind, config/settings/http-settings.ts.)
 */
export function takeSystemdEnvironment(env: NodeJS.ProcessEnv = process.env): SystemdEnvironment {
  const notifySocket = env.NOTIFY_SOCKET || null;
  const usec = Number(env.WATCHDOG_USEC);
  const ours = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === String(process.pid);
  const watchdogIntervalMs = Number.isFinite(usec) && usec > 0 && ours ? Math.max(1, Math.floor(usec / 2000)) : null;
  for (const name of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete env[name];
  return { notifySocket, watchdogIntervalMs };
}

export class SystemdNotifier {
  readonly #child: ChildProcessByStdio<Writable, null, Readable>;
  readonly #watchdog: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(python: string, systemd: SystemdEnvironment & { notifySocket: string }, log: ErrorLog) {
    // -I -S and no environment: it needs the standard library only, as the CGI spawner.
    this.#child = spawn(python, ['-I', '-S', NOTIFY_SCRIPT, systemd.notifySocket, String(process.pid)], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: {},
    });
    this.#child.on('error', (error) => {
      this.#closed = true;
      log.warning(`cannot notify systemd: '${python}' could not be started (${error.message})`);
    });
    this.#child.stdin.on('error', () => {}); // its end is reported by 'exit'
    createInterface({ input: this.#child.stderr }).on('line', (line) => log.warning(`systemd notify: ${line}`));
    // Neither the helper nor its pipes keep a server that has stopped from exiting.
    this.#child.unref();
    for (const stream of [this.#child.stdin, this.#child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    if (systemd.watchdogIntervalMs !== null) {
      this.#watchdog = setInterval(() => this.notify('WATCHDOG=1'), systemd.watchdogIntervalMs);
      this.#watchdog.unref();
    }
    const watchdog = systemd.watchdogIntervalMs === null ? '' : `, WATCHDOG=1 every ${systemd.watchdogIntervalMs} ms`;
    log.debug(`notifying systemd at ${systemd.notifySocket}${watchdog}`);
  }

  /** Sends one message of `FIELD=value` lines. */
  notify(...fields: string[]): void {
    if (this.#closed) return;
    this.#child.stdin.write(`${JSON.stringify(fields.join('\n'))}\n`);
  }

  /** RELOADING=1 needs the time it began on CLOCK_MONOTONIC (Type=notify-reload); libuv's hrtime is that clock. */
  static monotonicUsec(): string {
    return String(process.hrtime.bigint() / 1000n);
  }

  /** Sends what is queued, then ends the helper. */
  close(): void {
    clearInterval(this.#watchdog);
    if (this.#closed) return;
    this.#closed = true;
    this.#child.stdin.end();
  }
}

/** STATUS= text: one line, as systemctl status shows it. */
export function statusLine(text: string): string {
  return `STATUS=${text.replace(/\s*\n\s*/g, ' ')}`;
}
