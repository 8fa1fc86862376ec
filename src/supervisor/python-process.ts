/**
 * A worker spawned as its own Python process running the runtime shipped in
 * this package. Its stdout and stderr are logged line by line, tagged with
 * the pid of the process that wrote them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerConfig, type WorkerSettings } from '../config/mount-spec.js';
import type { ErrorLog } from '../observability/error-log.js';
import type { WorkerHandle } from './worker-handle.js';

/** The entry script of the Python runtime that ships in this package. */
export const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python', 'portico_worker.py');

/**
 * Workers forked by a zygote share its pipes; the runtime marks each of
 * their lines with the writer's pid between two of these (python/portico/zygote.py).
 */
const PID_MARK = '\x1e';

/** How to start the process, and the settings its runtime reads. */
export interface PythonProcessConfig extends WorkerSettings {
  python: string;
  chdir: string;
  env: Record<string, string>;
}

export class PythonProcess implements WorkerHandle {
  readonly #child: ChildProcess;
  readonly #log: ErrorLog;
  readonly channel: Socket;
  #failure: string | null = null;
  #exited = false;

  constructor(config: PythonProcessConfig, log: ErrorLog, extraEnv: Record<string, string> = {}) {
    this.#log = log;
    this.#child = spawn(config.python, [WORKER_SCRIPT, JSON.stringify(workerConfig(config))], {
      cwd: config.chdir,
      env: { ...process.env, ...config.env, ...extraEnv, PYTHONUNBUFFERED: '1' },
      // fd 3 is the frame channel: libuv makes it a socketpair, so it is bidirectional.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.channel = this.#child.stdio[3] as Socket;
    this.channel.on('error', () => {
      // The process's exit reports the failure; a reset channel adds nothing.
    });
    this.#logLines(this.#child.stdout, 'info');
    this.#logLines(this.#child.stderr, 'error');
    this.#child.on('error', (error) => {
      this.#failure = `could not be started with '${config.python}': ${error.message}`;
    });
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.#exited) this.#child.kill(signal);
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null, failure: string | null) => void): void {
    const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.#exited) return;
      this.#exited = true;
      listener(code, signal, this.#failure);
    };
    this.#child.on('exit', exited);
    // A failed spawn has no process, so no 'exit' follows its 'error'.
    this.#child.on('error', () => {
      if (this.#child.pid === undefined) exited(null, null);
    });
  }

  #logLines(stream: NodeJS.ReadableStream | null, level: 'info' | 'error'): void {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#logLine(level, line);
    });
    stream.on('end', () => {
      if (partial !== '') this.#logLine(level, partial);
    });
  }

  #logLine(level: 'info' | 'error', line: string): void {
    if (line.startsWith(PID_MARK)) {
      const end = line.indexOf(PID_MARK, 1);
      const pid = Number(line.slice(1, end));
      if (end > 1 && Number.isInteger(pid)) {
        this.#log.appOutput(level, line.slice(end + 1), pid);
        return;
      }
    }
    this.#log.appOutput(level, line, this.pid);
  }
}
