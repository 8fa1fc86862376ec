/**
 * Which workers take requests right now, asked over HTTP: n overlapping slow
 * requests land on n different idle workers only when n workers are ready.
 */
import { eventually, httpRequest } from './http-client.js';

/**
 * Resolves with the pids of `count` workers once `count` overlapping
 * requests to `path` (which must take a moment and answer with something
 * that `pidOf` turns into the worker's pid) were served by `count`
 * different workers.
 */
export function servingPids(
  url: string,
  count: number,
  path: string,
  pidOf: (body: string) => number = Number,
  timeoutMs = 15_000,
): Promise<Set<number>> {
  return eventually(`${count} workers serving`, async () => {
    const answers = await Promise.all(Array.from({ length: count }, () => httpRequest(`${url}${path}`)));
    const pids = new Set(answers.filter((a) => a.status === 200).map((a) => pidOf(a.text)));
    return pids.size === count ? pids : undefined;
  }, timeoutMs, 200);
}

/** The pid in a sleepy_app answer. */
export const sleepyPid = (body: string): number => (JSON.parse(body) as { pid: number }).pid;
