/**
 * A real HTTP server on port 0 whose only route is a CgiHandler mounted at
 * /cgi-bin, over a private copy of test/fixtures/cgi-bin. The copy gets its
 * modes set here (git does not keep them reliably) plus what git cannot
 * hold: symlinks into and out of the root, and a canary script outside it
 * that leaves a marker file if it ever runs.
 *
 * The route decodes the path but deliberately does not resolve dot
 * segments, so traversal attempts reach the handler as a hostile router
 * would pass them.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CgiHandler, type CgiHandlerOptions } from '../../src/cgi/cgi-handler.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import { RequestRecord, type RequestContext } from '../../src/http/request-record.js';
import type { MountMatch } from '../../src/routing/mount-handler.js';
import { decodePathBytes, splitTarget } from '../../src/http/request-target.js';
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
  /** Everything the error log received. */
  logs(): string;
  close(): Promise<void>;
}

export async function startCgiServer(
  root: string,
  options: Partial<Omit<CgiHandlerOptions, 'root' | 'log'>> & { followRedirects?: boolean } = {},
): Promise<CgiServer> {
  let logged = '';
  const stream = new PassThrough();
  stream.setEncoding('utf8').on('data', (text: string) => (logged += text));
  const log = new ErrorLog(stream, 'debug');
  let serverPort = '0';
  const admit = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const context: RequestContext = {
      scheme: 'http',
      serverName: '127.0.0.1',
      serverPort,
      remoteAddr: req.socket.remoteAddress ?? '',
      remotePort: String(req.socket.remotePort ?? ''),
      forwardedHost: null,
    };
    route(new RequestRecord(req, res, context));
  };
  const route = (request: RequestRecord): void => {
    const match = matchFor(request.req.url ?? '/');
    if (match === null) {
      request.res.writeHead(404).end();
      return;
    }
    handler.handle(request, match);
  };
  const handler: CgiHandler = new CgiHandler({
    root,
    log,
    timeoutSeconds: options.timeoutSeconds ?? 10,
    debug: options.debug ?? false,
    python: options.python ?? null,
    // A GET replay of the path, as the server's router would do it.
    internalRedirect:
      options.followRedirects === false
        ? undefined
        : (request, path) => {
            request.req.method = 'GET';
            request.req.url = path;
            route(request);
          },
  });
  await handler.start();
  const server = http.createServer(admit);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  serverPort = String(port);
  return {
    port,
    handler,
    logs: () => logged,
    close: async () => {
      await handler.close(0);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Reply {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

/** One request on a fresh connection with the path sent exactly as given (no URL normalisation), bounded in time. */
export function request(
  port: number,
  path: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${path}: no response within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

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
