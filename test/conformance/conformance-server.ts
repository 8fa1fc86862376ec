/** Starts portico on the conformance echo app, with its request log in a temp dir. */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startPortico, type Portico } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { CONFORMANCE_APPS, corpusLimitArgs } from './corpus.js';

/** One request as the echo app logged it (apps/conformance_echo.py). */
export interface AppRequest {
  /** Also sent back in the response's X-Echo-Id header. */
  id: string;
  method: string;
  uri: string;
  /** REMOTE_PORT: the client's own port, since the server trusts no proxy. */
  port: number;
  /** The app read the whole body and returned its response; false while it has not (or if the body was cut short). */
  completed: boolean;
}

/** The response header that carries the echo app's id for the request it answers. */
export const ECHO_ID_HEADER = 'x-echo-id';

export interface EchoServer {
  portico: Portico;
  /** Every request the app has seen, as [method, RAW_URI]. */
  seen(): Array<[string, string]>;
  /** Every request the app has seen, in arrival order, with its connection and whether the app finished it. */
  requests(): readonly AppRequest[];
  /**
   * Waits (bounded) until the log holds more than `count` lines. A refusal
   * can reach the client before the app, which already has the head, logs
   * it; without this, that late line is blamed on the next case.
   */
  settle(count: number, timeoutMs?: number): Promise<void>;
  /** Waits (bounded) until the app's log has not grown for `quietMs`: every request still on its way has been logged. */
  quiesce(quietMs?: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const running = new Map<number, EchoServer>();

/** The echo server started by this process that listens on `port`, if any. */
export function echoServerOn(port: number): EchoServer | undefined {
  return running.get(port);
}

export async function startEchoServer(args: string[] = []): Promise<EchoServer> {
  const temp = makeTempDir('portico-conformance-');
  const log = join(temp.path, 'requests.log');
  const portico = await startPortico({
    app: 'conformance_echo:application',
    // No peer is trusted unless a test says so: loopback is by default.
    args: ['--pythonpath', CONFORMANCE_APPS, '--forwarded-allow-ips=', ...args],
    env: { PORTICO_CONFORMANCE_LOG: log },
  });
  const reader = new AppLogReader(log);
  const seen = (): Array<[string, string]> => reader.read().map((r) => [r.method, r.uri]);
  const server: EchoServer = {
    portico,
    seen,
    requests: () => reader.read(),
    settle: async (count, timeoutMs = 1_000) => {
      const deadline = Date.now() + timeoutMs;
      while (seen().length <= count && Date.now() < deadline) await delay(10);
    },
    quiesce: async (quietMs = 200, timeoutMs = 2_000) => {
      const deadline = Date.now() + timeoutMs;
      let size = reader.size();
      let quietSince = Date.now();
      while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
        await delay(20);
        if (reader.size() !== size) {
          size = reader.size();
          quietSince = Date.now();
        }
      }
    },
    stop: async () => {
      running.delete(portico.port);
      await portico.stop();
      temp.remove();
    },
  };
  running.set(portico.port, server);
  return server;
}

/** The app's requests grouped by the client port they came from, i.e. by connection. */
export function requestsByPort(requests: readonly AppRequest[]): Map<number, AppRequest[]> {
  const byPort = new Map<number, AppRequest[]>();
  for (const request of requests) byPort.set(request.port, [...(byPort.get(request.port) ?? []), request]);
  return byPort;
}

/** The echo server with the corpus's limits (http/limits.json), which the limit cases are written against. */
export function startCorpusServer(args: string[] = []): Promise<EchoServer> {
  return startEchoServer([...corpusLimitArgs(), ...args]);
}

/**
 * Reads the app's log incrementally: a long fuzz run logs tens of thousands
 * of requests, and re-parsing the whole file after every exchange would
 * make the run quadratic.
 */
class AppLogReader {
  readonly #path: string;
  #offset = 0;
  #partial = '';
  readonly #requests: AppRequest[] = [];
  readonly #byId = new Map<string, AppRequest>();

  constructor(path: string) {
    this.#path = path;
  }

  /** The log's size in bytes so far. */
  size(): number {
    return existsSync(this.#path) ? statSync(this.#path).size : 0;
  }

  read(): readonly AppRequest[] {
    if (!existsSync(this.#path)) return this.#requests;
    const fd = openSync(this.#path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.#offset) {
        const chunk = Buffer.alloc(size - this.#offset);
        const got = readSync(fd, chunk, 0, chunk.length, this.#offset);
        this.#offset += got;
        const text = this.#partial + chunk.subarray(0, got).toString('utf8');
        const lines = text.split('\n');
        // A line still being written stays for the next read.
        this.#partial = lines.pop() ?? '';
        for (const line of lines) if (line !== '') this.#take(JSON.parse(line) as LogEvent);
      }
    } finally {
      closeSync(fd);
    }
    return this.#requests;
  }

  #take(event: LogEvent): void {
    if (event.event === 'start') {
      const request: AppRequest = { id: event.id, method: event.method, uri: event.uri, port: Number(event.port), completed: false };
      this.#requests.push(request);
      this.#byId.set(event.id, request);
    } else {
      const request = this.#byId.get(event.id);
      if (request !== undefined) request.completed = true;
    }
  }
}

type LogEvent =
  | { event: 'start'; id: string; method: string; uri: string; port: string }
  | { event: 'end'; id: string };
