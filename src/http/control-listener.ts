/**
 * A control listener (--control-bind): a second listener, never a public
 * one, for whoever operates the server. What it answers is a table of
 * paths (control-routes.ts: a server's /metrics, /status, /status.json,
 * /healthz and /readyz; fronts-control-routes.ts: a --fronts parent's).
 *
 * It admits requests with the same checks as a public Listener (limits,
 * request validation, timeouts), but never expects a PROXY header: a load
 * balancer's health check comes to it directly. Its requests are neither
 * routed to a mount, counted in the metrics, nor logged in the access log,
 * and a stop does not wait for them: it stays up while the server drains
 * (/healthz 200, /readyz 503) and closes last. Only GET and HEAD.
 */
import type { ServerResponse } from 'node:http';
import { ControlBindError } from '../errors.js';
import type { Bind } from './bind.js';
import { Listener, type ListenerOptions } from './listener.js';
import type { RequestRecord } from './request-record.js';

/** The listener options a control listener may take: no PROXY protocol, nor any other connection preface. */
export type ControlListenerOptions = Pick<
  ListenerOptions,
  'keepAliveSeconds' | 'limits' | 'headersTimeoutSeconds' | 'bodyTimeoutSeconds' | 'maxConnections' | 'onRefuse'
>;

/** Answers one path; a rejection becomes a 500 that says why. */
export type ControlRoute = (request: RequestRecord) => Promise<void> | void;

/** The paths a control listener answers, in the order its 404 lists them. */
export type ControlRoutes = ReadonlyMap<string, ControlRoute>;

export const CONTROL_TEXT = 'text/plain; charset=utf-8';

export class ControlListener {
  readonly #listener: Listener;
  readonly #routes: ControlRoutes;
  readonly #notFound: string;

  constructor(bind: Bind, routes: ControlRoutes, options: ControlListenerOptions) {
    this.#routes = routes;
    this.#notFound = `not found: this is the control listener (${[...routes.keys()].join(', ')})\n`;
    const { keepAliveSeconds, limits, headersTimeoutSeconds, bodyTimeoutSeconds, maxConnections, onRefuse } = options;
    this.#listener = new Listener(bind, (request) => this.#serve(request), {
      keepAliveSeconds, limits, headersTimeoutSeconds, bodyTimeoutSeconds, maxConnections, onRefuse,
      proxyProtocol: false,
    });
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
    if (route === undefined) return sendControlResponse(res, 404, CONTROL_TEXT, this.#notFound);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendControlResponse(res, 405, CONTROL_TEXT, 'method not allowed\n');
    }
    req.resume();
    void Promise.resolve()
      .then(() => route(request))
      .catch((error: Error) => sendControlResponse(res, 500, CONTROL_TEXT, `could not answer: ${error.message}\n`));
  }
}

/** A whole response; its body left out for HEAD. Never cached: it says how things are now. */
export function sendControlResponse(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
