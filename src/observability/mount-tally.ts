/**
 * One mount's running totals, kept as plain numbers in arrays made once:
 * what /metrics and /status.json report of the requests that have ended.
 * prom-client's own counters and histograms build a label key string and a
 * labels object on every increment; these cost an index and an add, and are
 * handed to prom-client only when it is scraped (metrics.ts).
 */
import { LatencyWindow } from './latency-window.js';

/** Upper bounds, in seconds, of portico_http_request_duration_seconds: prom-client's defaults, with the fast end finer. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Status codes are three digits (RFC 9110 §15); anything else is counted at index 0. */
const STATUS_SLOTS = 600;

export class MountTally {
  /** The mount label: its prefix, '/' for the root, '' for requests no mount served. */
  readonly label: string;
  /** 'app', 'cgi', 'static', or '' for requests no mount served. */
  readonly kind: string;
  /** Requests ended, by status code. */
  readonly statuses = new Float64Array(STATUS_SLOTS);
  /** Durations per DURATION_BUCKETS bound (not cumulative), and one more for +Inf. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  durationSum = 0;
  durationCount = 0;
  /** Response-body bytes sent, for static mounts. */
  bodyBytes = 0;
  readonly window = new LatencyWindow();

  constructor(label: string, kind: string) {
    this.label = label;
    this.kind = kind;
  }

  /** One response is over: `status`, `durationMs` ending at `endedAt` (performance.now()), `bodyBytes` sent. */
  count(status: number, durationMs: number, endedAt: number, bodyBytes: number): void {
    const slot = status >= 100 && status < STATUS_SLOTS ? status : 0;
    this.statuses[slot] = (this.statuses[slot] as number) + 1;
    this.bodyBytes += bodyBytes;
    // A 101 is a WebSocket whose record ends with the session: its length is no response time.
    if (status === 101) return;
    const seconds = durationMs / 1000;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] as number)) bucket++;
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.durationSum += seconds;
    this.durationCount++;
    this.window.record(durationMs, endedAt);
  }

  /** Every status code seen, with its count. */
  *statusCounts(): Generator<[status: string, count: number]> {
    for (let status = 0; status < STATUS_SLOTS; status++) {
      const count = this.statuses[status] as number;
      if (count > 0) yield [status === 0 ? 'other' : String(status), count];
    }
  }
}
