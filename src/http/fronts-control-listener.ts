/**
 * The control listener (--control-bind) of a --fronts parent. The parent
 * alone binds it, so that a probe or a scrape gets one answer for the whole
 * server and never the view of whichever front a shared socket happened to
 * hand the connection to:
 *
 *     /metrics       every front's metrics, each sample labelled front="N" (exposition-merge.ts)
 *     /status.json   the parent's view of its fronts, each with its own /status.json
 *     /healthz       200 while the parent runs
 *     /readyz        200 while no stop has begun and a front is ready; 503 otherwise
 *
 * The HTML /status page draws one server's status.json; with several
 * fronts it answers 501, pointing to /status.json.
 */
import type { ServerResponse } from 'node:http';
import type { ControlReport } from '../observability/control-report.js';
import { ControlBindError } from '../errors.js';
import { mergeExpositions } from '../observability/exposition-merge.js';
import type { Bind } from './bind.js';
import type { ControlListenerOptions } from './control-listener.js';
import { Listener } from './listener.js';
import type { RequestRecord } from './request-record.js';

/** One front, as the parent sees it, with what it reported (null when it did not answer). */
export interface FrontReport {
  front: number;
  pid: number;
  state: string;
  workers: number;
  since: string;
  report: ControlReport | null;
}

/** What the parent knows of its fronts. */
export interface FrontsView {
  /** Why the server is not ready; none when it is. */
  notReady(): string[];
  reports(): Promise<FrontReport[]>;
}

/** prom-client's: the Prometheus text format 0.0.4. */
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

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
    if (path === '/metrics' || path === '/status.json') {
      void this.#view.reports().then(
        (fronts) => (path === '/metrics' ? this.#metrics(res, fronts) : this.#status(res, fronts)),
        (error: Error) => send(res, 500, TEXT, `could not answer: ${error.message}\n`),
      );
      return;
    }
    if (path === '/status') return send(res, 501, TEXT, 'not with --fronts: the page draws one front; /status.json has every front\n');
    send(res, 404, TEXT, 'not found: this is the control listener of a --fronts parent (/metrics, /status.json, /healthz, /readyz)\n');
  }

  #metrics(res: ServerResponse, fronts: FrontReport[]): void {
    const sources = fronts.flatMap(({ front, report }) => (report === null ? [] : [{ value: String(front), text: report.metrics }]));
    send(res, 200, PROMETHEUS_TEXT, mergeExpositions('front', sources));
  }

  #status(res: ServerResponse, fronts: FrontReport[]): void {
    const reasons = this.#view.notReady();
    const status = { pid: process.pid, ready: reasons.length === 0, notReady: reasons, fronts: fronts.map(({ report, ...front }) => ({ ...front, status: report?.status ?? null })) };
    send(res, 200, 'application/json', `${JSON.stringify(status, null, 2)}\n`);
  }
}

/** A whole response; its body left out for HEAD. Never cached: it says how things are now. */
function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
