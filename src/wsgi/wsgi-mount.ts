/**
 * A WSGI application mounted at a prefix, with its own pool of workers
 * (mod_wsgi's WSGIDaemonProcess per application).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendDevelopmentPage } from '../http/error-response.js';
import type { MountHandler, MountMatch, RequestContext } from '../routing/mount-handler.js';
import type { ErrorLog } from '../observability/error-log.js';
import { WorkerPool, type PoolConfig } from '../supervisor/worker-pool.js';
import { DeadlineList } from './deadline-list.js';
import { buildEnviron } from './environ.js';
import { WsgiExchange, type ExchangeContext } from './wsgi-exchange.js';

export interface WsgiMountConfig extends PoolConfig {
  /** --timeout, seconds; 0 for none. */
  timeout: number;
  /** --limit-request-body, bytes; 0 for none. */
  limitRequestBody: number;
  /**
   * Keep what bodyBytes() needs. Only an access log asks for it, and a
   * WeakMap entry per request is a cost the garbage collector pays even
   * when nobody reads it.
   */
  countBodyBytes: boolean;
}

export class WsgiMount implements MountHandler {
  readonly kind = 'wsgi';
  readonly pool: WorkerPool;
  readonly #context: ExchangeContext;
  /** Only with countBodyBytes. */
  readonly #exchanges: WeakMap<ServerResponse, WsgiExchange> | null;

  constructor(config: WsgiMountConfig, log: ErrorLog) {
    this.pool = new WorkerPool(config, log);
    this.#context = {
      pool: this.pool,
      log,
      timeoutSeconds: config.timeout,
      deadlines: config.timeout > 0 ? new DeadlineList(config.timeout) : null,
      limitRequestBody: config.limitRequestBody,
    };
    this.#exchanges = config.countBodyBytes ? new WeakMap() : null;
  }

  /**
   * With --reload, the traceback of new code that failed to load: until the
   * code is fixed, every request gets a page that shows it, as Django's
   * runserver does, instead of stale code answering.
   */
  loadFailure: string | null = null;

  handle(req: IncomingMessage, res: ServerResponse, match: MountMatch, context: RequestContext): void {
    if (this.loadFailure !== null) {
      sendDevelopmentPage(res, 500, {
        title: 'The application failed to load',
        explanation: 'portico reloads it when you save a fix.',
        sections: [{ heading: 'Traceback', text: this.loadFailure }],
      });
      return;
    }
    const exchange = new WsgiExchange(req, res, buildEnviron(req, match, context), this.#context);
    this.#exchanges?.set(res, exchange);
    exchange.start();
  }

  bodyBytes(res: ServerResponse): number {
    return this.#exchanges?.get(res)?.bodyBytes ?? 0;
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  close(): Promise<void> {
    return this.pool.stop();
  }
}
