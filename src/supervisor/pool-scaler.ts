/**
 * How many workers a pool keeps (its target), between two bounds: -w and
 * --workers-max, as uWSGI's cheaper mode scales between --cheaper and
 * --workers.
 *
 *  - Up: while a request has waited in the pool's queue for longer than
 *    SCALE_UP_WAIT_MS, one worker more, then the next once no worker is
 *    booting, up to the upper bound.
 *  - Down: a worker that has held nothing for --workers-idle-timeout is
 *    retired gracefully (STOP: it finishes what it holds, and is given
 *    nothing new), one per idle timeout and never below the lower bound.
 *    Its exit counts as scale_down.
 *  - SIGTTIN and SIGTTOU move the target by one, as in gunicorn, and push a
 *    bound along when the target would pass it: TTIN past the upper bound
 *    raises it; TTOU below the lower bound lowers it, never below 1.
 *    Without --workers-max there is no range: both bounds are the target,
 *    and move with it.
 *
 * The target never leaves its bounds. The scaler decides; the pool starts
 * and retires the workers.
 */
import { performance } from 'node:perf_hooks';
import { ConfigError } from '../errors.js';
import type { WorkerState } from './worker-process.js';

/** A request that waited this long in the queue means the workers do not keep up. */
export const SCALE_UP_WAIT_MS = 200;
/** How often idle workers are looked for, at most; more often for a short --workers-idle-timeout. */
const IDLE_CHECK_MS = 1_000;

export interface ScalingSettings {
  /** -w: the lower bound, and the target to start with. */
  workers: number;
  /** --workers-max: the upper bound; 0 (or -w) for none, a fixed count. */
  workersMax?: number;
  /** --workers-idle-timeout, seconds. */
  workersIdleTimeout?: number;
}

/** What the scaler reads of a worker. */
export interface ScalableWorker {
  readonly pid: number;
  readonly state: WorkerState;
  /** Requests and streams it holds. */
  readonly inflight: number;
  /** performance.now() when it last finished a request, or was given one while idle. */
  readonly progressAt: number;
}

/** The pool, as the scaler drives it. */
export interface ScalingHost<W extends ScalableWorker> {
  /** Workers that count towards the target, oldest first: booting or serving, neither retiring nor being replaced. */
  serving(): readonly W[];
  /** Milliseconds the oldest queued request has waited; 0 when none waits. */
  queueWait(): number;
  /** Starts workers until as many serve as the target says. */
  fill(): void;
  /** Tells `worker` to finish what it holds and go; its exit counts as scale_down. */
  retire(worker: W): void;
  /** The pool may start and retire workers: it is neither stopping nor draining. */
  active(): boolean;
  info(message: string): void;
}

export interface ScalingBounds {
  target: number;
  min: number;
  max: number;
}

