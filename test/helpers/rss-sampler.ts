/**
 * Samples VmRSS of a process and all its descendants at a fixed interval,
 * keeping the peak of each, so a streaming test can bound the buffering of
 * the front and of every worker separately.
 */
import { commandName, descendantsOf, rssKiB } from './proc.js';

export interface RssPeak {
  pid: number;
  name: string;
  /** The first sample: the baseline before the transfer got going. */
  firstKiB: number;
  peakKiB: number;
  samples: number;
}

export class RssSampler {
  readonly #rootPid: number;
  readonly #peaks = new Map<number, RssPeak>();
  #timer: NodeJS.Timeout | undefined;

  constructor(rootPid: number) {
    this.#rootPid = rootPid;
  }

  start(intervalMs = 50): this {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    return this;
  }

  sample(): void {
    for (const pid of [this.#rootPid, ...descendantsOf(this.#rootPid)]) {
      const kib = rssKiB(pid);
      if (kib === null) continue;
      const peak = this.#peaks.get(pid) ?? { pid, name: commandName(pid), firstKiB: kib, peakKiB: 0, samples: 0 };
      peak.peakKiB = Math.max(peak.peakKiB, kib);
      peak.samples += 1;
      this.#peaks.set(pid, peak);
    }
  }

  /** Stops sampling and returns the peak of every process seen. */
  stop(): RssPeak[] {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.sample();
    return [...this.#peaks.values()];
  }
}

export function describePeaks(peaks: RssPeak[]): string {
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  return peaks.map((p) => `${p.name}[${p.pid}] ${mib(p.firstKiB)} -> peak ${mib(p.peakKiB)} MiB (${p.samples} samples)`).join(', ');
}
