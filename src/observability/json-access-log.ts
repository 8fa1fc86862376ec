/**
 * The access log with --log-format json: one object per response, with
 * stable keys, written by pino.
 *
 *     {"time":"2026-11-24T01:08:35.120Z","remote_addr":"127.0.0.1","method":"GET","path":"/a",
 *      "query":"b=c","protocol":"HTTP/1.1","status":200,"bytes":5,"duration_ms":1.234,
 *      "referer":null,"user_agent":"curl/8.0","mount":"/"}
 *
 * Request-supplied strings go through quoteForLog as in text: JSON escapes
 * quotes and C0 controls, but would pass a 64 KB target whole, and C1
 * controls (U+0080-U+009F) raw to a terminal.
 *
 * Why pino, measured (test/observability/access-log-cost.bench.ts: CPU
 * time per line, formatting only, best of 5 runs of 500,000 lines, Node 20,
 * three runs on a busy 2-core machine):
 *     text, the formatter before --access-logformat   0.57-0.58 µs
 *     text, compiled combined format (the default)     0.38-0.40 µs
 *     JSON, hand-rolled JSON.stringify, same keys      1.59-1.73 µs
 *     JSON, pino                                       1.96-2.06 µs
 * pino costs ~0.35 µs a line more than JSON.stringify by hand: under 1% of
 * the ~40 µs of server CPU the cheapest request takes (docs/benchmarks.md,
 * WSGI hello world), below what a benchmark run can tell apart. So pino:
 * its JSON escaping and its child bindings (the error log's mount) are
 * maintained upstream instead of here.
 */
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { loadPino } from '../lazy-package.js';
import { ACCESS_LOG_QUOTE_LIMIT, targetPath, targetQuery, type AccessEntry } from './access-log-format.js';
import { mountLabel } from './metrics.js';
import { quoteForLog } from './quote-for-log.js';

/** The keys of every line, in order: what the README documents. */
export const ACCESS_LOG_KEYS = [
  'time', 'remote_addr', 'method', 'path', 'query', 'protocol', 'status', 'bytes', 'duration_ms', 'referer', 'user_agent', 'mount',
] as const;

/** A request-supplied value escaped and bounded; null when absent. */
function jsonValue(value: string | undefined): string | null {
  return value === undefined ? null : quoteForLog(value, ACCESS_LOG_QUOTE_LIMIT);
}

export class JsonAccessLog {
  readonly #logger: Logger;

  constructor(stream: Writable) {
    const { pino } = loadPino();
    this.#logger = pino(
      {
        base: null,
        // No level key: the level formatter returns nothing, and then pino
        // opens the object with the timestamp as given, so it takes no
        // leading comma (pino's own isoTime has one, which would follow '{').
        formatters: { level: () => ({}) },
        timestamp: () => `"time":"${new Date().toISOString()}"`,
      },
      stream,
    );
  }

  record(entry: AccessEntry): void {
    const { req } = entry;
    const url = req.url ?? '';
    this.#logger.info({
      remote_addr: req.socket.remoteAddress ?? null,
      method: jsonValue(req.method),
      path: quoteForLog(targetPath(url), ACCESS_LOG_QUOTE_LIMIT),
      query: quoteForLog(targetQuery(url), ACCESS_LOG_QUOTE_LIMIT),
      protocol: `HTTP/${req.httpVersion}`,
      status: entry.status,
      bytes: entry.bodyBytes,
      duration_ms: Math.round(entry.durationMs * 1000) / 1000,
      referer: jsonValue(req.headers.referer),
      user_agent: jsonValue(req.headers['user-agent']),
      mount: entry.mount === null ? null : mountLabel(entry.mount),
    });
  }
}
