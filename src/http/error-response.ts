/**
 * The short responses the server writes itself (4xx/5xx): a one-line text
 * body that names the status and never any detail of the application.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

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
  if (options.close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
