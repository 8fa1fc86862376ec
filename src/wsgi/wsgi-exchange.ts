/**
 * One HTTP request served by a WSGI worker: the bridge between Node's
 * request/response objects and the worker's frames for that stream. It
 * forwards the body under the worker's window, writes the response under the
 * client's back-pressure, and turns every failure into the right status or an
 * aborted connection.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendErrorResponse } from '../http/error-response.js';
import { bodyTooLarge, exceedsBodyLimit } from '../http/limits.js';
import type { RequestRecord } from '../http/request-record.js';
import { closeAfterBody, fitToDeclaredLength } from '../http/response-length.js';
import {
  REQUEST_WINDOW,
  RequestFlag,
  type FileRegion,
  type RequestEnviron,
  type ResponseHead,
  type StatusText,
} from '../ipc/frame-codec.js';
import type { ErrorLog } from '../observability/error-log.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import type { PoolJob, WorkerPool } from '../supervisor/worker-pool.js';
import type { WorkerProcess, WorkerStream } from '../supervisor/worker-process.js';
import type { Deadlined, DeadlineList } from './deadline-list.js';

/**
 * A request body is read up to this many bytes before the request goes to a
 * worker, as nginx buffers bodies before it passes them on
 * (client_body_buffer_size): a body that fits, as most form and JSON posts
 * do, reaches the worker whole, and a client that trickles it, or sends more
 * than --limit-request-body in chunks, ties up its own connection and never
 * a worker. A larger body follows as it arrives once this much is here.
 * Expect: 100-continue requests go at once: their client waits for the
 * application to ask for the body (RFC 9110 §10.1.1).
 */
export const BODY_PREFETCH = 64 * 1024;

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
function statusHasBody(status: number): boolean {
  return !(status < 200 || status === 204 || status === 304);
}

/** What every exchange of one application shares. */
export interface ExchangeContext {
  pool: WorkerPool;
  log: ErrorLog;
  /** --timeout: the per-request deadline; 0 for none. */
  timeoutSeconds: number;
  /** Where the exchanges' --timeout deadlines wait; null when timeoutSeconds is 0. */
  deadlines: DeadlineList | null;
  /** --limit-request-body, bytes; 0 for none. A declared length over it never gets here; a chunked body is counted. */
  limitRequestBody: number;
}

export class WsgiExchange implements WorkerStream, PoolJob, Deadlined {
  readonly #record: RequestRecord;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #environ: RequestEnviron;
  readonly #pool: WorkerPool;
  readonly #log: ErrorLog;
  readonly #hasBody: boolean;
  readonly #expectContinue: boolean;
  readonly #timeoutSeconds: number;
  readonly #limitRequestBody: number;
  readonly #deadlines: DeadlineList | null;
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

  // request body, front -> worker
  #bodyGranted = 0;
  #bodyForwarded = 0;
  #bodyWaiting: Buffer[] = [];
  #bodyComplete = false;
  #bodyReceived = 0;
  #bodyEndSent = false;
  #continueSent = false;

  // response, worker -> client
  #status = 0;
  #declaredLength: number | null = null;
  #unacked = 0;
  #ackScheduled = false;
  #file: ReadStream | null = null;
  #endAfterFile: boolean | null = null;

