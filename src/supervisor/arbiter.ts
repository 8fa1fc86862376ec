/**
 * The lifecycle of one server, in the manner of gunicorn's arbiter: it
 * starts the listeners and the mounts, turns signals into lifecycle steps,
 * swaps in new generations of workers on reload (SIGHUP, --reload), adds and
 * removes workers (SIGTTIN, SIGTTOU), and stops everything within one grace
 * (SIGTERM, SIGINT; SIGQUIT at once). It knows mounts only through the
 * MountHandler and SupervisedMount contracts.
 */
import { EventEmitter } from 'node:events';
import { AppLoadError, type WorkerBootError } from '../errors.js';
import type { Listener } from '../http/listener.js';
import type { RequestRecord } from '../http/request-record.js';
import type { ErrorLog } from '../observability/error-log.js';
import type { MountHandler, SupervisedMount } from '../routing/mount-handler.js';
import { CodeWatcher } from './code-watcher.js';

export interface ArbiterEvents {
  /** Every listener is bound and every worker has imported the application. */
  start: [urls: string[]];
  workerExit: [pid: number, description: string];
  /** A new generation of workers took over. */
  reload: [];
  /** The application can no longer be loaded; the server has stopped its workers. */
  fatal: [error: AppLoadError | WorkerBootError];
}

/** How a run under trapSignals() ended. */
export type StopOutcome = { kind: 'stopped' } | { kind: 'failed' } | { kind: 'fatal'; error: AppLoadError | WorkerBootError };

export interface ArbiterOptions {
  /** --graceful-timeout, seconds. */
  gracefulTimeout: number;
  /** --reload: watch each supervised mount's sources. */
  reload: boolean;
}

export class Arbiter extends EventEmitter<ArbiterEvents> {
  readonly #mounts: readonly MountHandler[];
  readonly #supervised: readonly SupervisedMount[];
  readonly #listeners: readonly Listener[];
  readonly #log: ErrorLog;
  readonly #options: ArbiterOptions;
  readonly #watchers: CodeWatcher[] = [];
  #inflight = 0;
  #whenIdle: Array<() => void> = [];

  constructor(mounts: readonly MountHandler[], listeners: readonly Listener[], log: ErrorLog, options: ArbiterOptions) {
    super();
    this.#mounts = mounts;
    this.#supervised = mounts.flatMap((mount) => (mount.supervised === undefined ? [] : [mount.supervised]));
    this.#listeners = listeners;
    this.#log = log;
    this.#options = options;
    for (const mount of this.#supervised) {
      mount.events.on('workerExit', (pid, description) => this.emit('workerExit', pid, description));
      mount.events.on('fatal', (error) => {
        this.#log.error(error instanceof AppLoadError ? error.report : error.message);
        this.emit('fatal', error);
      });
      if (options.reload) this.#watchForReload(mount);
    }
  }

