/**
 * One host of the cluster: a portico in the host's network namespace and in
 * a UTS namespace of its own, whose host name is the host's role (h1, h2,
 * h3), so that the application can say where it ran with
 * socket.gethostname(). `ip netns exec`, `unshare` and `sh` each exec the
 * next, so the spawned child's pid is portico's front.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PORTICO_BIN, REPO_ROOT } from '../helpers/paths.js';
import { baseEnv, LISTENING_LINE } from '../helpers/portico.js';
import type { LabNetwork } from './lab-network.js';

export const APP_DIR = join(REPO_ROOT, 'test', 'deploy');
export const APP = 'host_app:application';
/** The public listener's and the control listener's ports on every host. */
export const APP_PORT = 8000;
export const CONTROL_PORT = 9000;

export class ClusterHostError extends Error {
  readonly code = 'CLUSTER_HOST';
}

export class ClusterHost {
  readonly role: string;
  readonly address: string;
  #lab: LabNetwork;
  #args: string[];
  #child: ChildProcess | null = null;
  #exited: Promise<unknown> = Promise.resolve();
  #output = '';
  /** Every instance's output, for a failure message. */
  #history = '';
  /** When the current instance logged that it listens (Date.now()). */
  readyAt = 0;

  constructor(lab: LabNetwork, role: string, args: string[]) {
    this.#lab = lab;
    this.role = role;
    this.address = lab.node(role).address;
    this.#args = args;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  logs(): string {
    return this.#history + this.#output;
  }

  /** Starts portico and resolves once every worker is ready. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new ClusterHostError(`${this.role} is already running`);
    this.#history += this.#output;
    this.#output = '';
    const command = [
      'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', this.role,
      process.execPath, PORTICO_BIN,
      '-w', '2',
      '-b', `0.0.0.0:${APP_PORT}`,
      '--control-bind', `0.0.0.0:${CONTROL_PORT}`,
      '--pythonpath', APP_DIR,
      ...this.#args,
      APP,
    ];
    const child = this.#lab.spawnIn(this.role, command, { cwd: REPO_ROOT, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = once(child, 'exit');
    const append = (chunk: Buffer): void => {
      this.#output += chunk.toString('utf8');
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    await this.waitForLog(LISTENING_LINE, timeoutMs);
    this.readyAt = Date.now();
  }

  /** Resolves when the current instance's output matches, counting what it printed already. */
  async waitForLog(pattern: RegExp, timeoutMs = 10_000, from = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.#output.slice(from))) {
      if (!this.running) throw new ClusterHostError(`${this.role}'s portico exited before logging ${pattern}:\n${this.#output}`);
      if (Date.now() > deadline) throw new ClusterHostError(`${this.role}'s portico did not log ${pattern} within ${timeoutMs} ms:\n${this.#output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Where the current instance's output ends, to wait for what it logs next. */
  mark(): number {
    return this.#output.length;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#child === null) throw new ClusterHostError(`${this.role} was never started`);
    process.kill(this.pid, signal);
  }

  /** Waits for the front to exit; its workers go with it. */
  async waitForExit(timeoutMs = 20_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterHostError(`${this.role}'s portico did not exit within ${timeoutMs} ms:\n${this.#output}`)), timeoutMs);
    });
    try {
      await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL to the whole process group, for clean-up. */
  kill(): void {
    if (this.#child === null) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
