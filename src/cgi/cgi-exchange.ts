/**
 * One request served by one script run: the request body into the script's
 * stdin, its stdout parsed (RFC 3875 §6) and streamed to the client, its
 * stderr to the log, and every way it can go wrong turned into the right
 * answer with the script's whole process group killed.
 *
 *   awaiting-head ──head──▶ streaming ──stdout end──▶ done
 *        │  │                   └─more than its Content-Length──▶ done (closed after the declared bytes)
 *        │  └─nph output──▶ raw (nph-relay) ──end──▶ done
 *        │
 *        ├─local Location──▶ redirected (output discarded)
 *        └─bad/no head, timeout, spawn error──▶ failed (502/504/500)
 *
 *   awaiting-head, streaming, raw ──client gone──▶ abandoned (script killed, nothing logged against it)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { closeAfterBody, fitToDeclaredLength } from '../http/response-length.js';
import type { ErrorLog } from '../observability/error-log.js';
import { CgiBadHeaderError, CgiError, CgiNoHeaderError, CgiRedirectError, CgiSpawnError, CgiTimeoutError } from './cgi-errors.js';
import { sendCgiErrorResponse } from './cgi-error-page.js';
import type { CgiProcess } from './cgi-process.js';
import { CgiResponseParser, type CgiResponseHead } from './cgi-response-parser.js';
import { NphRelay } from './nph-relay.js';
import type { LocatedScript } from './script-locator.js';
import { StderrRelay } from './stderr-relay.js';

/** How long a failed script gets to finish writing stderr before the error page goes out without the rest. */
const STDERR_GRACE_MS = 500;

export type InternalRedirect = (req: IncomingMessage, res: ServerResponse, path: string) => void;

export interface ExchangeOptions {
  log: ErrorLog;
  timeoutSeconds: number;
  debug: boolean;
  /** Serves a local redirect; absent means local redirects fail with 500. */
  internalRedirect: InternalRedirect | undefined;
  /** Counts response body bytes, for the access log. */
  countBody: (bytes: number) => void;
  /** What the script's stdin is fed from: a spooled body (request-body-spool.ts); the request itself when absent. */
  body?: Readable;
}

type State = 'awaiting-head' | 'streaming' | 'raw' | 'redirected' | 'failed' | 'abandoned' | 'done';

export class CgiExchange {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #script: LocatedScript;
  readonly #options: ExchangeOptions;
  readonly #parser = new CgiResponseParser();
  readonly #process: CgiProcess;
  #stderr: StderrRelay | null = null;
  #state: State = 'awaiting-head';
  #timer: NodeJS.Timeout | undefined;
  #nph: NphRelay | null = null;
  /** Content-Length the script declared, if any: the body is held to it. */
  #declaredLength: number | null = null;
  #bodyBytes = 0;
  #closed = false;
  #whenClosed: Array<() => void> = [];
  /** Settles once the script has exited and closed its output (or never started). */
  readonly finished: Promise<void>;

