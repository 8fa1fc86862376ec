/**
 * One running CGI script, as the exchange sees it: three streams, a pid for
 * the log, its end, and a way to kill it with everything it started. Two
 * launchers make them: the spawner helper (script-spawner.ts, the default:
 * a small long-lived process starts scripts off the event loop) and Node's
 * child_process.spawn (below), used when the helper cannot run.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { LocatedScript } from './script-locator.js';

export interface CgiProcess {
  /** The script's pid, which is also its process group id; undefined until it has started, and forever if it never did. */
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Fires once: the script never ran. */
  onSpawnError(listener: (error: Error) => void): void;
  /** Fires once the script has exited and its stdout and stderr are closed. */
  onClose(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** SIGKILL to the script's whole process group, while that group can still be named safely (see DirectCgiProcess). */
  killGroup(): void;
}

/** What starting a script needs of it: the file, and the directory it runs in. */
export type ScriptFile = Pick<LocatedScript, 'filename' | 'directory'>;

/** Starts `script` with `env`, in its own directory and process group. */
export type CgiLauncher = (script: ScriptFile, env: Record<string, string>) => CgiProcess;

/**
 * A script started with child_process.spawn, with execve() semantics: no
 * shell, the file (an absolute path) exec'd directly; argv is the script
 * path alone, never words from the query string (RFC 3875 §4.4 lets servers
 * make an ISINDEX query into argv; we decline, it is a classic injection
 * route). `detached` makes the child a session and group leader (setsid),
 * so -pid names its whole group.
 */
export class DirectCgiProcess implements CgiProcess {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  #closed = false;

  constructor(script: ScriptFile, env: Record<string, string>) {
    this.#child = spawn(script.filename, [], {
      cwd: script.directory, // RFC 3875 §7.2 (UNIX): the current directory is the script's
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.#child.once('close', () => {
      this.#closed = true;
    });
    // A script may exit without reading its input; the pipe then errors with EPIPE, which is not a fault of the request.
    this.#child.stdin.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }
  get stdin(): Writable {
    return this.#child.stdin;
  }
  get stdout(): Readable {
    return this.#child.stdout;
  }
  get stderr(): Readable {
    return this.#child.stderr;
  }

  onSpawnError(listener: (error: Error) => void): void {
    this.#child.once('error', listener);
  }

  onClose(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#child.once('close', listener);
  }

  /**
   * After the script has exited, its pid stays unusable for new processes
   * only while some member of its group lives; a member holding stdout open
   * is why 'close' has not come yet. Once 'close' has come the group may be
   * empty and its id recycled, so the kill is skipped: there is nothing left
   * of this script to kill that we could still name safely.
   */
  killGroup(): void {
    killProcessGroup(this.#child.pid, this.#closed);
  }
}

/** SIGKILL to process group `pid`, unless it is unknown or its script has closed (its id may be recycled). */
export function killProcessGroup(pid: number | undefined, closed: boolean): void {
  if (pid === undefined || closed) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already empty.
  }
}

export const launchDirectly: CgiLauncher = (script, env) => new DirectCgiProcess(script, env);
