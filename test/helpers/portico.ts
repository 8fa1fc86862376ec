/**
 * Starts the real portico CLI as a child process, the way a user would, and
 * keeps what it prints. Each portico runs in its own process group so that a
 * test can always clean up everything it started, even if the server leaves
 * workers behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { FIXTURE_APPS, PORTICO_BIN, REPO_ROOT } from './paths.js';
import { descendantsOf, startTime } from './proc.js';

/** The one line portico logs once every worker has imported the app. */
export const LISTENING_LINE = /listening on http:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+), (\d+) workers? ready/;

/** One line of the error log: `[YYYY-MM-DD HH:MM:SS +0000] [PID] [LEVEL] message`. */
export const ERROR_LOG_LINE = /^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000)\] \[(\d+)\] \[([A-Z]+)\] (.*)$/;

export interface StartOptions {
  /** The APP argument: `module:callable`, `module`, `'module:factory()'` or a path; null for none. */
  app: string | null;
  /** Options placed before APP. */
  args?: string[];
  /** Adds `-b 127.0.0.1:0` when args have no bind (default true). */
  addBind?: boolean;
  cwd?: string;
  /** Added to the environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** What to wait for before the server counts as ready; defaults to the listening line. */
  ready?: RegExp;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Portico {
  /** Base URL to send requests to (0.0.0.0 and :: are replaced by loopback). */
  url: string;
  host: string;
  port: number;
  workers: number;
  process: ChildProcess;
  pid: number;
  /** stderr and stdout, interleaved as they arrived. */
  logs(): string;
  stdout(): string;
  stderr(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  waitForExit(timeoutMs?: number): Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL for the whole group if it does not exit in time. */
  stop(): Promise<ExitStatus>;
}

const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** The environment of a started portico: the test's own, without the variables that change defaults. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
  for (const name of ['VIRTUAL_ENV', 'WEB_CONCURRENCY', 'PORT']) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Options and APP argument for one of the stdlib fixture apps in test/fixtures/apps. */
export function fixtureApp(module: string, callable = 'application'): { app: string; args: string[] } {
  return { app: `${module}:${callable}`, args: ['--pythonpath', FIXTURE_APPS] };
}

/** Spawns portico without waiting for anything. */
export function spawnPortico(options: StartOptions): Portico {
  const args = [...(options.args ?? [])];
  const hasBind = args.some((a) => a === '-b' || a === '--bind' || a.startsWith('--bind='));
  if ((options.addBind ?? true) && !hasBind) args.unshift('-b', '127.0.0.1:0');
  if (options.app !== null) args.push(options.app);
  const child = spawn(process.execPath, [PORTICO_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: baseEnv(options.env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  live.add(pid);
  let all = '';
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    all += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    all += chunk;
    notify();
  });
  let exit: ExitStatus | null = null;
  const exited = once(child, 'exit').then(([code, signal]) => {
    exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
    notify();
    return exit;
  });

  const waitForLog = (pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(all);
        if (match !== null) {
          done();
          resolve(match);
        } else if (exit !== null) {
          done();
          reject(new Error(`portico exited (${JSON.stringify(exit)}) before logging ${pattern}; output:\n${all}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`portico did not log ${pattern} within ${timeoutMs} ms; output:\n${all}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      // Let the stdio streams flush what already arrived before judging.
      setImmediate(check);
    });

  const waitForExit = async (timeoutMs = 10_000): Promise<ExitStatus> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`portico did not exit within ${timeoutMs} ms; output:\n${all}`)), timeoutMs);
    });
    try {
      const status = await Promise.race([exited, timeout]);
      // The exit event can precede the last stdio data.
      await new Promise((r) => setTimeout(r, 50));
      return status;
    } finally {
      clearTimeout(timer);
    }
  };

  const stop = async (): Promise<ExitStatus> => {
    // Everything the server started, remembered with its start time so that a
    // reused pid is never killed by mistake.
    const started = descendantsOf(pid).map((p) => ({ pid: p, since: startTime(p) }));
    if (exit === null) {
      child.kill('SIGTERM');
      try {
        await waitForExit(8_000);
      } catch {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
    }
    killGroup(pid, 'SIGKILL');
    for (const p of started) {
      if (p.since !== null && startTime(p.pid) === p.since) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // Gone between the check and the kill.
        }
      }
    }
    live.delete(pid);
    return exited;
  };

  return {
    url: '',
    host: '',
    port: 0,
    workers: 0,
    process: child,
    pid,
    logs: () => all,
    stdout: () => out,
    stderr: () => err,
    waitForLog,
    waitForExit,
    stop,
  };
}

/** Starts portico and resolves once it is ready to serve. */
export async function startPortico(options: StartOptions): Promise<Portico> {
  const server = spawnPortico(options);
  try {
    const match = await server.waitForLog(options.ready ?? LISTENING_LINE, options.readyTimeoutMs ?? 20_000);
    if (match[1] !== undefined && match[2] !== undefined) {
      server.host = match[1];
      server.port = Number(match[2]);
      server.workers = Number(match[3] ?? 0);
      const connectHost = server.host === '0.0.0.0' ? '127.0.0.1' : server.host === '[::]' ? '[::1]' : server.host;
      server.url = `http://${connectHost}:${server.port}`;
    }
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Starts several servers at once. If one fails to start, the others are
 * stopped before its error is thrown: a `before` that fails leaves nothing
 * running, since its `after` never learns of the servers that did start.
 */
export async function startTogether<const T extends readonly Promise<{ stop(): Promise<unknown> }>[]>(
  starting: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starting);
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure === undefined) {
    return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
  }
  await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
  throw failure.reason;
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs portico with exactly `argv` to completion (for --help, bad options,
 * import failures), killing it after `timeoutMs`.
 */
export async function runPortico(
  argv: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const started = Date.now();
  const server = spawnPortico({ app: null, args: argv, addBind: false, env: options.env ?? {}, cwd: options.cwd ?? REPO_ROOT });
  try {
    const status = await server.waitForExit(options.timeoutMs ?? 15_000);
    return { ...status, stdout: server.stdout(), stderr: server.stderr(), elapsedMs: Date.now() - started };
  } finally {
    await server.stop();
  }
}
