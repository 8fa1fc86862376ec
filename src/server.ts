/**
 * The programmatic server: what `portico` runs, and what `createServer()`
 * gives JavaScript callers, in the spirit of wsgiref.simple_server.make_server.
 * A small facade: the listeners admit requests, the router dispatches them,
 * the arbiter runs the lifecycle.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { http2ListenerOptions, listenerOptions, tlsSettings } from './config/listener-settings.js';
import { parseBind } from './config/parse-bind.js';
import { defaultOptions } from './config/setting-defaults.js';
import type { ServerOptions } from './config/settings.js';
import { ConfigError } from './errors.js';
import { Listener } from './http/listener.js';
import { TlsContext } from './http/tls-context.js';
import type { RequestRecord } from './http/request-record.js';
import { openAccessLog, type AccessRecorder } from './observability/access-log.js';
import { ErrorLog, openLogStream } from './observability/error-log.js';
import { mountLabel } from './observability/metrics.js';
import { quoteForLog } from './observability/quote-for-log.js';
import type { MountSpec } from './config/mount-spec.js';
import { createMount } from './mount-factories.js';
import { ControlPlane, type ControlReport } from './control-plane.js';
import { MountTable, normalizePrefix } from './routing/mount-table.js';
import { Router } from './routing/router.js';
import { Arbiter, type ArbiterEvents, type SignalSource, type StopOutcome } from './supervisor/arbiter.js';
import { statusLine, SystemdNotifier, takeSystemdEnvironment } from './supervisor/systemd-notifier.js';

export type { ServerOptions } from './config/settings.js';
export type { StopOutcome } from './supervisor/arbiter.js';

/** What a front of --fronts N needs of its parent (supervisor/front-link.ts). */
export interface FrontRole {
  /** The parent serves --control-bind: keep the metrics for it. */
  metrics: boolean;
  /** Resolves once every front has stopped accepting on the shared sockets. */
  socketsClosed: () => Promise<void>;
}

export class Server extends EventEmitter<ArbiterEvents> {
  readonly options: ServerOptions;
  readonly log: ErrorLog;
  readonly #accessLog: AccessRecorder | null;
  readonly #router: Router;
  readonly #listeners: Listener[];
  readonly #arbiter: Arbiter;
  /** With --control-bind: the metrics and the control listeners (/metrics, /status, /healthz, /readyz). */
  readonly #control: ControlPlane | null;
  /** With NOTIFY_SOCKET (systemd's Type=notify): tells systemd of each lifecycle step. */
  readonly #notifier: SystemdNotifier | null = null;

