/**
 * The workers of one application and the queue in front of them, in the
 * manner of gunicorn's arbiter: it spawns workers, hands requests to the
 * least busy one (pickWorker), queues the rest up to a bound, replaces a
 * worker that dies or that worker-recycling.ts says to, keeps as many as
 * pool-scaler.ts says, and swaps in a new generation on reload. A worker
 * that cannot import the application halts the pool instead of being
 * respawned forever.
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
import { JobQueue } from './job-queue.js';
import { RespawnBackoff } from './respawn-backoff.js';
import { PoolScaler, type ScalingSettings } from './pool-scaler.js';
import { WorkerRecycler, type RecycleReason, type RecyclingSettings } from './worker-recycling.js';
import type { ExitReason, PoolSnapshot } from '../observability/mount-snapshot.js';

/** A request waiting for, or held by, a worker. */
export interface PoolJob {
  /** Hands the job to `worker`, which has room for it. */
  startOn(worker: WorkerProcess): void;
  /** The queue is full: the job is refused (503). */
  refuse(): void;
}

export interface PoolConfig extends PythonProcessConfig, RecyclingSettings, ScalingSettings {
  /** Import the application once in a zygote and fork the workers from it. */
  preload: boolean;
  /** Requests that may wait when every worker is full. */
  backlog: number;
  /** Requests an ASGI worker runs at once (--worker-connections). */
  workerConnections: number;
  /** --timeout, seconds (0: none): how long an ASGI worker's event loop may go without answering its heartbeat. */
  timeout: number;
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
  /** Workers whose successor is booting (why, and requests given until then): given requests only when no other worker can. */
  readonly #replacing = new Map<WorkerProcess, { reason: RecycleReason; given: number }>();
  readonly #recycler: WorkerRecycler<WorkerProcess>;
  readonly #scaler: PoolScaler<WorkerProcess>;
  readonly #queue = new JobQueue<PoolJob>();
  /** Generations, start times and exit reasons, for the control listener. */
  readonly #ledger = new WorkerLedger();
  /** With --preload: the zygote the current generation is forked from. */
  #zygote: Zygote | null = null;
  /** Zygotes this pool stopped itself: their end is expected, not a warning. */
  readonly #retiredZygotes = new WeakSet<Zygote>();
  #stopping = false;
  /** The server is stopping: the workers serve on through its drain, but none is replaced or added. */
  #draining = false;
  readonly #backoff = new RespawnBackoff();
  readonly #onRetire: (worker: WorkerProcess) => void;

