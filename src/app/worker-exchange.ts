/**
 * One HTTP request served by a worker, WSGI or ASGI: the bridge between
 * Node's request/response objects and the worker's frames for that stream.
 * It sends the request as the worker's interface wants it (a WSGI environ,
 * or the neutral head an ASGI scope is built from), forwards the body
 * (request-body-pump.ts), writes the response under the client's
 * back-pressure, and turns every failure into the right status or an
 * aborted connection.
 */
import type { ReadStream } from 'node:fs';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { sendErrorResponse } from '../http/error-response.js';
import { bodyTooLarge } from '../http/limits.js';
import type { Refusal } from '../http/refusal.js';
import type { RequestRecord } from '../http/request-record.js';
import { closeAfterBody } from '../http/response-length.js';
import { REQUEST_WINDOW, RequestFlag, type FileRegion, type ResponseHead, type StatusText } from '../ipc/frame-codec.js';
import type { ErrorLog } from '../observability/error-log.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import type { PoolJob } from '../supervisor/worker-pool.js';
import type { WorkerProcess, WorkerStream } from '../supervisor/worker-process.js';
import type { WebSocketAccept } from '../ipc/websocket-payloads.js';
import type { MountMatch } from '../routing/mount-handler.js';
import type { Deadlined } from './deadline-list.js';
import { regionWithin, sendFileRegion } from './file-region.js';
import type { ExchangeContext } from './exchange-context.js';
import { RequestBodyPump } from './request-body-pump.js';
import { ResponseWindow } from '../supervisor/response-window.js';
import { dispatchRequest } from './worker-request.js';
import { declaredContentLength, statusHasBody, writeEarlyHints, writeBody, writeTrailers } from './response-fields.js';

export class WorkerExchange implements WorkerStream, PoolJob, Deadlined {
  readonly #record: RequestRecord;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #match: MountMatch;
  readonly #context: ExchangeContext;
  readonly #log: ErrorLog;
  readonly #body: RequestBodyPump;
  // Deadlined: owned by #deadlines.
  deadlineAt = 0;
  deadlinePrev: Deadlined | null = null;
  deadlineNext: Deadlined | null = null;
  deadlineLinked = false;

  #worker: WorkerProcess | null = null;
  /** Handed to the pool (see BODY_PREFETCH for why not at once). */
  #submitted = false;
  #streamId = 0;
  #accepted = false;
  /** The worker sent RESPONSE_END or ERROR, or died: nothing more will come. */
  #workerDone = false;
  #cancelSent = false;
  /** Nothing more may be written to the client: it left, or the response was ended or cut. */
  #responseClosed = false;
  // response, worker -> client
  #status = 0;
  #declaredLength: number | null = null;
  /** Made on the first body bytes that do not end the response: most never need it. */
  #window: ResponseWindow | null = null;
  #file: ReadStream | null = null;
  #endAfterFile: boolean | null = null;

