/**
 * The --preload zygote: a Python process that imports the application once
 * and forks workers from itself, so that they share its memory pages
 * copy-on-write and a respawn costs a fork instead of an import.
 *
 *     front --SPAWN--> zygote --fork()--> worker --connect--> fork socket (here)
 *     front <--WORKER_EXIT(pid, wait status)-- zygote
 *
 * Node cannot pass a socket to the zygote, so each forked worker connects
 * back to a private UNIX socket that this class listens on; its first
 * frame, READY(pid), says who it is.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { AppLoadError, WorkerBootError } from '../errors.js';
import { FrameDecoder } from '../ipc/frame-decoder.js';
import { FrameType, HEADER_SIZE, decodeCount, decodeWorkerExit, encodeFrame, type FrameTypeCode } from '../ipc/frame-codec.js';
import type { ErrorLog } from '../observability/error-log.js';
import { describeExit } from './exit-description.js';
import { PrivateSocketDir } from './private-socket-dir.js';
import { PythonProcess, type PythonProcessConfig } from './python-process.js';
import { decodeWaitStatus, type WorkerHandle } from './worker-handle.js';

/** The environment variable that makes the runtime a zygote (python/portico/zygote.py). */
const FORK_SOCKET_ENV = 'PORTICO_FORK_SOCKET';
/** READY is a header and a u32 pid. */
const READY_SIZE = HEADER_SIZE + 4;
/**
 * A forked worker's channel closing is its end; the zygote says why soon
 * after. If the zygote is gone, nobody will: the end is reported without a
 * reason after this long.
 */
const EXIT_REASON_WAIT_MS = 1_000;

type ExitListener = (code: number | null, signal: NodeJS.Signals | null, failure: string | null) => void;

/** A worker forked by the zygote: signalled by pid, its end reported by the zygote. */
class ForkedWorker implements WorkerHandle {
  readonly pid: number;
  readonly channel: Socket;
  #listeners: ExitListener[] = [];
  #ended = false;
  #fallback: NodeJS.Timeout | undefined;

  constructor(pid: number, channel: Socket) {
    this.pid = pid;
    this.channel = channel;
    channel.on('error', () => {
      // reported as the end of the process
    });
    channel.on('close', () => {
      this.#fallback = setTimeout(() => this.exited(null, null, 'ended (its zygote could not say how)'), EXIT_REASON_WAIT_MS);
      this.#fallback.unref();
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#ended) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone: its exit is on the way
    }
  }

  onExit(listener: ExitListener): void {
    this.#listeners.push(listener);
  }

  exited(code: number | null, signal: NodeJS.Signals | null, failure: string | null = null): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#fallback);
    for (const listener of this.#listeners) listener(code, signal, failure);
  }
}

export class Zygote {
  readonly #process: PythonProcess;
  readonly #forkServer: Server;
  readonly #socketDir: PrivateSocketDir;
  readonly #log: ErrorLog;
  readonly #decoder = new FrameDecoder();
  readonly #forked = new Map<number, ForkedWorker>();
  readonly #waitingForks: Array<(worker: ForkedWorker) => void> = [];
  #onReady: (() => void) | null = null;
  #bootReport: string | null = null;
  #alive = true;

  private constructor(config: PythonProcessConfig, log: ErrorLog) {
    this.#log = log;
    this.#socketDir = new PrivateSocketDir('portico-zygote-', 'fork.sock');
    this.#forkServer = createServer((socket) => this.#adopt(socket));
    this.#forkServer.listen(this.#socketDir.socketPath);
    this.#process = new PythonProcess(config, log, { [FORK_SOCKET_ENV]: this.#socketDir.socketPath });
    this.#process.channel.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk, (type, _flags, _stream, payload) => this.#handle(type, payload));
      } catch (error) {
        this.#log.error(`zygote channel is corrupt (${(error as Error).message}); stopping the zygote`, this.pid);
        this.#process.kill('SIGKILL');
      }
    });
  }

  /** Starts a zygote; resolves once it has imported the application. */
  static start(config: PythonProcessConfig, log: ErrorLog, onExit: (description: string) => void): Promise<Zygote> {
    const zygote = new Zygote(config, log);
    return new Promise((resolve, reject) => {
      let ready = false;
      zygote.#onReady = () => {
        ready = true;
        resolve(zygote);
      };
      zygote.#process.onExit((code, signal, failure) => {
        zygote.#alive = false;
        zygote.#cleanUp();
        const description = failure ?? describeExit(code, signal);
        if (!ready) {
          reject(zygote.#bootReport !== null ? new AppLoadError(zygote.#bootReport) : new WorkerBootError(`zygote ${description} before it was ready`));
        } else {
          onExit(description);
        }
      });
    });
  }

  get pid(): number {
    return this.#process.pid;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Forks a worker; resolves with it once it has connected. */
  fork(): Promise<WorkerHandle> {
    if (!this.#alive) return Promise.reject(new WorkerBootError('the zygote is gone'));
    this.#process.channel.write(encodeFrame(FrameType.SPAWN, 0, 0));
    return new Promise((resolve) => this.#waitingForks.push(resolve));
  }

  /** Ends the zygote; the workers it forked are stopped by the pool, not here. */
  stop(): void {
    if (this.#alive) this.#process.channel.write(encodeFrame(FrameType.STOP, 0, 0));
  }

  #handle(type: FrameTypeCode, payload: Buffer): void {
    if (type === FrameType.READY) {
      this.#onReady?.();
    } else if (type === FrameType.BOOT_ERROR) {
      this.#bootReport = payload.toString('utf8');
    } else if (type === FrameType.WORKER_EXIT) {
      const { pid, status } = decodeWorkerExit(payload);
      const { code, signal } = decodeWaitStatus(status);
      this.#forked.get(pid)?.exited(code, signal);
      this.#forked.delete(pid);
    }
  }

  /** A forked worker connected: read its READY to learn its pid, then hand it over with the frame put back. */
  #adopt(socket: Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < READY_SIZE) return;
      socket.off('data', onData);
      socket.pause();
      if (head[0] !== FrameType.READY) {
        this.#log.error('a process connected to the fork socket without READY; closed it', this.pid);
        socket.destroy();
        return;
      }
      const pid = decodeCount(head.subarray(HEADER_SIZE, READY_SIZE));
      socket.unshift(head);
      const worker = new ForkedWorker(pid, socket);
      this.#forked.set(pid, worker);
      const waiting = this.#waitingForks.shift();
      if (waiting === undefined) {
        // Nobody asked for it. Workers leave SIGTERM to the front; the end of its channel ends it.
        socket.destroy();
        return;
      }
      waiting(worker); // still paused: WorkerProcess resumes it once it listens
    };
    socket.on('data', onData);
  }

  #cleanUp(): void {
    this.#forkServer.close();
    this.#socketDir.remove();
  }
}
