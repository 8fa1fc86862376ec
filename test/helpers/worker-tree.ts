/**
 * The Python workers of a started portico, found in /proc rather than taken
 * from its log, so that a test sees the processes that really exist.
 */
import { readFileSync } from 'node:fs';
import { commandName, descendantsOf, childrenOf, isRunning } from './proc.js';

function isPython(pid: number): boolean {
  if (/^python/.test(commandName(pid))) return true;
  try {
    return /python/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
  } catch {
    return false;
  }
}

/**
 * Live Python processes under `rootPid` that serve requests: a Python
 * process with Python children of its own (a --preload zygote) is not
 * counted, its children are.
 */
export function workerPids(rootPid: number): number[] {
  return descendantsOf(rootPid)
    .filter((pid) => isRunning(pid) && isPython(pid))
    .filter((pid) => !childrenOf(pid).some(isPython))
    .sort((a, b) => a - b);
}

/** Proportional set size in KiB (shared pages divided among their users), or null once gone. */
export function pssKiB(pid: number): number | null {
  try {
    const match = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}
