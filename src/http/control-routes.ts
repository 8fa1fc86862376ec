/**
 * What a server's control listener answers (control-listener.ts):
 *
 *     /metrics       Prometheus text format (prom-client)
 *     /status        an HTML page that redraws itself every second
 *     /status.json   the data of that page
 *     /healthz       200 while the process runs
 *     /readyz        200 while serving with a ready worker in every mount; 503 otherwise
 */
import { renderStatusPage, STATUS_PAGE_CSP } from '../observability/status-page.js';
import { readiness, takeStatus, type StatusSources } from '../observability/status-snapshot.js';
import { CONTROL_TEXT, sendControlResponse, type ControlRoutes } from './control-listener.js';

/** What the control listener reports on: the mounts, their metrics, and whether the server serves. */
export type ControlSources = StatusSources;

export function serverControlRoutes(sources: ControlSources): ControlRoutes {
  return new Map([
    ['/metrics', async ({ res }) => sendControlResponse(res, 200, sources.metrics.contentType, await sources.metrics.render())],
    [
      '/status',
      async ({ res }) => {
        const page = renderStatusPage(await takeStatus(sources));
        res.setHeader('Content-Security-Policy', STATUS_PAGE_CSP);
        sendControlResponse(res, 200, 'text/html; charset=utf-8', page);
      },
    ],
    ['/status.json', async ({ res }) => sendControlResponse(res, 200, 'application/json', `${JSON.stringify(await takeStatus(sources), null, 2)}\n`)],
    ['/healthz', ({ res }) => sendControlResponse(res, 200, CONTROL_TEXT, 'ok\n')],
    [
      '/readyz',
      ({ res }) => {
        const { ready, reasons } = readiness(sources);
        sendControlResponse(res, ready ? 200 : 503, CONTROL_TEXT, ready ? 'ready\n' : `not ready: ${reasons.join('; ')}\n`);
      },
    ],
  ]);
}
