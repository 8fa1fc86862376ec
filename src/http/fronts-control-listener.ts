/**
 * The control listener (--control-bind) of a --fronts parent. The parent
 * alone binds it, so that a probe gets one answer for the whole server and
 * never the view of whichever front a shared socket happened to hand the
 * connection to:
 *
 *     /healthz       200 while the parent runs
 *     /readyz        200 while no stop has begun and a front is ready; 503 otherwise
 *     /status.json   the fronts: pid, state, workers
 *
 * /metrics and /status are the fronts' own figures, which are not gathered
 * across fronts yet: they answer 501 saying so, rather than one front's
 * share of the counts.
 */
import type { ServerResponse } from 'node:http';
import { ControlBindError } from '../errors.js';
import type { Bind } from './bind.js';
import type { ControlListenerOptions } from './control-listener.js';
import { Listener } from './listener.js';
import type { RequestRecord } from './request-record.js';

/** What the parent knows of its fronts. */
export interface FrontsView {
  /** Why the server is not ready; none when it is. */
  notReady(): string[];
  status(): object;
}

const TEXT = 'text/plain; charset=utf-8';

export class FrontsControlListener {
  readonly #listener: Listener;
  readonly #view: FrontsView;

  constructor(bind: Bind, view: FrontsView, options: ControlListenerOptions) {
    this.#view = view;
    const { keepAliveSeconds, limits, headersTimeoutSeconds, bodyTimeoutSeconds, maxConnections, onRefuse } = options;
    this.#listener = new Listener(bind, (request) => this.#serve(request), {
      keepAliveSeconds, limits, headersTimeoutSeconds, bodyTimeoutSeconds, maxConnections, onRefuse,
      proxyProtocol: false,
    });
  }

  get url(): string {
    return this.#listener.url;
  }

  async listen(): Promise<void> {
    try {
      await this.#listener.listen();
    } catch (error) {
      throw new ControlBindError(this.#listener.bind.text, error as NodeJS.ErrnoException);
    }
  }

  close(): Promise<void> {
    const { server } = this.#listener;
    if (!server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #serve({ req, res }: RequestRecord): void {
    req.resume();
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, TEXT, 'method not allowed\n');
    }
    if (path === '/healthz') return send(res, 200, TEXT, 'ok\n');
    if (path === '/readyz') {
      const reasons = this.#view.notReady();
      return send(res, reasons.length === 0 ? 200 : 503, TEXT, reasons.length === 0 ? 'ready\n' : `not ready: ${reasons.join('; ')}\n`);
    }
    if (path === '/status.json') return send(res, 200, 'application/json', `${JSON.stringify(this.#view.status(), null, 2)}\n`);
    if (path === '/metrics' || path === '/status') {
      return send(res, 501, TEXT, `not with --fronts: ${path} would be one front's share; /healthz, /readyz and /status.json answer for all fronts\n`);
    }
    send(res, 404, TEXT, 'not found: this is the control listener of a --fronts parent (/healthz, /readyz, /status.json)\n');
  }
}

/** A whole response; its body left out for HEAD. Never cached: it says how things are now. */
function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
