/**
 * The access log: one line per response, when it is over. In text, the
 * --access-logformat layout (access-log-format.ts), by default Apache's
 * combined format:
 *
 *     %h - %u [%d/%b/%Y:%H:%M:%S +0000] "%r" %s %b "%{Referer}i" "%{User-Agent}i"
 *
 * With --log-format json, one JSON object per line with stable keys
 * (json-access-log.ts).
 */
import type { Writable } from 'node:stream';
import { compileAccessLogFormat, DEFAULT_ACCESS_LOG_FORMAT, type AccessEntry, type AccessLineFormatter } from './access-log-format.js';
import { openLogStream } from './error-log.js';
import { JsonAccessLog } from './json-access-log.js';
import type { LogFormat } from './log-format.js';

export { ACCESS_LOG_QUOTE_LIMIT, type AccessEntry } from './access-log-format.js';

/** Either layout: what the server calls at the end of each response. */
export interface AccessRecorder {
  record(entry: AccessEntry): void;
}

/** ANSI colours by status class, for a terminal: 2xx green, 3xx cyan, 4xx yellow, 5xx red. */
const STATUS_COLOURS: Record<number, string> = { 2: '\x1b[32m', 3: '\x1b[36m', 4: '\x1b[33m', 5: '\x1b[31m' };
const RESET = '\x1b[0m';

/** Colour for a terminal, unless NO_COLOR says otherwise; FORCE_COLOR asks for it anywhere (no-color.org, force-color.org). */
export function wantsColour(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  return Boolean(env.FORCE_COLOR) || (stream as Writable & { isTTY?: boolean }).isTTY === true;
}

export class AccessLog implements AccessRecorder {
  readonly #stream: Writable;
  readonly #colour: boolean;
  readonly #format: AccessLineFormatter;

  constructor(stream: Writable, colour = false, format: AccessLineFormatter = compileAccessLogFormat(DEFAULT_ACCESS_LOG_FORMAT)) {
    this.#stream = stream;
    this.#colour = colour;
    this.#format = format;
  }

  record(entry: AccessEntry): void {
    const line = this.#format(entry);
    const colour = this.#colour ? STATUS_COLOURS[Math.floor(entry.status / 100)] : undefined;
    this.#stream.write(colour === undefined ? `${line}\n` : `${colour}${line}${RESET}\n`);
  }
}

/** The access-log settings, as ServerOptions has them. */
export interface AccessLogSettings {
  /** '-' for stdout; null for no access log. */
  accessLogfile: string | null;
  accessLogFormat: string;
  logFormat: LogFormat;
}

/**
 * The access log the settings ask for, its format compiled once here;
 * null for none. JSON has its own stable keys, so --access-logformat does
 * not apply to it.
 */
export function openAccessLog(settings: AccessLogSettings): AccessRecorder | null {
  if (settings.accessLogfile === null) return null;
  const format = settings.logFormat === 'json' ? null : compileAccessLogFormat(settings.accessLogFormat);
  const stream = openLogStream(settings.accessLogfile, process.stdout);
  return format === null ? new JsonAccessLog(stream) : new AccessLog(stream, wantsColour(stream), format);
}
