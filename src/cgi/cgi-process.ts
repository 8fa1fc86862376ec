/**
 * One running CGI script: started with execve() semantics in a process
 * group of its own, so that everything it starts can be killed with it.
 *
 * Why child_process.spawn and not a mod_cgid-style spawner helper:
 * bench/cgi-spawner.mjs, trivial sh script, 2 cores, medians of 5 x 3 s
 * (Node 20.20): spawn 656 / 898 / 888 req/s at concurrency 1 / 4 / 16, the
 * Python spawner 571 / 1032 / 1037. The helper wins ~15% under load and
 * loses ~13% for a lone request, while adding a second process to
 * supervise, a Python dependency for CGI mounts and sockets for stdio.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { LocatedScript } from './script-locator.js';

export class CgiProcess {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  #exited = false;
  #closed = false;

  /**
   * Starts `script`. No shell: the file (an absolute path) is exec'd
   * directly; argv is the script path alone, never words from the query
   * string (RFC 3875 §4.4 lets servers make an ISINDEX query into argv; we
   * decline, it is a classic injection route). `detached` makes the child a
   * session and group leader (setsid), so -pid names its whole group.
   */
  constructor(script: LocatedScript, env: Record<string, string>) {
    this.#child = spawn(script.filename, [], {
      cwd: script.directory, // RFC 3875 §7.2 (UNIX): the current directory is the script's
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.#child.once('exit', () => {
      this.#exited = true;
    });
    this.#child.once('close', () => {
      this.#closed = true;
    });
    // A script may exit without reading its input; the pipe then errors with EPIPE, which is not a fault of the request.
    this.#child.stdin.on('error', () => {});
  }

  /** The script's pid, which is also its process group id; undefined when it could not be started. */
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

  /** Fires once: spawn failed (the script never ran). */
  onSpawnError(listener: (error: Error) => void): void {
    this.#child.once('error', listener);
  }

  /** Fires once the script has exited and its stdio streams are closed. */
  onClose(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#child.once('close', listener);
  }

  get exited(): boolean {
    return this.#exited;
  }

  /**
   * SIGKILL to the whole process group: the script and whatever it started
   * that did not leave the group. After the script has exited, its pid stays
   * unusable for new processes only while some member of its group lives;
   * a member holding stdout open is why 'close' has not come yet. Once
   * 'close' has come the group may be empty and its id recycled, so the kill
   * is skipped: there is nothing left of this script to kill that we could
   * still name safely.
   */
  killGroup(): void {
    const pid = this.#child.pid;
    if (pid === undefined || this.#closed) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already empty.
    }
  }
}