  /** Binds every address, then starts every mount; resolves once all workers are ready. */
  async start(): Promise<void> {
    await Promise.all(this.#listeners.map((listener) => listener.listen()));
    try {
      await Promise.all(this.#mounts.map((mount) => mount.start?.()));
    } catch (error) {
      for (const listener of this.#listeners) listener.server.close();
      this.#killWorkers();
      throw error;
    }
    const urls = this.#listeners.map((listener) => listener.url);
    const workers = this.workerPids.length;
    // A site of CGI and static mounts alone has no workers to count.
    const ready = this.#supervised.length === 0 ? '' : `, ${workers} worker${workers === 1 ? '' : 's'} ready`;
    this.#log.info(`listening on ${urls.join(', ')}${ready}`);
    this.emit('start', urls);
  }

  /** Pids of the live workers of every supervised mount. */
  get workerPids(): number[] {
    return this.#supervised.flatMap((mount) => mount.pids);
  }

  /**
   * Counts a request in until its response is over, so that a stop can wait
   * for it. One listener per request: it is the request's own end.
   */
  track(request: RequestRecord, onEnd: (request: RequestRecord) => void): void {
    this.#inflight++;
    request.res.once('close', () => {
      onEnd(request);
      if (--this.#inflight === 0) for (const done of this.#whenIdle.splice(0)) done();
    });
  }

  /**
   * Graceful reload: new workers import the applications afresh; once they
   * are ready the old ones finish what they hold and exit. The listening
   * sockets stay open throughout. Rejects, leaving the old workers serving,
   * when new code cannot be loaded.
   */
  async reload(): Promise<void> {
    this.#log.info('reloading: starting new workers');
    await Promise.all(this.#supervised.map((mount) => mount.reload()));
    this.#log.info('reloaded: new workers ready');
    this.emit('reload');
  }

  /** One worker more for every supervised mount (SIGTTIN). */
  grow(): void {
    for (const mount of this.#supervised) mount.grow();
  }

  /** One worker fewer for every supervised mount, never below one (SIGTTOU). */
  shrink(): void {
    for (const mount of this.#supervised) mount.shrink();
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `graceMs`, then cuts what is left and stops the workers. One grace for
   * everything: whatever is still running when it ends is killed, so the
   * whole stop takes at most `graceMs`. Leaves no timer behind.
   */
  async stop(graceMs: number = this.#options.gracefulTimeout * 1000): Promise<void> {
    const graceEnds = Date.now() + graceMs;
    for (const watcher of this.#watchers) watcher.close();
    for (const mount of this.#mounts) mount.drain?.();
    for (const { server } of this.#listeners) {
      server.close();
      server.closeIdleConnections();
    }
    if (this.#inflight > 0) await withinGrace(new Promise<void>((done) => this.#whenIdle.push(done)), graceMs);
    for (const { server } of this.#listeners) server.closeAllConnections();
    const graceLeft = Math.max(0, graceEnds - Date.now());
    const closed = await withinGrace(Promise.all(this.#mounts.map((mount) => mount.close?.(graceLeft))), graceLeft);
    if (!closed) this.#killWorkers();
  }

  /**
   * gunicorn's signals: HUP reloads, TTIN/TTOU grow and shrink, TERM and INT
   * stop within the grace, QUIT at once. Resolves how the run ended.
   */
  trapSignals(): Promise<StopOutcome> {
    return new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals, graceMs?: number): void => {
        this.#log.info(`received ${signal}; stopping`);
        this.stop(graceMs).then(
          () => resolve({ kind: 'stopped' }),
          () => resolve({ kind: 'failed' }),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGQUIT', () => stop('SIGQUIT', 0));
      process.on('SIGHUP', () => {
        this.reload().catch((error: Error) => {
          this.#log.error('reload failed; the current workers keep serving');
          this.#log.error(error instanceof AppLoadError ? error.report : error.message);
        });
      });
      process.on('SIGTTIN', () => this.grow());
      process.on('SIGTTOU', () => this.shrink());
      this.on('fatal', (error) => {
        void this.stop(0).finally(() => resolve({ kind: 'fatal', error }));
      });
    });
  }

  /**
   * --reload: a change to the mount's sources reloads its workers, as SIGHUP
   * does. New code that fails to load is shown on every page until a later
   * change loads.
   */
  #watchForReload(mount: SupervisedMount): void {
    const { directories, files } = mount.sources;
    const watcher = new CodeWatcher(directories, files, (path) => {
      this.#log.info(`${path} changed; reloading`);
      void mount.reloadChangedCode().then((loaded) => {
        if (loaded) this.emit('reload');
      });
    });
    this.#watchers.push(watcher);
  }

  #killWorkers(): void {
    for (const mount of this.#supervised) mount.kill();
  }
}

/** Waits for `work` for at most `ms`; true if it settled in time. Clears its timer either way. */
async function withinGrace(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((done) => (timer = setTimeout(() => done(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
