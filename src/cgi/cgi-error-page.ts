/**
 * The server's own answer when a script fails before its response started.
 * Without debug it is the plain sendErrorResponse of every mount, which
 * names nothing of the script; with debug the page also shows why and what
 * the script wrote to stderr, HTML-escaped, for the developer at the browser.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { sendDevelopmentPage, sendErrorResponse } from '../http/error-response.js';

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
  sendDevelopmentPage(res, status, {
    title: `${status} ${STATUS_CODES[status] ?? 'Error'}`,
    explanation: detail.reason,
    sections: [{ heading: 'stderr', text: detail.stderr }],
  });
}
