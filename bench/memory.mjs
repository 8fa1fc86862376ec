// Resident (RSS) and proportional (PSS) memory of a set of processes, from
// /proc/PID/smaps_rollup. PSS splits shared pages between their sharers, so
// the PSS of a process tree adds up to what the tree really costs; RSS
// counts shared pages (the interpreter, forked copies) once per process.
import { readFileSync } from 'node:fs';
import { readStat } from './process-group.mjs';

function kib(text, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** { pid, comm, rss, pss } in bytes, or null if the process is gone. */
export function processMemory(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const stat = readStat(pid);
  return { pid, comm: stat?.comm ?? '?', rss: kib(text, 'Rss'), pss: kib(text, 'Pss') };
}

/** Memory of every listed process and the totals. */
export function treeMemory(pids) {
  const processes = pids.map(processMemory).filter(Boolean);
  return {
    processes,
    count: processes.length,
    rss: processes.reduce((sum, p) => sum + p.rss, 0),
    pss: processes.reduce((sum, p) => sum + p.pss, 0),
  };
}

/** Keeps the larger of two samples, by RSS. */
export function peakOf(a, b) {
  if (!a) return b;
  if (!b) return a;
  return b.rss > a.rss ? b : a;
}

/** Samples pidsFn() every intervalMs until stop() is called; resolves with the peak. */
export function sampleWhile(pidsFn, intervalMs) {
  let peak = null;
  let samples = 0;
  const take = () => {
    peak = peakOf(peak, treeMemory(pidsFn()));
    samples++;
  };
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { ...peak, samples };
    },
  };
}

export const MiB = 2 ** 20;
