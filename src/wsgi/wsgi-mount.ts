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

  handle(req: IncomingMessage, res: ServerResponse, match: MountMatch, context: RequestContext): void {
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
