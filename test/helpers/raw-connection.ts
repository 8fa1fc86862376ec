/**
 * A TCP connection that sends exact bytes and records exactly what comes
 * back and when, for what an HTTP client would normalise away: framing,
 * interim responses, timing of the first byte, aborted connections.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { parseResponses, type RawResponse } from './raw-response.js';

export class RawConnection {
  readonly #socket: Socket;
  #received: Buffer = Buffer.alloc(0);
  #closed = false;
  #error: Error | null = null;
  #firstByteAt: number | null = null;
  #lastWriteAt = 0;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.#firstByteAt === null) this.#firstByteAt = Date.now();
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#notify();
    });
    socket.on('error', (error) => {
      this.#error = error;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    const socket = connect({ port, host });
    await once(socket, 'connect');
    return new RawConnection(socket);
  }

  get received(): Buffer {
    return this.#received;
  }
  get text(): string {
    return this.#received.toString('latin1');
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** A reset or other socket error, if the server aborted the connection that way. */
  get error(): Error | null {
    return this.#error;
  }
  get localPort(): number {
    return this.#socket.localPort as number;
  }
  /** Milliseconds from the last write to the first byte received, or null if none yet. */
  get firstByteDelayMs(): number | null {
    return this.#firstByteAt === null ? null : this.#firstByteAt - this.#lastWriteAt;
  }

  /** Writes bytes; a string is sent as latin-1, one byte per code point. */
  write(data: string | Buffer): void {
    this.#lastWriteAt = Date.now();
    this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Forgets what was received so far (the next response starts a fresh buffer). */
  consume(): Buffer {
    const taken = this.#received;
    this.#received = Buffer.alloc(0);
    this.#firstByteAt = null;
    return taken;
  }

  /** Resolves true as soon as `predicate` holds, false after `timeoutMs`. */
  waitFor(predicate: (received: Buffer, closed: boolean) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate(this.#received, this.#closed)) finish(true);
      };
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** True if the server closed the connection within `timeoutMs`. */
  waitForClose(timeoutMs: number): Promise<boolean> {
    return this.waitFor((_, closed) => closed, timeoutMs);
  }

  /** Bytes received after waiting `ms` (for asserting that nothing arrives early). */
  async receivedAfter(ms: number): Promise<Buffer> {
    await new Promise((r) => setTimeout(r, ms));
    return this.#received;
  }

  /**
   * Waits for `count` complete responses and returns them.
   * @param noBody which responses (by position) answer HEAD
   */
  async readResponses(count: number, timeoutMs = 10_000, noBody?: (index: number) => boolean): Promise<RawResponse[]> {
    const ok = await this.waitFor((buf, closed) => parseResponses(buf, closed, noBody).responses.length >= count, timeoutMs);
    const { responses } = parseResponses(this.#received, this.#closed, noBody);
    if (!ok) {
      throw new Error(
        `expected ${count} response(s) within ${timeoutMs} ms, got ${responses.length}` +
          ` (closed=${this.#closed}); received:\n${JSON.stringify(this.text.slice(0, 2000))}`,
      );
    }
    return responses;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/**
 * Sends one raw request and reads until the server closes or `timeoutMs`
 * passes. An abort by RST may discard bytes the kernel had not yet handed
 * over, so after an abort `text` can be shorter than what was sent.
 */
export async function exchangeRaw(
  port: number,
  request: string | Buffer,
  timeoutMs = 5_000,
): Promise<{ received: Buffer; text: string; closed: boolean; error: Error | null }> {
  const conn = await RawConnection.open(port);
  try {
    conn.write(request);
    const closed = await conn.waitForClose(timeoutMs);
    return { received: conn.received, text: conn.text, closed, error: conn.error };
  } finally {
    conn.destroy();
  }
}

/** A minimal HTTP/1.1 request head with Host, in exact bytes. */
export function rawRequest(method: string, target: string, headers: Array<[string, string]> = [], body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}
