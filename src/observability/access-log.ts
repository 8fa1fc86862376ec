/**
 * The access log, in Apache's combined format:
 *
 *     %h - %u [%d/%b/%Y:%H:%M:%S +0000] "%r" %s %b "%{Referer}i" "%{User-Agent}i"
 */
import type { Writable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { quoteForLog } from './quote-for-log.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function apacheTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/**
 * Most a field of an access line quotes: a request line within the default
 * --limit-request-line is never cut (Apache logs %r whole), and a client
 * that sends more cannot grow the line without bound.
 */
export const ACCESS_LOG_QUOTE_LIMIT = 4096;

/** A request-supplied value, escaped and bounded so that it can neither forge nor grow a log line. */
function quoted(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  return `"${quoteForLog(value, ACCESS_LOG_QUOTE_LIMIT)}"`;
}

/** ANSI colours by status class, for a terminal: 2xx green, 3xx cyan, 4xx yellow, 5xx red. */
const STATUS_COLOURS: Record<number, string> = { 2: '\x1b[32m', 3: '\x1b[36m', 4: '\x1b[33m', 5: '\x1b[31m' };
const RESET = '\x1b[0m';

/** Colour for a terminal, unless NO_COLOR says otherwise; FORCE_COLOR asks for it anywhere (no-color.org, force-color.org). */
export function wantsColour(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  return Boolean(env.FORCE_COLOR) || (stream as Writable & { isTTY?: boolean }).isTTY === true;
}

/** What one line needs of a request that is over: the per-request record (src/http/request-record.ts) has it. */
export interface AccessEntry {
  readonly req: IncomingMessage;
  readonly status: number;
  readonly bodyBytes: number;
}

export class AccessLog {
  readonly #stream: Writable;
  readonly #colour: boolean;

  constructor(stream: Writable, colour = false) {
    this.#stream = stream;
    this.#colour = colour;
  }

  record(request: AccessEntry): void {
    const { req, status, bodyBytes } = request;
    const remote = req.socket.remoteAddress ?? '-';
    const user = '-';
    const requestLine = `${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}`;
    const line =
      `${remote} - ${user} [${apacheTime(new Date())}] ${quoted(requestLine)} ${status} ${bodyBytes > 0 ? bodyBytes : '-'} ` +
      `${quoted(req.headers.referer)} ${quoted(req.headers['user-agent'])}`;
    const colour = this.#colour ? STATUS_COLOURS[Math.floor(status / 100)] : undefined;
    this.#stream.write(colour === undefined ? `${line}\n` : `${colour}${line}${RESET}\n`);
  }
}
