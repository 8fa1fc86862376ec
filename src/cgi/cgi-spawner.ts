/**
 * The front's side of the CGI spawner (python/portico/cgi_spawner.py): a
 * small long-lived process, one per CGI mount, that starts scripts with
 * posix_spawn so that the large Node process never forks on its event loop
 * (Apache's mod_cgid does the same for the same reason). Measured with
 * bench/cgi-spawner.mjs on a 2-core machine, trivial sh script, medians of
 * 3 x 2 s, child_process.spawn vs this: 1 at a time 490 vs 643 req/s,
 * 4 at a time 618 vs 1134, 16 at a time 758 vs 1208.
 *
 *   front ──control line {token, path, cwd, env, stdin?}──▶ spawner (stdin)
 *   front ──"I token" + request body──▶ socket ──▶ script fd 0 (/dev/null without a body)
 *   front ◀──────────────────────────── socket ◀── script fd 1 ("O token")
 *   front ◀──────────────────────────── socket ◀── script fd 2 ("E token")
 *   front ◀──{token, pid} / {token, error} / {token, status}── spawner (stdout)
 *
 * Node cannot pass file descriptors, so the connections to the spawner's
 * private socket are the script's stdio themselves (stdin only when the
 * request has a body). If the
 * spawner cannot start or dies, scripts are started with child_process.spawn
 * (cgi-process.ts) until a new one is ready.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ErrorLog } from '../observability/error-log.js';
import { describeExit, signalName } from '../supervisor/exit-description.js';
import { HelperSupervisor } from '../supervisor/helper-supervisor.js';
import { PrivateSocketDir } from '../supervisor/private-socket-dir.js';
import { DirectCgiProcess, killProcessGroup, type CgiProcess, type ScriptFile } from './cgi-process.js';
import { CgiSpawnerError } from './cgi-spawner-error.js';

const SPAWNER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python', 'portico', 'cgi_spawner.py');
/** How long a new spawner may take to say it is ready. */
const START_TIMEOUT_MS = 10_000;
/**
 * Scripts asked of the spawner and not yet answered (pid or error); later
 * requests wait their turn, in order. Each of these holds three connections
 * in the spawner's accept queue until it reads them, and the kernel caps
 * that queue (net.core.somaxconn: 4096 on current kernels, 128 on older
 * ones); past it connect() fails with EAGAIN, which under a burst of 256
 * requests once turned most of them into 500s. 32 x 3 stays under 128.
 */
export const MAX_STARTING = 32;

export interface LaunchOptions {
  withInput?: boolean;
  stillWanted?: () => boolean;
}

type SpawnerMessage = { ready: true } | { token: string; pid: number } | { token: string; error: string } | { token: string; status: number };

/** A script started by the spawner; its stdio are the three connections (two for a request without a body). */
class SpawnedCgiProcess implements CgiProcess {
  readonly stdin: Writable;
  readonly stdout: Socket;
  readonly stderr: Socket;
  #pid: number | undefined;
  #spawnErrorListeners: Array<(error: Error) => void> = [];
  #closeListeners: Array<(code: number | null, signal: NodeJS.Signals | null) => void> = [];
  #failed = false;
  #killWanted = false;
  /** Exit status once known: [code, signal]. */
  #exit: [number | null, NodeJS.Signals | null] | null = null;
  #openStreams = 2;
  #closed = false;
  /** Called once, when the spawner has answered for this script (pid or error) or gone away. */
  #onAnswered: (() => void) | null;

  constructor(socketPath: string, token: string, withInput: boolean, onAnswered: () => void) {
    this.#onAnswered = onAnswered;
    // Without a body the script reads /dev/null, and one connection is
    // saved. Nothing is read from a stdin connection; reading only notices its end.
    this.stdin = withInput ? this.#connect(socketPath, `I ${token}\n`).resume() : new Writable({ write: (_chunk, _encoding, done) => done() });
    this.stdout = this.#connect(socketPath, `O ${token}\n`);
    this.stderr = this.#connect(socketPath, `E ${token}\n`);
    // Output waits until the spawner has said whether the script runs, so
    // that a spawn failure is reported as one and not as a script that
    // closed its output without a header.
    this.stdout.pause();
    this.stderr.pause();
    // A script may exit without reading its input (EPIPE); not the request's fault.
    this.stdin.on('error', () => {});
    for (const stream of [this.stdout, this.stderr]) {
      stream.once('close', () => {
        this.#openStreams -= 1;
        this.#closeIfDone();
      });
    }
  }

