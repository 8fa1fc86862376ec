/**
 * A request body of undeclared length, held whole before its CGI script
 * starts. RFC 3875 §4.1.2: CONTENT_LENGTH is the length of the body the
 * script reads from stdin, set whenever there is one, and scripts rely on
 * it (git-http-backend reads exactly that many bytes), so a chunked body's
 * length must be known before the script runs.
 *
 *   client ──chunks, with back-pressure──▶ memory, up to SPOOL_MEMORY_BYTES
 *                                            └─past it──▶ a private temp file
 *   script stdin ◀──open()── memory or file          (removed by dispose())
 *
 * The body is counted against --limit-request-body as it arrives, so one
 * over the limit is refused before any script starts. The file is 0600 in a
 * directory of its own from mkdtemp (0700), and both go on every path: the
 * body over the limit, the client gone, a write that fails, the script done.
 * A client that stops sending meets the listener's --body-timeout, whose
 * answer closes the response, which ends the filling here.
 */
import { createReadStream, type WriteStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { exceedsBodyLimit } from '../http/limits.js';
import { CgiBodyTooLargeError } from './cgi-errors.js';
import { bodyLengthUnknown } from '../http/request-body.js';

/** Held in memory up to this many bytes; a larger body goes to a file. */
export const SPOOL_MEMORY_BYTES = 1024 * 1024;

export interface SpoolOptions {
  /** --limit-request-body, bytes; 0 for none. */
  limit: number;
  /** SPOOL_MEMORY_BYTES unless given (tests make it small). */
  memoryBytes?: number;
  /** Where the private directory is made: os.tmpdir() ($TMPDIR) unless given. */
  tempRoot?: string;
}

/**
 * Whether `req` has a body whose length nobody declared: chunked on
 * HTTP/1.1 (the listener refuses Transfer-Encoding with Content-Length),
 * or DATA frames with no content-length field on HTTP/2.
 */
export function hasUndeclaredLength(req: IncomingMessage): boolean {
  return bodyLengthUnknown(req);
}

export class RequestBodySpool {
  readonly #memoryBytes: number;
  readonly #tempRoot: string;
  #chunks: Buffer[] = [];
  #length = 0;
  #dir: string | null = null;
  #path: string | null = null;
  #file: WriteStream | null = null;
  #reader: Readable | null = null;
  #disposed: Promise<void> | null = null;

  private constructor(options: SpoolOptions) {
    this.#memoryBytes = options.memoryBytes ?? SPOOL_MEMORY_BYTES;
    this.#tempRoot = options.tempRoot ?? tmpdir();
  }

  /**
   * Reads the whole body of `req`. Resolves with the spool, or with null
   * when the client went away or the response was closed first (a body
   * timeout answers with 408); rejects with CgiBodyTooLargeError past the
   * limit, or with the file system's error. Nothing is left on disk unless
   * a spool is returned, which its owner disposes of.
   */
  static async fill(req: IncomingMessage, res: ServerResponse, options: SpoolOptions): Promise<RequestBodySpool | null> {
    const spool = new RequestBodySpool(options);
    let complete: boolean;
    try {
      complete = await spool.#take(req, res, options.limit);
    } catch (error) {
      await spool.dispose();
      throw error;
    }
    if (complete) return spool;
    await spool.dispose();
    return null;
  }

  /** Bytes of body: what CONTENT_LENGTH says. */
  get length(): number {
    return this.#length;
  }

  /** The file that holds the body; null while it is all in memory. */
  get path(): string | null {
    return this.#path;
  }

  /** The body from its first byte, to be piped into a script's stdin. */
  open(): Readable {
    this.#reader = this.#path === null ? Readable.from(this.#chunks, { objectMode: false }) : createReadStream(this.#path);
    return this.#reader;
  }

  /** Removes the file and its directory (once; every later call waits for the same removal). */
  dispose(): Promise<void> {
    this.#disposed ??= this.#remove();
    return this.#disposed;
  }

  async #remove(): Promise<void> {
    this.#chunks = [];
    this.#reader?.destroy();
    const file = this.#file;
    if (file !== null && !file.closed) {
      const closed = new Promise<void>((resolve) => file.once('close', () => resolve()));
      file.destroy();
      await closed;
    }
    if (this.#dir !== null) await rm(this.#dir, { recursive: true, force: true });
  }

  /** true once the whole body is held; false if the client or the response went first. */
  #take(req: IncomingMessage, res: ServerResponse, limit: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let settled = false;
      let ended = false;
      /** Settles when the file exists; the body's bytes wait in memory until then. */
      let fileReady: Promise<void> | null = null;

      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onGone);
        req.off('close', onClose);
        res.off('close', onGone);
        outcome();
      };
      const fail = (error: Error): void => settle(() => reject(error));
      const onGone = (): void => settle(() => resolve(false));
      // 'close' right after 'end' is the stream's own end; before it, the client left.
      const onClose = (): void => {
        if (!ended) onGone();
      };

      /** Writes `chunks` to the file; the client waits while the file is behind, and goes on once it is not. */
      const write = (file: WriteStream, chunks: Buffer[]): void => {
        let room = true;
        for (const chunk of chunks) room = file.write(chunk);
        if (room) {
          if (!ended) req.resume();
          return;
        }
        req.pause();
        file.once('drain', () => {
          if (!settled && !ended) req.resume();
        });
      };

      const onData = (chunk: Buffer): void => {
        this.#length += chunk.length;
        if (exceedsBodyLimit(this.#length, limit)) {
          fail(new CgiBodyTooLargeError(this.#length, limit));
          return;
        }
        const file = this.#file;
        if (file !== null) {
          write(file, [chunk]);
          return;
        }
        this.#chunks.push(chunk);
        if (this.#length <= this.#memoryBytes || fileReady !== null) return;
        // Past the memory bound: the client waits while the file is made.
        req.pause();
        fileReady = this.#createFile(fail);
        fileReady.then(
          () => {
            if (settled) return;
            const held = this.#chunks;
            this.#chunks = [];
            write(this.#file as WriteStream, held);
          },
          (error: Error) => fail(error),
        );
      };

      const onEnd = (): void => {
        ended = true;
        if (fileReady === null) {
          settle(() => resolve(true));
          return;
        }
        fileReady
          .then(() => this.#finishFile())
          .then(
            () => settle(() => resolve(true)),
            (error: Error) => fail(error),
          );
      };

      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onGone);
      req.once('close', onClose);
      res.once('close', onGone);
    });
  }

  /** The private directory and the file in it, for writing; `fail` hears of a write that fails later. */
  async #createFile(fail: (error: Error) => void): Promise<void> {
    this.#dir = await mkdtemp(join(this.#tempRoot, 'portico-cgi-body-'));
    this.#path = join(this.#dir, 'body');
    const file = createWriteStream(this.#path, { flags: 'wx', mode: 0o600 });
    file.on('error', fail);
    this.#file = file;
  }

  /** Writes what is still held and waits until the file is complete and closed. */
  async #finishFile(): Promise<void> {
    const file = this.#file as WriteStream;
    for (const chunk of this.#chunks) file.write(chunk);
    this.#chunks = [];
    await new Promise<void>((resolve, reject) => {
      file.once('error', reject);
      file.end(() => resolve());
    });
  }
}
