/**
 * `--fronts N`: N front processes, each the whole server of --fronts 1
 * with its own worker pools, accepting on the same listening sockets, and
 * a parent that supervises them as gunicorn's arbiter supervises its
 * workers. One front's Node core is the ceiling of a server whose workers
 * are many (docs/deploy.md, Many cores); N fronts lift it N times.
 *
 *   parent (this) ── binds nothing it accepts on; signals, respawns, --control-bind, sd_notify
 *     ├─ front 1 ── accept() on the shared sockets ── its -w workers
 *     └─ front N ── accept() on the shared sockets ── its -w workers
 *
 * How the fronts share a socket: Node's cluster module with
 * SCHED_NONE. The parent creates and binds each listening socket the first
 * time a front listens on it and hands every front a copy of the same
 * descriptor; each front accepts on it, and the kernel gives each
 * connection to whichever front is free to accept first. That is
 * gunicorn's and uWSGI's model (one socket, many accepting processes),
 * and it is the documented API of Node 20, 22 and 24 alike. The other
 * ways, and why not:
 *   - listen({ reusePort }) (SO_REUSEPORT): only from Node 22.12 and 23.1;
 *     each front gets a socket and an accept queue of its own, so the
 *     connections queued on a front that crashes are reset, and the one
 *     socket systemd passes (LISTEN_FDS) cannot be split that way.
 *   - a parent that binds and passes descriptors (-b fd://N): Node has no
 *     public way to bind without listening, and a parent that listens
 *     accepts too, with no one to serve what it accepted.
 *   - cluster's default round robin: the parent would accept every
 *     connection and pass it on, one more process per connection on the
 *     very path this exists to shorten.
 * The descriptors live in the parent, so a front that crashes is replaced
 * while the others accept on; nothing queued on the socket is lost.
 *
 * The parent relays the lifecycle signals to every front (front-link.ts
 * says why the fronts take them from it alone): SIGTERM and SIGINT drain
 * every front (after --shutdown-delay, which each front serves through),
 * SIGQUIT stops them at once, SIGHUP reloads every front, and SIGTTIN and
 * SIGTTOU add or remove one worker in every front. It tells systemd READY=1
 * once every front is ready, and serves --control-bind itself
 * (fronts-control-routes.ts), so that no probe gets one front's answer.
 * A front that exits on its own is replaced (with the workers' backoff);
 * one that cannot start (a usage error, a worker boot error, an
 * application that does not load) halts them all with its exit status, as
 * gunicorn halts rather than respawn forever.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { listenerOptions } from '../config/listener-settings.js';
import { parseBind } from '../config/parse-bind.js';
import type { ServerOptions } from '../config/settings.js';
import { ConfigError, ControlBindError, ExitStatus } from '../errors.js';
import type { ControlReport } from '../observability/control-report.js';
import { ControlListener } from '../http/control-listener.js';
import { frontsControlRoutes, type FrontReport } from '../http/fronts-control-routes.js';
import { removeStaleSocket } from '../http/listener.js';
import { ErrorLog, openLogStream } from '../observability/error-log.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import { describeExit } from './exit-description.js';
import { isMessage, RELAYED_SIGNALS, type FromFront, type RelayedSignal, type ToFront } from './front-messages.js';
import { RespawnBackoff } from './respawn-backoff.js';
import { statusLine, SystemdNotifier, takeSystemdEnvironment } from './systemd-notifier.js';

const FRONT_ENTRY = fileURLToPath(new URL('../front-entry.js', import.meta.url));

/** A front that exits with one of these could not serve with this configuration: the parent halts rather than respawn. */
const HALTING: ReadonlySet<number> = new Set([ExitStatus.usage, ExitStatus.workerBootError, ExitStatus.appLoadError]);

/** How long the control listener waits for a front's metrics. */
const REPORT_TIMEOUT_MS = 2_000;

/** How long past --shutdown-delay and --graceful-timeout a stopping front may take before it is killed. */
const STOP_SLACK_MS = 10_000;

