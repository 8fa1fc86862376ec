/**
 * Samples VmRSS of a process and all its descendants during a transfer,
 * each sample tagged with how far the transfer had got, so that a streaming
 * test can tell memory that plateaus (buffers of a fixed size) from memory
 * that grows with the bytes moved (a leak, or a body held whole). Samples
 * taken outside the measured transfer (a warm-up) carry no progress: they
 * count for the peak only. The sampling runs on a thread of its own
 * (rss-sampling-thread.ts).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { descendantsOf, rssKiB } from './proc.js';
import type { SamplingThreadData } from './rss-sampling-thread.js';

export interface RssSample {
  /** Fraction of the measured transfer done when the sample was taken, 0 to 1; null outside it. */
  progress: number | null;
  kib: number;
}

export interface ProcessRss {
  pid: number;
  name: string;
  samples: RssSample[];
}

/** What a plateau check found for one process, in KiB. */
export interface RssPlateau {
  pid: number;
  name: string;
  /** The RSS the process had before any transfer (its first sample if it was not seen then). */
  baselineKiB: number;
  /** The maximum over every sample, warm-up included. */
  peakKiB: number;
  firstHalfMaxKiB: number;
  secondHalfMaxKiB: number;
  firstHalfSamples: number;
  secondHalfSamples: number;
}

/** VmRSS in KiB of `rootPid` and every descendant alive now. */
export function rssOfTree(rootPid: number): Map<number, number> {
  const result = new Map<number, number>();
  for (const pid of [rootPid, ...descendantsOf(rootPid)]) {
    const kib = rssKiB(pid);
    if (kib !== null) result.set(pid, kib);
  }
  return result;
}

export class RssTimeline {
  readonly #rootPid: number;
  readonly #progress = new Float64Array(new SharedArrayBuffer(8)).fill(Number.NaN);
  #thread: Worker | undefined;

  constructor(rootPid: number) {
    this.#rootPid = rootPid;
  }

  /** Starts sampling every `intervalMs` on a thread of its own. */
  start(intervalMs = 10): this {
    const data: SamplingThreadData = { rootPid: this.#rootPid, intervalMs, progress: this.#progress.buffer as SharedArrayBuffer };
    this.#thread = new Worker(new URL('./rss-sampling-thread.js', import.meta.url), { workerData: data });
    return this;
  }

  /** The fraction of the measured transfer done so far, or null outside it. */
  setProgress(fraction: number | null): void {
    this.#progress[0] = fraction ?? Number.NaN;
  }

  /** Takes a last sample and returns every sample of every process seen. */
  async stop(): Promise<ProcessRss[]> {
    const thread = this.#thread;
    if (thread === undefined) return [];
    this.#thread = undefined;
    const reply = once(thread, 'message');
    thread.postMessage('stop');
    const [processes] = (await reply) as [ProcessRss[]];
    await thread.terminate();
    return processes;
  }
}

/**
 * Splits each process's samples at half the transfer and keeps the maximum
 * of either half. `baselines` holds RSS taken before any transfer.
 */
export function plateaus(processes: ProcessRss[], baselines: Map<number, number>): RssPlateau[] {
  return processes.map(({ pid, name, samples }) => {
    const first = samples.filter((s) => s.progress !== null && s.progress < 0.5).map((s) => s.kib);
    const second = samples.filter((s) => s.progress !== null && s.progress >= 0.5).map((s) => s.kib);
    return {
      pid,
      name,
      baselineKiB: baselines.get(pid) ?? samples[0]?.kib ?? 0,
      peakKiB: Math.max(0, ...samples.map((s) => s.kib)),
      firstHalfMaxKiB: Math.max(0, ...first),
      secondHalfMaxKiB: Math.max(0, ...second),
      firstHalfSamples: first.length,
      secondHalfSamples: second.length,
    };
  });
}

export function describePlateaus(found: RssPlateau[]): string {
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  return found
    .map((p) => `${p.name}[${p.pid}] baseline ${mib(p.baselineKiB)}, peak ${mib(p.peakKiB)}, max ${mib(p.firstHalfMaxKiB)} over the first half (${p.firstHalfSamples} samples), ${mib(p.secondHalfMaxKiB)} over the second (${p.secondHalfSamples}) MiB`)
    .join('; ');
}
