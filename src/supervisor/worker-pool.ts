/**
 * The workers of one application and the queue in front of them, in the
 * manner of gunicorn's arbiter: it spawns workers, hands requests to the
 * least busy one (pickWorker), queues the rest up to a bound, replaces a
 * worker that dies or has served its quota, and swaps in a new generation on
 * reload. A worker that cannot import the application halts the pool
 * instead of being respawned forever.
 */
import { EventEmitter } from 'node:events';
import { AppLoadError, WorkerBootError } from '../errors.js';
import type { ErrorLog } from '../observability/error-log.js';
import type { SupervisionEvents } from '../routing/mount-handler.js';
import { PythonProcess, type PythonProcessConfig } from './python-process.js';
import type { WorkerHandle } from './worker-handle.js';
import { WorkerProcess } from './worker-process.js';
import { Zygote } from './zygote.js';
import { connectionCapacity, pickWorker, threadCapacity, type WorkerCapacity } from './dispatch-policy.js';
import { LoopHeartbeat } from './loop-heartbeat.js';
import { checkInterpreter } from './interpreter-check.js';
import { WorkerLedger } from './worker-ledger.js';
import type { ExitReason, PoolSnapshot } from '../observability/mount-snapshot.js';

/** A request waiting for, or held by, a worker. */
export interface PoolJob {
  /** Hands the job to `worker`, which has room for it. */
  startOn(worker: WorkerProcess): void;
  /** The queue is full: the job is refused (503). */
  refuse(): void;
}

export interface PoolConfig extends PythonProcessConfig {
  /** Import the application once in a zygote and fork the workers from it. */
  preload: boolean;
  workers: number;
  /** Requests that may wait when every worker is full. */
  backlog: number;
  /** Replace a worker after this many requests (0: never), plus a random 0..maxRequestsJitter. */
  maxRequests: number;
  maxRequestsJitter: number;
  /** Requests an ASGI worker runs at once (--worker-connections). */
  workerConnections: number;
  /** --timeout, seconds (0: none): how long an ASGI worker's event loop may go without answering its heartbeat. */
  timeout: number;
}

/** Respawn delays for workers that keep dying young: 100 ms doubling up to 10 s. */
const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 10_000;
/** A worker that lived this long resets the backoff. */
const HEALTHY_LIFETIME_MS = 5_000;

/**
 * How long to wait before replacing a worker that died young, the
 * `youngDeaths`th in a row: at once for the first (a one-off crash), then
 * capped exponential, so that an application that dies at every start does
 * not spin the machine.
 */
export function respawnDelay(youngDeaths: number): number {
  return youngDeaths <= 1 ? 0 : Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (youngDeaths - 2));
}

export class WorkerPool extends EventEmitter<SupervisionEvents> {
  readonly #config: PoolConfig;
  /** Threads until a worker says it runs ASGI (READY), then --worker-connections. */
  #capacity: WorkerCapacity;
  #asgi = false;
  readonly #log: ErrorLog;
  /** Every live worker: booting, serving or finishing. */
  readonly #workers = new Set<WorkerProcess>();
  /** Workers already replaced: they finish what they hold and are not respawned. */
  readonly #retiring = new Set<WorkerProcess>();
  /** Per-worker request quota for --max-requests. */
  readonly #quota = new Map<WorkerProcess, number>();
  /** Workers past their quota whose successor is booting: given requests only when no other worker can take them. */
  readonly #pastQuota = new Set<WorkerProcess>();
  readonly #queue: PoolJob[] = [];
  /** Generations, start times and exit reasons, for the control listener. */
  readonly #ledger = new WorkerLedger();
  #target: number;
  /** With --preload: the zygote the current generation is forked from. */
  #zygote: Zygote | null = null;
  /** Zygotes this pool stopped itself: their end is expected, not a warning. */
  readonly #retiredZygotes = new WeakSet<Zygote>();
  #stopping = false;
  /** The server is stopping: the workers serve on through its drain, but none is replaced or added. */
  #draining = false;
  #youngDeaths = 0;
  readonly #onRetire: (worker: WorkerProcess) => void;

