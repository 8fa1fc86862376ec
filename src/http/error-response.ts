/**
 * The short responses the server writes itself (4xx/5xx): a one-line text
 * body that names the status and never any detail of the application.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { markClosing } from './refusal.js';

export function sendErrorResponse(res: ServerResponse, status: number, options: { close?: boolean } = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  };
  if (options.close) {
    headers.Connection = 'close';
    markClosing(res.req.socket);
  }
  res.writeHead(status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Text made safe for HTML: every markup character becomes a character reference. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A development page (--debug, --reload) that explains a failure: a title,
 * a line of explanation and preformatted sections, every byte escaped.
 * Never used without debug or reload: production answers are the plain ones.
 */
export function sendDevelopmentPage(
  res: ServerResponse,
  status: number,
  page: { title: string; explanation: string; sections: ReadonlyArray<{ heading: string; text: string }> },
): void {
  const body =
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>` +
    '<style>body{font:15px system-ui,sans-serif;margin:2em}pre{background:#fff4f4;border:1px solid #e0b4b4;padding:1em;overflow:auto}</style>' +
    `</head><body>\n<h1>${escapeHtml(page.title)}</h1>\n<p>${escapeHtml(page.explanation)}</p>\n` +
    page.sections.map((section) => `<h2>${escapeHtml(section.heading)}</h2>\n<pre>${escapeHtml(section.text)}</pre>\n`).join('') +
    '</body></html>\n';
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
