/**
 * Debian's uvicorn (python3-uvicorn) as the reference ASGI server: the same
 * fixture application served by it and by portico, compared response for
 * response. Started in its own process group on a free port, and killed by
 * pid (and group) whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './free-port.js';
import { SYSTEM_PYTHON } from './paths.js';
import { baseEnv } from './portico.js';

export interface Uvicorn {
  url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
});

/** `uvicorn <app>` run from `cwd`, resolved once it listens. */
export async function startUvicorn(app: string, cwd: string, extraArgs: string[] = []): Promise<Uvicorn> {
  const port = await freePort();
  const child = spawn(SYSTEM_PYTHON, ['-m', 'uvicorn', '--host', '127.0.0.1', '--port', String(port), '--no-access-log', ...extraArgs, app], {
    cwd,
    env: baseEnv({ PYTHONPATH: cwd, PYTHONDONTWRITEBYTECODE: '1' }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  live.add(pid);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone.
      }
      await exited;
    }
    live.delete(pid);
  };
  const url = `http://127.0.0.1:${port}`;
  // uvicorn says this once its lifespan startup is done and it listens.
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('uvicorn did not start within 15 s')), 15_000);
    const check = (): void => {
      if (/Uvicorn running on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`uvicorn exited with ${code}`));
    });
  });
  try {
    await ready;
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; uvicorn said:\n${output}`);
  }
  return { url, port, pid, process: child, logs: () => output, stop };
}