  /**
   * `front`: one of --fronts N (supervisor/front-set.ts), whose parent bound
   * the sockets, and keeps `metrics` for the parent's --control-bind.
   */
  constructor(options: Partial<ServerOptions>, front: FrontRole | null = null) {
    super();
    this.options = { ...defaultOptions(), ...options };
    // After the defaults, which take systemd's passed sockets (LISTEN_FDS) as the binds.
    const systemd = takeSystemdEnvironment();
    const binds = this.options.bind.map((bind) => parseBind(bind));
    this.log = new ErrorLog(openLogStream(this.options.errorLogfile, process.stderr), this.options.logLevel, this.options.logFormat);
    if (this.options.reloadExtraFiles.length > 0 && !this.options.reload) {
      // As in gunicorn, where reload_extra_files extends --reload: alone, it would watch nothing.
      this.options.reload = true;
      this.log.info("--reload-extra-file implies --reload: the workers restart when the application's Python files or those files change");
    }
    // --access-logformat is compiled here, once; off by default.
    this.#accessLog = openAccessLog(this.options);

    const specs: MountSpec[] = [...this.options.mounts];
    if (this.options.app !== '') specs.unshift({ kind: 'app', path: '/', app: this.options.app });
    if (specs.length === 0) throw new ConfigError('nothing to serve: give an application, or mounts');
    const environment = { options: this.options, log: this.log, redirect: (request: RequestRecord, path: string) => this.#router.redirect(request, path) };
    const mounts = specs.map((spec) => {
      const prefix = normalizePrefix(spec.path);
      // A mount's events, its workers' output among them, carry its label in JSON.
      return { prefix, handler: createMount(spec, { ...environment, log: this.log.forMount(mountLabel(prefix)) }) };
    });
    this.#router = new Router(new MountTable(mounts), this.log);
    const tls = tlsSettings(this.options);
    const tlsContext = tls === null ? null : TlsContext.load(tls, this.log);

    this.#listeners = binds.map(
      (bind) =>
        new Listener(
          bind,
          (request) => this.#admit(request),
          {
            ...listenerOptions(this.options, (req, refused) =>
              // A 5xx is the server's own fault (PORTICO_ERR_INTERNAL), not a client's: an error, not a notice.
              this.log[refused.refuse >= 500 ? 'error' : 'info'](
                `refused ${req === null ? 'connection' : quoteForLog(`${req.method} ${req.url}`)}: ${refused.refuse || 'closed'} ${refused.code}: ${refused.reason}`,
              ),
            ),
            tls: tlsContext,
            ...http2ListenerOptions(this.options, tlsContext !== null),
          },
        ),
    );
    this.#arbiter = new Arbiter(
      mounts.map(({ handler }) => handler),
      this.#listeners,
      this.log,
      { gracefulTimeout: this.options.gracefulTimeout, reload: this.options.reload, shutdownDelay: this.options.shutdownDelay, listenAfterWorkers: front !== null, socketsClosed: front?.socketsClosed },
    );
    if (systemd.notifySocket !== null) {
      this.#notifier = new SystemdNotifier(this.options.python, { ...systemd, notifySocket: systemd.notifySocket }, this.log);
      this.#notifyLifecycle(this.#notifier);
    }
    this.#control = ControlPlane.create({
      controlBind: this.options.controlBind,
      publicBinds: binds,
      mounts,
      serving: () => this.#arbiter.ready,
      listenerOptions: listenerOptions(this.options, (req, refused) =>
        this.log.info(`control listener refused ${req === null ? 'connection' : quoteForLog(`${req.method} ${req.url}`)}: ${refused.code}: ${refused.reason}`),
      ),
      log: this.log,
      forParent: front?.metrics === true,
    });
    // SIGHUP, --reload or reload(): the certificates are read again with the code.
    if (tlsContext !== null) this.#arbiter.on('reloading', () => tlsContext.reload());
    this.#arbiter.on('start', (urls) => this.emit('start', urls));
    this.#arbiter.on('workerExit', (pid, description) => this.emit('workerExit', pid, description));
    this.#arbiter.on('reload', () => this.emit('reload'));
    this.#arbiter.on('reloadFailed', (error) => this.emit('reloadFailed', error));
    this.#arbiter.on('stopping', () => this.emit('stopping'));
    this.#arbiter.on('fatal', (error) => this.emit('fatal', error));
  }

  /**
   * Binds the control addresses first (their /healthz answers while workers
   * boot), then every public address, then starts every mount; resolves
   * once all workers are ready.
   */
  async listen(): Promise<void> {
    await this.#control?.listen();
    try {
      await this.#arbiter.start();
    } catch (error) {
      await this.#control?.close();
      throw error;
    }
  }

  /** The bound addresses, with the real ports. */
  address(): string[] {
    return this.#listeners.map((listener) => listener.url);
  }

  /** The control listeners' addresses (--control-bind), with the real ports. */
  controlAddress(): string[] {
    return this.#control?.urls ?? [];
  }

  /**
   * Listening, every worker ready, and no stop begun: what a readiness
   * probe reports. False from SIGTERM on, through --shutdown-delay.
   */
  get ready(): boolean {
    return this.#arbiter.ready;
  }

  /** A --fronts front's metrics and status, for its parent's control listener; null when it keeps none. */
  report(): Promise<ControlReport> | null {
    return this.#control?.report() ?? null;
  }

  /** Pids of the live workers of every mount that runs them. */
  get workerPids(): number[] {
    return this.#arbiter.workerPids;
  }

  /**
   * Graceful reload: new workers import the applications afresh; once they
   * are ready the old ones finish what they hold and exit. The listening
   * sockets stay open throughout. Rejects, leaving the old workers serving,
   * when new code cannot be loaded.
   */
  reload(): Promise<void> {
    return this.#arbiter.reload();
  }

  /** One worker more for every mount that runs workers (SIGTTIN). */
  addWorker(): void {
    this.#arbiter.grow();
  }

  /** One worker fewer for every mount that runs workers, never below one (SIGTTOU). */
  removeWorker(): void {
    this.#arbiter.shrink();
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `graceMs` (--graceful-timeout by default), then cuts what is left and
   * stops the workers.
   */
  close(graceMs?: number): Promise<void> {
    return this.#arbiter.stop(graceMs).finally(() => this.#control?.close()).finally(() => this.#notifier?.close());
  }

  /** Turns signals (the process's, unless given another source) into lifecycle steps, as the CLI does; resolves how the run ended. */
  trapSignals(signals?: SignalSource): Promise<StopOutcome> {
    return this.#arbiter.trapSignals(signals).finally(() => this.#control?.close()).finally(() => this.#notifier?.close());
  }

  /** sd_notify(3): READY=1 when serving, RELOADING=1 and READY=1 around a reload, STOPPING=1 at a stop. */
  #notifyLifecycle(notifier: SystemdNotifier): void {
    const serving = (): string => {
      const workers = this.workerPids.length;
      return `listening on ${this.address().join(', ')}, ${workers} worker${workers === 1 ? '' : 's'}`;
    };
    this.#arbiter.on('start', () => notifier.notify('READY=1', statusLine(serving())));
    this.#arbiter.on('reloading', () =>
      notifier.notify('RELOADING=1', `MONOTONIC_USEC=${SystemdNotifier.monotonicUsec()}`, statusLine('reloading: starting new workers')),
    );
    this.#arbiter.on('reload', () => notifier.notify('READY=1', statusLine(`reloaded; ${serving()}`)));
    this.#arbiter.on('reloadFailed', () => notifier.notify('READY=1', statusLine(`reload failed; the previous workers serve on; ${serving()}`)));
    this.#arbiter.on('stopping', () => notifier.notify('STOPPING=1', statusLine('stopping: draining')));
    this.#arbiter.on('fatal', (error) => notifier.notify(statusLine(`stopping: ${error.message}`)));
  }

  #admit(request: RequestRecord): void {
    this.#arbiter.track(request, this.#ended);
    this.#router.route(request);
  }

  /** One access-log line per response, when it is over: finished or cut (a cut response is logged too, as Apache does). */
  readonly #ended = (request: RequestRecord): void => {
    request.endedAt = performance.now();
    this.#accessLog?.record(request);
    this.#control?.record(request);
  };
}

/** Makes a server from the same options the CLI takes. */
export function createServer(options: Partial<ServerOptions>): Server {
  return new Server(options);
}
