/**
 * The programmatic server: what `portico` runs, and what `createServer()`
 * gives JavaScript callers, in the spirit of wsgiref.simple_server.make_server.
 */
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { defaultOptions, parseBind, type ServerOptions } from './config/settings.js';
import { AppLoadError, ConfigError } from './errors.js';
import { Listener, parseBindAddress } from './http/listener.js';
import { AccessLog } from './observability/access-log.js';
import { ErrorLog, openLogStream } from './observability/error-log.js';
import { WorkerPool } from './supervisor/worker-pool.js';
import { buildEnviron } from './wsgi/environ.js';
import { WsgiExchange, type ExchangeContext } from './wsgi/wsgi-exchange.js';

export type { ServerOptions } from './config/settings.js';

interface ServerEvents {
  /** Every listener is bound and every worker has imported the application. */
  start: [urls: string[]];
  workerExit: [pid: number, description: string];
  /** A new generation of workers took over after reload(). */
  reload: [];
  /** The application can no longer be loaded; the server has stopped its workers. */
  fatal: [error: Error];
}

export class Server extends EventEmitter<ServerEvents> {
  readonly options: ServerOptions;
  readonly log: ErrorLog;
  readonly #accessLog: AccessLog | null;
  readonly #pool: WorkerPool;
  readonly #listeners: Listener[];
  readonly #exchangeContext: ExchangeContext;
  #inflight = 0;
  #whenIdle: Array<() => void> = [];

  constructor(options: Partial<ServerOptions> & { app: string }) {
    super();
    this.options = { ...defaultOptions(), ...options };
    const chdir = resolve(this.options.chdir);
    if (!isDirectory(chdir)) throw new ConfigError(`--chdir: '${this.options.chdir}' is not a directory`);
    for (const bind of this.options.bind) parseBind(bind);

    this.log = new ErrorLog(openLogStream(this.options.errorLogfile, process.stderr), this.options.logLevel);
    this.#accessLog =
      this.options.accessLogfile === null ? null : new AccessLog(openLogStream(this.options.accessLogfile, process.stdout));
    this.#pool = new WorkerPool({ ...this.options, chdir }, this.log);
    this.#exchangeContext = { pool: this.#pool, log: this.log, timeoutSeconds: this.options.timeout };
    this.#pool.on('workerExit', (pid, description) => this.emit('workerExit', pid, description));
    this.#pool.on('reload', () => this.emit('reload'));
    this.#pool.on('fatal', (error) => {
      this.log.error(error instanceof AppLoadError ? error.report : error.message);
      this.emit('fatal', error);
    });
    this.#listeners = this.options.bind.map((bind) => {
      const listener: Listener = new Listener(parseBindAddress(bind), (req, res) => this.#handle(req, res, listener), {
        keepAliveSeconds: this.options.keepAlive,
      });
      return listener;
    });
  }

  /** Binds every address, then starts the workers; resolves once all of them are ready. */
  async listen(): Promise<void> {
    await Promise.all(this.#listeners.map((listener) => listener.listen()));
    try {
      await this.#pool.start();
    } catch (error) {
      for (const listener of this.#listeners) listener.server.close();
      throw error;
    }
    const urls = this.#listeners.map((listener) => listener.url);
    const workers = this.options.workers;
    this.log.info(`listening on ${urls.join(', ')}, ${workers} worker${workers === 1 ? '' : 's'} ready`);
    this.emit('start', urls);
  }

  /** The bound addresses, with the real ports. */
  address(): Array<string> {
    return this.#listeners.map((listener) => listener.url);
  }

  /** Pids of the live workers. */
  get workerPids(): number[] {
    return this.#pool.pids;
  }

  /**
   * Graceful reload: new workers import the application afresh; once they
   * are ready the old ones finish what they hold and exit. The listening
   * sockets stay open throughout. Rejects, leaving the old workers serving,
   * when the new code cannot be loaded.
   */
  async reload(): Promise<void> {
    this.log.info('reloading: starting new workers');
    await this.#pool.reload();
    this.log.info(`reloaded: ${this.options.workers} new worker${this.options.workers === 1 ? '' : 's'} ready`);
  }

  /** One worker more (SIGTTIN). */
  addWorker(): void {
    this.#pool.grow();
  }

  /** One worker fewer, never below one (SIGTTOU). */
  removeWorker(): void {
    this.#pool.shrink();
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `graceMs` (--graceful-timeout by default), then cuts what is left and
   * stops the workers.
   */
  async close(graceMs: number = this.options.gracefulTimeout * 1000): Promise<void> {
    for (const { server } of this.#listeners) {
      server.close();
      server.closeIdleConnections();
    }
    if (this.#inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((done) => this.#whenIdle.push(done)),
        new Promise<void>((done) => (timer = setTimeout(done, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const { server } of this.#listeners) server.closeAllConnections();
    let killTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#pool.stop(),
      new Promise<void>((done) => {
        killTimer = setTimeout(() => {
          this.#pool.kill();
          done();
        }, graceMs);
      }),
    ]);
    clearTimeout(killTimer);
  }

  #handle(req: IncomingMessage, res: ServerResponse, listener: Listener): void {
    this.#inflight++;
    res.on('close', () => {
      this.#inflight--;
      if (this.#inflight === 0) for (const done of this.#whenIdle.splice(0)) done();
    });
    const environ = buildEnviron(req, { scheme: 'http', ...listener.serverNameAndPort });
    const exchange = new WsgiExchange(req, res, environ, this.#exchangeContext);
    const accessLog = this.#accessLog;
    if (accessLog !== null) res.on('finish', () => accessLog.record(req, res.statusCode, exchange.bodyBytes));
    exchange.start();
  }
}

/** Makes a server from the same options the CLI takes. */
export function createServer(options: Partial<ServerOptions> & { app: string }): Server {
  return new Server(options);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
