/**
 * The access log, in Apache's combined format:
 *
 *     %h - %u [%d/%b/%Y:%H:%M:%S +0000] "%r" %s %b "%{Referer}i" "%{User-Agent}i"
 */
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function apacheTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** Quotes a request-supplied value so that it cannot forge a log line (no raw quotes or control bytes). */
function quoted(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  return `"${value.replace(/[\x00-\x1f\x7f"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

export class AccessLog {
  readonly #stream: Writable;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  record(req: IncomingMessage, status: number, bodyBytes: number): void {
    const remote = req.socket.remoteAddress ?? '-';
    const user = '-';
    const requestLine = `${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}`;
    this.#stream.write(
      `${remote} - ${user} [${apacheTime(new Date())}] ${quoted(requestLine)} ${status} ${bodyBytes > 0 ? bodyBytes : '-'} ` +
        `${quoted(req.headers.referer)} ${quoted(req.headers['user-agent'])}\n`,
    );
  }
}
