/**
 * A small load generator for lifecycle tests: several concurrent keep-alive
 * clients (one http.Agent, one socket each) send requests back to back and
 * every outcome is tallied, so a test can require that nothing was lost
 * while workers were reloaded or recycled under it.
 */
import http from 'node:http';

export interface LoadOptions {
  /** Base URL of the server. */
  url: string;
  clients: number;
  /** Requests in total, shared among the clients. */
  requests: number;
  /** After `requests`, keep sending while this says so (up to 4 × `requests`), so a disturbance never outlasts the load. */
  keepGoing?(): boolean;
  /** The path of request number `n` (0-based, over all clients). */
  pathFor(n: number): string;
  timeoutMs?: number;
  /** Called after each completed request with the running count, to pace signals. */
  onProgress?(done: number): void;
}

export interface LoadResult {
  completed: number;
  /** Count per HTTP status. */
  statuses: Record<number, number>;
  /** Count per error code (ECONNRESET, TIMEOUT, ...). */
  errors: Record<string, number>;
  /** A few examples of what went wrong, for the failure message. */
  samples: string[];
  /** Distinct response bodies' first words (e.g. a worker pid or app version), with counts. */
  firstWords: Map<string, number>;
  elapsedMs: number;
}

/** One GET through `agent` (so on a pooled keep-alive connection); rejects with a `code` on any failure. */
export function requestOnce(agent: http.Agent, base: URL, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('aborted', () => {
        clearTimeout(timer);
        reject(Object.assign(new Error('response aborted'), { code: 'ABORTED' }));
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const result: LoadResult = { completed: 0, statuses: {}, errors: {}, samples: [], firstWords: new Map(), elapsedMs: 0 };
  const started = Date.now();
  let next = 0;
  const client = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      if (n >= options.requests && !(n < 4 * options.requests && (options.keepGoing?.() ?? false))) return;
      const path = options.pathFor(n);
      try {
        const { status, body } = await requestOnce(agent, base, path, options.timeoutMs ?? 15_000);
        result.statuses[status] = (result.statuses[status] ?? 0) + 1;
        if (status !== 200 && result.samples.length < 10) result.samples.push(`${path}: ${status} ${body.slice(0, 200)}`);
        const word = body.split(' ')[0] ?? '';
        result.firstWords.set(word, (result.firstWords.get(word) ?? 0) + 1);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        result.errors[code] = (result.errors[code] ?? 0) + 1;
        if (result.samples.length < 10) result.samples.push(`${path}: ${code} at ${Date.now() - started} ms`);
      }
      result.completed++;
      options.onProgress?.(result.completed);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, client));
  } finally {
    agent.destroy();
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

/** One line for test output. */
export function describeLoad(result: LoadResult): string {
  return `${result.completed} requests in ${result.elapsedMs} ms; statuses ${JSON.stringify(result.statuses)}; errors ${JSON.stringify(result.errors)}${
    result.samples.length > 0 ? `; e.g. ${result.samples.join(' | ')}` : ''
  }`;
}