export class PoolScaler<W extends ScalableWorker> {
  readonly #host: ScalingHost<W>;
  readonly #now: () => number;
  /** --workers-max was given above -w: the target moves between the bounds on its own. */
  readonly #autoscaling: boolean;
  readonly #idleMs: number;
  #target: number;
  #min: number;
  #max: number;
  /** now() of the last scaling step, up or down: one step down per idle timeout. */
  #lastStep: number;
  /** now() when each worker last held something, as far as the samples saw. */
  readonly #busyAt = new WeakMap<W, number>();
  #queueTimer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(settings: ScalingSettings, host: ScalingHost<W>, now: () => number = () => performance.now()) {
    const { workers, workersMax = 0, workersIdleTimeout = 30 } = settings;
    if (workersMax !== 0 && workersMax < workers) {
      throw new ConfigError(`--workers-max: expected at least --workers (${workers}), got ${workersMax}`);
    }
    this.#host = host;
    this.#now = now;
    this.#autoscaling = workersMax > workers;
    this.#idleMs = workersIdleTimeout * 1000;
    this.#target = workers;
    this.#min = workers;
    this.#max = Math.max(workers, workersMax);
    this.#lastStep = now();
  }

  /** The target and its bounds, for the status page and the metrics. */
  get bounds(): ScalingBounds {
    return { target: this.#target, min: this.#min, max: this.#max };
  }

  get target(): number {
    return this.#target;
  }

  /** The pool serves: idle workers are looked for from now on (with --workers-max). */
  start(): void {
    if (!this.#autoscaling || this.#idleTimer !== null) return;
    const every = Math.max(50, Math.min(IDLE_CHECK_MS, this.#idleMs / 4));
    this.#idleTimer = setInterval(() => this.checkIdle(), every).unref();
  }

  /** The pool stops or drains: no more scaling. */
  stop(): void {
    if (this.#idleTimer !== null) clearInterval(this.#idleTimer);
    if (this.#queueTimer !== null) clearTimeout(this.#queueTimer);
    this.#idleTimer = null;
    this.#queueTimer = null;
  }

  /** A request was queued: whether the queue keeps it too long is checked when it would have. */
  queued(): void {
    if (!this.#autoscaling || this.#queueTimer !== null || this.#target >= this.#max) return;
    const waited = this.#host.queueWait();
    // Once past the window (a worker is booting), a look per window, not a spin.
    const delay = waited < SCALE_UP_WAIT_MS ? SCALE_UP_WAIT_MS - waited : SCALE_UP_WAIT_MS;
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = null;
      this.checkQueue();
    }, Math.max(1, delay)).unref();
  }

  /** A worker became ready: its idle time counts from now, and a queue that still waits may want another. */
  ready(worker: W): void {
    this.#busyAt.set(worker, this.#now());
    if (this.#autoscaling) this.checkQueue();
  }

  /**
   * Up: the oldest queued request has waited past the window, the target is
   * below the upper bound, and no worker is booting (the one that is may be
   * all it takes). Looks again while requests wait.
   */
  checkQueue(): void {
    const waited = this.#host.queueWait();
    if (waited === 0 || !this.#host.active()) return;
    const booting = this.#host.serving().some((worker) => worker.state === 'booting');
    if (waited >= SCALE_UP_WAIT_MS && this.#target < this.#max && !booting) {
      this.#target++;
      this.#lastStep = this.#now();
      this.#host.info(`scaling up to ${this.#describe()}: a request waited ${Math.round(waited)} ms in the queue`);
      this.#host.fill();
    }
    this.queued();
  }

  /**
   * Down: above the lower bound, and a whole idle timeout after the last
   * step, the worker idle longest, if it has been for the idle timeout, is
   * retired. It holds nothing, and is given nothing more.
   */
  checkIdle(): void {
    const now = this.#now();
    const serving = this.#host.serving();
    let idlest: W | undefined;
    let idleSince = Infinity;
    for (const worker of serving) {
      if (worker.state !== 'ready') continue;
      if (worker.inflight > 0) {
        this.#busyAt.set(worker, now);
        continue;
      }
      const since = Math.max(this.#busyAt.get(worker) ?? now, worker.progressAt);
      if (since < idleSince) {
        idlest = worker;
        idleSince = since;
      }
    }
    // More serving than the target (a reload under way) or fewer (one being respawned): not now.
    if (idlest === undefined || this.#target <= this.#min || serving.length !== this.#target || !this.#host.active()) return;
    if (now - idleSince < this.#idleMs || now - this.#lastStep < this.#idleMs) return;
    this.#target--;
    this.#lastStep = now;
    this.#host.info(`scaling down to ${this.#describe()}: worker ${idlest.pid} was idle for ${Math.round((now - idleSince) / 1000)} s`);
    this.#host.retire(idlest);
  }

  /** SIGTTIN: one worker more; past the upper bound, the bound moves up too. Like any step, it holds off scaling down for an idle timeout. */
  grow(): void {
    this.#target++;
    this.#lastStep = this.#now();
    this.#max = Math.max(this.#max, this.#target);
    if (!this.#autoscaling) this.#min = this.#target;
    this.#host.info(`SIGTTIN: ${this.#describe()}`);
    this.#host.fill();
  }

  /** SIGTTOU: one worker fewer, the oldest, never below 1; below the lower bound, the bound moves down too. */
  shrink(): void {
    if (this.#target <= 1) {
      this.#host.info('SIGTTOU: 1 worker already, the fewest');
      return;
    }
    this.#target--;
    this.#lastStep = this.#now();
    this.#min = Math.min(this.#min, this.#target);
    if (!this.#autoscaling) this.#max = this.#target;
    this.#host.info(`SIGTTOU: ${this.#describe()}`);
    const oldest = this.#host.serving()[0];
    if (oldest !== undefined) this.#host.retire(oldest);
  }

  #describe(): string {
    const count = `${this.#target} worker${this.#target === 1 ? '' : 's'}`;
    return this.#autoscaling ? `${count} (of ${this.#min}..${this.#max})` : count;
  }
}
