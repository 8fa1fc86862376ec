/**
 * The lifecycle of one server, in the manner of gunicorn's arbiter: it
 * starts the listeners and the mounts, turns signals into lifecycle steps,
 * swaps in new generations of workers on reload (SIGHUP, --reload), adds and
 * removes workers (SIGTTIN, SIGTTOU), and stops everything within one grace
 * (SIGTERM, SIGINT; SIGQUIT at once). It knows mounts only through the
 * MountHandler and SupervisedMount contracts.
 *
 * Stopping is the front's alone. SIGTERM and SIGINT may reach every process
 * of the tree at once (systemd's control-group stop, `kill -- -PGID`,
 * Ctrl-C): workers, the zygote and the CGI spawner ignore them and go when
 * told (STOP, the end of their channel), so a stop runs the same however
 * the signal came:
 *
 *   ready ──SIGTERM──▶ not ready, still serving (--shutdown-delay; a second SIGTERM ends it)
 *         ──────────▶ drain: listeners closed, idle keep-alive connections closed,
 *                     every later response Connection: close, no worker replaced
 *         ──────────▶ in-flight requests done (or --graceful-timeout up) ▶ mounts closed
 */
import { EventEmitter } from 'node:events';
import { Server as NetServer } from 'node:net';
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
  /** A reload (SIGHUP) begins: new workers are starting. */
  reloading: [];
  /** A new generation of workers took over. */
  reload: [];
  /** A reload failed; the current workers keep serving. */
  reloadFailed: [error: Error];
  /** A stop begins: the server is no longer ready, and drains after --shutdown-delay. */
  stopping: [];
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
  /** --shutdown-delay, seconds: how long a SIGTERM or SIGINT leaves the server serving before the drain. */
  shutdownDelay?: number;
  /**
   * Start the workers before accepting: a front under --fronts, whose
   * socket the parent has bound, so that it takes no connection from the
   * shared socket before it can serve one (the others serve meanwhile).
   */
  listenAfterWorkers?: boolean;
  /** A front under --fronts: resolves once every front has stopped accepting on the shared sockets. */
  socketsClosed?: () => Promise<void>;
}

