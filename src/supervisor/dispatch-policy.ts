/**
 * Which worker gets the next request. A worker's capacity is general: its
 * threads for a WSGI worker, --worker-connections for an asyncio one. Short
 * requests and long-lived streams (an open WebSocket) both take a slot, but
 * only short requests say whether a worker is keeping up: a stream that
 * lives as long as its client wants never makes its worker look stuck.
 */
import { performance } from 'node:perf_hooks';
import type { WorkerState } from './worker-process.js';

/**
 * How many requests a worker may hold per thread, at most. More than one lets
 * the next request wait in the worker's socket buffer instead of a round trip
 * away, so a busy worker reads several at once. How deep a worker really gets
 * is what PIPELINE_WAIT_MS allows at its pace: this only caps the fastest
 * (the measurements behind 64 are in docs/benchmarks/analysis.md).
 */
export const PIPELINE_PER_THREAD = 64;

/**
 * The longest a request may be expected to wait on a worker's channel behind
 * others. Past it, the request waits in the pool's queue instead, for
 * whichever worker frees a slot first. See pickWorker.
 */
export const PIPELINE_WAIT_MS = 5;

/** How many requests one worker runs at once, and how many it may hold. */
export interface WorkerCapacity {
  /** Requests it runs at once: its threads, or its --worker-connections. */
  readonly concurrency: number;
  /** Requests it may hold: running, or waiting on its channel for a slot. */
  readonly depth: number;
}

/** A WSGI worker: `threads` at once, and a pipeline behind each thread. */
export function threadCapacity(threads: number): WorkerCapacity {
  return { concurrency: threads, depth: threads * PIPELINE_PER_THREAD };
}

/** An asyncio worker: every request it holds runs at once, up to `connections`. */
export function connectionCapacity(connections: number): WorkerCapacity {
  return { concurrency: connections, depth: connections };
}

/** What the dispatch policy reads of a worker. */
export interface DispatchCandidate {
  readonly state: WorkerState;
  /** Requests and streams it holds. */
  readonly inflight: number;
  /** Of those, streams that stay open as long as their client wants (WebSockets). */
  readonly longLived: number;
  /** performance.now() when it last finished a short request, or was given one while idle. */
  readonly progressAt: number;
  /** Milliseconds between the short requests it finishes while busy; 0 while unknown. */
  readonly pace: number;
}

/**
 * The dispatch policy. An idle worker first, else the least busy one with a
 * free slot. A request that would wait on a worker's channel behind others
 * (pipelining, which is what makes small requests cheap) goes there only if,
 * at the pace that worker has been finishing requests, its turn would come
 * within PIPELINE_WAIT_MS, and only if it has finished something within that
 * time: one that has not is in a long request, and is given nothing to hold
 * until it is done. Otherwise undefined: the request waits in the pool's
 * queue for the first worker that frees up, as in gunicorn, instead of
 * behind a long-running request while another worker goes idle.
 *
 * What is sent cannot be taken back, so requests pipelined just before a
 * request turns out long still wait for it (at most what the pace allowed).
 * Taking them back would need the worker to say that it never began one: a
 * CANCEL that crosses the worker's start looks the same at the front as one
 * that came before it (STARTED, then an aborted end), and a request must
 * never run twice.
 */
export function pickWorker<W extends DispatchCandidate>(workers: Iterable<W>, capacity: WorkerCapacity, now: () => number = () => performance.now()): W | undefined {
  const { concurrency, depth } = capacity;
  let best: W | undefined;
  let at = -1;
  for (const worker of workers) {
    const inflight = worker.inflight;
    if (worker.state !== 'ready' || inflight >= depth) continue;
    if (best !== undefined && inflight >= best.inflight) continue;
    if (inflight >= concurrency) {
      // Every slot is taken. Long-lived streams free theirs only when their
      // clients leave: behind nothing but them, a request could wait forever.
      if (inflight === worker.longLived) continue;
      if (at < 0) at = now();
      // Nothing finished for that long: it is in a long request, which may run on for much longer.
      if (at - worker.progressAt > PIPELINE_WAIT_MS) continue;
      // Its turn comes once the requests ahead of it, and one running, have finished.
      if ((inflight - concurrency + 1) * worker.pace > PIPELINE_WAIT_MS) continue;
    }
    best = worker;
    if (inflight === 0) break;
  }
  return best;
}