  #connect(socketPath: string, roleLine: string): Socket {
    const socket = connect(socketPath);
    socket.on('error', (error) => this.failed(`cannot reach the CGI spawner: ${error.message}`));
    socket.write(roleLine);
    return socket;
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  onSpawnError(listener: (error: Error) => void): void {
    this.#spawnErrorListeners.push(listener);
  }

  onClose(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    if (this.#closed && this.#exit !== null) listener(...this.#exit);
    else this.#closeListeners.push(listener);
  }

  killGroup(): void {
    if (this.#pid === undefined) this.#killWanted = true;
    else killProcessGroup(this.#pid, this.#closed);
  }

  started(pid: number): void {
    this.#pid = pid;
    this.#answered();
    this.stdout.resume();
    this.stderr.resume();
    if (this.#killWanted) this.killGroup();
  }

  /** The script never ran (or the spawner went away before saying it did). */
  failed(reason: string): void {
    if (this.#failed || this.#pid !== undefined) return;
    this.#failed = true;
    this.#answered();
    for (const socket of [this.stdin, this.stdout, this.stderr]) socket.destroy();
    for (const listener of this.#spawnErrorListeners.splice(0)) listener(new CgiSpawnerError(reason));
  }

  #answered(): void {
    const onAnswered = this.#onAnswered;
    this.#onAnswered = null;
    onAnswered?.();
  }

  /** `status` as the spawner reports it: the exit code, or minus the signal number; null if nobody can say. */
  exited(status: number | null): void {
    if (this.#exit !== null) return;
    this.#exit = status === null ? [null, null] : status >= 0 ? [status, null] : [null, signalName(-status)];
    this.#closeIfDone();
  }

  #closeIfDone(): void {
    if (this.#closed || this.#exit === null || this.#openStreams > 0) return;
    this.#closed = true;
    for (const listener of this.#closeListeners.splice(0)) listener(...this.#exit);
  }
}

/** One spawner process; its end fails or orphans whatever it was running. */
class SpawnerProcess {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #socketDir: PrivateSocketDir;
  readonly #scripts = new Map<string, SpawnedCgiProcess>();
  #nextToken = 0;
  #ended = false;

  private constructor(python: string, root: string, log: ErrorLog, onEnd: (description: string) => void, onReady: () => void) {
    this.#socketDir = new PrivateSocketDir('portico-cgi-', 'spawner.sock');
    // -I -S: no environment variables, user site or site-packages reach it; it needs only the standard library.
    this.#child = spawn(python, ['-I', '-S', SPAWNER_SCRIPT, root, this.#socketDir.socketPath], { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    this.#child.stdin.on('error', () => {}); // its end is reported by 'exit'
    createInterface({ input: this.#child.stderr }).on('line', (line) => log.error(`CGI spawner: ${line}`, this.#child.pid));
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      let message: SpawnerMessage;
      try {
        message = JSON.parse(line) as SpawnerMessage;
      } catch {
        log.error(`CGI spawner said something that is not its protocol, ignored: ${JSON.stringify(line.slice(0, 200))}`, this.#child.pid);
        return;
      }
      if ('ready' in message) onReady();
      else this.#deliver(message);
    });
    const end = (description: string): void => {
      if (this.#ended) return;
      this.#ended = true;
      this.#socketDir.remove();
      for (const script of this.#scripts.values()) {
        script.failed('the CGI spawner went away before starting the script');
        script.exited(null);
      }
      this.#scripts.clear();
      onEnd(description);
    };
    this.#child.on('error', (error) => end(`could not be started with '${python}': ${error.message}`));
    this.#child.on('exit', (code, signal) => end(describeExit(code, signal)));
  }

  static start(python: string, root: string, log: ErrorLog, onEnd: (description: string) => void): Promise<SpawnerProcess> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        spawner.#child.kill('SIGKILL'); // hung: ending its input would not stop it
        reject(new CgiSpawnerError(`did not get ready within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const spawner: SpawnerProcess = new SpawnerProcess(
        python,
        root,
        log,
        (description) => {
          clearTimeout(timer);
          if (settled) onEnd(description);
          else reject(new CgiSpawnerError(description));
          settled = true;
        },
        () => {
          clearTimeout(timer);
          settled = true;
          resolve(spawner);
        },
      );
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return !this.#ended;
  }

  launch(script: ScriptFile, env: Record<string, string>, withInput: boolean, onAnswered: () => void): SpawnedCgiProcess {
    const token = String(++this.#nextToken);
    const spawned = new SpawnedCgiProcess(this.#socketDir.socketPath, token, withInput, onAnswered);
    this.#scripts.set(token, spawned);
    // RFC 3875 §7.2 (UNIX): the current directory is the script's.
    const request = { token, path: script.filename, cwd: script.directory, env, ...(withInput ? {} : { stdin: false }) };
    this.#child.stdin.write(`${JSON.stringify(request)}\n`);
    return spawned;
  }

  #deliver(message: Exclude<SpawnerMessage, { ready: true }>): void {
    const script = this.#scripts.get(message.token);
    if (script === undefined) return;
    if ('pid' in message) {
      script.started(message.pid);
    } else if ('error' in message) {
      this.#scripts.delete(message.token);
      script.failed(message.error);
    } else {
      this.#scripts.delete(message.token);
      script.exited(message.status);
    }
  }

  /** Ends the spawner; scripts it started keep running (their groups are the handler's to kill). */
  stop(): void {
    this.#child.stdin.end(); // its input ending is its signal to exit
  }
}

/**
 * Starts scripts through a spawner process, replaced when it dies
 * (helper-supervisor.ts), and falls back to child_process.spawn while there
 * is none.
 */
export class CgiSpawner {
  readonly #spawners: HelperSupervisor<SpawnerProcess>;
  /** Scripts starting (see MAX_STARTING), and the requests waiting for one of them to finish starting. */
  #starting = 0;
  readonly #waiting: Array<() => void> = [];

  private constructor(python: string, root: string, log: ErrorLog) {
    this.#spawners = new HelperSupervisor({
      name: 'CGI spawner',
      whileDown: 'starting scripts directly until a new one is ready',
      start: (onEnd) => SpawnerProcess.start(python, root, log, onEnd),
      log,
    });
  }

  /** Resolves once the first spawner is ready; rejects (with the reason) if it cannot run at all. */
  static async start(python: string, root: string, log: ErrorLog): Promise<CgiSpawner> {
    const spawner = new CgiSpawner(python, root, log);
    await spawner.#spawners.start();
    return spawner;
  }

  get pid(): number | undefined {
    return this.#spawners.current?.pid;
  }

  /**
   * Starts a script once fewer than MAX_STARTING are starting. `withInput`
   * false: the request has no body, and the script's stdin is /dev/null.
   * Resolves with null, starting nothing, if `stillWanted()` (asked after
   * the wait) says the request went away meanwhile.
   */
  async launch(script: ScriptFile, env: Record<string, string>, options: LaunchOptions = {}): Promise<CgiProcess | null> {
    const { withInput = true, stillWanted = () => true } = options;
    if (this.#starting < MAX_STARTING) this.#starting += 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // a finished start hands its turn over
    if (!stillWanted()) {
      this.#finishedStarting();
      return null;
    }
    const spawner = this.#spawners.current;
    if (spawner === null || !spawner.running) {
      this.#finishedStarting(); // started at once, synchronously
      return new DirectCgiProcess(script, env);
    }
    return spawner.launch(script, env, withInput, () => this.#finishedStarting());
  }

  #finishedStarting(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#starting -= 1;
  }

  stop(): void {
    this.#spawners.stop();
  }
}
