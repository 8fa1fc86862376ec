/**
 * The metrics of one server, in Prometheus text format through prom-client.
 *
 * Two sources, so that serving requests costs next to nothing:
 *  - what requests did is counted once per request, when it is over, from
 *    its record (src/http/request-record.ts), into the mount's tally
 *    (mount-tally.ts): an array index and a few adds;
 *  - what the server is now (workers, queues, WebSockets, memory) is asked
 *    of the mounts only when /metrics is scraped, by prom-client's
 *    `collect()` callbacks.
 * Scrapes that arrive while one is being rendered share its text, so that a
 * flood of them costs one render at a time.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { loadPromClient } from '../lazy-package.js';
import { EXIT_REASONS, type MountSnapshot } from './mount-snapshot.js';
import { DURATION_BUCKETS, MountTally } from './mount-tally.js';
import { residentBytesOf } from './process-memory.js';

/** What counting needs of a request that is over: its record (src/http/request-record.ts) has it. */
export interface MetricsEntry {
  /** The mount prefix ('' for '/'); null when the server answered it itself. */
  readonly mount: string | null;
  readonly status: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly bodyBytes: number;
}

/** A mount as the metrics see it. */
export interface MeteredMount {
  /** Its prefix as the router keeps it: '' for '/'. */
  readonly prefix: string;
  readonly kind: string;
  /** What it is doing now; undefined for a mount with nothing to say (static files). */
  snapshot(): MountSnapshot | undefined;
}

/** The mount label of a prefix: '/' for the root. */
export function mountLabel(prefix: string): string {
  return prefix === '' ? '/' : prefix;
}

const WORKER_STATES = ['booting', 'ready', 'stopping'] as const;

/** A mount's label and snapshot, taken once per render. */
interface CurrentMount {
  label: string;
  kind: string;
  snapshot: MountSnapshot | undefined;
}

export class Metrics {
  /** prom-client, loaded with the first Metrics (src/lazy-package.ts): only --control-bind makes one. */
  readonly #prom = loadPromClient();
  readonly registry = new this.#prom.Registry();
  readonly #mounts: readonly MeteredMount[];
  /** By prefix; the tally for requests no mount served is under null's key, UNROUTED. */
  readonly #tallies = new Map<string, MountTally>();
  readonly #unrouted = new MountTally('', '');
  /** The mounts' snapshots for the render under way: taken once, read by every collect(). */
  #current: CurrentMount[] = [];
  #rendering: Promise<string> | null = null;

  constructor(mounts: readonly MeteredMount[]) {
    this.#mounts = mounts;
    for (const mount of mounts) this.#tallies.set(mount.prefix, new MountTally(mountLabel(mount.prefix), mount.kind));
    this.#prom.collectDefaultMetrics({ register: this.registry });
    this.#defineRequestMetrics();
    this.#defineMountGauges();
  }

  /** Counts a request that is over. Called once per request, so it allocates nothing. */
  record(entry: MetricsEntry): void {
    const tally = entry.mount === null ? this.#unrouted : (this.#tallies.get(entry.mount) ?? this.#unrouted);
    tally.count(entry.status, entry.endedAt - entry.startedAt, entry.endedAt, entry.bodyBytes);
  }

