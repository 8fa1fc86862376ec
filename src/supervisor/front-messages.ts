/**
 * What a --fronts parent and its fronts say to each other over the cluster
 * IPC channel (front-set.ts, front-link.ts). JSON, one object a message.
 *
 *   parent ◀──waiting───────────── front   once, first: its code is loaded and listens to the channel
 *   parent ──options──────────────▶ front   the server's options, as the parent resolved them
 *   parent ──signal───────────────▶ front   a lifecycle signal the parent received, to act on as its own
 *   parent ──report───────────────▶ front   for --control-bind: its metrics and status, answered by a report
 *   parent ◀──closedSockets──────── front   draining: it stopped accepting on the shared sockets
 *   parent ──socketsClosed────────▶ front   every front has: the idle connections may close
 *   parent ◀──ready / reloaded / reloadFailed / stopping── front
 */
import type { ServerOptions } from '../config/settings.js';
import type { ControlReport } from '../observability/control-report.js';

/** The signals a parent relays: a front ignores them when they come from anyone else. */
export const RELAYED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU'] as const satisfies readonly NodeJS.Signals[];
export type RelayedSignal = (typeof RELAYED_SIGNALS)[number];

export type ToFront =
  /** `metrics`: the parent serves --control-bind, so the front keeps metrics for it. */
  | { kind: 'options'; options: ServerOptions; metrics: boolean }
  | { kind: 'signal'; signal: RelayedSignal }
  | { kind: 'report'; id: number }
  | { kind: 'socketsClosed' };

export type FromFront =
  /** Started, and listening to the channel: the parent sends the options. */
  | { kind: 'waiting' }
  /** Every worker ready, and accepting on the shared sockets. */
  | { kind: 'ready'; urls: string[]; workers: number }
  | { kind: 'reloaded' }
  | { kind: 'reloadFailed'; message: string }
  /** A stop began: the front is no longer ready. */
  | { kind: 'stopping' }
  /**
   * Its copies of the shared sockets are closed. It follows cluster's own
   * message that closes them on the same channel, so the parent, which
   * reads that one first, has closed its own copy when this arrives.
   */
  | { kind: 'closedSockets' }
  /** The answer to a report request: null when the front keeps no metrics. */
  | { kind: 'report'; id: number; report: ControlReport | null };

/** Tells a message of the channel from anything else (cluster's own messages pass on the same channel). */
export function isMessage<T extends { kind: string }>(value: unknown, kinds: readonly T['kind'][]): value is T {
  return typeof value === 'object' && value !== null && kinds.includes((value as { kind?: unknown }).kind as T['kind']);
}
