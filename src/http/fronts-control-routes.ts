/**
 * What the control listener (--control-bind, control-listener.ts) of a
 * --fronts parent answers. The parent alone binds it, so that a probe or a
 * scrape gets one answer for the whole server and never the view of
 * whichever front a shared socket happened to hand the connection to:
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
import { mergeExpositions } from '../observability/exposition-merge.js';
import { CONTROL_TEXT, sendControlResponse, type ControlRoutes } from './control-listener.js';

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

export function frontsControlRoutes(view: FrontsView): ControlRoutes {
  const reported = (answer: (res: ServerResponse, fronts: FrontReport[]) => void) => async ({ res }: { res: ServerResponse }) =>
    answer(res, await view.reports());
  return new Map([
    ['/metrics', reported(metrics)],
    ['/status', ({ res }) => sendControlResponse(res, 501, CONTROL_TEXT, 'not with --fronts: the page draws one front; /status.json has every front\n')],
    ['/status.json', reported((res, fronts) => status(res, view, fronts))],
    ['/healthz', ({ res }) => sendControlResponse(res, 200, CONTROL_TEXT, 'ok\n')],
    [
      '/readyz',
      ({ res }) => {
        const reasons = view.notReady();
        sendControlResponse(res, reasons.length === 0 ? 200 : 503, CONTROL_TEXT, reasons.length === 0 ? 'ready\n' : `not ready: ${reasons.join('; ')}\n`);
      },
    ],
  ]);
}

function metrics(res: ServerResponse, fronts: FrontReport[]): void {
  const sources = fronts.flatMap(({ front, report }) => (report === null ? [] : [{ value: String(front), text: report.metrics }]));
  sendControlResponse(res, 200, PROMETHEUS_TEXT, mergeExpositions('front', sources));
}

function status(res: ServerResponse, view: FrontsView, fronts: FrontReport[]): void {
  const reasons = view.notReady();
  const body = { pid: process.pid, ready: reasons.length === 0, notReady: reasons, fronts: fronts.map(({ report, ...front }) => ({ ...front, status: report?.status ?? null })) };
  sendControlResponse(res, 200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
}
