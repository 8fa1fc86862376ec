/**
 * The error log: one line per event, in gunicorn's layout so that existing
 * log parsers keep working:
 *
 *     [2026-11-24 01:08:35 +0000] [4242] [INFO] listening on http://127.0.0.1:8000, 2 workers ready
 *
 * The pid is the process the event is about: the front's own pid, or the
 * worker's for what a worker printed or reported.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];

export function openLogStream(target: string, standard: Writable): Writable {
  return target === '-' ? standard : createWriteStream(target, { flags: 'a' });
}

export function formatTimestamp(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`;
}

export class ErrorLog {
  readonly #stream: Writable;
  readonly #threshold: number;

  constructor(stream: Writable, level: LogLevel = 'info') {
    this.#stream = stream;
    this.#threshold = LOG_LEVELS.indexOf(level);
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
    const prefix = `[${formatTimestamp(new Date())}] [${pid}] [${level.toUpperCase()}] `;
    const lines = message.replace(/\n+$/, '').split('\n');
    this.#stream.write(lines.map((line) => prefix + line).join('\n') + '\n');
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
