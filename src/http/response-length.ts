/**
 * A response body held to the Content-Length its producer declared, by the
 * same rule for every gateway: WSGI applications (wsgi-exchange.ts) and CGI
 * scripts (cgi-exchange.ts).
 *
 * RFC 9112 §6.3: with a Content-Length the body is exactly that many
 * octets, and the client takes whatever follows them on the connection for
 * the next response. So bytes beyond it never go out: the client gets the
 * declared bytes, the response ends there, and the connection is closed
 * (RFC 9112 §9.6) instead of kept alive. A producer that wrote more than it
 * declared is broken, and which of the two it got wrong cannot be known;
 * whatever it still writes is dropped, and the client's next request goes
 * out on a fresh connection rather than behind a response known to be
 * wrong. A body shorter than declared is cut instead (the caller destroys
 * the response), so that the client sees the message is incomplete
 * (RFC 9112 §8).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHttp2 } from './http2-messages.js';

export interface FittedChunk {
  /** The part of the chunk the declared length still allows: all of it when none was declared. */
  within: Buffer;
  /** Bytes were cut off: the producer wrote more than it declared. */
  overran: boolean;
  /** With `within`, the body reaches the declared length exactly. */
  complete: boolean;
}

/** Fits `chunk` to what a declared length (null: none) leaves after `written` body bytes. */
export function fitToDeclaredLength(chunk: Buffer, declared: number | null, written: number): FittedChunk {
  if (declared === null) return { within: chunk, overran: false, complete: false };
  const room = Math.max(0, declared - written);
  const within = chunk.length > room ? chunk.subarray(0, room) : chunk;
  return { within, overran: chunk.length > room, complete: written + within.length === declared };
}

/**
 * Ends the response, with `last` as its final bytes, and closes the
 * connection once everything is flushed. The close is set on the socket
 * before Node's own 'finish' listener runs, which would otherwise keep the
 * connection alive and hand it to the next pipelined request's response;
 * `res.end(() => res.destroy())` comes too late for that.
 */
export function closeAfterBody(req: IncomingMessage, res: ServerResponse, last?: Buffer): void {
  // RFC 9113 §8.1: an HTTP/2 stream's end frames its body; the connection carries other streams.
  if (isHttp2(req)) {
    if (!res.writableEnded) res.end(last !== undefined && last.length > 0 ? last : undefined);
    return;
  }
  const socket = req.socket;
  if (res.writableFinished) {
    socket.destroySoon();
    return;
  }
  res.prependOnceListener('finish', () => socket.destroySoon());
  if (!res.writableEnded) {
    if (last !== undefined && last.length > 0) res.end(last);
    else res.end();
  }
}
