/**
 * Reading the process tree from /proc: what a test needs to find the workers
 * of a portico it started and to measure them.
 */
import { readFileSync, readdirSync } from 'node:fs';

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Direct children of `pid`, over all its threads. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const found = new Set<number>();
  for (const task of tasks) {
    const text = readOrNull(`/proc/${pid}/task/${task}/children`) ?? '';
    for (const word of text.split(/\s+/)) if (word !== '') found.add(Number(word));
  }
  return [...found];
}

/** Every descendant of `pid`, children first. */
export function descendantsOf(pid: number): number[] {
  const result: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift() as number;
    result.push(next);
    queue.push(...childrenOf(next));
  }
  return result;
}

/** Resident set size in KiB, or null once the process is gone. */
export function rssKiB(pid: number): number | null {
  const status = readOrNull(`/proc/${pid}/status`);
  const match = status === null ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match === null ? null : Number(match[1]);
}

export function commandName(pid: number): string {
  return (readOrNull(`/proc/${pid}/comm`) ?? '?').trim();
}

/** The kernel's start time of `pid` (clock ticks since boot), to tell a pid from a reused one. */
export function startTime(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name in parentheses may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

/** True while `pid` exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** True once `pid` is gone from the process table (reaped by its parent). */
export function isReaped(pid: number): boolean {
  return readOrNull(`/proc/${pid}/stat`) === null;
}
