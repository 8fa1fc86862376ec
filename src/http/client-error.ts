/**
 * Answers what Node's parser refused before there was a request object
 * ('clientError'): the status for the parser's error code, always with
 * `Connection: close`, since after a parse error nothing behind it on the
 * connection can be framed (RFC 9112 §11.2).
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../error-codes.js';
import { refusal, type Refusal } from './refusal.js';

/** llhttp and Node error codes with a status other than 400, and the code portico logs them under. */
const REFUSAL_BY_NODE_CODE: Record<string, { status: number; code: ErrorCode }> = {
  // The head outgrew maxHeaderSize (RFC 6585 §5).
  HPE_HEADER_OVERFLOW: { status: 431, code: 'PORTICO_ERR_HEAD_TOO_LARGE' },
  // headersTimeout: the head did not arrive in time (RFC 9110 §15.5.9).
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'PORTICO_ERR_HEADERS_TIMEOUT' },
  // Node's own bound on chunk extensions (CVE-2024-22019).
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: 'PORTICO_ERR_CHUNK_EXTENSIONS_TOO_LARGE' },
};

/** The refusal for a parser error: Node's code stays in the reason, for the log. */
export function refusalForClientError(error: Error & { code?: string }): Refusal {
  const known = error.code !== undefined ? REFUSAL_BY_NODE_CODE[error.code] : undefined;
  const reason = error.code === undefined ? error.message : `${error.code}: ${error.message}`;
  return known === undefined ? refusal(400, 'PORTICO_ERR_PARSE', reason) : refusal(known.status, known.code, reason);
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

/** The 'clientError' listener: returns the refusal answered, or null when nothing was sent. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): Refusal | null {
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
  const refused = refusalForClientError(error);
  socket.end(closingResponse(refused.refuse));
  // Do not wait on a client that never reads: end() flushes what it can.
  setTimeout(() => socket.destroy(), 1000).unref();
  return refused;
}
