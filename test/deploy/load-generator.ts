/**
 * The deployment test's load generator, a program of its own so that it can
 * run in the client's namespace (`ip netns exec <ns> node load-generator.js
 * '<options as JSON>'`). Several keep-alive clients (one http.Agent, one
 * socket each) send GETs back to back until `requests` have been sent, or,
 * without `requests`, until stdin closes. It prints JSON lines on stdout:
 *
 *   {"event":"ready"}                                        once it runs
 *   {"event":"first","host":"h1","front":123,"at":1700000000000}
 *                                 the first response from each front (a host's portico instance)
 *   {"event":"summary", ...}                                  at the end: see Summary
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { requestOnce } from '../helpers/load-client.js';

export interface LoadGeneratorOptions {
  url: string;
  clients: number;
  /** Stop after this many requests; without it, run until stdin closes. */
  requests?: number;
  timeoutMs?: number;
}

interface HostAnswer {
  host: string;
  pid: number;
  front: number;
  remote_addr: string;
}

export interface Summary {
  event: 'summary';
  sent: number;
  served: number;
  failed: number;
  /** Failures by kind: an error code (ECONNRESET, TIMEOUT) or `HTTP <status>`. */
  failures: Record<string, number>;
  /** A few failures with the time they happened, in ms since the start. */
  samples: string[];
  perHost: Record<string, number>;
  /** Responses per `host/front pid`. */
  perFront: Record<string, number>;
  /** REMOTE_ADDR as the application saw it, with counts. */
  remoteAddrs: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  elapsedMs: number;
}

export interface FirstResponse {
  event: 'first';
  host: string;
  front: number;
  at: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] as number) * 10) / 10;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export async function generateLoad(options: LoadGeneratorOptions, emit: (line: object) => void, stopped: () => boolean): Promise<Summary> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const summary: Summary = {
    event: 'summary', sent: 0, served: 0, failed: 0, failures: {}, samples: [], perHost: {}, perFront: {}, remoteAddrs: {},
    p50Ms: 0, p99Ms: 0, maxMs: 0, elapsedMs: 0,
  };
  const latencies: number[] = [];
  const started = Date.now();
  const fail = (kind: string, detail: string): void => {
    summary.failed++;
    bump(summary.failures, kind);
    if (summary.samples.length < 20) summary.samples.push(`${kind} at ${Date.now() - started} ms: ${detail}`);
  };
  const more = (): boolean => (options.requests === undefined ? !stopped() : summary.sent < options.requests);
  const client = async (): Promise<void> => {
    while (more()) {
      summary.sent++;
      const t0 = performance.now();
      try {
        const { status, body } = await requestOnce(agent, base, `/?n=${summary.sent}`, options.timeoutMs ?? 10_000);
        latencies.push(performance.now() - t0);
        if (status !== 200) {
          fail(`HTTP ${status}`, body.slice(0, 200));
          continue;
        }
        const answer = JSON.parse(body) as HostAnswer;
        summary.served++;
        bump(summary.perHost, answer.host);
        const front = `${answer.host}/${answer.front}`;
        if (summary.perFront[front] === undefined) emit({ event: 'first', host: answer.host, front: answer.front, at: Date.now() } satisfies FirstResponse);
        bump(summary.perFront, front);
        bump(summary.remoteAddrs, answer.remote_addr);
      } catch (error) {
        fail((error as NodeJS.ErrnoException).code ?? (error as Error).message, String(error));
      }
    }
  };
  emit({ event: 'ready' });
  await Promise.all(Array.from({ length: options.clients }, client));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  summary.p50Ms = percentile(latencies, 50);
  summary.p99Ms = percentile(latencies, 99);
  summary.maxMs = percentile(latencies, 100);
  summary.elapsedMs = Date.now() - started;
  return summary;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoadGeneratorOptions;
  let stdinClosed = false;
  process.stdin.on('end', () => (stdinClosed = true)).on('close', () => (stdinClosed = true)).resume();
  const emit = (line: object): void => {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  const summary = await generateLoad(options, emit, () => stdinClosed);
  emit(summary);
  process.exit(0);
}