interface Front {
  /** 1..N; a replacement takes the number of the front it replaces. */
  index: number;
  worker: Worker;
  state: 'starting' | 'ready' | 'stopping';
  startedAt: number;
  /** As it said when it was last ready (SIGTTIN and SIGTTOU change it since: its own status says). */
  workers: number;
  urls: string[];
  /** Draining, it has closed its copies of the shared sockets. */
  closedSockets: boolean;
}

export class FrontSet {
  readonly #options: ServerOptions;
  readonly #log: ErrorLog;
  readonly #fronts = new Map<number, Front>();
  readonly #backoff: RespawnBackoff[] = [];
  readonly #respawns = new Set<NodeJS.Timeout>();
  #control: ControlListener[] = [];
  #notifier: SystemdNotifier | null = null;
  /** Every front has been ready once. */
  #started = false;
  #stopping = false;
  /** Fronts whose reload (SIGHUP) has not ended yet. */
  #reloading = new Set<number>();
  #status: number = ExitStatus.ok;
  /** Report requests awaiting their answer, by id. */
  readonly #reports = new Map<number, (report: ControlReport | null) => void>();
  #nextReport = 0;
  #finish: (status: number) => void = () => {};

  constructor(options: ServerOptions) {
    this.#options = options;
    this.#log = new ErrorLog(openLogStream(options.errorLogfile, process.stderr), options.logLevel, options.logFormat);
  }

