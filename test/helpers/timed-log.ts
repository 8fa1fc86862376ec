/**
 * The lines a started portico writes, each stamped with the moment the test
 * received it: the error log's own timestamps have one-second resolution,
 * too coarse to see a respawn backoff of a few hundred milliseconds.
 */
import type { Portico } from './portico.js';

export interface TimedLine {
  /** Date.now() when the line arrived. */
  at: number;
  line: string;
}

export class TimedLog {
  readonly #lines: TimedLine[] = [];
  #partial = '';

  /** Starts recording; lines that came before this call are not included. */
  constructor(server: Portico) {
    const record = (chunk: string | Buffer): void => {
      const now = Date.now();
      const parts = (this.#partial + chunk.toString()).split('\n');
      this.#partial = parts.pop() ?? '';
      for (const line of parts) this.#lines.push({ at: now, line });
    };
    server.process.stderr?.on('data', record);
    server.process.stdout?.on('data', record);
  }

  /** Every complete line so far that matches `pattern`. */
  matching(pattern: RegExp): TimedLine[] {
    return this.#lines.filter(({ line }) => pattern.test(line));
  }
}
