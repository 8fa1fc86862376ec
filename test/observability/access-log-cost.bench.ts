/**
 * What one access-log line costs, formatting only (the stream drops it):
 * the text formatter portico had before --access-logformat, the compiled
 * default (combined) and a format with every atom, hand-rolled JSON.stringify
 * and pino (JsonAccessLog). Not a test: run it by hand after a build,
 *
 *     node dist/test/observability/access-log-cost.bench.js [lines]
 *
 * and compare with a request's own cost (docs/benchmarks.md: ~40 µs of
 * server CPU for a WSGI hello world).
 */
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { compileAccessLogFormat, type AccessEntry } from '../../src/observability/access-log-format.js';
import { AccessLog } from '../../src/observability/access-log.js';
import { JsonAccessLog } from '../../src/observability/json-access-log.js';
import { mountLabel } from '../../src/observability/metrics.js';
import { quoteForLog } from '../../src/observability/quote-for-log.js';

const LINES = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 5;

let written = 0;
const sink = {
  write(chunk: string): boolean {
    written += chunk.length;
    return true;
  },
} as unknown as Writable;

const entry = {
  req: {
    method: 'GET',
    url: '/items/5?q=x',
    httpVersion: '1.1',
    headers: { host: '127.0.0.1:8000', referer: 'http://example.test/page', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'x-request-id': 'abc123' },
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as IncomingMessage,
  res: { _header: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n', getHeader: () => undefined },
  status: 200,
  bodyBytes: 13,
  durationMs: 1.234,
  mount: '',
} as unknown as AccessEntry;

/** The formatter as it was before --access-logformat (src/observability/access-log.ts at e27f0ed), for comparison. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function apacheTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
function quoted(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  return `"${quoteForLog(value, 4096)}"`;
}
function previousRecord(e: AccessEntry): void {
  const { req, status, bodyBytes } = e;
  const remote = req.socket.remoteAddress ?? '-';
  const requestLine = `${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}`;
  const line =
    `${remote} - - [${apacheTime(new Date())}] ${quoted(requestLine)} ${status} ${bodyBytes > 0 ? bodyBytes : '-'} ` +
    `${quoted(req.headers.referer)} ${quoted(req.headers['user-agent'])}`;
  sink.write(`${line}\n`);
}

/** The same keys as JsonAccessLog, by hand. */
function handRolledJson(e: AccessEntry): void {
  const { req } = e;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const line = JSON.stringify({
    time: new Date().toISOString(),
    remote_addr: req.socket.remoteAddress ?? null,
    method: quoteForLog(req.method ?? '', 4096),
    path: quoteForLog(q === -1 ? url : url.slice(0, q), 4096),
    query: quoteForLog(q === -1 ? '' : url.slice(q + 1), 4096),
    protocol: `HTTP/${req.httpVersion}`,
    status: e.status,
    bytes: e.bodyBytes,
    duration_ms: Math.round(e.durationMs * 1000) / 1000,
    referer: req.headers.referer === undefined ? null : quoteForLog(req.headers.referer, 4096),
    user_agent: req.headers['user-agent'] === undefined ? null : quoteForLog(req.headers['user-agent'], 4096),
    mount: e.mount === null ? null : mountLabel(e.mount),
  });
  sink.write(`${line}\n`);
}

const combined = new AccessLog(sink);
const everyAtom = new AccessLog(
  sink,
  false,
  compileAccessLogFormat('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(B)s "%(f)s" "%(a)s" %(T)s %(D)s %(M)s %(L)s %(p)s %(m)s %(U)s %(q)s %(H)s %({x-request-id}i)s %({content-type}o)s'),
);
const pino = new JsonAccessLog(sink);

const cases: Array<[string, (e: AccessEntry) => void]> = [
  ['text, previous formatter', previousRecord],
  ['text, compiled combined (default)', (e) => combined.record(e)],
  ['text, compiled, every atom', (e) => everyAtom.record(e)],
  ['json, hand-rolled JSON.stringify', handRolledJson],
  ['json, pino (JsonAccessLog)', (e) => pino.record(e)],
];

const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of cases) {
    // CPU time, not wall time: the machine may be busy with other work.
    const start = process.cpuUsage();
    for (let i = 0; i < LINES; i++) run(entry);
    const used = process.cpuUsage(start);
    const perLine = (used.user + used.system) / LINES;
    best.set(name, Math.min(best.get(name) ?? Infinity, perLine));
  }
}
console.log(`Node ${process.version}, ${LINES} lines per run, best of ${ROUNDS}, CPU time (${written} characters written):`);
for (const [name, perLine] of best) console.log(`  ${name.padEnd(36)} ${perLine.toFixed(3)} µs/line`);
