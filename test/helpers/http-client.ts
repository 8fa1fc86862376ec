/**
 * One HTTP request with node:http on a fresh connection (no agent pooling,
 * so one test's connection can never leak into another), bounded in time.
 * `httpRequest` takes a URL; `requestTarget` sends a request target exactly
 * as given, for tests of how a server treats targets a URL parser would
 * normalise.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface HttpResult {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  /** Header names and values as received, in order. */
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export interface HttpOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Request over a unix socket instead of TCP; `url` then gives only the path. */
  socketPath?: string;
}

export async function httpRequest(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const target = new URL(url, 'http://localhost');
  const where =
    options.socketPath === undefined
      ? { host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port }
      : { socketPath: options.socketPath };
  return send({ ...where, path: target.pathname + target.search }, url, options);
}

/** One request to 127.0.0.1:`port` with `target` on the request line byte for byte: no URL parsing, no normalisation. */
export function requestTarget(port: number, target: string, options: Omit<HttpOptions, 'socketPath'> = {}): Promise<HttpResult> {
  return send({ host: '127.0.0.1', port, path: target }, target, options);
}

function send(where: http.RequestOptions, label: string, options: HttpOptions): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const method = options.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = http.request({ ...where, method, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.on('aborted', () => {
        clearTimeout(timer);
        reject(new Error(`response to ${label} aborted after ${Buffer.concat(chunks).length} body bytes`));
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${label}: no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

export async function getJson<T = Record<string, unknown>>(url: string, options: HttpOptions = {}): Promise<T> {
  const result = await httpRequest(url, options);
  if (result.status !== 200) throw new Error(`${url}: status ${result.status}: ${result.text.slice(0, 500)}`);
  return JSON.parse(result.text) as T;
}

/** A latin-1 string from JSON (PEP 3333 native string) back to its bytes. */
export function latin1Bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms${lastError ? `; last error: ${String(lastError)}` : ''}`);
    await sleep(everyMs);
  }
}
