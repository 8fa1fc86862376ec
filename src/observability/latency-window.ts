/**
 * The last minute of one mount's response times, second by second, for the
 * status page: its request rate and its p50 and p99. Each second keeps a
 * histogram of log-spaced buckets (each 20% wider than the one before, so a
 * quantile is good to within 10%), in one preallocated array: recording a
 * response is a logarithm and two increments, with nothing allocated.
 *
 *     slot = second % 60          one row per second, reused a minute later
 *     ┌────────┬───┬───┬───┬─···─┬───┐
 *     │ second │ 0 │ 1 │ 2 │     │ B │   bucket b counts durations in
 *     └────────┴───┴───┴───┴─···─┴───┘   (MIN·F^(b-1), MIN·F^b] ms
 */

/** Seconds kept. */
export const WINDOW_SECONDS = 60;
/** Durations at or under this many milliseconds share bucket 0. */
const MIN_MS = 0.05;
const FACTOR = 1.2;
const LOG_FACTOR = Math.log(FACTOR);
/** Up to 0.05 ms × 1.2^80 ≈ 110 s; longer ones share the last bucket. */
const BUCKETS = 81;
/** Column 0 of a row is its second; the buckets follow. */
const ROW = BUCKETS + 1;

/** One second of the window, as the status page draws it. */
export interface SecondSummary {
  /** Responses that ended in that second. */
  count: number;
  /** Milliseconds; 0 for a second without responses. */
  p50: number;
  p99: number;
}

export interface WindowSummary {
  /** Responses per second over the last 10 whole seconds. */
  rate: number;
  /** Over the whole minute, in milliseconds; 0 when there were none. */
  p50: number;
  p99: number;
  count: number;
  /** The last WINDOW_SECONDS whole seconds, oldest first. */
  seconds: SecondSummary[];
}

export class LatencyWindow {
  /** WINDOW_SECONDS rows of ROW numbers; a row's second is NaN (equal to no second) until it is first used. */
  readonly #rows = new Float64Array(WINDOW_SECONDS * ROW).fill(NaN);

  /** A response of `durationMs` ended at `atMs` (performance.now()). */
  record(durationMs: number, atMs: number): void {
    const second = Math.floor(atMs / 1000);
    const row = (second % WINDOW_SECONDS) * ROW;
    const rows = this.#rows;
    if (rows[row] !== second) {
      rows.fill(0, row, row + ROW);
      rows[row] = second;
    }
    const bucket = durationMs <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(durationMs / MIN_MS) / LOG_FACTOR));
    rows[row + 1 + bucket] = (rows[row + 1 + bucket] as number) + 1;
  }

  /** The minute up to the second before `nowMs` (performance.now()): whole seconds only. */
  summarize(nowMs: number): WindowSummary {
    const current = Math.floor(nowMs / 1000);
    const total = new Float64Array(BUCKETS);
    const seconds: SecondSummary[] = [];
    let recent = 0;
    for (let second = current - WINDOW_SECONDS; second < current; second++) {
      const row = (((second % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS) * ROW;
      if (this.#rows[row] !== second) {
        seconds.push({ count: 0, p50: 0, p99: 0 });
        continue;
      }
      const buckets = this.#rows.subarray(row + 1, row + ROW);
      let count = 0;
      for (let b = 0; b < BUCKETS; b++) {
        count += buckets[b] as number;
        total[b] = (total[b] as number) + (buckets[b] as number);
      }
      if (second >= current - 10) recent += count;
      seconds.push({ count, p50: quantile(buckets, count, 0.5), p99: quantile(buckets, count, 0.99) });
    }
    const count = seconds.reduce((sum, s) => sum + s.count, 0);
    return { rate: recent / 10, p50: quantile(total, count, 0.5), p99: quantile(total, count, 0.99), count, seconds };
  }
}

/** The upper bound, in milliseconds, of the bucket that holds the q-th response. */
function quantile(buckets: Float64Array, count: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += buckets[b] as number;
    if (seen >= rank) return round(MIN_MS * FACTOR ** b);
  }
  return round(MIN_MS * FACTOR ** (BUCKETS - 1));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
