/**
 * Non-parsed-header scripts (RFC 3875 §5; Apache's nph-* convention) write
 * the whole HTTP response, status line included. Their output goes to the
 * connection byte for byte, past Node's ServerResponse:
 *
 *   - `res` is never written to (no writeHead/write/end), so Node sends
 *     nothing of its own on this connection;
 *   - `res` stays the socket's current response: a request pipelined behind
 *     this one is queued behind a response that never finishes, so nothing
 *     Node writes for it can interleave with the script's bytes;
 *   - when the script is done the connection is ended: we cannot know where
 *     the script's response ended, so it must not carry another one.
 *
 * The request parser keeps reading the socket, so the request body still
 * reaches the script through `req`.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Ending politely lets the client read everything; a peer that never closes its side is cut off after this. */
const CLOSE_GRACE_MS = 2000;

export class NphRelay {
  readonly #socket: Socket;
  readonly #source: Readable;
  #bytes = 0;
  #sawStatusLine = false;
  readonly #res: ServerResponse;

  constructor(res: ServerResponse, socket: Socket, source: Readable) {
    this.#res = res;
    this.#socket = socket;
    this.#source = source;
  }

  /** Bytes the script sent, status line and headers included. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Writes the next output chunk, pausing the script's stdout while the socket is full. */
  write(chunk: Buffer): void {
    if (this.#socket.destroyed) return;
    if (!this.#sawStatusLine) {
      this.#sawStatusLine = true;
      // For the access log only: Node will not send this status, the script already has.
      const status = /^HTTP\/\d\.\d (\d{3})/.exec(chunk.toString('latin1', 0, 16));
      if (status !== null) this.#res.statusCode = Number(status[1]);
    }
    this.#bytes += chunk.length;
    if (!this.#socket.write(chunk)) {
      this.#source.pause();
      this.#socket.once('drain', () => this.#source.resume());
    }
  }

  /** The script is done: flush, then close the connection. */
  end(): void {
    if (this.#socket.destroyed) return;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** The script failed mid-response: the client must see a cut connection, not a complete-looking response. */
  abort(): void {
    this.#socket.destroy();
  }
}
