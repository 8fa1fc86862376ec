/**
 * A private copy of test/fixtures/cgi-bin with a CgiHandler mounted on it at
 * /cgi-bin, in the mount harness. The copy gets its modes set here (git
 * does not keep them reliably) plus what git cannot hold: symlinks into and
 * out of the root, and a canary script outside it that leaves a marker file
 * if it ever runs.
 *
 * Every /cgi-bin target goes past the router (the harness's bypass), decoded
 * but with its dot segments deliberately left in, so traversal attempts
 * reach the handler as a hostile router would pass them. Local redirects go
 * back through the real Router, as in the server.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgiHandler, type CgiHandlerOptions } from '../../src/cgi/cgi-handler.js';
import { decodePathBytes, splitTarget } from '../../src/http/request-target.js';
import type { MountMatch } from '../../src/routing/mount-handler.js';
import { memoryLog, startMountHarness, type MountHarness } from '../helpers/mount-harness.js';
import { REPO_ROOT } from '../helpers/paths.js';

export const MOUNT = '/cgi-bin';
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'cgi-bin');

export interface CgiRoot {
  /** The temporary directory holding everything. */
  base: string;
  /** The CGI directory (realpath). */
  root: string;
  /** A file that exists only if something outside the root ran. */
  outsideMarker: string;
  remove(): void;
}

const CANARY = `#!/bin/sh\ntouch "$(dirname "$0")/outside.ran"\nprintf 'Content-Type: text/plain\\n\\nOUTSIDE RAN\\n'\n`;

export function prepareCgiRoot(): CgiRoot {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'portico-cgi-')));
  const root = join(base, 'cgi-bin');
  cpSync(FIXTURES, root, { recursive: true });
  for (const name of ['hello.sh', 'echo-stdin.sh', 'streaming.sh', 'stderr.sh', 'crlf.sh', 'status.sh', 'redirect-local.sh',
    'redirect-absolute.sh', 'redirect-status.sh', 'redirect-loop.sh', 'nph-raw.sh', 'no-header.sh', 'bad-header.sh',
    'no-cgi-field.sh', 'partial-header.sh', 'short-body.sh', 'sleeper.sh', 'slow-body.sh', 'no-shebang', '.hidden.sh',
    'form.py', 'process-state.pl', 'sub/echo-env.pl', 'sub/hello.py']) {
    chmodSync(join(root, name), 0o755);
  }
  chmodSync(join(root, 'not-executable.sh'), 0o644);

  // Outside the root: a canary script beside it, and a directory of them.
  writeFileSync(join(base, 'outside.sh'), CANARY, { mode: 0o755 });
  mkdirSync(join(base, 'outside-dir'));
  writeFileSync(join(base, 'outside-dir', 'outside.sh'), CANARY.replace('"$(dirname "$0")/outside.ran"', `"${base}/outside.ran"`), { mode: 0o755 });
  symlinkSync('../outside.sh', join(root, 'escape.sh'));
  symlinkSync(join(base, 'outside-dir'), join(root, 'outdir'));
  // Inside the root: a symlink that stays inside is fine.
  symlinkSync('hello.sh', join(root, 'link-hello.sh'));
  return { base, root, outsideMarker: join(base, 'outside.ran'), remove: () => rmSync(base, { recursive: true, force: true }) };
}

export function matchFor(url: string): MountMatch | null {
  const { path, query } = splitTarget(url);
  if (path !== MOUNT && !path.startsWith(MOUNT + '/')) return null;
  return { scriptName: MOUNT, pathInfo: decodePathBytes(path.slice(MOUNT.length)), query };
}

export interface CgiServer {
  port: number;
  handler: CgiHandler;
  harness: MountHarness;
  /** Everything the error log received. */
  logs(): string;
  close(): Promise<void>;
}

export async function startCgiServer(
  root: string,
  options: Partial<Omit<CgiHandlerOptions, 'root' | 'log'>> & { followRedirects?: boolean } = {},
): Promise<CgiServer> {
  const { log, text } = memoryLog();
  // Assigned before the first request can arrive.
  let harness!: MountHarness;
  const handler = new CgiHandler({
    root,
    log,
    timeoutSeconds: options.timeoutSeconds ?? 10,
    debug: options.debug ?? false,
    python: options.python ?? null,
    limitRequestBody: options.limitRequestBody,
    internalRedirect: options.followRedirects === false ? undefined : (request, path) => harness.redirect(request, path),
  });
  harness = await startMountHarness({
    mounts: [{ prefix: MOUNT, handler }],
    bypass: (target) => {
      const match = matchFor(target);
      return match === null ? null : { handler, match };
    },
    log,
  });
  return { port: harness.port, handler, harness, logs: text, close: () => harness.close(0) };
}

export type { HttpResult as Reply } from '../helpers/http-client.js';
/** One request on a fresh connection with the path sent exactly as given (no URL normalisation), bounded in time. */
export { requestTarget as request } from '../helpers/http-client.js';

/** The pids a fixture printed to stderr as `pids LEADER CHILD`, once they show up in the log. */
export function loggedPids(logs: string): [number, number] | undefined {
  const match = /pids (\d+) (\d+)/.exec(logs);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

/** SIGKILL for each pid still around: the test's own cleanup, by pid. */
export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
