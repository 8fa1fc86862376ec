/**
 * The server's own answer when a script fails before its response started.
 * Without debug it is the plain sendErrorResponse of every mount, which
 * names nothing of the script; with debug the page also shows why and what
 * the script wrote to stderr, HTML-escaped, for the developer at the browser.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { sendErrorResponse } from '../http/error-response.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface FailureDetail {
  /** What went wrong, for the developer (never shown without debug). */
  reason: string;
  /** The tail of the script's stderr. */
  stderr: string;
}

export function sendCgiErrorResponse(res: ServerResponse, status: number, debug: boolean, detail: FailureDetail): void {
  if (!debug || res.headersSent || res.destroyed) {
    sendErrorResponse(res, status);
    return;
  }
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const body =
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>\n` +
    `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(detail.reason)}</p>\n` +
    `<h2>stderr</h2>\n<pre>${escapeHtml(detail.stderr)}</pre>\n</body></html>\n`;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