  /**
   * `onRetire` hears of each worker told to finish what it holds and go (a
   * reload, its --max-requests), while it still serves its open streams.
   */
  constructor(config: PoolConfig, log: ErrorLog, onRetire: (worker: WorkerProcess) => void = () => {}) {
    super();
    this.#config = config;
    this.#onRetire = onRetire;
    this.#capacity = threadCapacity(config.threads);
    this.#log = log;
    this.#target = config.workers;
  }

  /** A worker said it runs its application as ASGI (READY): a request it holds runs at once, and a body it awaits holds nothing. */
  get asgi(): boolean {
    return this.#asgi;
  }

  /** Pids of the workers that take requests. */
  get pids(): number[] {
    return this.#serving().map((worker) => worker.pid);
  }

  /** Starts every worker; resolves once all have imported the application. */
  async start(): Promise<void> {
    // Before any worker: what is no Python, or too old a one, is one line, not a worker's crash.
    await checkInterpreter(this.#config.python, { ...process.env, ...this.#config.env });
    try {
      if (this.#config.preload) this.#zygote = await this.#startZygote();
      await Promise.all(Array.from({ length: this.#target }, () => this.#spawn()));
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  async #startZygote(): Promise<Zygote> {
    let zygote: Zygote | null = null;
    zygote = await Zygote.start(this.#config, this.#log, (description) => {
      // One this pool stopped itself (replaced at a reload) ends as asked.
      if (this.#stopping || (zygote !== null && this.#retiredZygotes.has(zygote))) return;
      // Its workers serve on; the next one needed comes from a new zygote.
      this.#log.warning(`the --preload zygote ${description}; a new one starts when a worker is needed`);
    });
    return zygote;
  }

  #retireZygote(zygote: Zygote | null): void {
    if (zygote === null) return;
    this.#retiredZygotes.add(zygote);
    zygote.stop();
  }

  /** A new worker process: forked from the zygote with --preload, else spawned. */
  async #launch(zygote: Zygote | null): Promise<WorkerHandle> {
    if (!this.#config.preload) return new PythonProcess(this.#config, this.#log);
    let parent = zygote;
    if (parent === null || !parent.alive) {
      parent = await this.#startZygote();
      this.#zygote = parent;
    }
    return parent.fork();
  }

  /**
   * Starts one worker; settles when it is ready, or rejects when it fails to
   * boot. After that, its death is handled by #onUnplannedExit. The worker it
   * `replaces` (--max-requests) is retired the moment it is ready, before any
   * waiting request is handed out: from then on, the new one gets them.
   */
  async #spawn(zygote = this.#zygote, replaces?: { worker: WorkerProcess; quota: number }, generation = this.#ledger.generation): Promise<WorkerProcess> {
    const worker = new WorkerProcess(await this.#launch(zygote), this.#config.threads, this.#log);
    this.#workers.add(worker);
    this.#ledger.enrol(worker, generation);
    const born = Date.now();
    return new Promise((resolve, reject) => {
      let bootReport: string | null = null;
      let ready = false;
      worker.on('bootError', (report) => {
        bootReport = report;
      });
      worker.once('ready', () => {
        ready = true;
        this.#log.debug(`booted ${worker.asgi ? 'ASGI' : 'WSGI'} worker with pid ${worker.pid}`, worker.pid);
        if (worker.asgi) {
          // Every worker of a pool runs the same application: the first to say ASGI sets how many requests each runs.
          this.#capacity = connectionCapacity(this.#config.workerConnections);
          this.#asgi = true;
          if (this.#config.timeout > 0) new LoopHeartbeat(worker, this.#config.timeout * 1000);
        }
        if (this.#config.maxRequests > 0) {
          this.#quota.set(worker, this.#config.maxRequests + Math.floor(Math.random() * (this.#config.maxRequestsJitter + 1)));
        }
        worker.on('streamDone', () => this.#drainQueue());
        if (replaces !== undefined) this.#retireReplaced(replaces, worker);
        this.#drainQueue();
        resolve(worker);
      });
      worker.on('exit', (code, signal) => {
        this.#workers.delete(worker);
        this.#quota.delete(worker);
        this.#pastQuota.delete(worker);
        const planned = this.#retiring.delete(worker);
        this.#ledger.settle(worker, signal, code, this.#stopping);
        if (!ready) {
          reject(bootReport !== null ? new AppLoadError(bootReport) : new WorkerBootError(`worker ${worker.exitDescription} before it was ready`));
          return;
        }
        const description = worker.exitDescription ?? 'exited';
        this.emit('workerExit', worker.pid, description);
        if (!planned && !this.#stopping) this.#onUnplannedExit(worker, description, Date.now() - born);
      });
    });
  }

  /** A serving worker died: log why, and start another, with backoff if they keep dying young. */
  #onUnplannedExit(worker: WorkerProcess, description: string, lifetimeMs: number): void {
    if (this.#draining) {
      this.#log.warning(`worker ${worker.pid} ${description}; not replaced, as the server is stopping`, worker.pid);
      return;
    }
    this.#youngDeaths = lifetimeMs < HEALTHY_LIFETIME_MS ? this.#youngDeaths + 1 : 0;
    const delay = respawnDelay(this.#youngDeaths);
    this.#log.warning(`worker ${worker.pid} ${description}; starting a new one${delay > 0 ? ` in ${delay} ms` : ''}`, worker.pid);
    setTimeout(() => this.#fillToTarget(), delay).unref();
  }

  #fillToTarget(): void {
    if (this.#stopping || this.#draining) return;
    const missing = this.#target - this.#serving().length;
    for (let i = 0; i < missing; i++) {
      this.#spawn().catch((error: AppLoadError | WorkerBootError) => {
        this.#stopping = true;
        this.kill();
        this.emit('fatal', error);
      });
    }
  }

  /** Workers that count towards the target: booting or serving, not replaced. */
  #serving(): WorkerProcess[] {
    return [...this.#workers].filter((worker) => !this.#retiring.has(worker) && worker.state !== 'stopping');
  }

  /**
   * Graceful reload (SIGHUP): a new generation imports the application
   * afresh and becomes ready, and only then do the old workers stop taking
   * requests and finish the ones they hold. If the new code cannot be
   * loaded the old generation keeps serving.
   */
  async reload(): Promise<void> {
    const old = this.#serving();
    // With --preload the zygote is replaced too: the new code is imported there.
    const zygote = this.#config.preload ? await this.#startZygote() : null;
    const generation = this.#ledger.generation + 1;
    const fresh = Array.from({ length: this.#target }, () => this.#spawn(zygote, undefined, generation));
    const settled = await Promise.allSettled(fresh);
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      for (const result of settled) if (result.status === 'fulfilled') this.#retire(result.value, 'reload');
      this.#retireZygote(zygote);
      throw failure.reason;
    }
    this.#ledger.generation = generation;
    for (const worker of old) this.#retire(worker, 'reload');
    if (zygote !== null) {
      this.#retireZygote(this.#zygote);
      this.#zygote = zygote;
    }
  }

  /** SIGTTIN: one worker more. */
  grow(): void {
    this.#target++;
    this.#fillToTarget();
  }

  /** SIGTTOU: one worker fewer, never below one. */
  shrink(): void {
    if (this.#target <= 1) return;
    this.#target--;
    const oldest = this.#serving()[0];
    if (oldest !== undefined) this.#retire(oldest, 'scale_down');
  }

  /** `successor` is ready: `worker`, past its quota, takes no more requests. */
  #retireReplaced({ worker, quota }: { worker: WorkerProcess; quota: number }, successor: WorkerProcess): void {
    this.#pastQuota.delete(worker);
    if (worker.state === 'exited') return;
    const beyond = worker.dispatched - quota;
    this.#log.debug(`worker ${worker.pid} retired after ${worker.dispatched} requests, ${beyond} of them while worker ${successor.pid} booted`, worker.pid);
    this.#retire(worker, 'max_requests');
  }

  /** Stops giving `worker` requests and lets it finish the ones it holds; its exit counts as `reason`. */
  #retire(worker: WorkerProcess, reason: ExitReason): void {
    this.#ledger.plan(worker, reason);
    this.#retiring.add(worker);
    worker.stop();
    this.#onRetire(worker);
  }

  /**
   * --max-requests: a worker that has been given its quota is replaced once
   * its successor is ready. Until then it keeps serving (requests do not wait
   * for a boot), so it may serve more than its quota: as many more as arrive
   * while its successor boots. Not one more after that (#retireReplaced).
   */
  #checkQuota(worker: WorkerProcess): void {
    const quota = this.#quota.get(worker);
    if (quota === undefined || worker.dispatched < quota || this.#stopping || this.#draining) return;
    this.#quota.delete(worker);
    this.#log.info(`worker ${worker.pid} served its ${quota} requests; replacing it`, worker.pid);
    this.#pastQuota.add(worker);
    this.#spawn(this.#zygote, { worker, quota }).then(
      () => {},
      (error: AppLoadError | WorkerBootError) => {
        this.#pastQuota.delete(worker);
        // Another try after another quota's worth of requests: often enough
        // to recover once the code is fixed, never a respawn loop.
        if (worker.state === 'ready') this.#quota.set(worker, worker.dispatched + quota);
        this.#log.error(`could not start a replacement for worker ${worker.pid}; it keeps serving and is replaced after another ${quota} requests`);
        this.#log.error(error instanceof AppLoadError ? error.report : error.message);
      },
    );
  }

  /**
   * Gives the job to the worker pickWorker chooses, else queues it. Requests
   * pipelined to a busy worker are waiting just as queued ones are, so
   * --backlog bounds both together; past it, 503.
   */
  submit(job: PoolJob): void {
    const worker = this.#queue.length === 0 ? this.#pick() : undefined;
    const waiting = this.#waiting();
    if (worker !== undefined && (worker.inflight < this.#capacity.concurrency || waiting < this.#config.backlog)) {
      this.#assign(job, worker);
    } else if (waiting < this.#config.backlog) {
      this.#queue.push(job);
    } else {
      job.refuse();
    }
  }

  /** Requests accepted but not yet begun: queued here, or pipelined behind busy threads. */
  #waiting(): number {
    let waiting = this.#queue.length;
    for (const worker of this.#workers) waiting += Math.max(0, worker.inflight - this.#capacity.concurrency);
    return waiting;
  }

  /** Its workers, queue and exits as they are now, for the control listener. */
  snapshot(): PoolSnapshot {
    return { target: this.#target, queued: this.#waiting(), ...this.#ledger.snapshot(this.#workers) };
  }

  /** A queued job whose client went away. */
  withdraw(job: PoolJob): void {
    const at = this.#queue.indexOf(job);
    if (at !== -1) this.#queue.splice(at, 1);
  }

  /**
   * pickWorker's choice, keeping workers past their quota for when no other
   * can take the request: what they serve while their successors boot is
   * what --max-requests overshoots by.
   */
  #pick(): WorkerProcess | undefined {
    if (this.#pastQuota.size === 0) return pickWorker(this.#workers, this.#capacity);
    const within = [...this.#workers].filter((worker) => !this.#pastQuota.has(worker));
    return pickWorker(within, this.#capacity) ?? pickWorker(this.#pastQuota, this.#capacity);
  }

  #assign(job: PoolJob, worker: WorkerProcess): void {
    job.startOn(worker);
    this.#checkQuota(worker);
  }

  /** A worker finished something or became ready: the queue's oldest go to whichever worker pickWorker now allows. */
  #drainQueue(): void {
    while (this.#queue.length > 0) {
      const worker = this.#pick();
      if (worker === undefined) return;
      this.#assign(this.#queue.shift() as PoolJob, worker);
    }
  }

  /**
   * The server begins to stop: the workers keep serving what the drain
   * brings, but from now on none is replaced, recycled or added.
   */
  drain(): void {
    this.#draining = true;
  }

  /** Asks every worker to finish what it holds and exit; resolves when all have. */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#zygote?.stop();
    const exits = [...this.#workers].map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())));
    for (const worker of this.#workers) worker.stop();
    return Promise.all(exits).then(() => undefined);
  }

  /** Kills every worker at once. */
  kill(): void {
    this.#stopping = true;
    this.#zygote?.stop();
    for (const worker of this.#workers) worker.kill();
  }
}
