/**
 * A Python application mounted at a prefix, WSGI or ASGI, with its own pool
 * of workers (mod_wsgi's WSGIDaemonProcess per application). Which
 * interface it speaks is the workers' to say (--interface auto tells by the
 * callable); each request goes as that interface wants it.
 */
import { sendDevelopmentPage } from '../http/error-response.js';
import type { RequestRecord } from '../http/request-record.js';
import type { MountHandler, MountMatch, SupervisedMount } from '../routing/mount-handler.js';
import type { ErrorLog } from '../observability/error-log.js';
import { AppLoadError } from '../errors.js';
import { WorkerPool, type PoolConfig } from '../supervisor/worker-pool.js';
import { DeadlineList } from './deadline-list.js';
import type { ExchangeContext } from './exchange-context.js';
import { WorkerExchange } from './worker-exchange.js';
import { WebSocketSessions, type WebSocketSettings } from '../asgi/websocket-sessions.js';
import type { MountSnapshot } from '../observability/mount-snapshot.js';

export interface AppMountConfig extends PoolConfig {
  /** --limit-request-body, bytes; 0 for none. */
  limitRequestBody: number;
  /** --root-path, as given (UTF-8): what a proxy stripped in front of every mount's prefix. */
  rootPath: string;
  /** --ws-* and --graceful-timeout, for an ASGI application's WebSockets. */
  websocket: WebSocketSettings;
}

export class AppMount implements MountHandler, SupervisedMount {
  readonly kind = 'app';
  readonly pool: WorkerPool;
  readonly sources: { directories: string[]; files: string[] };
  readonly #context: ExchangeContext;
  readonly #log: ErrorLog;
  /**
   * With --reload, the traceback of new code that failed to load: until the
   * code is fixed, every request gets a page that shows it, as Django's
   * runserver does, instead of stale code answering.
   */
  #loadFailure: string | null = null;

  constructor(config: AppMountConfig, log: ErrorLog, sources: { directories: string[]; files: string[] }) {
    // A replaced worker's WebSockets run on for the grace, then get 1012.
    this.pool = new WorkerPool(config, log, (worker) => this.#context.websockets.retire(worker));
    this.#log = log;
    this.sources = sources;
    this.#context = {
      pool: this.pool,
      log,
      timeoutSeconds: config.timeout,
      deadlines: config.timeout > 0 ? new DeadlineList(config.timeout) : null,
      limitRequestBody: config.limitRequestBody,
      // The head carries paths as bytes-as-str, as the router's are.
      rootPath: Buffer.from(config.rootPath, 'utf8').toString('latin1'),
      websockets: new WebSocketSessions(config.websocket, log),
    };
  }

  /**
   * The server is stopping: open WebSockets are told at once (1001), so
   * that their applications can finish; workers serve on, none replaced.
   */
  drain(): void {
    this.pool.drain();
    this.#context.websockets.closeAll();
  }

  /** Its pool and WebSockets as they are now, for the control listener. */
  snapshot(): MountSnapshot {
    const pool = this.pool.snapshot();
    const inflight = pool.workers.reduce((sum, worker) => sum + worker.inflight, 0);
    return { pool, queued: pool.queued, inflight, websockets: this.#context.websockets.size };
  }

  get supervised(): SupervisedMount {
    return this;
  }

  handle(request: RequestRecord, match: MountMatch): void {
    if (this.#loadFailure !== null) {
      sendDevelopmentPage(request.res, 500, {
        title: 'The application failed to load',
        explanation: 'portico reloads it when you save a fix.',
        sections: [{ heading: 'Traceback', text: this.#loadFailure }],
      });
      return;
    }
    new WorkerExchange(request, match, this.#context).start();
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  async close(): Promise<void> {
    await this.pool.stop();
    this.#context.websockets.terminateAll();
  }

  get events(): WorkerPool {
    return this.pool;
  }

  get pids(): number[] {
    return this.pool.pids;
  }

  reload(): Promise<void> {
    return this.pool.reload();
  }

  grow(): void {
    this.pool.grow();
  }

  shrink(): void {
    this.pool.shrink();
  }

  kill(): void {
    this.pool.kill();
    this.#context.websockets.terminateAll();
  }

  async reloadChangedCode(): Promise<boolean> {
    try {
      await this.pool.reload();
    } catch (error) {
      this.#loadFailure = error instanceof AppLoadError ? error.report : (error as Error).message;
      this.#log.error(`the changed code failed to load; serving an error page until it is fixed\n${this.#loadFailure}`);
      return false;
    }
    if (this.#loadFailure !== null) this.#log.info('the application loads again');
    this.#loadFailure = null;
    return true;
  }
}
