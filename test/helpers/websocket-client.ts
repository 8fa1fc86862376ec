/**
 * WebSocket clients for the integration tests, on Node's `ws`: a client
 * that queues what it receives so a test can await the next message or the
 * close, and every socket a test opened is terminated by `closeAll` (call it
 * in `after`/`finally`), whatever happened.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket, type ClientOptions } from 'ws';

export interface Received {
  data: Buffer;
  text: boolean;
}

export interface Closed {
  code: number;
  reason: string;
  at: number;
}

const opened = new Set<WebSocket>();

/** Terminates every client socket still open. */
export function closeAll(): void {
  for (const ws of opened) ws.terminate();
  opened.clear();
}

export class WsClient {
  readonly ws: WebSocket;
  readonly closed: Promise<Closed>;
  readonly #inbox: Received[] = [];
  readonly #waiters: Array<() => void> = [];
  #close: Closed | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#inbox.push({ data, text: !isBinary });
      this.#notify();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        opened.delete(ws);
        this.#close = { code, reason: reason.toString('utf8'), at: Date.now() };
        this.#notify();
        resolve(this.#close);
      });
    });
    // Errors end in 'close' (1006); the close is what the tests assert on.
    ws.on('error', () => {});
  }

  /** Opens a WebSocket; rejects with the refusal's status if the server answers plain HTTP. */
  static async open(url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, handshakeTimeout: 10_000, ...options });
    opened.add(ws);
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(Object.assign(new Error(`refused with ${res.statusCode ?? 0}`), { status: res.statusCode }));
      });
      ws.once('close', (code: number) => reject(new Error(`closed with ${code} before it opened`)));
      ws.once('error', reject);
    });
    return client;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The next message received, in order. */
  async next(timeoutMs = 10_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inbox.length === 0) {
      if (this.#close !== null) throw new Error(`closed (${this.#close.code} ${this.#close.reason}) before the next message`);
      if (!(await this.#wait(deadline - Date.now()))) throw new Error(`no message within ${timeoutMs} ms`);
    }
    return this.#inbox.shift() as Received;
  }

  async nextText(timeoutMs = 10_000): Promise<string> {
    const message = await this.next(timeoutMs);
    if (!message.text) throw new Error('expected a text message, got binary');
    return message.data.toString('utf8');
  }

  /** Sends `data` and resolves with the reply. */
  async roundTrip(data: string | Buffer, timeoutMs = 10_000): Promise<Received> {
    this.send(data);
    return this.next(timeoutMs);
  }

  /** The close, within `timeoutMs`; rejects otherwise. */
  async closedWithin(timeoutMs: number): Promise<Closed> {
    if (this.#close !== null) return this.#close;
    const deadline = Date.now() + timeoutMs;
    while (this.#close === null) {
      if (!(await this.#wait(deadline - Date.now()))) throw new Error(`not closed within ${timeoutMs} ms`);
    }
    return this.#close;
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  #wait(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(wake);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      }, ms);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(wake);
    });
  }

  #notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

export interface Refusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A handshake the server answers with plain HTTP: its status, headers and body. */
export async function refusalOf(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Refusal> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers, handshakeTimeout: timeoutMs });
  opened.add(ws);
  ws.on('error', () => {});
  try {
    const [, res] = (await Promise.race([
      once(ws, 'unexpected-response'),
      once(ws, 'open').then(() => {
        throw new Error('the handshake was accepted');
      }),
      once(ws, 'close').then(() => {
        throw new Error('closed without a response');
      }),
    ])) as [unknown, import('node:http').IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
  } finally {
    ws.terminate();
    opened.delete(ws);
  }
}

/** Opens `count` clients, `batch` handshakes at a time. */
export async function openMany(url: string, count: number, batch = 100): Promise<WsClient[]> {
  const clients: WsClient[] = [];
  for (let i = 0; i < count; i += batch) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => WsClient.open(url)))));
  }
  return clients;
}

/** `http://host:port` to `ws://host:port` + path. */
export function wsUrl(httpUrl: string, path: string): string {
  return httpUrl.replace(/^http/, 'ws') + path;
}
