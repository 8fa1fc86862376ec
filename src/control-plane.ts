/**
 * What --control-bind adds to a server: the metrics, fed from each
 * request's record when it is over, and the control listeners that serve
 * them with /status, /healthz and /readyz. Without --control-bind there is
 * none, and a request costs nothing more than before.
 */
import type { Bind } from './http/bind.js';
import { parseBind } from './config/parse-bind.js';
import { ConfigError } from './errors.js';
import { ControlListener, type ControlListenerOptions } from './http/control-listener.js';
import { serverControlRoutes } from './http/control-routes.js';
import type { RequestRecord } from './http/request-record.js';
import type { ErrorLog } from './observability/error-log.js';
import { Metrics, type MeteredMount } from './observability/metrics.js';
import type { ControlReport } from './observability/control-report.js';
import { takeStatus, type StatusSources } from './observability/status-snapshot.js';
import type { MountHandler } from './routing/mount-handler.js';

export interface ControlPlaneConfig {
  /** --control-bind, as given. */
  controlBind: readonly string[];
  /** The public listeners' binds: a control listener may share none. */
  publicBinds: readonly Bind[];
  mounts: ReadonlyArray<{ prefix: string; handler: MountHandler }>;
  /** The server is started and not stopping (the arbiter's `ready`). */
  serving: () => boolean;
  listenerOptions: ControlListenerOptions;
  log: ErrorLog;
  /**
   * A --fronts front whose parent serves --control-bind: the metrics are
   * kept, with no listener of its own; the parent asks for report().
   */
  forParent?: boolean;
}

export type { ControlReport } from './observability/control-report.js';

export class ControlPlane {
  readonly metrics: Metrics;
  readonly #listeners: ControlListener[];
  readonly #log: ErrorLog;
  readonly #sources: StatusSources;

  /** null without --control-bind. Throws ConfigError for an address that is also public. */
  static create(config: ControlPlaneConfig): ControlPlane | null {
    if (config.controlBind.length === 0 && config.forParent !== true) return null;
    const binds = config.controlBind.map((text) => parseBind(text, '--control-bind'));
    for (const bind of binds) {
      const clash = config.publicBinds.find((other) => sameAddress(bind, other));
      if (clash !== undefined) {
        throw new ConfigError(`--control-bind: ${bind.text} is also a --bind address (${clash.text}); the control listener is never a public one`);
      }
    }
    return new ControlPlane(binds, config);
  }

  private constructor(binds: Bind[], config: ControlPlaneConfig) {
    this.#log = config.log;
    const mounts: MeteredMount[] = config.mounts.map(({ prefix, handler }) => ({
      prefix,
      kind: handler.kind,
      snapshot: () => handler.snapshot?.(),
    }));
    this.metrics = new Metrics(mounts);
    const sources = { mounts, metrics: this.metrics, serving: config.serving, createdAt: Date.now() };
    this.#sources = sources;
    const routes = serverControlRoutes(sources);
    this.#listeners = binds.map((bind) => new ControlListener(bind, routes, config.listenerOptions));
  }

  /** Counts a request that is over (the server's end hook). */
  record(request: RequestRecord): void {
    this.metrics.record(request);
  }

  /** Binds every control address, or none: a failure closes those bound and throws ControlBindError. */
  async listen(): Promise<void> {
    if (this.#listeners.length === 0) return;
    const bound = await Promise.allSettled(this.#listeners.map((listener) => listener.listen()));
    const failure = bound.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      await this.close();
      throw failure.reason;
    }
    this.#log.info(`control listener on ${this.urls.join(', ')}: /metrics, /status, /status.json, /healthz, /readyz`);
  }

  /** The metrics and the status, as /metrics and /status.json would answer. */
  async report(): Promise<ControlReport> {
    return { metrics: await this.metrics.render(), status: await takeStatus(this.#sources) };
  }

  get urls(): string[] {
    return this.#listeners.map((listener) => listener.url);
  }

  close(): Promise<void> {
    return Promise.all(this.#listeners.map((listener) => listener.close())).then(() => undefined);
  }
}

/** Two binds that would listen on the same socket; port 0 is a fresh port every time, so never the same. */
function sameAddress(a: Bind, b: Bind): boolean {
  if (a.kind === 'unix' && b.kind === 'unix') return a.path === b.path;
  if (a.kind === 'tcp' && b.kind === 'tcp') {
    if (a.port === 0 || a.port !== b.port) return false;
    const wildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';
    return a.host === b.host || wildcard(a.host) || wildcard(b.host);
  }
  return a.text === b.text;
}
