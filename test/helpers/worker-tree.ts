/**
 * The Python workers of a started portico, found in /proc rather than taken
 * from its log, so that a test sees the processes that really exist.
 */
import { readFileSync } from 'node:fs';
import { commandName, descendantsOf, childrenOf, isRunning } from './proc.js';

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function isPython(pid: number): boolean {
  return /^python/.test(commandName(pid)) || /python/.test(commandLine(pid)[0] ?? '');
}

/** The CGI spawner is Python too, but serves no WSGI request. */
function isCgiSpawner(pid: number): boolean {
  return commandLine(pid).some((arg) => arg.endsWith('cgi_spawner.py'));
}

/**
 * Live Python processes under `rootPid` that serve requests: a Python
 * process with Python children of its own (a --preload zygote) is not
 * counted, its children are; nor is a CGI mount's spawner.
 */
export function workerPids(rootPid: number): number[] {
  return descendantsOf(rootPid)
    .filter((pid) => isRunning(pid) && isPython(pid) && !isCgiSpawner(pid))
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
