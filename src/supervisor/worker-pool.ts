/**
 * The workers of one application and the queue in front of them. It spawns
 * them, hands requests to the least busy one, queues the rest up to a bound,
 * and replaces a worker that dies. A worker that cannot import the
 * application halts the pool instead of being respawned forever.
 */
import { EventEmitter } from 'node:events';
import { AppLoadError, WorkerBootError } from '../errors.js';
import type { ErrorLog } from '../observability/error-log.js';
import { WorkerProcess, type WorkerConfig } from './worker-process.js';

/** A request waiting for, or held by, a worker. */
export interface PoolJob {
  /** Hands the job to `worker`, which has room for it. */
  startOn(worker: WorkerProcess): void;
  /** The queue is full: the job is refused (503). */
  refuse(): void;
}

export interface PoolConfig extends WorkerConfig {
  workers: number;
  /** Requests that may wait when every worker is full. */
  backlog: number;
}

/**
 * How many requests a worker may hold per thread. More than one lets the
 * next request wait in the worker's socket buffer instead of a round trip
 * away, so a busy worker reads several at once; few enough that a slow
 * request delays little behind it.
 */
const PIPELINE_PER_THREAD = 4;

/** Respawn delays for workers that keep dying young: 100 ms doubling up to 10 s. */
const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 10_000;
/** A worker that lived this long resets the backoff. */
const HEALTHY_LIFETIME_MS = 5_000;

interface PoolEvents {
  workerExit: [pid: number, description: string];
  /** The application can no longer be loaded; the server must stop. */
  fatal: [error: AppLoadError | WorkerBootError];
}

export class WorkerPool extends EventEmitter<PoolEvents> {
  readonly #config: PoolConfig;
  readonly #log: ErrorLog;
  readonly #workers = new Set<WorkerProcess>();
  readonly #queue: PoolJob[] = [];
  readonly #pipelineDepth: number;
  #stopping = false;
  #youngDeaths = 0;

  constructor(config: PoolConfig, log: ErrorLog) {
    super();
    this.#config = config;
    this.#log = log;
    this.#pipelineDepth = config.threads * PIPELINE_PER_THREAD;
  }

  get size(): number {
    return this.#workers.size;
  }

  /** Pids of the live workers. */
  get pids(): number[] {
    return [...this.#workers].map((worker) => worker.pid);
  }

  /** Starts every worker; resolves once all have imported the application. */
  start(): Promise<void> {
    const booting = Array.from({ length: this.#config.workers }, () => this.#bootWorker());
    return Promise.all(booting).then(
      () => undefined,
      (error: unknown) => {
        this.kill();
        throw error;
      },
    );
  }

  /** Spawns one worker; settles when it is ready or has failed to boot. */
  #bootWorker(): Promise<WorkerProcess> {
    const worker = new WorkerProcess(this.#config, this.#log);
    this.#workers.add(worker);
    const born = Date.now();
    return new Promise((resolve, reject) => {
      let bootReport: string | null = null;
      let ready = false;
      worker.on('bootError', (report) => {
        bootReport = report;
      });
      worker.once('ready', () => {
        ready = true;
        this.#log.debug(`booted worker with pid ${worker.pid}`, worker.pid);
        worker.on('streamDone', () => this.#drainQueue());
        this.#drainQueue();
        resolve(worker);
      });
      worker.on('exit', () => {
        this.#workers.delete(worker);
        if (bootReport !== null) {
          reject(new AppLoadError(bootReport));
          return;
        }
        if (!ready) {
          reject(new WorkerBootError(`worker ${worker.exitDescription ?? 'exited'} before it was ready`));
          return;
        }
        this.#onWorkerExit(worker, Date.now() - born);
      });
    });
  }

  #onWorkerExit(worker: WorkerProcess, lifetimeMs: number): void {
    const description = worker.exitDescription ?? 'exited';
    this.emit('workerExit', worker.pid, description);
    if (this.#stopping) return;
    this.#log.warning(`worker ${worker.pid} ${description}; starting a new one`, worker.pid);
    this.#youngDeaths = lifetimeMs < HEALTHY_LIFETIME_MS ? this.#youngDeaths + 1 : 0;
    const delay = this.#youngDeaths === 0 ? 0 : Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (this.#youngDeaths - 1));
    setTimeout(() => {
      if (this.#stopping) return;
      this.#bootWorker().catch((error: AppLoadError | WorkerBootError) => {
        this.#stopping = true;
        this.emit('fatal', error);
      });
    }, delay).unref();
  }

  /** Gives the job to the least busy worker with room, or queues it. */
  submit(job: PoolJob): void {
    const worker = this.#queue.length === 0 ? this.#pickWorker() : undefined;
    if (worker !== undefined) {
      job.startOn(worker);
    } else if (this.#queue.length < this.#config.backlog) {
      this.#queue.push(job);
    } else {
      job.refuse();
    }
  }

  /** A queued job whose client went away. */
  withdraw(job: PoolJob): void {
    const at = this.#queue.indexOf(job);
    if (at !== -1) this.#queue.splice(at, 1);
  }

  #pickWorker(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    for (const worker of this.#workers) {
      if (worker.state !== 'ready' || worker.inflight >= this.#pipelineDepth) continue;
      if (best === undefined || worker.inflight < best.inflight) best = worker;
      if (best.inflight === 0) break;
    }
    return best;
  }

  #drainQueue(): void {
    while (this.#queue.length > 0) {
      const worker = this.#pickWorker();
      if (worker === undefined) return;
      (this.#queue.shift() as PoolJob).startOn(worker);
    }
  }

  /** Asks every worker to finish what it holds and exit; resolves when all have. */
  stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers].map(
      (worker) => new Promise<void>((resolve) => (worker.state === 'exited' ? resolve() : worker.once('exit', () => resolve()))),
    );
    for (const worker of this.#workers) worker.stop();
    return Promise.all(exits).then(() => undefined);
  }

  /** Kills every worker at once. */
  kill(): void {
    this.#stopping = true;
    for (const worker of this.#workers) worker.kill();
  }
}
