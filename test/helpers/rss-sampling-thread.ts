/**
 * The thread behind RssTimeline: it samples on its own event loop, so that a
 * test busy writing a body (whose write loop need not yield to timers) still
 * gets samples at a steady rate.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { commandName, descendantsOf, rssKiB } from './proc.js';
import type { ProcessRss } from './rss-timeline.js';

export interface SamplingThreadData {
  rootPid: number;
  intervalMs: number;
  /** One Float64: the fraction of the measured transfer done, NaN outside it. */
  progress: SharedArrayBuffer;
}

const { rootPid, intervalMs, progress } = workerData as SamplingThreadData;
const fraction = new Float64Array(progress);
const processes = new Map<number, ProcessRss>();

function sample(): void {
  const value = fraction[0] as number;
  for (const pid of [rootPid, ...descendantsOf(rootPid)]) {
    const kib = rssKiB(pid);
    if (kib === null) continue;
    const entry = processes.get(pid) ?? { pid, name: commandName(pid), samples: [] };
    entry.samples.push({ progress: Number.isNaN(value) ? null : value, kib });
    processes.set(pid, entry);
  }
}

sample();
const timer = setInterval(sample, intervalMs);
parentPort?.once('message', () => {
  clearInterval(timer);
  sample();
  parentPort?.postMessage([...processes.values()]);
});