  /** Starts the fronts; resolves the exit status once every front has exited. */
  async run(): Promise<number> {
    // After the options, whose defaults took systemd's sockets (LISTEN_FDS) as the binds.
    const systemd = takeSystemdEnvironment();
    try {
      this.#prepare();
      await Promise.all(this.#control.map((control) => control.listen()));
      if (this.#control.length > 0) this.#log.info(`control listener on ${this.#control.map((control) => control.url).join(', ')}: /metrics, /status.json, /healthz, /readyz for every front`);
    } catch (error) {
      if (!(error instanceof ConfigError || error instanceof ControlBindError)) throw error;
      await this.#closeControl();
      this.#log.error(error instanceof ControlBindError ? `${error.message}; choose another address with --control-bind` : error.message);
      return error instanceof ConfigError ? ExitStatus.usage : ExitStatus.failure;
    }
    if (systemd.notifySocket !== null) this.#notifier = new SystemdNotifier(this.#options.python, { ...systemd, notifySocket: systemd.notifySocket }, this.#log);
    const done = new Promise<number>((resolve) => (this.#finish = resolve));
    for (const signal of RELAYED_SIGNALS) process.on(signal, () => this.#received(signal));
    // SCHED_NONE: each front accepts on the shared socket itself; frozen by setupPrimary.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: FRONT_ENTRY, args: [], silent: false });
    this.#log.info(`starting ${this.#options.fronts} fronts on ${this.#options.bind.join(', ')}`);
    for (let index = 1; index <= this.#options.fronts; index++) {
      this.#backoff[index] = new RespawnBackoff();
      this.#fork(index);
    }
    return done;
  }

  /** Checks the addresses before any front starts, and makes the control listeners. */
  #prepare(): void {
    const binds = this.#options.bind.map((text) => parseBind(text));
    // A front would remove a stale socket file as it listens, and so the live one another front's listen had just made.
    for (const bind of binds) if (bind.kind === 'unix') removeStaleSocket(bind.path);
    const options = listenerOptions(this.#options, (req, refused) =>
      this.#log.info(`control listener refused ${req === null ? 'connection' : quoteForLog(`${req.method} ${req.url}`)}: ${refused.code}: ${refused.reason}`),
    );
    const routes = frontsControlRoutes(this);
    this.#control = this.#options.controlBind.map((text) => new ControlListener(parseBind(text, '--control-bind'), routes, options));
  }

  #fork(index: number): void {
    const worker = cluster.fork();
    const front: Front = { index, worker, state: 'starting', startedAt: Date.now(), workers: 0, urls: [], closedSockets: false };
    this.#fronts.set(index, front);
    worker.on('message', (message: unknown) => {
      if (isMessage<FromFront>(message, ['waiting', 'ready', 'reloaded', 'reloadFailed', 'stopping', 'report', 'closedSockets'])) this.#heard(front, message);
    });
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.#exited(front, code, signal));
    // A fork that fails (EAGAIN, ENOMEM) is reported through 'exit' as well.
    worker.on('error', (error) => this.#log.warning(`front ${index}: ${error.message}`));
  }

  #heard(front: Front, message: FromFront): void {
    const pid = front.worker.process.pid;
    switch (message.kind) {
      case 'waiting':
        this.#send(front, { kind: 'options', options: { ...this.#options, fronts: 1, controlBind: [] }, metrics: this.#control.length > 0 });
        // A signal that came while it started reaches it now.
        if (this.#stopping) this.#send(front, { kind: 'signal', signal: 'SIGQUIT' });
        return;
      case 'ready':
        front.state = this.#stopping ? 'stopping' : 'ready';
        front.workers = message.workers;
        front.urls = message.urls;
        if (this.#started) {
          this.#log.info(`front ${front.index} (pid ${pid}) ready again`);
        } else if ([...this.#fronts.values()].every((other) => other.state === 'ready')) {
          this.#started = true;
          const serving = this.#serving();
          this.#log.info(`all ${this.#fronts.size} fronts ready: ${serving}`);
          this.#notifier?.notify('READY=1', statusLine(serving));
        }
        return;
      case 'reloaded':
      case 'reloadFailed':
        if (message.kind === 'reloadFailed') this.#log.warning(`front ${front.index} (pid ${pid}): reload failed, its previous workers serve on: ${message.message}`);
        if (this.#reloading.delete(front.index) && this.#reloading.size === 0) this.#notifier?.notify('READY=1', statusLine(`reloaded; ${this.#serving()}`));
        return;
      case 'stopping':
        front.state = 'stopping';
        return;
      case 'report':
        this.#reports.get(message.id)?.(message.report);
        return;
      case 'closedSockets':
        front.closedSockets = true;
        this.#tellSocketsClosed();
        return;
    }
  }

  #exited(front: Front, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#fronts.get(front.index) === front) this.#fronts.delete(front.index);
    // A reload waits no longer for a front that is gone.
    if (this.#reloading.delete(front.index) && this.#reloading.size === 0 && !this.#stopping) {
      this.#notifier?.notify('READY=1', statusLine(`reloaded; ${this.#serving()}`));
    }
    const how = `front ${front.index} (pid ${front.worker.process.pid}) ${describeExit(code, signal)}`;
    if (this.#stopping) {
      this.#log.info(how);
      this.#tellSocketsClosed();
      if (code !== 0 && this.#status === ExitStatus.ok) this.#status = ExitStatus.failure;
      if (this.#fronts.size === 0) void this.#end();
    } else if (!this.#started || (code !== null && HALTING.has(code))) {
      // It could not start, or cannot load the application: its replacement would fail the same way.
      this.#log.error(`${how}; stopping every front`);
      this.#status = code !== null && code !== 0 ? code : ExitStatus.failure;
      this.#stop('SIGQUIT');
    } else {
      const delay = this.#backoff[front.index]?.delayAfter(Date.now() - front.startedAt) ?? 0;
      this.#log.warning(`${how}; starting another${delay > 0 ? ` in ${delay} ms` : ''}; the other fronts serve on`);
      const timer = setTimeout(() => {
        this.#respawns.delete(timer);
        if (!this.#stopping) this.#fork(front.index);
      }, delay);
      this.#respawns.add(timer);
    }
  }

  #received(signal: RelayedSignal): void {
    if (signal === 'SIGHUP') {
      if (this.#stopping) return this.#log.info('received SIGHUP while stopping; not reloading');
      this.#log.info(`received SIGHUP; reloading ${this.#fronts.size} fronts`);
      this.#reloading = new Set(this.#fronts.keys());
      this.#notifier?.notify('RELOADING=1', `MONOTONIC_USEC=${SystemdNotifier.monotonicUsec()}`, statusLine('reloading: starting new workers'));
    } else if (signal === 'SIGTERM' || signal === 'SIGINT' || signal === 'SIGQUIT') {
      if (!this.#stopping) this.#log.info(`received ${signal}; stopping ${this.#fronts.size} fronts`);
      return this.#stop(signal);
    }
    this.#relay(signal);
  }

  /** Stops every front: the signal is relayed, and a second one too (a second SIGTERM ends --shutdown-delay). */
  #stop(signal: RelayedSignal): void {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#notifier?.notify('STOPPING=1', statusLine('stopping: draining'));
      for (const timer of this.#respawns) clearTimeout(timer);
      this.#respawns.clear();
      const limitMs = ((this.#options.shutdownDelay ?? 0) + this.#options.gracefulTimeout) * 1000 + STOP_SLACK_MS;
      setTimeout(() => {
        for (const front of this.#fronts.values()) front.worker.process.kill('SIGKILL');
      }, limitMs).unref();
    }
    this.#relay(signal);
    if (this.#fronts.size === 0) void this.#end();
  }

  /**
   * Once every front has closed its copies, the sockets are closed (cluster
   * closes the parent's with the last front's): the fronts may close their
   * idle connections, and a client that reconnects is refused, not queued.
   */
  #tellSocketsClosed(): void {
    const fronts = [...this.#fronts.values()];
    if (!fronts.every((front) => front.closedSockets)) return;
    for (const front of fronts) this.#send(front, { kind: 'socketsClosed' });
  }

  #relay(signal: RelayedSignal): void {
    for (const front of this.#fronts.values()) this.#send(front, { kind: 'signal', signal });
  }

  #send(front: Front, message: ToFront): void {
    if (front.worker.isConnected()) front.worker.send(message);
  }

  async #end(): Promise<void> {
    await this.#closeControl();
    this.#notifier?.close();
    for (const signal of RELAYED_SIGNALS) process.removeAllListeners(signal);
    this.#finish(this.#status);
  }

  #closeControl(): Promise<void> {
    return Promise.all(this.#control.map((control) => control.close())).then(() => undefined);
  }

  #serving(): string {
    const fronts = [...this.#fronts.values()];
    const workers = fronts.reduce((sum, front) => sum + front.workers, 0);
    return `listening on ${fronts[0]?.urls.join(', ') ?? ''}, ${fronts.length} fronts, ${workers} workers`;
  }

  /** /readyz: why the server is not ready; none when it is. */
  notReady(): string[] {
    if (this.#stopping) return ['the server is stopping'];
    const ready = [...this.#fronts.values()].filter((front) => front.state === 'ready').length;
    if (!this.#started) return [`starting: ${ready} of ${this.#options.fronts} fronts ready`];
    return ready > 0 ? [] : ['no front is ready'];
  }

  /**
   * Each front's metrics and status, asked for over the channel: a front
   * that does not answer within REPORT_TIMEOUT_MS (one busy past that, or
   * starting) has a null report.
   */
  reports(): Promise<FrontReport[]> {
    return Promise.all(
      [...this.#fronts.values()].map(async (front) => ({
        front: front.index,
        pid: front.worker.process.pid ?? 0,
        state: front.state,
        workers: front.workers,
        since: new Date(front.startedAt).toISOString(),
        report: front.state === 'starting' ? null : await this.#askReport(front),
      })),
    );
  }

  #askReport(front: Front): Promise<ControlReport | null> {
    const id = this.#nextReport++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer(null), REPORT_TIMEOUT_MS);
      const answer = (report: ControlReport | null): void => {
        clearTimeout(timer);
        this.#reports.delete(id);
        resolve(report);
      };
      this.#reports.set(id, answer);
      front.worker.once('exit', () => answer(null));
      this.#send(front, { kind: 'report', id });
    });
  }
}