  constructor(record: RequestRecord, match: MountMatch, context: ExchangeContext) {
    const { req, res } = record;
    this.#record = record;
    this.#req = req;
    this.#res = res;
    this.#match = match;
    this.#context = context;
    this.#log = context.log;
    this.#body = new RequestBodyPump(req, res, context.limitRequestBody, this);
    res.on('close', () => this.#onClientClose());
  }

  // --- BodyPumpEvents ---

  onPrefetched(): void {
    if (!this.#submitted && !this.#responseClosed) this.#submit();
  }

  /** A chunked body grew past --limit-request-body (413). */
  onOversized(received: number): void {
    this.#refuseBody(bodyTooLarge(received, this.#context.limitRequestBody));
  }

  /** The body ended with a trailer field that belongs in the head (RFC 9110 §6.5.1): 400. */
  onRefusedTrailers(refused: Refusal): void {
    this.#refuseBody(refused);
  }

  /**
   * A body refused as it arrives: the worker's input ends as aborted, so the
   * application never sees the request complete, and a request still queued
   * is withdrawn; the refusal's status if nothing was sent yet, else the
   * connection is cut.
   */
  #refuseBody(refused: Refusal): void {
    this.#body.discard();
    this.#body.endAborted(false);
    if (this.#worker === null) this.#context.pool.withdraw(this);
    if (this.#responseClosed) return;
    this.#log.warning(`refused ${this.#what}: ${refused.reason} [${refused.code}]`);
    this.#cancelWorker();
    if (this.#res.headersSent) this.#abortConnection();
    else this.#sendError(refused.refuse, true);
  }

  /** `METHOD target`, for log lines. */
  get #what(): string {
    return quoteForLog(`${this.#req.method} ${this.#req.url}`);
  }

  /**
   * A WSGI worker is held by a request until it has read the body, so a body
   * is prefetched first (BODY_PREFETCH): a client that trickles it holds only
   * its own connection. An ASGI worker awaits a body without being held, so
   * the application starts at once, as under uvicorn, and may stream.
   */
  start(): void {
    if (this.#body.hasBody && !this.#body.expectContinue && !this.#context.pool.asgi) this.#body.read();
    else this.#submit();
  }

  #submit(): void {
    this.#submitted = true;
    this.#context.pool.submit(this);
  }

  // --- PoolJob ---

  startOn(worker: WorkerProcess): void {
    const websocket = worker.asgi && this.#context.websockets.wanted(this.#record);
    if (websocket && this.#context.websockets.refused(this.#record)) {
      this.#responseClosed = true;
      return;
    }
    this.#worker = worker;
    let flags = websocket ? RequestFlag.WEBSOCKET : 0;
    if (this.#body.hasBody) flags |= RequestFlag.HAS_BODY;
    if (this.#body.expectContinue) flags |= RequestFlag.EXPECT_CONTINUE;
    this.#streamId = dispatchRequest(worker, this, this.#record, this.#match, this.#context.rootPath, flags);
    this.#body.assign(worker, this.#streamId);
  }

  /**
   * --timeout, from the worker's STARTED (time spent queued is not the
   * application's): 504. A WSGI worker is stuck in the application and is
   * replaced; an ASGI worker runs its other requests on, so only this
   * request's task is cancelled (a stuck loop is the heartbeat's to find).
   */
  onDeadline(): void {
    const worker = this.#worker;
    if (this.#workerDone || worker === null) return;
    this.#settleWorkerSide();
    const seconds = this.#context.timeoutSeconds;
    if (worker.asgi) {
      this.#log.error(`${this.#what} timed out after ${seconds}s on worker ${worker.pid}; cancelled its task`);
      worker.cancel(this.#streamId, true);
    } else {
      this.#log.error(`${this.#what} timed out after ${seconds}s on worker ${worker.pid}; stopping the worker, its stack follows`);
      worker.terminateStuck(`after a request timed out (--timeout ${seconds})`);
    }
    if (this.#responseClosed) return;
    if (this.#res.headersSent) this.#abortConnection();
    else this.#sendError(504);
  }

  /** Nothing more will come from the worker for this request. */
  #settleWorkerSide(): void {
    this.#workerDone = true;
    this.#body.close();
    this.#context.deadlines?.remove(this);
  }

  refuse(): void {
    this.#settleWorkerSide();
    this.#log.warning(`all workers busy and the backlog is full; refusing ${this.#what} with 503`);
    this.#sendError(503);
  }

  // --- WorkerStream ---

  onStarted(): void {
    this.#accepted = true;
    this.#context.deadlines?.add(this);
    if (!this.#body.hasBody) return;
    this.#body.read();
    // Without Expect: 100-continue the client sends the body anyway, so let a window of it through.
    this.#body.open(this.#body.expectContinue ? 0 : REQUEST_WINDOW);
  }

  onWantBody(bytes: number): void {
    this.#body.grant(bytes);
  }

  /** The application accepted the WebSocket: the connection and the stream are its session's from now on. */
  onWebSocketAccept(accept: WebSocketAccept): void {
    const worker = this.#worker;
    if (worker === null || this.#responseClosed || this.#workerDone) return;
    this.#settleWorkerSide();
    this.#responseClosed = true;
    this.#context.websockets.open(this.#record, worker, this.#streamId, accept, this.#what);
  }

  onEarlyHints(fields: readonly string[]): void {
    if (!this.#responseClosed) writeEarlyHints(this.#req, this.#res, fields);
  }

  onTrailers(fields: readonly string[]): void {
    if (this.#responseClosed || this.#declaredLength !== null) return;
    const fault = writeTrailers(this.#res, fields);
    if (fault !== null) this.#log.error(`application sent invalid trailers for ${this.#what}: ${fault}`);
  }

  onResponseHead(head: ResponseHead): void {
    if (this.#responseClosed) return;
    const declared = declaredContentLength(head.headers);
    if ('invalid' in declared) {
      this.#failBeforeBody(`application sent an invalid Content-Length '${quoteForLog(declared.invalid)}' for ${this.#what}`);
      return;
    }
    try {
      // ASGI gives no reason phrase (RESPONSE_HEAD's is empty): the status code's own goes out,
      // not an empty one (RFC 9112 §4 allows it, but clients and logs show a bare code).
      this.#res.writeHead(head.status, head.reason === '' ? (STATUS_CODES[head.status] ?? '') : head.reason, head.headers);
    } catch (error) {
      // Node refuses what must not reach the wire (RFC 9110 §5.5: CR, LF, NUL); the worker checks too.
      this.#failBeforeBody(`application sent an invalid response head for ${this.#what}: ${(error as Error).message}`);
      return;
    }
    this.#status = head.status;
    this.#declaredLength = statusHasBody(head.status) && this.#req.method !== 'HEAD' ? declared.length : null;
  }

  onResponseBody(body: Buffer | readonly Buffer[], length: number): void {
    if (this.#responseClosed || !this.#res.headersSent) return;
    const room = this.#declaredLength === null ? Infinity : this.#declaredLength - this.#record.bodyBytes;
    if (length > room) {
      this.#log.error(`application sent more than its Content-Length of ${this.#declaredLength} for ${this.#what}; truncated it and closed the connection`);
      this.#cancelWorker();
      const within = (Buffer.isBuffer(body) ? body : Buffer.concat(body, length)).subarray(0, room);
      this.#record.bodyBytes += within.length;
      this.#closeAfterBody(within);
      return;
    }
    this.#record.bodyBytes += length;
    // The whole declared body is here: head and body leave in one write,
    // and the worker needs no window back for a stream that is done.
    const complete = length === room;
    if (complete) this.#responseClosed = true;
    const flowing = writeBody(this.#res, body, complete);
    if (!complete) this.#returnWindow(flowing, length);
  }

  onFile(region: FileRegion): void {
    if (this.#responseClosed || !this.#res.headersSent) return;
    if (this.#req.method === 'HEAD' || !statusHasBody(this.#status)) return;
    const length = regionWithin(region.length, this.#declaredLength, this.#record.bodyBytes);
    if (length === 0) return;
    this.#file = sendFileRegion(region.path, region.offset, length, this.#res, {
      write: (chunk) => this.#writeBody(chunk),
      onError: (error) => {
        this.#log.error(`could not send the file '${region.path}' for ${this.#what}: ${error.message}`);
        this.#abortConnection();
      },
      onEnd: () => {
        this.#file = null;
        if (this.#endAfterFile !== null) this.onResponseEnd(this.#endAfterFile);
      },
    });
  }

  onResponseEnd(abort: boolean): void {
    this.#settleWorkerSide();
    if (this.#file !== null) {
      this.#endAfterFile = abort;
      return;
    }
    // ABORT: the worker found the response broken, and the connection must
    // not carry another. When the declared body went out in full (the
    // application sent more, and the worker cut it there), the client gets
    // those bytes and then the close; otherwise the connection is cut now.
    if (abort) {
      if (this.#res.headersSent && this.#declaredLength !== null && this.#record.bodyBytes === this.#declaredLength) {
        this.#closeAfterBody();
      } else {
        this.#abortConnection();
      }
      return;
    }
    if (this.#responseClosed) return;
    if (!this.#res.headersSent) {
      this.#failBeforeBody(`worker ended ${this.#what} without a response head`, 502);
    } else if (this.#declaredLength !== null && this.#record.bodyBytes < this.#declaredLength) {
      this.#log.error(
        `application sent ${this.#record.bodyBytes} of the ${this.#declaredLength} bytes its Content-Length declared for ${this.#what}; closed the connection`,
      );
      this.#abortConnection();
    } else {
      this.#responseClosed = true;
      this.#res.end();
    }
  }

  onError(error: StatusText, workerPid: number): void {
    this.#settleWorkerSide();
    this.#log.error(error.text, workerPid);
    if (this.#responseClosed) return;
    if (this.#res.headersSent) this.#abortConnection();
    else this.#sendError(error.status);
  }

  onWorkerLost(reason: string, mayHaveStarted: boolean): void {
    if (this.#workerDone) return;
    if (this.#responseClosed) {
      this.#settleWorkerSide();
      return;
    }
    if (!this.#accepted && !mayHaveStarted) {
      // The worker never began it: another one can, and the client need not know.
      this.#worker = null;
      this.#body.assign(null, 0);
      this.#context.pool.submit(this);
      return;
    }
    this.#settleWorkerSide();
    this.#log.error(`${reason} while handling ${this.#what}`);
    if (this.#res.headersSent) this.#abortConnection();
    else this.#sendError(502);
  }

  // --- internals ---

  /** The worker may send `length` more bytes once the client's socket has taken these (`flowing`: it has). */
  #returnWindow(flowing: boolean, length: number): void {
    const window = (this.#window ??= new ResponseWindow((bytes) => {
      if (!this.#workerDone && this.#worker !== null) this.#worker.grantWindow(this.#streamId, bytes);
    }));
    if (flowing) window.taken(length);
    else this.#res.once('drain', () => window.taken(length));
  }

  #writeBody(data: Buffer): boolean {
    this.#record.bodyBytes += data.length;
    return this.#res.write(data);
  }

  /** Nothing was sent yet: the client gets `status`, the worker stops producing. */
  #failBeforeBody(message: string, status = 500): void {
    this.#log.error(message);
    this.#cancelWorker();
    this.#sendError(status, true);
  }

  /** Tells the worker to stop producing this stream, once: the client's close would ask again. */
  #cancelWorker(): void {
    if (this.#workerDone || this.#cancelSent || this.#worker === null) return;
    this.#cancelSent = true;
    this.#worker.cancel(this.#streamId);
  }

  /** A response of our own; the connection closes if the request body was not all read. */
  #sendError(status: number, close = !this.#body.complete): void {
    this.#responseClosed = true;
    sendErrorResponse(this.#res, status, { close });
  }

  /** Ends the response (if it is not yet), with `last` as its final bytes, and closes the connection once it is flushed. */
  #closeAfterBody(last?: Buffer): void {
    this.#responseClosed = true;
    closeAfterBody(this.#req, this.#res, last);
  }

  /** The response cannot be completed correctly: cut the connection so the client sees it is broken. */
  #abortConnection(): void {
    this.#responseClosed = true;
    this.#res.destroy();
  }

  #onClientClose(): void {
    this.#responseClosed = true;
    this.#file?.destroy();
    // 'close' also follows a response that went out whole before the
    // worker's RESPONSE_END arrived: nothing to cancel then. A CANCEL would
    // race the worker's end of the stream and come back as an ABORT, which
    // closes a healthy keep-alive connection.
    if (this.#workerDone || this.#res.writableFinished) return;
    if (this.#worker === null) {
      this.#context.pool.withdraw(this);
      return;
    }
    this.#body.endAborted(true);
    this.#cancelWorker();
  }
}
