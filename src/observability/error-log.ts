/**
 * The error log: one line per event, in gunicorn's layout so that existing
 * log parsers keep working:
 *
 *     [2026-11-24 01:08:35 +0000] [4242] [INFO] listening on http://127.0.0.1:8000, 2 workers ready
 *
 * The pid is the process the event is about: the front's own pid, or the
 * worker's for what a worker printed or reported.
 *
 * With --log-format json, pino writes one object per event instead, with
 * stable keys: `time` (ISO 8601), `level`, `pid` (the front's), `msg`, and
 * for an event about a worker `worker_pid`, and `mount` for a mount's
 * events (forMount), a worker's output among them:
 *
 *     {"level":"info","time":"2026-11-24T01:08:35.120Z","pid":4242,"mount":"/api","worker_pid":4250,"msg":"hello"}
 *
 * A message of several lines (a traceback) stays one object.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { loadPino } from '../lazy-package.js';
import type { LogFormat } from './log-format.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];

export function openLogStream(target: string, standard: Writable): Writable {
  return target === '-' ? standard : createWriteStream(target, { flags: 'a' });
}

export function formatTimestamp(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`;
}

/** Where events go, in one layout: a stream as text or JSON, or a mount's view of one. */
export interface LogSink {
  write(level: LogLevel, message: string, pid: number): void;
  /** The same sink, its events marked with `mount`. */
  forMount(mount: string): LogSink;
}

/** gunicorn's layout. The mount is not shown: the pid says which worker. */
class TextSink implements LogSink {
  readonly #stream: Writable;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  write(level: LogLevel, message: string, pid: number): void {
    const prefix = `[${formatTimestamp(new Date())}] [${pid}] [${level.toUpperCase()}] `;
    const lines = message.replace(/\n+$/, '').split('\n');
    this.#stream.write(lines.map((line) => prefix + line).join('\n') + '\n');
  }

  forMount(): LogSink {
    return this;
  }
}

/** Our levels as pino's numbers, so that pino names them as we do ('warning', 'critical'). */
const PINO_LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warning: 40, error: 50, critical: 60 };

class JsonSink implements LogSink {
  readonly #logger: Logger<LogLevel, boolean>;

  constructor(logger: Logger<LogLevel, boolean>) {
    this.#logger = logger;
  }

  static open(stream: Writable): JsonSink {
    const { pino } = loadPino();
    return new JsonSink(
      pino<LogLevel, true>(
        {
          // ErrorLog applies --log-level; pino writes whatever reaches it.
          level: 'debug',
          customLevels: PINO_LEVELS,
          useOnlyCustomLevels: true,
          base: { pid: process.pid },
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label) => ({ level: label }) },
        },
        stream,
      ),
    );
  }

  write(level: LogLevel, message: string, pid: number): void {
    const text = message.replace(/\n+$/, '');
    if (pid === process.pid) this.#logger[level](text);
    else this.#logger[level]({ worker_pid: pid }, text);
  }

  forMount(mount: string): LogSink {
    return new JsonSink(this.#logger.child({ mount }));
  }
}

export class ErrorLog {
  readonly #sink: LogSink;
  readonly #threshold: number;

  /** Writes to `output` in `format`; given a sink (forMount's), `format` is the sink's. */
  constructor(output: Writable | LogSink, level: LogLevel = 'info', format: LogFormat = 'text') {
    if ('forMount' in output) this.#sink = output;
    else this.#sink = format === 'json' ? JsonSink.open(output) : new TextSink(output);
    this.#threshold = LOG_LEVELS.indexOf(level);
  }

  /**
   * This log, for one mount's events (its label: '/' or the prefix): in
   * JSON they carry `mount`, a worker's output among them. Text is unchanged.
   */
  forMount(mount: string): ErrorLog {
    return new ErrorLog(this.#sink.forMount(mount), LOG_LEVELS[this.#threshold]);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#threshold;
  }

  /** Logs `message`, one line per line of it, attributed to `pid`. */
  log(level: LogLevel, message: string, pid: number = process.pid): void {
    if (this.enabled(level)) this.#write(level, message, pid);
  }

  /**
   * What an application printed (stdout at info, stderr at error): logged
   * whatever --log-level says. It is the application's own output, which
   * without portico would reach the terminal; the threshold is for
   * portico's messages.
   */
  appOutput(level: LogLevel, message: string, pid: number): void {
    this.#write(level, message, pid);
  }

  #write(level: LogLevel, message: string, pid: number): void {
    this.#sink.write(level, message, pid);
  }

  debug(message: string, pid?: number): void {
    this.log('debug', message, pid);
  }
  info(message: string, pid?: number): void {
    this.log('info', message, pid);
  }
  warning(message: string, pid?: number): void {
    this.log('warning', message, pid);
  }
  error(message: string, pid?: number): void {
    this.log('error', message, pid);
  }
  critical(message: string, pid?: number): void {
    this.log('critical', message, pid);
  }
}
