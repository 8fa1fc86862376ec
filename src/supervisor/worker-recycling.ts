/**
 * When a healthy worker is replaced anyway, to bound what a slowly leaking
 * application can hold:
 *  - --max-requests: once it has been given its quota of requests (plus a
 *    random 0..--max-requests-jitter), checked as each is given;
 *  - --max-worker-memory: once its resident set (VmRSS) has been over the
 *    limit in MEMORY_SAMPLES samples in a row, a second apart, so that a
 *    short peak is forgiven and a lasting one is not;
 *  - --max-worker-lifetime: once it has run that long (plus a random
 *    0..--max-worker-lifetime-jitter seconds), checked at the same samples.
 * This module only decides. The pool replaces, the successor ready first
 * (worker-pool.ts), and the old worker's exit counts under the reason.
 * One timer per pool samples every worker, and only when a timed limit is
 * set; it never keeps the process alive.
 */
import type { ExitReason } from '../observability/mount-snapshot.js';
import { residentBytes } from '../observability/process-memory.js';
import type { WorkerState } from './worker-process.js';

export type RecycleReason = Extract<ExitReason, 'max_requests' | 'memory' | 'lifetime'>;

/** Over --max-worker-memory in this many samples in a row: replaced. */
export const MEMORY_SAMPLES = 3;
/** Between two samples of every worker's memory and age. */
export const SAMPLE_INTERVAL_MS = 1_000;

const MIB = 1024 * 1024;

export interface RecyclingSettings {
  /** Requests before a worker is replaced (0: never), plus a random 0..maxRequestsJitter. */
  maxRequests: number;
  maxRequestsJitter: number;
  /** --max-worker-memory, MiB (0: no limit). */
  maxWorkerMemory?: number;
  /** --max-worker-lifetime, seconds (0: no limit), plus a random 0..maxWorkerLifetimeJitter. */
  maxWorkerLifetime?: number;
  maxWorkerLifetimeJitter?: number;
}

/** What the policy reads of a worker. */
export interface RecyclableWorker {
  readonly pid: number;
  readonly state: WorkerState;
  /** Requests ever given to it. */
  readonly dispatched: number;
}

/** Where the policy's facts come from: fakes in the tests. */
export interface RecyclingProbes {
  /** Resident bytes of `pid`, or null when it cannot be told. */
  rss(pid: number): Promise<number | null>;
  /** Milliseconds, as Date.now(). */
  now(): number;
  /** 0 <= x < 1, as Math.random(). */
  random(): number;
}

const SYSTEM_PROBES: RecyclingProbes = { rss: residentBytes, now: () => Date.now(), random: () => Math.random() };

/** The pool's side: replace `worker`; `why` completes "worker PID ...; replacing it". */
export type Replace<W> = (worker: W, reason: RecycleReason, why: string) => void;

interface Watch {
  /** Requests it may be given, and its share of them (--max-requests plus jitter); null: no --max-requests. */
  quota: number | null;
  share: number;
  /** probes.now() past which it is replaced, and the lifetime that makes it; null: no --max-worker-lifetime. */
  deadline: number | null;
  lifetimeMs: number;
  /** Samples in a row over --max-worker-memory. */
  overLimit: number;
  /** Its replacement is starting: no limit is checked until rewatch(). */
  replacing: boolean;
}

export class WorkerRecycler<W extends RecyclableWorker> {
  readonly #settings: Required<RecyclingSettings>;
  readonly #replace: Replace<W>;
  readonly #probes: RecyclingProbes;
  readonly #watched = new Map<W, Watch>();
  #timer: NodeJS.Timeout | null = null;
  #sampling = false;

  constructor(settings: RecyclingSettings, replace: Replace<W>, probes: RecyclingProbes = SYSTEM_PROBES) {
    this.#settings = { maxWorkerMemory: 0, maxWorkerLifetime: 0, maxWorkerLifetimeJitter: 0, ...settings };
    this.#replace = replace;
    this.#probes = probes;
  }

