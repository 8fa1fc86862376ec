/**
 * The one harness for testing mount handlers in the test's own process
 * (fastify's inject() idea): the handlers under test behind the real Router
 * and MountTable, as the server wires them, with no listener options, no
 * workers of the server's own and no child process. `inject()` sends one
 * request with its target exactly as given and resolves with the whole
 * response.
 *
 * It serves on a real loopback socket (port 0) rather than on fake request
 * and response objects: the handlers pipe bodies to and from processes and
 * files, and a test must see what a client would.
 *
 *   inject(target) ──► http.Server ──► RequestRecord ──┬─► bypass? ──► handler
 *                                                     └─► Router ───► handler
 *                                                             (404, 400, OPTIONS *)
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { RequestRecord, type RequestContext } from '../../src/http/request-record.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { MountHandler, MountMatch } from '../../src/routing/mount-handler.js';
import { MountTable } from '../../src/routing/mount-table.js';
import { Router } from '../../src/routing/router.js';
import { requestTarget, type HttpOptions, type HttpResult } from './http-client.js';

export type Reply = HttpResult;
export type InjectOptions = Omit<HttpOptions, 'socketPath'>;

export interface MountHarnessOptions {
  /** Routed by the real MountTable, as in production; each is started, and closed with the harness. */
  mounts: Array<{ prefix: string; handler: MountHandler }>;
  /**
   * Consulted before the router: a handler and match for a target that must
   * reach a handler as sent, past the router's own checks (a hostile or
   * buggy router), or null to let the router route it.
   */
  bypass?: (target: string) => { handler: MountHandler; match: MountMatch } | null;
  /** Where everything goes that the handlers and the router log; by default a debug-level log kept in memory (see `logs()`). */
  log?: ErrorLog;
}

export interface MountHarness {
  port: number;
  /** One request on a fresh connection; `target` is sent byte for byte. */
  inject(target: string, options?: InjectOptions): Promise<Reply>;
  /** The record of each request whose response finished, in the order they finished. */
  readonly finished: readonly RequestRecord[];
  /** Resolves with the `index`th finished record (0-based), once there is one. */
  finishedRecord(index: number): Promise<RequestRecord>;
  /** Serves a local redirect anew, as the server does (RFC 3875 §6.2.2): what a CgiHandler's internalRedirect calls. */
  redirect(request: RequestRecord, path: string): void;
  /** Everything the default in-memory log received ('' with a log of one's own). */
  logs(): string;
  /** Closes every connection and the server, then each mount's handler with `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** An error log kept in memory, at debug level. */
export function memoryLog(): { log: ErrorLog; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { log: new ErrorLog(stream, 'debug'), text: () => text };
}

export async function startMountHarness(options: MountHarnessOptions): Promise<MountHarness> {
  const memory = options.log === undefined ? memoryLog() : null;
  const log = options.log ?? (memory as { log: ErrorLog }).log;
  const router = new Router(new MountTable(options.mounts), log);
  const finished: RequestRecord[] = [];
  let waiting: Array<{ index: number; resolve: (record: RequestRecord) => void }> = [];

  const server = http.createServer((req, res) => {
    const context: RequestContext = {
      scheme: 'http',
      serverName: '127.0.0.1',
      serverPort: String(req.socket.localPort),
      remoteAddr: req.socket.remoteAddress ?? '',
      remotePort: String(req.socket.remotePort),
      forwardedHost: null,
    };
    const request = new RequestRecord(req, res, context);
    res.on('finish', () => {
      finished.push(request);
      const due = waiting.filter((waiter) => waiter.index < finished.length);
      waiting = waiting.filter((waiter) => waiter.index >= finished.length);
      for (const waiter of due) waiter.resolve(finished[waiter.index] as RequestRecord);
    });
    const bypassed = options.bypass?.(req.url ?? '/') ?? null;
    if (bypassed === null) {
      router.route(request);
      return;
    }
    request.kind = bypassed.handler.kind;
    bypassed.handler.handle(request, bypassed.match);
  });

  for (const { handler } of options.mounts) await handler.start?.();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    inject: (target, injectOptions = {}) => requestTarget(port, target, injectOptions),
    finished,
    finishedRecord: (index) =>
      index < finished.length ? Promise.resolve(finished[index] as RequestRecord) : new Promise((resolve) => waiting.push({ index, resolve })),
    redirect: (request, path) => router.redirect(request, path),
    logs: () => memory?.text() ?? '',
    close: async (graceMs = 0) => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      for (const { handler } of options.mounts) await handler.close?.(graceMs);
    },
  };
}