  constructor(req: IncomingMessage, res: ServerResponse, script: LocatedScript, scriptProcess: CgiProcess, options: ExchangeOptions) {
    this.#req = req;
    this.#res = res;
    this.#script = script;
    this.#options = options;
    this.#process = scriptProcess;
    this.finished = new Promise((resolve) => this.#whenClosed.push(resolve));
    this.#wire();
  }

  #wire(): void {
    const proc = this.#process;
    proc.onSpawnError((error) => {
      this.#closed = true;
      this.#fail(new CgiSpawnError(`cannot run '${this.#script.filename}': ${error.message}`, error));
      for (const listener of this.#whenClosed.splice(0)) listener();
    });
    this.#stderr = new StderrRelay(proc.stderr, this.#options.log, () => proc.pid);
    proc.onClose((code, signal) => {
      this.#closed = true;
      clearTimeout(this.#timer);
      if (code !== 0 && this.#state !== 'failed' && this.#state !== 'abandoned') {
        const how = signal !== null ? signal : code !== null ? `status ${code}` : 'a status nobody could report';
        this.#options.log.warning(`CGI script '${this.#script.filename}' exited with ${how}`, proc.pid);
      }
      for (const listener of this.#whenClosed.splice(0)) listener();
    });

    // Request body to stdin; pipe() pauses the source while the pipe is full.
    const spooled = this.#options.body;
    if (spooled !== undefined) {
      // The spool's file unreadable: the script gets a short stdin, which it can tell from CONTENT_LENGTH.
      spooled.once('error', (error) => {
        this.#options.log.error(`CGI script '${this.#script.filename}': reading the spooled request body: ${error.message}`, proc.pid);
        proc.stdin.destroy();
      });
    }
    (spooled ?? this.#req).pipe(proc.stdin);
    // Once the script stops reading (done, exited, killed), the rest of the
    // body is read and dropped: a paused request would stall the connection.
    proc.stdin.once('close', () => this.#discardRequestBody());

    proc.stdout.on('data', (chunk: Buffer) => this.#onOutput(chunk));
    proc.stdout.on('end', () => this.#onOutputEnd());
    proc.stdout.on('error', () => {});

    if (this.#options.timeoutSeconds > 0) this.#timer = setTimeout(() => this.#onTimeout(), this.#options.timeoutSeconds * 1000);
    // 'close' before the response finished: the client went away, and nobody
    // will read what the script makes. The script is killed for it, so how
    // its output then ends is not its fault and is not logged as one.
    this.#res.once('close', () => {
      if (this.#res.writableFinished && this.#state !== 'raw') return;
      if (this.#state === 'awaiting-head' || this.#state === 'streaming' || this.#state === 'raw') this.#state = 'abandoned';
      this.#process.killGroup();
    });
  }

  /** Kills the script's process group (server shutdown); the response is cut if it had started. */
  abort(): void {
    this.#process.killGroup();
  }

  #onOutput(chunk: Buffer): void {
    switch (this.#state) {
      case 'awaiting-head':
        if (this.#script.nonParsedHeaders) {
          this.#startRaw(chunk);
          return;
        }
        this.#takeHeadChunk(chunk);
        return;
      case 'streaming':
        this.#writeBody(chunk);
        return;
      case 'raw':
        this.#nph?.write(chunk);
        return;
      default:
        return; // redirected, failed, done: output nobody will read
    }
  }

  #takeHeadChunk(chunk: Buffer): void {
    let head: CgiResponseHead | null;
    try {
      head = this.#parser.push(chunk);
    } catch (error) {
      if (!(error instanceof CgiBadHeaderError)) throw error;
      this.#process.killGroup();
      this.#fail(error);
      return;
    }
    if (head !== null) this.#respond(head);
  }

  #respond(head: CgiResponseHead): void {
    // RFC 3875 §6.2.2: a local Location (and no other status) is a redirect
    // the server follows itself, as a new GET; with a 3xx Status the script
    // meant it for the client (§6.2.4).
    if (head.location?.kind === 'local' && (head.status === null || head.status === 200)) {
      this.#redirectInternally(head.location.path);
      return;
    }
    const res = this.#res;
    if (res.destroyed) return;
    const status = head.status ?? (head.location === null ? 200 : 302); // §6.2.3: client redirect is 302 Found
    try {
      res.statusCode = status;
      if (head.reason !== null) res.statusMessage = head.reason;
      const grouped = new Map<string, { name: string; values: string[] }>();
      for (const [name, value] of head.headers) {
        const key = name.toLowerCase();
        if (key === 'content-length') this.#declaredLength = Number(value);
        const entry = grouped.get(key);
        if (entry === undefined) grouped.set(key, { name, values: [value] });
        else entry.values.push(value);
      }
      for (const { name, values } of grouped.values()) res.setHeader(name, values.length === 1 ? (values[0] as string) : values);
      res.writeHead(status);
    } catch (error) {
      // Node refused a header the parser let through: still the script's fault.
      this.#process.killGroup();
      this.#fail(new CgiBadHeaderError(`header refused: ${(error as Error).message}`));
      return;
    }
    this.#state = 'streaming';
    if (head.body.length > 0) this.#writeBody(head.body);
  }

  #writeBody(chunk: Buffer): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    const { within, overran } = fitToDeclaredLength(chunk, this.#declaredLength, this.#bodyBytes);
    this.#bodyBytes += within.length;
    this.#options.countBody(within.length);
    if (overran) {
      // The same rule as for WSGI (response-length.ts): the declared bytes,
      // then the close. The script runs on; what it still writes is dropped.
      this.#state = 'done';
      this.#options.log.error(
        `CGI script '${this.#script.filename}' wrote more than its Content-Length of ${this.#declaredLength}; truncated it and closed the connection`,
        this.#process.pid,
      );
      closeAfterBody(this.#req, res, within);
      return;
    }
    if (within.length === 0) return;
    if (!res.write(within)) {
      const stdout = this.#process.stdout;
      stdout.pause();
      res.once('drain', () => stdout.resume());
    }
  }

  #startRaw(chunk: Buffer): void {
    const socket = this.#res.socket;
    if (socket === null || socket.destroyed) {
      this.#state = 'done';
      this.#process.killGroup();
      return;
    }
    this.#state = 'raw';
    this.#nph = new NphRelay(this.#res, socket, this.#process.stdout);
    this.#nph.write(chunk);
  }

  #onOutputEnd(): void {
    switch (this.#state) {
      case 'awaiting-head': {
        const partial = this.#parser.bufferedBytes > 0;
        this.#fail(new CgiNoHeaderError(partial ? 'output ended inside the header block' : 'the script ended without writing a header block'));
        return;
      }
      case 'streaming': {
        this.#state = 'done';
        if (this.#declaredLength !== null && this.#bodyBytes < this.#declaredLength) {
          this.#options.log.error(`CGI script '${this.#script.filename}' wrote less than its Content-Length; connection cut`, this.#process.pid);
          this.#res.destroy();
          return;
        }
        this.#res.end();
        return;
      }
      case 'raw':
        this.#state = 'done';
        this.#options.countBody(this.#nph?.bytes ?? 0);
        this.#nph?.end();
        return;
      default:
        return;
    }
  }

  /** Runs until the script has exited and closed its output, whatever state the response is in. */
  #onTimeout(): void {
    const error = new CgiTimeoutError(this.#options.timeoutSeconds);
    this.#options.log.error(`CGI script '${this.#script.filename}': ${error.message}; killing its process group`, this.#process.pid);
    this.#process.killGroup();
    switch (this.#state) {
      case 'awaiting-head':
        this.#fail(error);
        return;
      case 'streaming':
        this.#state = 'failed';
        this.#res.destroy(); // the status is out already; a cut connection tells the client the body is incomplete
        return;
      case 'raw':
        this.#state = 'failed';
        this.#nph?.abort();
        return;
      default:
        return;
    }
  }

  #redirectInternally(path: string): void {
    const redirect = this.#options.internalRedirect;
    if (redirect === undefined) {
      this.#fail(new CgiRedirectError(`local redirect to '${path}', but this server cannot follow local redirects`));
      return;
    }
    this.#state = 'redirected';
    // §6.2.2: the script's output ends here; the new request has no body of this one.
    this.#discardRequestBody();
    this.#process.stdin.end();
    redirect(this.#req, this.#res, path);
  }

  #discardRequestBody(): void {
    const spooled = this.#options.body;
    if (spooled !== undefined) {
      spooled.unpipe(this.#process.stdin);
      spooled.destroy();
      return;
    }
    this.#req.unpipe(this.#process.stdin);
    this.#req.resume();
  }

  /** Answers with the error's status (once), after giving stderr a moment to arrive for the log and debug page. */
  #fail(error: CgiError): void {
    if (this.#state !== 'awaiting-head') return;
    this.#state = 'failed';
    this.#discardRequestBody();
    // A timeout has logged itself already.
    if (!(error instanceof CgiTimeoutError)) {
      this.#options.log.error(`CGI script '${this.#script.filename}': ${error.message} [${error.code}]`, this.#process.pid);
    }
    let answered = false;
    let grace: NodeJS.Timeout | undefined;
    const answer = (): void => {
      if (answered) return;
      answered = true;
      clearTimeout(grace);
      sendCgiErrorResponse(this.#res, error.status, this.#options.debug, { reason: error.message, stderr: this.#stderr?.tail ?? '' });
    };
    if (this.#closed) {
      answer();
      return;
    }
    // Bounded wait: a grandchild that left the group may hold stderr open forever.
    grace = setTimeout(answer, STDERR_GRACE_MS);
    this.#whenClosed.push(answer);
    // A script that ended its output is exiting: let it finish its stderr
    // (the timeout still bounds it). Any other failing script is killed now.
    if (!(error instanceof CgiNoHeaderError)) this.#process.killGroup();
  }
}