  /**
   * `onRetire` hears of each worker told to finish what it holds and go (a
   * reload, its recycling, a scale down), while it still serves its open streams.
   */
  constructor(config: PoolConfig, log: ErrorLog, onRetire: (worker: WorkerProcess) => void = () => {}) {
    super();
    this.#config = config;
    this.#onRetire = onRetire;
    this.#capacity = threadCapacity(config.threads);
    this.#log = log;
    this.#recycler = new WorkerRecycler(config, (worker, reason, why) => this.#replace(worker, reason, why));
    this.#scaler = new PoolScaler(config, {
      serving: () => this.#serving().filter((worker) => !this.#replacing.has(worker)),
      queueWait: () => this.#queue.oldestWait(),
      fill: () => this.#fillToTarget(),
      retire: (worker) => this.#retire(worker, 'scale_down'),
      active: () => !this.#stopping && !this.#draining,
      info: (message) => this.#log.info(message),
    });
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
      await Promise.all(Array.from({ length: this.#scaler.target }, () => this.#spawn()));
      this.#recycler.start();
      this.#scaler.start();
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
   * `replaces` (#replace) is retired the moment it is ready, before any
   * waiting request is handed out: from then on, the new one gets them.
   */
  async #spawn(zygote = this.#zygote, replaces?: WorkerProcess, generation = this.#ledger.generation): Promise<WorkerProcess> {
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
        this.#recycler.watch(worker);
        worker.on('streamDone', () => this.#drainQueue());
        if (replaces !== undefined) this.#retireReplaced(replaces, worker);
        this.#drainQueue();
        this.#scaler.ready(worker);
        resolve(worker);
      });
      worker.on('exit', (code, signal) => {
        this.#workers.delete(worker);
        this.#recycler.forget(worker);
        this.#replacing.delete(worker);
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
    const delay = this.#backoff.delayAfter(lifetimeMs);
    this.#log.warning(`worker ${worker.pid} ${description}; starting a new one${delay > 0 ? ` in ${delay} ms` : ''}`, worker.pid);
    setTimeout(() => this.#fillToTarget(), delay).unref();
  }

  #fillToTarget(): void {
    if (this.#stopping || this.#draining) return;
    const missing = this.#scaler.target - this.#serving().length;
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
    const fresh = Array.from({ length: this.#scaler.target }, () => this.#spawn(zygote, undefined, generation));
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

  /** SIGTTIN: one worker more (pool-scaler.ts says how the bounds move). */
  grow(): void {
    this.#scaler.grow();
  }

  /** SIGTTOU: one worker fewer, never below one. */
  shrink(): void {
    this.#scaler.shrink();
  }

  /** `successor` is ready: `worker`, being replaced, takes no more requests. */
  #retireReplaced(worker: WorkerProcess, successor: WorkerProcess): void {
    const replacing = this.#replacing.get(worker);
    this.#replacing.delete(worker);
    // Gone, or already told to go (a reload while its successor booted).
    if (worker.state !== 'ready' || replacing === undefined) return;
    const beyond = worker.dispatched - replacing.given;
    this.#log.debug(`worker ${worker.pid} retired after ${worker.dispatched} requests, ${beyond} of them while worker ${successor.pid} booted (${replacing.reason})`, worker.pid);
    this.#retire(worker, replacing.reason);
  }

  /** Stops giving `worker` requests and lets it finish the ones it holds; its exit counts as `reason`. */
  #retire(worker: WorkerProcess, reason: ExitReason): void {
    this.#recycler.forget(worker);
    this.#ledger.plan(worker, reason);
    this.#retiring.add(worker);
    worker.stop();
    this.#onRetire(worker);
  }

  /**
   * The recycling policy says `worker` is to go (its --max-requests, memory
   * or lifetime): it is replaced once its successor is ready. Until then it
   * keeps serving (requests do not wait for a boot), so past --max-requests
   * it serves as many more as arrive while its successor boots. Not one more
   * after that (#retireReplaced).
   */
  #replace(worker: WorkerProcess, reason: RecycleReason, why: string): void {
    if (worker.state !== 'ready' || this.#replacing.has(worker) || this.#stopping || this.#draining) return;
    this.#log.info(`worker ${worker.pid} ${why}; replacing it`, worker.pid);
    this.#replacing.set(worker, { reason, given: worker.dispatched });
    this.#spawn(this.#zygote, worker).then(
      () => {},
      (error: AppLoadError | WorkerBootError) => {
        this.#replacing.delete(worker);
        if (worker.state !== 'ready') return;
        const when = this.#recycler.rewatch(worker, reason);
        this.#log.error(`could not start a replacement for worker ${worker.pid}; it keeps serving and is replaced ${when}`);
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
      this.#scaler.queued();
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
    const { target, min, max } = this.#scaler.bounds;
    return { target, workersMin: min, workersMax: max, queued: this.#waiting(), ...this.#ledger.snapshot(this.#workers) };
  }

  /** A queued job whose client went away. */
  withdraw(job: PoolJob): void {
    this.#queue.withdraw(job);
  }

  /**
   * pickWorker's choice, keeping workers being replaced for when no other
   * can take the request: what they serve while their successors boot is
   * what --max-requests overshoots by.
   */
  #pick(): WorkerProcess | undefined {
    if (this.#replacing.size === 0) return pickWorker(this.#workers, this.#capacity);
    const within = [...this.#workers].filter((worker) => !this.#replacing.has(worker));
    return pickWorker(within, this.#capacity) ?? pickWorker(this.#replacing.keys(), this.#capacity);
  }

  #assign(job: PoolJob, worker: WorkerProcess): void {
    job.startOn(worker);
    this.#recycler.counted(worker);
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
    this.#recycler.stop();
    this.#scaler.stop();
  }

  /** Asks every worker to finish what it holds and exit; resolves when all have. */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#recycler.stop();
    this.#scaler.stop();
    this.#zygote?.stop();
    const exits = [...this.#workers].map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())));
    for (const worker of this.#workers) worker.stop();
    return Promise.all(exits).then(() => undefined);
  }

  /** Kills every worker at once. */
  kill(): void {
    this.#stopping = true;
    this.#recycler.stop();
    this.#scaler.stop();
    this.#zygote?.stop();
    for (const worker of this.#workers) worker.kill();
  }
}