/** Where the lifecycle signals come from: the process, or a --fronts parent's orders (supervisor/front-link.ts). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
}

export class Arbiter extends EventEmitter<ArbiterEvents> {
  readonly #mounts: readonly MountHandler[];
  readonly #supervised: readonly SupervisedMount[];
  readonly #listeners: readonly Listener[];
  readonly #log: ErrorLog;
  readonly #options: ArbiterOptions;
  readonly #watchers: CodeWatcher[] = [];
  /** How many requests' responses are not over yet. */
  #inflight = 0;
  #whenIdle: Array<() => void> = [];
  #ready = false;
  #stopping = false;
  /** Ends the --shutdown-delay early: a second SIGTERM, or SIGQUIT. */
  #endDelay: (() => void) | null = null;

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
    const listenFirst = this.#options.listenAfterWorkers !== true;
    if (listenFirst) await Promise.all(this.#listeners.map((listener) => listener.listen()));
    try {
      await Promise.all(this.#mounts.map((mount) => mount.start?.()));
      // A stop that came while the workers started has drained already: nothing to accept for.
      if (!listenFirst && !this.#stopping) await Promise.all(this.#listeners.map((listener) => listener.listen()));
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
    this.#ready = !this.#stopping;
    this.emit('start', urls);
  }

  /**
   * Every worker is ready and no stop has begun: what a readiness probe
   * (/readyz) reports. False from the first SIGTERM on, through
   * --shutdown-delay, so that a load balancer stops sending first.
   */
  get ready(): boolean {
    return this.#ready;
  }

  /** A stop has begun (it may still be serving, in --shutdown-delay). */
  get stopping(): boolean {
    return this.#stopping;
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
    // A count, not a list: a collection of the requests in flight kept each
    // alive through the young generation's collections, at a cost the
    // benchmarks showed. The drain's Connection: close is decided as each
    // head is written (http/draining-response.ts).
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
    if (this.#stopping) throw new Error('the server is stopping; no reload');
    this.#log.info('reloading: starting new workers');
    this.emit('reloading');
    try {
      await Promise.all(this.#supervised.map((mount) => mount.reload()));
    } catch (error) {
      this.emit('reloadFailed', error as Error);
      throw error;
    }
    this.#log.info('reloaded: new workers ready');
    this.emit('reload');
  }

  /** One worker more for every supervised mount (SIGTTIN); none while stopping. */
  grow(): void {
    if (this.#stopping) return;
    for (const mount of this.#supervised) mount.grow();
  }

  /** One worker fewer for every supervised mount, never below one (SIGTTOU). */
  shrink(): void {
    for (const mount of this.#supervised) mount.shrink();
  }

  /**
   * Serves on, not ready, for `delayMs` (--shutdown-delay); then stops
   * accepting connections, closes the idle ones, lets in-flight requests
   * finish for up to `graceMs`, cuts what is left and stops the workers.
   * One grace for everything: whatever is still running when it ends is
   * killed, so the drain takes at most `graceMs`. Leaves no timer behind.
   */
  async stop(graceMs: number = this.#options.gracefulTimeout * 1000, delayMs = 0): Promise<void> {
    this.#ready = false;
    this.#stopping = true;
    this.emit('stopping');
    for (const watcher of this.#watchers) watcher.close();
    if (delayMs > 0) await this.#serveOn(delayMs);
    const graceEnds = Date.now() + graceMs;
    for (const mount of this.#mounts) mount.drain?.();
    if (this.#options.socketsClosed !== undefined) {
      // A front's socket is shared: closing its copy leaves it listening in
      // the others, and a client reconnecting as its idle connection closes
      // would be taken into the backlog and reset. So the idle ones close
      // only once every front has closed its copy.
      for (const { server } of this.#listeners) NetServer.prototype.close.call(server);
      await this.#options.socketsClosed();
    }
    for (const listener of this.#listeners) listener.stopAccepting();
    if (this.#inflight > 0) await withinGrace(new Promise<void>((done) => this.#whenIdle.push(done)), graceMs);
    for (const listener of this.#listeners) listener.closeAllConnections();
    const graceLeft = Math.max(0, graceEnds - Date.now());
    const closed = await withinGrace(Promise.all(this.#mounts.map((mount) => mount.close?.(graceLeft))), graceLeft);
    if (!closed) this.#killWorkers();
  }

  /** The --shutdown-delay: resolves after `delayMs`, or sooner at #endDelay. */
  #serveOn(delayMs: number): Promise<void> {
    this.#log.info(`serving on for --shutdown-delay ${delayMs / 1000} s before draining`);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#endDelay?.(), delayMs);
      this.#endDelay = () => {
        clearTimeout(timer);
        this.#endDelay = null;
        resolve();
      };
    });
  }

  /** SIGQUIT during a graceful stop: no more waiting for anyone. */
  #cutShort(): void {
    this.#endDelay?.();
    for (const listener of this.#listeners) listener.closeAllConnections();
    this.#killWorkers();
  }

  /**
   * gunicorn's signals: HUP reloads, TTIN/TTOU grow and shrink, TERM and INT
   * stop within the grace (after --shutdown-delay), QUIT at once. Once a
   * stop has begun, another TERM or INT ends the shutdown delay (else it
   * changes nothing), QUIT cuts the drain short, and HUP and TTIN are
   * ignored: no worker starts while stopping. Resolves how the run ended.
   */
  trapSignals(signals: SignalSource = process): Promise<StopOutcome> {
    return new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals, graceMs?: number, delayMs?: number): void => {
        this.#log.info(`received ${signal}; stopping`);
        this.stop(graceMs, delayMs).then(
          () => resolve({ kind: 'stopped' }),
          () => resolve({ kind: 'failed' }),
        );
      };
      const graceful = (signal: NodeJS.Signals): void => {
        if (!this.#stopping) {
          stop(signal, undefined, (this.#options.shutdownDelay ?? 0) * 1000);
        } else if (this.#endDelay !== null) {
          this.#log.info(`received ${signal} again; draining now`);
          this.#endDelay();
        } else {
          this.#log.info(`received ${signal}; already stopping (SIGQUIT stops at once)`);
        }
      };
      signals.on('SIGTERM', () => graceful('SIGTERM'));
      signals.on('SIGINT', () => graceful('SIGINT'));
      signals.on('SIGQUIT', () => {
        if (!this.#stopping) {
          stop('SIGQUIT', 0);
          return;
        }
        this.#log.info('received SIGQUIT; stopping at once');
        this.#cutShort();
      });
      signals.on('SIGHUP', () => {
        if (this.#stopping) {
          this.#log.info('received SIGHUP while stopping; not reloading');
          return;
        }
        this.reload().catch((error: Error) => {
          this.#log.error('reload failed; the current workers keep serving');
          this.#log.error(error instanceof AppLoadError ? error.report : error.message);
        });
      });
      signals.on('SIGTTIN', () => this.grow());
      signals.on('SIGTTOU', () => this.shrink());
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
