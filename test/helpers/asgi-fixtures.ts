/**
 * What the ASGI integration tests share: where their fixture applications
 * are, how to start portico on one under Debian's interpreter (which has
 * FastAPI, Starlette, Django and uvicorn), and how to read the lines the
 * fixtures write to stderr (`<what> pid=<pid> at=<ms>`), which portico logs.
 */
import { join } from 'node:path';
import { REPO_ROOT, SYSTEM_PYTHON } from './paths.js';
import { startPortico, type Portico, type StartOptions } from './portico.js';

export const ASGI_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'asgi');

/** Starts portico on `app` from test/fixtures/asgi under /usr/bin/python3, one worker unless `args` say otherwise. */
export function startAsgi(app: string, args: string[] = [], options: Partial<StartOptions> = {}): Promise<Portico> {
  const workers = args.some((a) => a === '-w' || a === '--workers') ? [] : ['-w', '1'];
  return startPortico({ app, args: ['--chdir', ASGI_FIXTURES, '--python', SYSTEM_PYTHON, ...workers, ...args], ...options });
}

/** The options that serve test/fixtures/asgi under /usr/bin/python3, for tests that build their own command line. */
export const ASGI_ARGS = ['--chdir', ASGI_FIXTURES, '--python', SYSTEM_PYTHON];

/** A fixture's stderr line `<what> pid=N at=T`: the pid and the moment (ms since the epoch) it was written. */
export async function fixtureSaid(server: Portico, what: string, timeoutMs = 5_000): Promise<{ pid: number; at: number }> {
  const escaped = what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = await server.waitForLog(new RegExp(`${escaped} pid=(\\d+) at=(\\d+)`), timeoutMs);
  return { pid: Number(match[1]), at: Number(match[2]) };
}

let marks = 0;
/** A unique mark for one test's requests, so that log lines cannot be confused between tests. */
export function uniqueMark(prefix: string): string {
  marks += 1;
  return `${prefix}-${process.pid}-${marks}`;
}