  constructor(record: RequestRecord, environ: RequestEnviron, context: ExchangeContext) {
    const { req, res } = record;
    this.#record = record;
    this.#req = req;
    this.#res = res;
    this.#environ = environ;
    this.#pool = context.pool;
    this.#log = context.log;
    this.#timeoutSeconds = context.timeoutSeconds;
    this.#deadlines = context.deadlines;
    this.#limitRequestBody = context.limitRequestBody;
    this.#hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    this.#expectContinue = this.#hasBody && /^100-continue$/i.test(req.headers.expect ?? '');
    res.on('close', () => this.#onClientClose());
    if (this.#hasBody) {
      req.on('end', () => {
        this.#bodyComplete = true;
        if (!this.#submitted && !this.#responseClosed) this.#submit();
        this.#pumpBody();
      });
    } else {
      this.#bodyComplete = true;
    }
  }

  /** `METHOD target`, for log lines. */
  get #what(): string {
    return quoteForLog(`${this.#req.method} ${this.#req.url}`);
  }

  start(): void {
    if (this.#hasBody && !this.#expectContinue) this.#readBody(); // submitted once BODY_PREFETCH bytes or the end are here
    else this.#submit();
  }

  #submit(): void {
    this.#submitted = true;
    this.#pool.submit(this);
  }

  // --- PoolJob ---

  startOn(worker: WorkerProcess): void {
    this.#worker = worker;
    let flags = 0;
    if (this.#hasBody) flags |= RequestFlag.HAS_BODY;
    if (this.#expectContinue) flags |= RequestFlag.EXPECT_CONTINUE;
    this.#streamId = worker.dispatch(this, this.#environ, flags);
  }

  /**
   * --timeout: a request still running at its deadline gets 504, and its
   * worker, stuck in the application, is replaced. The deadline runs from
   * the worker's STARTED, which it sends just before the application starts
   * on the request: time spent waiting behind other requests, or moving to
   * another worker when its first one died, is not the application's.
   */
  onDeadline(): void {
    const worker = this.#worker;
    if (this.#workerDone || worker === null) return;
    this.#settleWorkerSide();
    this.#log.error(`${this.#what} timed out after ${this.#timeoutSeconds}s on worker ${worker.pid}; stopping the worker, its stack follows`);
    worker.terminateStuck(`after a request timed out (--timeout ${this.#timeoutSeconds})`);
    if (this.#responseClosed) return;
    if (this.#res.headersSent) this.#abortConnection();
    else this.#sendError(504);
  }

  /** Nothing more will come from the worker for this request. */
  #settleWorkerSide(): void {
    this.#workerDone = true;
    this.#deadlines?.remove(this);
  }

  refuse(): void {
    this.#settleWorkerSide();
    this.#log.warning(`all workers busy and the backlog is full; refusing ${this.#what} with 503`);
    this.#sendError(503);
  }

  // --- WorkerStream ---

  onStarted(): void {
    this.#accepted = true;
    this.#deadlines?.add(this);
    if (!this.#hasBody) return;
    if (this.#expectContinue) this.#readBody();
    // Without Expect: 100-continue the client sends the body anyway, so let a window of it through.
    else this.#bodyGranted = REQUEST_WINDOW;
    this.#pumpBody();
  }

  #readBody(): void {
    this.#req.on('data', (chunk: Buffer) => {
      this.#bodyReceived += chunk.length;
      if (exceedsBodyLimit(this.#bodyReceived, this.#limitRequestBody)) {
        this.#refuseOversizedBody();
        return;
      }
      this.#bodyWaiting.push(chunk);
      if (!this.#submitted && this.#bodyReceived >= BODY_PREFETCH) this.#submit();
      this.#pumpBody();
    });
  }

  onWantBody(bytes: number): void {
    // RFC 9110 §10.1.1: the 100 goes out once the application asks for the body.
    if (this.#expectContinue && !this.#continueSent && !this.#res.headersSent) {
      this.#continueSent = true;
      this.#res.writeContinue();
    }
    this.#bodyGranted += bytes;
    this.#pumpBody();
  }

  onResponseHead(head: ResponseHead): void {
    if (this.#responseClosed) return;
    const headers = head.headers;
    let declared: number | null = null;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      // Only a 14-character name can be Content-Length: the others need no lower-casing.
      if (name.length !== 14 || name.toLowerCase() !== 'content-length') continue;
      const value = headers[i + 1] as string;
      if (!/^\d+$/.test(value) || (declared !== null && declared !== Number(value))) {
        this.#failBeforeBody(`application sent an invalid Content-Length '${quoteForLog(value)}' for ${this.#what}`);
        return;
      }
      declared = Number(value);
    }
    try {
      this.#res.writeHead(head.status, head.reason, headers);
    } catch (error) {
      // Node refuses what must not reach the wire (RFC 9110 §5.5: CR, LF, NUL); the worker checks too.
      this.#failBeforeBody(`application sent an invalid response head for ${this.#what}: ${(error as Error).message}`);
      return;
    }
    this.#status = head.status;
    this.#declaredLength = statusHasBody(head.status) && this.#req.method !== 'HEAD' ? declared : null;
  }

  onResponseBody(data: Buffer): void {
    if (this.#responseClosed || !this.#res.headersSent) return;
    const { within, overran, complete } = fitToDeclaredLength(data, this.#declaredLength, this.#record.bodyBytes);
    if (overran) {
      this.#log.error(`application sent more than its Content-Length of ${this.#declaredLength} for ${this.#what}; truncated it and closed the connection`);
      this.#cancelWorker();
      this.#record.bodyBytes += within.length;
      this.#closeAfterBody(within);
      return;
    }
    if (complete) {
      // The whole declared body is here: head and body leave in one write,
      // and the worker needs no window back for a stream that is done.
      this.#record.bodyBytes += data.length;
      this.#responseClosed = true;
      this.#res.end(data);
      return;
    }
    if (this.#writeBody(data)) {
      this.#acknowledge(data.length);
    } else {
      this.#res.once('drain', () => this.#acknowledge(data.length));
    }
  }

  onFile(region: FileRegion): void {
    if (this.#responseClosed || !this.#res.headersSent) return;
    if (this.#req.method === 'HEAD' || !statusHasBody(this.#status)) return;
    let length = region.length;
    if (this.#declaredLength !== null) {
      const room = this.#declaredLength - this.#record.bodyBytes;
      length = length === null ? room : Math.min(length, room);
    }
    if (length === 0) return;
    const file = createReadStream(region.path, {
      start: region.offset,
      ...(length === null ? {} : { end: region.offset + length - 1 }),
      highWaterMark: 64 * 1024,
    });
    this.#file = file;
    file.on('data', (chunk) => {
      if (!this.#writeBody(chunk as Buffer)) {
        file.pause();
        this.#res.once('drain', () => file.resume());
      }
    });
    file.on('error', (error) => {
      this.#log.error(`could not send the file '${region.path}' for ${this.#what}: ${error.message}`);
      this.#abortConnection();
    });
    file.on('end', () => {
      this.#file = null;
      if (this.#endAfterFile !== null) this.onResponseEnd(this.#endAfterFile);
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
      this.#pool.submit(this);
      return;
    }
    this.#settleWorkerSide();
    this.#log.error(`${reason} while handling ${this.#what}`);
    if (this.#res.headersSent) this.#abortConnection();
    else this.#sendError(502);
  }

  // --- internals ---

  /** Sends waiting body bytes as far as the worker's window allows, pausing the client when it is shut. */
  #pumpBody(): void {
    const worker = this.#worker;
    if (worker === null || !this.#accepted || this.#workerDone) {
      // Not on a worker yet: hold at most BODY_PREFETCH bytes of it.
      if (this.#bodyReceived - this.#bodyForwarded >= BODY_PREFETCH) this.#req.pause();
      return;
    }
    while (this.#bodyWaiting.length > 0 && this.#bodyForwarded < this.#bodyGranted) {
      const chunk = this.#bodyWaiting[0] as Buffer;
      const room = this.#bodyGranted - this.#bodyForwarded;
      if (chunk.length <= room) {
        this.#bodyWaiting.shift();
        worker.sendBody(this.#streamId, chunk);
        this.#bodyForwarded += chunk.length;
      } else {
        this.#bodyWaiting[0] = chunk.subarray(room);
        worker.sendBody(this.#streamId, chunk.subarray(0, room));
        this.#bodyForwarded += room;
      }
    }
    if (this.#bodyWaiting.length > 0) {
      this.#req.pause();
    } else if (this.#bodyComplete) {
      if (!this.#bodyEndSent) {
        this.#bodyEndSent = true;
        worker.endBody(this.#streamId, false);
      }
    } else {
      this.#req.resume();
    }
  }

  #writeBody(data: Buffer): boolean {
    this.#record.bodyBytes += data.length;
    return this.#res.write(data);
  }

  /**
   * Gives the worker its window back once the client has taken the bytes.
   * Deferred to the end of the current read, so that a response whose end
   * arrived in the same read costs no WINDOW frame at all.
   */
  #acknowledge(bytes: number): void {
    this.#unacked += bytes;
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    process.nextTick(() => {
      this.#ackScheduled = false;
      if (!this.#workerDone && this.#worker !== null && this.#unacked > 0) this.#worker.grantWindow(this.#streamId, this.#unacked);
      this.#unacked = 0;
    });
  }

  /**
   * A chunked body grew past --limit-request-body: 413 if nothing was sent
   * yet, else the connection is cut; the worker's input ends as aborted.
   */
  #refuseOversizedBody(): void {
    const refusal = bodyTooLarge(this.#bodyReceived, this.#limitRequestBody);
    this.#bodyWaiting = [];
    this.#bodyComplete = true;
    if (!this.#bodyEndSent && this.#worker !== null) {
      this.#bodyEndSent = true;
      this.#worker.endBody(this.#streamId, true);
    }
    if (this.#res.headersSent) {
      this.#log.error(`${refusal.reason} for ${this.#what}; closing the connection`);
      this.#cancelWorker();
      this.#abortConnection();
    } else {
      this.#failBeforeBody(`${refusal.reason} for ${this.#what}`, 413);
    }
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
  #sendError(status: number, close = !this.#bodyComplete): void {
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
      this.#pool.withdraw(this);
      return;
    }
    if (this.#hasBody && !this.#bodyEndSent && this.#accepted) {
      this.#bodyEndSent = true;
      this.#worker.endBody(this.#streamId, true);
    }
    this.#cancelWorker();
  }
}