  /** Samples every worker once a second while a timed limit (memory, lifetime) is set. */
  start(): void {
    const { maxWorkerMemory, maxWorkerLifetime } = this.#settings;
    if (this.#timer !== null || (maxWorkerMemory <= 0 && maxWorkerLifetime <= 0)) return;
    this.#timer = setInterval(() => void this.sample(), SAMPLE_INTERVAL_MS).unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** `worker` is ready: its quota, its lifetime and its memory are watched from now. */
  watch(worker: W): void {
    const { maxRequests, maxRequestsJitter, maxWorkerLifetime, maxWorkerLifetimeJitter } = this.#settings;
    const share = maxRequests > 0 ? maxRequests + Math.floor(this.#probes.random() * (maxRequestsJitter + 1)) : 0;
    const lifetimeMs = maxWorkerLifetime > 0 ? Math.round((maxWorkerLifetime + this.#probes.random() * maxWorkerLifetimeJitter) * 1000) : 0;
    this.#watched.set(worker, {
      quota: share > 0 ? share : null,
      share,
      lifetimeMs,
      deadline: lifetimeMs > 0 ? this.#probes.now() + lifetimeMs : null,
      overLimit: 0,
      replacing: false,
    });
  }

  /** It has ended, is being replaced, or was told to go: no longer watched. */
  forget(worker: W): void {
    this.#watched.delete(worker);
  }

  /** `worker` was just given a request. */
  counted(worker: W): void {
    const watch = this.#watched.get(worker);
    if (watch === undefined || watch.replacing || watch.quota === null || worker.dispatched < watch.quota) return;
    this.#recycle(worker, watch, 'max_requests', `served its ${watch.quota} requests`);
  }

  /**
   * One sample of every watched worker: its age against its lifetime, then
   * its memory. The RSS reads are asynchronous; a sample that would overlap
   * the one before is skipped.
   */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const now = this.#probes.now();
      for (const [worker, watch] of this.#watched) {
        if (!watch.replacing && watch.deadline !== null && now >= watch.deadline) {
          this.#recycle(worker, watch, 'lifetime', `has run for ${seconds(watch.lifetimeMs)} s, its --max-worker-lifetime`);
        }
      }
      const limitMiB = this.#settings.maxWorkerMemory;
      if (limitMiB > 0) await this.#sampleMemory(limitMiB);
    } finally {
      this.#sampling = false;
    }
  }

  async #sampleMemory(limitMiB: number): Promise<void> {
    const workers = [...this.#watched].filter(([worker, watch]) => worker.state === 'ready' && !watch.replacing).map(([worker]) => worker);
    const sizes = await Promise.all(workers.map((worker) => this.#probes.rss(worker.pid)));
    workers.forEach((worker, i) => {
      const watch = this.#watched.get(worker);
      const size = sizes[i];
      // Gone meanwhile, or unreadable: this sample says nothing.
      if (watch === undefined || watch.replacing || size === null || size === undefined) return;
      watch.overLimit = size > limitMiB * MIB ? watch.overLimit + 1 : 0;
      if (watch.overLimit >= MEMORY_SAMPLES) {
        const why = `has ${Math.round(size / MIB)} MiB resident, over --max-worker-memory ${limitMiB} MiB in ${MEMORY_SAMPLES} samples ${SAMPLE_INTERVAL_MS / 1000} s apart`;
        this.#recycle(worker, watch, 'memory', why);
      }
    });
  }

  /**
   * Its replacement could not start, so it serves on and is watched again:
   * the limit it passed counts afresh from now, the others as they were.
   * Returns when it will be replaced next, for the log ("after another 10
   * requests"): often enough to recover once the code is fixed, never a
   * respawn loop.
   */
  rewatch(worker: W, reason: RecycleReason): string {
    const watch = this.#watched.get(worker);
    if (watch === undefined) return 'never: it is no longer watched';
    watch.replacing = false;
    if (reason === 'max_requests') {
      watch.quota = worker.dispatched + watch.share;
      return `after another ${watch.share} requests`;
    }
    if (reason === 'lifetime') {
      watch.deadline = this.#probes.now() + watch.lifetimeMs;
      return `after another ${seconds(watch.lifetimeMs)} s`;
    }
    watch.overLimit = 0;
    return `if its memory stays over --max-worker-memory for another ${MEMORY_SAMPLES} samples`;
  }

  #recycle(worker: W, watch: Watch, reason: RecycleReason, why: string): void {
    watch.replacing = true;
    this.#replace(worker, reason, why);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1);
}
