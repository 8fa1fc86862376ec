/**
 * A script's stderr goes to the error log, one log line per line it wrote,
 * attributed to the script's pid (RFC 3875 §9.8 leaves the destination to
 * the server; Apache's ScriptLog does the same). The last few KiB are kept
 * for the debug error page.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ErrorLog } from '../observability/error-log.js';

/** A line longer than this is logged in pieces, so a script cannot make the server hold unbounded text. */
const MAX_LINE = 16 * 1024;
const MAX_TAIL = 16 * 1024;

export class StderrRelay {
  readonly #log: ErrorLog;
  /** The script's pid, once known (a spawner reports it shortly after the script starts). */
  readonly #pid: () => number | undefined;
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  #tail = '';

  constructor(stream: Readable, log: ErrorLog, pid: () => number | undefined) {
    this.#log = log;
    this.#pid = pid;
    stream.on('data', (chunk: Buffer) => this.#take(this.#decoder.write(chunk)));
    stream.on('end', () => this.#take(this.#decoder.end() + (this.#partial === '' ? '' : '\n')));
    stream.on('error', () => {});
  }

  /** The last lines the script wrote to stderr. */
  get tail(): string {
    return this.#tail + this.#partial;
  }

  #take(text: string): void {
    let rest = this.#partial + text;
    for (let newline = rest.indexOf('\n'); newline !== -1; newline = rest.indexOf('\n')) {
      this.#emit(rest.slice(0, newline).replace(/\r$/, ''));
      rest = rest.slice(newline + 1);
    }
    while (rest.length > MAX_LINE) {
      this.#emit(rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
    this.#partial = rest;
  }

  #emit(line: string): void {
    this.#log.error(line === '' ? ' ' : line, this.#pid());
    this.#tail = (this.#tail + line + '\n').slice(-MAX_TAIL);
  }
}
