/**
 * The resident set size of a process, read from /proc when asked (a scrape,
 * a look at the status page, a pool's --max-worker-memory sample).
 */
import { readFile } from 'node:fs/promises';

/** VmRSS in /proc/PID/status, in kB (proc(5)). */
const VM_RSS = /^VmRSS:\s+(\d+)\s+kB$/m;

/** Bytes, or null when the process is gone or this is no Linux. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const match = VM_RSS.exec(await readFile(`/proc/${pid}/status`, 'latin1'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** The RSS of each of `pids`, read at once: pid to bytes, the gone ones left out. */
export async function residentBytesOf(pids: readonly number[]): Promise<Map<number, number>> {
  const sizes = await Promise.all(pids.map((pid) => residentBytes(pid)));
  const found = new Map<number, number>();
  pids.forEach((pid, i) => {
    const size = sizes[i];
    if (size !== null && size !== undefined) found.set(pid, size);
  });
  return found;
}
