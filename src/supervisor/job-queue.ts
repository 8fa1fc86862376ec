/**
 * The requests of one pool that wait for a worker, oldest first, each with
 * when it began to wait: how long the oldest has waited is what
 * --workers-max scales up on (pool-scaler.ts).
 */
import { performance } from 'node:perf_hooks';

export class JobQueue<J> {
  readonly #jobs: J[] = [];
  /** performance.now() when each job was queued, in the same order. */
  readonly #since: number[] = [];
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  get length(): number {
    return this.#jobs.length;
  }

  push(job: J): void {
    this.#jobs.push(job);
    this.#since.push(this.#now());
  }

  /** The oldest job, taken off the queue. */
  shift(): J | undefined {
    this.#since.shift();
    return this.#jobs.shift();
  }

  /** A job whose client went away before a worker took it. */
  withdraw(job: J): void {
    const at = this.#jobs.indexOf(job);
    if (at === -1) return;
    this.#jobs.splice(at, 1);
    this.#since.splice(at, 1);
  }

  /** Milliseconds the oldest job has waited; 0 when none waits. */
  oldestWait(): number {
    const since = this.#since[0];
    return since === undefined ? 0 : Math.max(0, this.#now() - since);
  }
}
