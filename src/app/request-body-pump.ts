/**
 * A request body on its way to a worker: read from the client, held up to
 * BODY_PREFETCH before the request has a worker, then forwarded under the
 * worker's window (docs/protocol.md "Flow control"), pausing the client
 * whenever the window is shut. Counts the body against
 * --limit-request-body as it comes, for a chunked body whose length nobody
 * declared.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exceedsBodyLimit } from '../http/limits.js';
import type { Refusal } from '../http/refusal.js';
import { checkTrailers } from '../http/request-validation.js';
import type { WorkerProcess } from '../supervisor/worker-process.js';
import { hasRequestBody } from '../http/request-body.js';

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

export interface BodyPumpEvents {
  /** BODY_PREFETCH bytes, or the whole body, are here. */
  onPrefetched(): void;
  /** The body grew past --limit-request-body. */
  onOversized(received: number): void;
  /** The body ended with a trailer field the front refuses (request-validation.ts checkTrailers). */
  onRefusedTrailers(refused: Refusal): void;
}

export class RequestBodyPump {
  /** The request has a body: a declared length over 0, or a chunked one. */
  readonly hasBody: boolean;
  /** Its client waits for 100 Continue before it sends the body (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #limit: number;
  readonly #events: BodyPumpEvents;
  #worker: WorkerProcess | null = null;
  #stream = 0;
  /** The worker has started the request: the body may flow. */
  #open = false;
  #granted = 0;
  #forwarded = 0;
  #waiting: Buffer[] = [];
  #received = 0;
  #complete: boolean;
  #endSent = false;
  #continueSent = false;
  #reading = false;

  constructor(req: IncomingMessage, res: ServerResponse, limit: number, events: BodyPumpEvents) {
    this.#req = req;
    this.#res = res;
    this.#limit = limit;
    this.#events = events;
    this.hasBody = hasRequestBody(req);
    this.expectContinue = this.hasBody && /^100-continue$/i.test(req.headers.expect ?? '');
    this.#complete = !this.hasBody;
    if (this.hasBody) {
      req.on('end', () => {
        // Trailers arrive with the body's end (RFC 9110 §6.5.1): one the
        // front refuses must not let the application see the body complete.
        const refused = checkTrailers(req.rawTrailers);
        if (refused !== null) {
          events.onRefusedTrailers(refused);
          return;
        }
        this.#complete = true;
        events.onPrefetched();
        this.pump();
      });
    }
  }

  /** The client has sent the whole body (or there is none). */
  get complete(): boolean {
    return this.#complete;
  }

  get received(): number {
    return this.#received;
  }

  /** Starts taking the body from the client; once. */
  read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#req.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      if (exceedsBodyLimit(this.#received, this.#limit)) {
        this.#events.onOversized(this.#received);
        return;
      }
      this.#waiting.push(chunk);
      if (this.#received >= BODY_PREFETCH) this.#events.onPrefetched();
      this.pump();
    });
  }

  /** The request was sent to `worker` as `stream`; nothing flows until it starts. */
  assign(worker: WorkerProcess | null, stream: number): void {
    this.#worker = worker;
    this.#stream = stream;
    this.#open = false;
  }

  /** The worker started the request and allows `window` bytes unasked. */
  open(window: number): void {
    this.#open = true;
    this.#granted += window;
    this.pump();
  }

  /** The worker asks for `bytes` more (WANT_BODY). */
  grant(bytes: number): void {
    // RFC 9110 §10.1.1: the 100 goes out once the application asks for the body.
    if (this.expectContinue && !this.#continueSent && !this.#res.headersSent) {
      this.#continueSent = true;
      this.#res.writeContinue();
    }
    this.#granted += bytes;
    this.pump();
  }

  /** The worker's side is over: nothing more goes to it. */
  close(): void {
    this.#open = false;
  }

  /** Sends waiting body bytes as far as the worker's window allows, pausing the client when it is shut. */
  pump(): void {
    const worker = this.#worker;
    if (worker === null || !this.#open) {
      // Not on a worker yet: hold at most BODY_PREFETCH bytes of it.
      if (this.#received - this.#forwarded >= BODY_PREFETCH) this.#req.pause();
      return;
    }
    while (this.#waiting.length > 0 && this.#forwarded < this.#granted) {
      const chunk = this.#waiting[0] as Buffer;
      const room = this.#granted - this.#forwarded;
      if (chunk.length <= room) {
        this.#waiting.shift();
        worker.sendBody(this.#stream, chunk);
        this.#forwarded += chunk.length;
      } else {
        this.#waiting[0] = chunk.subarray(room);
        worker.sendBody(this.#stream, chunk.subarray(0, room));
        this.#forwarded += room;
      }
    }
    if (this.#waiting.length > 0) {
      this.#req.pause();
    } else if (this.#complete) {
      if (!this.#endSent) {
        this.#endSent = true;
        worker.endBody(this.#stream, false);
      }
    } else {
      this.#req.resume();
    }
  }

  /**
   * Ends the worker's input as cut short, once: the client left, or the body
   * passed the limit. `started`: only if the worker has begun the request.
   */
  endAborted(started: boolean): void {
    if (!this.hasBody || this.#endSent || this.#worker === null || (started && !this.#open)) return;
    this.#endSent = true;
    this.#worker.endBody(this.#stream, true);
  }

  /** Drops what is held: no more of this body will be forwarded. */
  discard(): void {
    this.#waiting = [];
    this.#complete = true;
  }
}
