/**
 * What a mount tells about itself, read-only, when the control listener asks
 * (a scrape of /metrics, a look at /status.json): plain data, taken at that
 * moment, never kept up to date per request.
 */

/**
 * Why a worker ended, as the worker-exit metric labels it:
 *  - exit: it exited on its own with status 0, or when the server stopped;
 *  - crash: a non-zero status, a signal nobody here sent, a broken channel;
 *  - timeout: killed for a request or an event loop stuck past --timeout;
 *  - max_requests: replaced after its --max-requests;
 *  - memory: replaced for staying over --max-worker-memory, or a SIGKILL
 *    portico did not send, most often the kernel's out-of-memory killer;
 *  - lifetime: replaced after its --max-worker-lifetime;
 *  - reload: replaced by a new generation (SIGHUP, --reload);
 *  - scale_down: one worker fewer (SIGTTOU, or idle with --workers-max).
 */
export const EXIT_REASONS = ['exit', 'crash', 'timeout', 'max_requests', 'memory', 'lifetime', 'reload', 'scale_down'] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

export interface WorkerSnapshot {
  pid: number;
  /** 'booting', 'ready' or 'stopping' (a worker that exited is no longer listed). */
  state: string;
  /** Which generation of the pool it belongs to: 1 at start, one more at each reload. */
  generation: number;
  /** Requests it has finished. */
  served: number;
  /** Requests (and WebSockets) it holds now. */
  inflight: number;
  /** Date.now() when it was started. */
  startedAt: number;
}

export interface WorkerExit {
  pid: number;
  reason: ExitReason;
  /** In words, as the error log says it: 'exited with code 1', 'was killed by SIGKILL (signal 9)...'. */
  description: string;
  /** Date.now() when it ended. */
  at: number;
}

/** A pool of workers, as WorkerPool.snapshot() sees it. */
export interface PoolSnapshot {
  /** Workers it keeps (-w, moved by --workers-max's scaling and by SIGTTIN/SIGTTOU). */
  target: number;
  /** The bounds the target moves between: -w and --workers-max (both the target without --workers-max). */
  workersMin?: number;
  workersMax?: number;
  generation: number;
  /** Requests accepted that no worker has begun: queued, or pipelined behind busy threads. */
  queued: number;
  workers: WorkerSnapshot[];
  /** Workers that ended since the start, by reason. */
  exits: Record<ExitReason, number>;
  lastExit: WorkerExit | null;
}

/** What any mount may report; each kind fills in what it knows. */
export interface MountSnapshot {
  /** Requests it is serving now. */
  inflight?: number;
  /** Requests waiting for a worker. */
  queued?: number;
  /** Open WebSocket connections. */
  websockets?: number;
  pool?: PoolSnapshot;
}
