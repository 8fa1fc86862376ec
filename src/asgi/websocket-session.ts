/**
 * One open WebSocket between a client and an ASGI worker's stream, after
 * the application accepted it. The framing (masking, fragments, UTF-8
 * checks, ping/pong, the close handshake, permessage-deflate) is the `ws`
 * library's; this carries whole messages to and from the worker, with flow
 * control both ways:
 *
 *   client → worker   at most --ws-max-queue messages the application has not
 *                     received yet; past that the client's socket is not read
 *                     (the worker returns credit with WANT_BODY, a message each)
 *   worker → client   at most RESPONSE_WINDOW bytes not yet written to the
 *                     socket or not yet returned (the front returns them
 *                     with WINDOW once a quarter of the window has been
 *                     written): an application that sends faster than its
 *                     client reads waits in send()
 *
 * Credit goes back in quarters of the window rather than message by message
 * because a WINDOW per message is a frame each way through both processes,
 * and in the worker it wakes a task that is waiting for the client's next
 * message. Holding back less than a quarter can only stall the worker when
 * more than three quarters are still unwritten, when it must wait anyway.
 */
import type { WebSocket } from 'ws';
import { RESPONSE_WINDOW, type StatusText } from '../ipc/frame-codec.js';
import type { WebSocketClose } from '../ipc/websocket-payloads.js';
import type { ErrorLog } from '../observability/error-log.js';
import type { WorkerProcess, WorkerStream } from '../supervisor/worker-process.js';
import { ResponseWindow } from '../supervisor/response-window.js';

/** RFC 6455 §7.4.1 close codes the front sends itself. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
} as const;

/** Written bytes are returned to the worker once this many have gathered. */
export const WINDOW_RETURN_BYTES = RESPONSE_WINDOW / 4;

const AS_TEXT = { binary: false } as const;
const AS_BINARY = { binary: true } as const;

export interface SessionOptions {
  /** --ws-max-queue. */
  maxQueue: number;
  /** --ws-ping-interval and --ws-ping-timeout, ms; 0 interval: no pings. */
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export class WebSocketSession implements WorkerStream {
  readonly worker: WorkerProcess;
  readonly #id: number;
  readonly #ws: WebSocket;
  readonly #options: SessionOptions;
  readonly #log: ErrorLog;
  readonly #what: string;
  readonly #window: ResponseWindow;
  /** Messages sent to the worker that the application has not received yet. */
  #queued = 0;
  /** Bytes of the worker's messages written to the client and not yet returned to it. */
  #written = 0;
  /** The worker ended the stream (RESPONSE_END, ERROR, or it died). */
  #workerDone = false;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongDeadline: NodeJS.Timeout | null = null;

  constructor(worker: WorkerProcess, id: number, ws: WebSocket, options: SessionOptions, log: ErrorLog, what: string) {
    this.worker = worker;
    this.#id = id;
    this.#ws = ws;
    this.#options = options;
    this.#log = log;
    this.#what = what;
    this.#window = new ResponseWindow((bytes) => {
      if (!this.#workerDone) worker.grantWindow(id, bytes);
    });
    // An open WebSocket takes a slot of its worker for as long as its client
    // wants, and says nothing of whether the worker keeps up (dispatch-policy.ts).
    worker.holdOpen(id);
    ws.on('message', (data, isBinary) => this.#fromClient(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.#onClientClose(code, reason.toString('utf8')));
    ws.on('error', (error) => this.#log.debug(`WebSocket ${this.#what}: ${error.message}`));
    if (options.pingIntervalMs > 0) this.#startPings();
  }

  /** Closes from the front's side: a stop (1001), a restart of the worker (1012), a failure (1011). */
  close(code: number, reason = ''): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    try {
      this.#ws.close(code, reason);
    } catch {
      // RFC 6455 §7.4: a code no endpoint may send (1005, 1006) or a reason over 123 bytes; the worker checks too.
      this.#ws.close(CloseCode.INTERNAL_ERROR);
    }
  }

  /** Drops the connection without a close handshake: for a stop whose grace is over. */
  terminate(): void {
    this.#stopPings();
    this.#ws.terminate();
  }

  #fromClient(data: Buffer, isBinary: boolean): void {
    if (this.#workerDone) return;
    this.worker.sendWebSocketMessage(this.#id, data, !isBinary);
    if (++this.#queued >= this.#options.maxQueue) this.#ws.pause();
  }

  #onClientClose(code: number, reason: string): void {
    this.#stopPings();
    // RFC 6455 §7.1.5: 1005 when the close frame had no code, 1006 when there was no close frame.
    if (!this.#workerDone) this.worker.sendWebSocketClose(this.#id, { code, reason });
  }

  // --- WorkerStream ---

  /** The application received `messages` more: the client may be read again. */
  onWantBody(messages: number): void {
    this.#queued = Math.max(0, this.#queued - messages);
    if (this.#ws.isPaused && this.#queued < this.#options.maxQueue) this.#ws.resume();
  }

  onWebSocketMessage(data: Buffer, text: boolean): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    const length = data.length;
    this.#ws.send(data, text ? AS_TEXT : AS_BINARY, () => this.#wrote(length));
  }

  #wrote(length: number): void {
    this.#written += length;
    if (this.#written < WINDOW_RETURN_BYTES) return;
    this.#window.taken(this.#written);
    this.#written = 0;
  }

  onWebSocketClose(close: WebSocketClose): void {
    this.close(close.code, close.reason);
  }

  onResponseEnd(abort: boolean): void {
    this.#workerDone = true;
    // The application returned without closing: as uvicorn does, a normal close.
    this.close(abort ? CloseCode.INTERNAL_ERROR : CloseCode.NORMAL);
  }

  onError(error: StatusText, workerPid: number): void {
    this.#workerDone = true;
    this.#log.error(error.text, workerPid);
    this.close(CloseCode.INTERNAL_ERROR);
  }

  onWorkerLost(reason: string): void {
    this.#workerDone = true;
    this.#log.error(`${reason} while a WebSocket was open (${this.#what}); closing it with 1011`);
    this.close(CloseCode.INTERNAL_ERROR);
  }

  // HTTP frames mean nothing on an accepted WebSocket's stream.
  onStarted(): void {}
  onResponseHead(): void {}
  onResponseBody(): void {}
  onFile(): void {}
  onEarlyHints(): void {}
  onTrailers(): void {}

  #startPings(): void {
    const { pingIntervalMs, pingTimeoutMs } = this.#options;
    this.#ws.on('pong', () => {
      if (this.#pongDeadline !== null) clearTimeout(this.#pongDeadline);
      this.#pongDeadline = null;
    });
    this.#pingTimer = setInterval(() => {
      if (this.#pongDeadline !== null || this.#ws.readyState !== this.#ws.OPEN) return;
      this.#ws.ping();
      this.#pongDeadline = setTimeout(() => {
        this.#log.info(`WebSocket ${this.#what}: no pong within ${pingTimeoutMs / 1000}s; closing it with 1011`);
        this.close(CloseCode.INTERNAL_ERROR, 'ping timeout');
        // A client that does not answer pings will not answer the close either.
        setTimeout(() => this.#ws.terminate(), 1_000).unref();
      }, pingTimeoutMs);
      this.#pongDeadline.unref();
    }, pingIntervalMs);
    this.#pingTimer.unref();
  }

  #stopPings(): void {
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    if (this.#pongDeadline !== null) clearTimeout(this.#pongDeadline);
    this.#pingTimer = this.#pongDeadline = null;
  }
}
