/**
 * A WSGI application mounted at a prefix, with its own pool of workers
 * (mod_wsgi's WSGIDaemonProcess per application).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MountHandler, MountMatch, RequestContext } from '../routing/mount-handler.js';
import type { ErrorLog } from '../observability/error-log.js';
import { WorkerPool, type PoolConfig } from '../supervisor/worker-pool.js';
import { buildEnviron } from './environ.js';
import { WsgiExchange, type ExchangeContext } from './wsgi-exchange.js';

/** The development page for code that does not load; every byte of the report is escaped. */
function sendLoadFailurePage(res: ServerResponse, report: string): void {
  const escaped = report.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const body =
    '<!doctype html><meta charset="utf-8"><title>Application failed to load</title>' +
    '<style>body{font:15px system-ui,sans-serif;margin:2em}pre{background:#fff4f4;border:1px solid #e0b4b4;padding:1em;overflow:auto}</style>' +
    '<h1>The application failed to load</h1><p>portico reloads it when you save a fix.</p>' +
    `<pre>${escaped}</pre>`;
  res.writeHead(500, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export interface WsgiMountConfig extends PoolConfig {
  /** --timeout, seconds; 0 for none. */
  timeout: number;
  /** --limit-request-body, bytes; 0 for none. */
  limitRequestBody: number;
}

export class WsgiMount implements MountHandler {
  readonly kind = 'wsgi';
  readonly pool: WorkerPool;
  readonly #context: ExchangeContext;
  readonly #exchanges = new WeakMap<ServerResponse, WsgiExchange>();

  constructor(config: WsgiMountConfig, log: ErrorLog) {
    this.pool = new WorkerPool(config, log);
    this.#context = { pool: this.pool, log, timeoutSeconds: config.timeout, limitRequestBody: config.limitRequestBody };
  }

  /**
   * With --reload, the traceback of new code that failed to load: until the
   * code is fixed, every request gets a page that shows it, as Django's
   * runserver does, instead of stale code answering.
   */
  loadFailure: string | null = null;

  handle(req: IncomingMessage, res: ServerResponse, match: MountMatch, context: RequestContext): void {
    if (this.loadFailure !== null) {
      sendLoadFailurePage(res, this.loadFailure);
      return;
    }
    const exchange = new WsgiExchange(req, res, buildEnviron(req, match, context), this.#context);
    this.#exchanges.set(res, exchange);
    exchange.start();
  }

  bodyBytes(res: ServerResponse): number {
    return this.#exchanges.get(res)?.bodyBytes ?? 0;
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  close(): Promise<void> {
    return this.pool.stop();
  }
}
