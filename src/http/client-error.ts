/**
 * Answers what Node's parser refused before there was a request object
 * ('clientError'): the status for the parser's error code, always with
 * `Connection: close`, since after a parse error nothing behind it on the
 * connection can be framed (RFC 9112 §11.2).
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** llhttp and Node error codes with a status other than 400. */
const STATUS_BY_CODE: Record<string, number> = {
  // The head outgrew maxHeaderSize (RFC 6585 §5).
  HPE_HEADER_OVERFLOW: 431,
  // headersTimeout: the head did not arrive in time (RFC 9110 §15.5.9).
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  // Node's own bound on chunk extensions (CVE-2024-22019).
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

export function statusForClientError(code: string | undefined): number {
  return (code !== undefined ? STATUS_BY_CODE[code] : undefined) ?? 400;
}

/** The bytes of a short error response that closes the connection. */
export function closingResponse(status: number): string {
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

interface NodeSocket extends Duplex {
  /** Node's response in progress on this socket, if any. */
  _httpMessage?: { headersSent: boolean; writableEnded: boolean; shouldKeepAlive: boolean } | null;
  /** Node's parser, with the request it is reading. */
  parser?: { incoming?: { complete: boolean } | null } | null;
}

/** The 'clientError' listener: returns the status sent, or null when nothing was. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): number | null {
  const { _httpMessage: response, parser } = socket as NodeSocket;
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return null;
  }
  if (response && !response.writableEnded && parser?.incoming?.complete !== false) {
    // The bytes after a complete request are bad (or come after its
    // `Connection: close`, RFC 9112 §9.6) while its response is still being
    // made: let that response finish, then close, and read nothing more.
    if (!response.headersSent) response.shouldKeepAlive = false;
    return null;
  }
  if (response?.headersSent) {
    // The request being answered is itself broken (its body): the response cannot be replaced.
    socket.destroy();
    return null;
  }
  const status = statusForClientError(error.code);
  socket.end(closingResponse(status));
  // Do not wait on a client that never reads: end() flushes what it can.
  setTimeout(() => socket.destroy(), 1000).unref();
  return status;
}
