/**
 * A pool's record of its workers for the control listener: the generation
 * each belongs to and when it started, and why each one that ended did
 * (ExitReason), counted. The pool says what it meant (a reload, a scale
 * down, a --max-requests replacement); the rest is told from how the
 * process ended.
 */
import { EXIT_REASONS, type ExitReason, type PoolSnapshot, type WorkerExit, type WorkerSnapshot } from '../observability/mount-snapshot.js';
import type { WorkerProcess } from './worker-process.js';

interface Entry {
  generation: number;
  startedAt: number;
}

export class WorkerLedger {
  /** 1 for the workers started with the pool, one more for each reload that took. */
  generation = 1;
  readonly #entries = new Map<WorkerProcess, Entry>();
  /** Why the pool told a worker to go, until it has. */
  readonly #planned = new Map<WorkerProcess, ExitReason>();
  readonly #exits = Object.fromEntries(EXIT_REASONS.map((reason) => [reason, 0])) as Record<ExitReason, number>;
  #lastExit: WorkerExit | null = null;

  /** A worker was started, for `generation`. */
  enrol(worker: WorkerProcess, generation = this.generation): void {
    this.#entries.set(worker, { generation, startedAt: Date.now() });
  }

  /** The pool tells `worker` to go, for `reason`; its exit is counted so. */
  plan(worker: WorkerProcess, reason: ExitReason): void {
    if (!this.#planned.has(worker)) this.#planned.set(worker, reason);
  }

  /** `worker` has ended; `stopping`: the whole pool was told to stop. Returns why it ended. */
  settle(worker: WorkerProcess, signal: NodeJS.Signals | null, code: number | null, stopping: boolean): ExitReason {
    const reason = this.#planned.get(worker) ?? unplannedReason(worker, signal, code, stopping);
    this.#planned.delete(worker);
    this.#entries.delete(worker);
    this.#exits[reason]++;
    this.#lastExit = { pid: worker.pid, reason, description: worker.exitDescription ?? 'exited', at: Date.now() };
    return reason;
  }

  /** The pool's workers as they are now, with the counts so far. */
  snapshot(workers: Iterable<WorkerProcess>): Pick<PoolSnapshot, 'generation' | 'workers' | 'exits' | 'lastExit'> {
    const listed: WorkerSnapshot[] = [];
    for (const worker of workers) {
      if (worker.state === 'exited') continue;
      const entry = this.#entries.get(worker);
      listed.push({
        pid: worker.pid,
        state: worker.state,
        generation: entry?.generation ?? this.generation,
        served: worker.dispatched - worker.inflight,
        inflight: worker.inflight,
        startedAt: entry?.startedAt ?? Date.now(),
      });
    }
    return { generation: this.generation, workers: listed, exits: { ...this.#exits }, lastExit: this.#lastExit };
  }
}

/**
 * Why a worker the pool did not tell to go ended: a stop of the whole pool
 * is an exit whatever the process did; a SIGKILL that portico did not send
 * is most often the kernel's out-of-memory killer (describeExit says so too).
 */
function unplannedReason(worker: WorkerProcess, signal: NodeJS.Signals | null, code: number | null, stopping: boolean): ExitReason {
  if (worker.stuck) return 'timeout';
  if (stopping) return 'exit';
  if (signal === 'SIGKILL' && worker.killReason === null) return 'memory';
  return signal === null && code === 0 ? 'exit' : 'crash';
}
