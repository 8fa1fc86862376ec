/**
 * What /status.json answers, and the status page draws: for each mount its
 * workers (pid, state, generation, requests served, in flight, RSS, age),
 * its last worker exit, its queue, and its last minute of requests (rate,
 * p50 and p99). Also whether the server is ready, as /readyz says it.
 */
import { performance } from 'node:perf_hooks';
import type { SecondSummary } from './latency-window.js';
import { mountLabel, type MeteredMount, type Metrics } from './metrics.js';
import type { ExitReason, MountSnapshot } from './mount-snapshot.js';
import { residentBytesOf } from './process-memory.js';

export interface StatusSources {
  readonly mounts: readonly MeteredMount[];
  readonly metrics: Metrics;
  /** The server is started and not stopping (the arbiter's `ready`). */
  serving(): boolean;
  /** Date.now() when the server was made. */
  readonly createdAt: number;
}

export interface Readiness {
  ready: boolean;
  /** Why not, one line each; empty when ready. */
  reasons: string[];
}

export interface WorkerStatus {
  pid: number;
  state: string;
  generation: number;
  served: number;
  inflight: number;
  /** null when /proc could not tell. */
  rssBytes: number | null;
  ageSeconds: number;
}

export interface MountStatus {
  mount: string;
  kind: string;
  /** Mounts that run workers: how many they keep, between which bounds (-w and --workers-max), and which generation serves. */
  target: number | null;
  workersMin: number | null;
  workersMax: number | null;
  generation: number | null;
  workers: WorkerStatus[];
  queueDepth: number | null;
  inflight: number | null;
  websockets: number | null;
  lastExit: { pid: number; reason: ExitReason; description: string; secondsAgo: number } | null;
  exits: Record<ExitReason, number> | null;
  requests: {
    total: number;
    /** Per second, over the last 10 seconds. */
    rate: number;
    /** Over the last minute, in milliseconds. */
    p50Ms: number;
    p99Ms: number;
    /** The last 60 whole seconds, oldest first. */
    lastMinute: SecondSummary[];
  };
}

export interface StatusSnapshot {
  pid: number;
  uptimeSeconds: number;
  /** ISO 8601, when the snapshot was taken. */
  at: string;
  ready: boolean;
  notReady: string[];
  mounts: MountStatus[];
}

/**
 * /readyz: ready while the server is serving and every mount that runs
 * workers has at least one ready; a load balancer then sends it traffic.
 */
export function readiness(sources: StatusSources, snapshots = takeSnapshots(sources.mounts)): Readiness {
  const reasons: string[] = [];
  if (!sources.serving()) reasons.push('the server is starting or stopping');
  sources.mounts.forEach((mount, i) => {
    const pool = snapshots[i]?.pool;
    if (pool !== undefined && !pool.workers.some((worker) => worker.state === 'ready')) {
      reasons.push(`mount ${mountLabel(mount.prefix)} has no ready worker`);
    }
  });
  return { ready: reasons.length === 0, reasons };
}

export async function takeStatus(sources: StatusSources): Promise<StatusSnapshot> {
  const snapshots = takeSnapshots(sources.mounts);
  const pids = snapshots.flatMap((snapshot) => snapshot?.pool?.workers.map((worker) => worker.pid) ?? []);
  const rss = await residentBytesOf(pids);
  const now = Date.now();
  const clock = performance.now();
  const { ready, reasons } = readiness(sources, snapshots);
  return {
    pid: process.pid,
    uptimeSeconds: Math.round((now - sources.createdAt) / 1000),
    at: new Date(now).toISOString(),
    ready,
    notReady: reasons,
    mounts: sources.mounts.map((mount, i) => mountStatus(mount, snapshots[i], sources.metrics, rss, now, clock)),
  };
}

function takeSnapshots(mounts: readonly MeteredMount[]): Array<MountSnapshot | undefined> {
  return mounts.map((mount) => mount.snapshot());
}

function mountStatus(
  mount: MeteredMount,
  snapshot: MountSnapshot | undefined,
  metrics: Metrics,
  rss: Map<number, number>,
  now: number,
  clock: number,
): MountStatus {
  const pool = snapshot?.pool;
  const tally = metrics.tally(mount.prefix);
  const window = tally?.window.summarize(clock);
  const total = tally === undefined ? 0 : tally.statuses.reduce((sum, count) => sum + count, 0);
  const lastExit = pool?.lastExit ?? null;
  return {
    mount: mountLabel(mount.prefix),
    kind: mount.kind,
    target: pool?.target ?? null,
    workersMin: pool?.workersMin ?? null,
    workersMax: pool?.workersMax ?? null,
    generation: pool?.generation ?? null,
    workers: (pool?.workers ?? []).map((worker) => ({
      pid: worker.pid,
      state: worker.state,
      generation: worker.generation,
      served: worker.served,
      inflight: worker.inflight,
      rssBytes: rss.get(worker.pid) ?? null,
      ageSeconds: Math.max(0, Math.round((now - worker.startedAt) / 1000)),
    })),
    queueDepth: snapshot?.queued ?? null,
    inflight: snapshot?.inflight ?? null,
    websockets: snapshot?.websockets ?? null,
    lastExit:
      lastExit === null
        ? null
        : { pid: lastExit.pid, reason: lastExit.reason, description: lastExit.description, secondsAgo: Math.max(0, Math.round((now - lastExit.at) / 1000)) },
    exits: pool?.exits ?? null,
    requests: {
      total,
      rate: window?.rate ?? 0,
      p50Ms: window?.p50 ?? 0,
      p99Ms: window?.p99 ?? 0,
      lastMinute: window?.seconds ?? [],
    },
  };
}
