/**
 * The control listener (--control-bind): a second listener, never a public
 * one, for whoever operates the server. It serves:
 *
 *     /metrics       Prometheus text format (prom-client)
 *     /status        an HTML page that redraws itself every second
 *     /status.json   the data of that page
 *     /healthz       200 while the process runs
 *     /readyz        200 while serving with a ready worker in every mount; 503 otherwise
 *
 * It admits requests with the same checks as a public Listener (limits,
 * request validation, timeouts), but never expects a PROXY header: a load
 * balancer's health check comes to it directly. Its requests are neither
 * routed to a mount, counted in the metrics, nor logged in the access log,
 * and a stop does not wait for them: it stays up while the server drains
 * (/healthz 200, /readyz 503) and closes last.
 */
import type { ServerResponse } from 'node:http';
import { ControlBindError } from '../errors.js';
import { renderStatusPage, STATUS_PAGE_CSP } from '../observability/status-page.js';
import { readiness, takeStatus, type StatusSources } from '../observability/status-snapshot.js';
import type { Bind } from './bind.js';
import { Listener, type ListenerOptions } from './listener.js';
import type { RequestRecord } from './request-record.js';

/** What the control listener reports on: the mounts, their metrics, and whether the server serves. */
export type ControlSources = StatusSources;

/** The listener options a control listener may take: no PROXY protocol, nor any other connection preface. */
export type ControlListenerOptions = Pick<
  ListenerOptions,
  'keepAliveSeconds' | 'limits' | 'headersTimeoutSeconds' | 'bodyTimeoutSeconds' | 'maxConnections' | 'onRefuse'
>;

type Route = (request: RequestRecord) => Promise<void> | void;

const TEXT = 'text/plain; charset=utf-8';

export class ControlListener {
  readonly #listener: Listener;
  readonly #sources: ControlSources;
  readonly #routes: ReadonlyMap<string, Route>;

  constructor(bind: Bind, sources: ControlSources, options: ControlListenerOptions) {
    this.#sources = sources;
    const { keepAliveSeconds, limits, headersTimeoutSeconds, bodyTimeoutSeconds, maxConnections, onRefuse } = options;
    this.#listener = new Listener(bind, (request) => this.#serve(request), {
      keepAliveSeconds, limits, headersTimeoutSeconds, bodyTimeoutSeconds, maxConnections, onRefuse,
      proxyProtocol: false,
    });
    this.#routes = new Map<string, Route>([
      ['/metrics', (request) => this.#metrics(request)],
      ['/status', (request) => this.#statusPage(request)],
      ['/status.json', (request) => this.#statusJson(request)],
      ['/healthz', ({ res }) => send(res, 200, TEXT, 'ok\n')],
      ['/readyz', ({ res }) => this.#readyz(res)],
    ]);
  }

  get bind(): Bind {
    return this.#listener.bind;
  }

  /** `http://host:port` or `unix:path`, with the real port once listening. */
  get url(): string {
    return this.#listener.url;
  }

  /** Binds; a failure is a ControlBindError that names the address. */
  async listen(): Promise<void> {
    try {
      await this.#listener.listen();
    } catch (error) {
      throw new ControlBindError(this.#listener.bind.text, error as NodeJS.ErrnoException);
    }
  }

  /** Closes the socket and every connection to it; resolves once closed. */
  close(): Promise<void> {
    const { server } = this.#listener;
    if (!server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #serve(request: RequestRecord): void {
    const { req, res } = request;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const route = this.#routes.get(query === -1 ? url : url.slice(0, query));
    if (route === undefined) return send(res, 404, TEXT, 'not found: this is the control listener (/metrics, /status, /status.json, /healthz, /readyz)\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, TEXT, 'method not allowed\n');
    }
    req.resume();
    void Promise.resolve()
      .then(() => route(request))
      .catch((error: Error) => send(res, 500, TEXT, `could not answer: ${error.message}\n`));
  }

  async #metrics({ res }: RequestRecord): Promise<void> {
    const text = await this.#sources.metrics.render();
    send(res, 200, this.#sources.metrics.contentType, text);
  }

  async #statusPage({ res }: RequestRecord): Promise<void> {
    const page = renderStatusPage(await takeStatus(this.#sources));
    res.setHeader('Content-Security-Policy', STATUS_PAGE_CSP);
    send(res, 200, 'text/html; charset=utf-8', page);
  }

  async #statusJson({ res }: RequestRecord): Promise<void> {
    send(res, 200, 'application/json', `${JSON.stringify(await takeStatus(this.#sources), null, 2)}\n`);
  }

  #readyz(res: ServerResponse): void {
    const { ready, reasons } = readiness(this.#sources);
    send(res, ready ? 200 : 503, TEXT, ready ? 'ready\n' : `not ready: ${reasons.join('; ')}\n`);
  }
}

/** A whole response; its body left out for HEAD. Never cached: it says how things are now. */
function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