  /** The tally of the mount at `prefix`, for the status page. */
  tally(prefix: string): MountTally | undefined {
    return this.#tallies.get(prefix);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text of a scrape; concurrent scrapes share one render. */
  render(): Promise<string> {
    this.#rendering ??= this.#render().finally(() => {
      this.#rendering = null;
    });
    return this.#rendering;
  }

  async #render(): Promise<string> {
    this.#current = this.#mounts.map((mount) => ({ label: mountLabel(mount.prefix), kind: mount.kind, snapshot: mount.snapshot() }));
    return this.registry.metrics();
  }

  /** Every tally, the unrouted one last (only once it has counted something). */
  *#allTallies(): Generator<MountTally> {
    yield* this.#tallies.values();
    if (this.#unrouted.statuses.some((count) => count > 0)) yield this.#unrouted;
  }

  #defineRequestMetrics(): void {
    const tallies = (): Generator<MountTally> => this.#allTallies();
    const registers = [this.registry];
    const { Counter } = this.#prom;
    new Counter({
      name: 'portico_http_requests_total',
      help: 'HTTP requests whose response is over, by mount and status code.',
      labelNames: ['mount', 'status'] as const,
      registers,
      collect(this: Counter<'mount' | 'status'>) {
        this.reset();
        for (const tally of tallies()) for (const [status, count] of tally.statusCounts()) this.inc({ mount: tally.label, status }, count);
      },
    });
    new Counter({
      name: 'portico_cgi_scripts_total',
      help: 'Requests to CGI mounts whose response is over, by mount and status code.',
      labelNames: ['mount', 'status'] as const,
      registers,
      collect(this: Counter<'mount' | 'status'>) {
        this.reset();
        for (const tally of tallies()) {
          if (tally.kind === 'cgi') for (const [status, count] of tally.statusCounts()) this.inc({ mount: tally.label, status }, count);
        }
      },
    });
    new Counter({
      name: 'portico_static_bytes_total',
      help: 'Response-body bytes sent by static mounts.',
      labelNames: ['mount'] as const,
      registers,
      collect(this: Counter<'mount'>) {
        this.reset();
        for (const tally of tallies()) if (tally.kind === 'static') this.inc({ mount: tally.label }, tally.bodyBytes);
      },
    });
    this.registry.registerMetric(tallyHistogram(this.#prom.Histogram, tallies));
  }

  #defineMountGauges(): void {
    const current = (): CurrentMount[] => this.#current;
    const registers = [this.registry];
    const { Counter, Gauge } = this.#prom;
    const perMount = (name: string, help: string, pick: (snapshot: MountSnapshot) => number | undefined): void => {
      new Gauge({
        name, help, labelNames: ['mount'] as const, registers,
        collect(this: Gauge<'mount'>) {
          this.reset();
          for (const { label, snapshot } of current()) {
            const value = snapshot === undefined ? undefined : pick(snapshot);
            if (value !== undefined) this.set({ mount: label }, value);
          }
        },
      });
    };
    perMount('portico_queue_depth', 'Requests waiting for a worker.', (s) => s.queued);
    perMount('portico_inflight_requests', 'Requests being served now (WebSockets included), for mounts that run workers or scripts.', (s) => s.inflight);
    perMount('portico_websocket_connections', 'Open WebSocket connections.', (s) => s.websockets);
    perMount('portico_workers_target', 'Workers the pool keeps now: -w, moved by --workers-max scaling and SIGTTIN/SIGTTOU.', (s) => s.pool?.target);
    perMount('portico_workers_min', 'The lower bound of the pool\'s target (-w; moved down by SIGTTOU).', (s) => s.pool?.workersMin);
    perMount('portico_workers_max', 'The upper bound of the pool\'s target (--workers-max, or -w; moved up by SIGTTIN).', (s) => s.pool?.workersMax);
    new Gauge({
      name: 'portico_workers',
      help: 'Worker processes, by state.',
      labelNames: ['mount', 'state'] as const,
      registers,
      collect(this: Gauge<'mount' | 'state'>) {
        this.reset();
        for (const { label, snapshot } of current()) {
          const workers = snapshot?.pool?.workers;
          if (workers === undefined) continue;
          for (const state of WORKER_STATES) this.set({ mount: label, state }, workers.filter((worker) => worker.state === state).length);
        }
      },
    });
    new Counter({
      name: 'portico_worker_exits_total',
      help: `Worker processes that ended, by reason: ${EXIT_REASONS.join(', ')}.`,
      labelNames: ['mount', 'reason'] as const,
      registers,
      collect(this: Counter<'mount' | 'reason'>) {
        this.reset();
        for (const { label, snapshot } of current()) {
          const exits = snapshot?.pool?.exits;
          if (exits !== undefined) for (const reason of EXIT_REASONS) this.inc({ mount: label, reason }, exits[reason]);
        }
      },
    });
    new Gauge({
      name: 'portico_worker_resident_memory_bytes',
      help: 'Resident set size of each worker process, read from /proc at the scrape.',
      labelNames: ['mount', 'pid'] as const,
      registers,
      async collect(this: Gauge<'mount' | 'pid'>) {
        const pids = current().flatMap(({ label, snapshot }) => (snapshot?.pool?.workers ?? []).map((worker) => ({ label, pid: worker.pid })));
        const sizes = await residentBytesOf(pids.map(({ pid }) => pid));
        this.reset();
        for (const { label, pid } of pids) {
          const size = sizes.get(pid);
          if (size !== undefined) this.set({ mount: label, pid: String(pid) }, size);
        }
      },
    });
  }
}

const DURATION_NAME = 'portico_http_request_duration_seconds';
const DURATION_HELP = 'Time from a request head admitted to its response over, by mount (WebSocket sessions left out).';

/**
 * portico_http_request_duration_seconds{mount}: a prom-client Histogram in
 * name, type and output, whose counts come from the tallies at the scrape
 * rather than from observe() per request. Its class is made from the
 * Histogram class that was loaded, since prom-client is loaded on demand.
 */
function tallyHistogram(HistogramClass: typeof Histogram, tallies: () => Iterable<MountTally>): Histogram<'mount'> {
  class TallyHistogram extends HistogramClass<'mount'> {
    override async get(): ReturnType<Histogram<'mount'>['get']> {
      const name = DURATION_NAME;
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      for (const tally of tallies()) {
        if (tally.durationCount === 0) continue;
        const mount = tally.label;
        let cumulative = 0;
        DURATION_BUCKETS.forEach((bound, i) => {
          cumulative += tally.buckets[i] as number;
          values.push({ labels: { mount, le: bound }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { mount, le: '+Inf' }, value: tally.durationCount, metricName: `${name}_bucket` });
        values.push({ labels: { mount }, value: tally.durationSum, metricName: `${name}_sum` });
        values.push({ labels: { mount }, value: tally.durationCount, metricName: `${name}_count` });
      }
      return { name, help: DURATION_HELP, type: 'histogram' as never, aggregator: 'sum', values, collect: undefined as never };
    }

    /** The registry renders from this when present: the same values. */
    getForPromString(): ReturnType<Histogram<'mount'>['get']> {
      return this.get();
    }
  }
  return new TallyHistogram({
    name: DURATION_NAME,
    help: DURATION_HELP,
    labelNames: ['mount'],
    buckets: [...DURATION_BUCKETS],
    registers: [],
  });
}
