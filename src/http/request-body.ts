/**
 * Whether a request has a body, and whether its length is known before it
 * ends. On HTTP/1.1 the head says so (RFC 9112 §6.3: Transfer-Encoding, else
 * Content-Length); on HTTP/2 a body follows unless the HEADERS frame ended
 * the stream (RFC 9113 §8.1), and Content-Length is optional (§8.1.1), so a
 * body of unknown length is as common there as a chunked one on HTTP/1.1.
 */
import type { IncomingMessage } from 'node:http';
import { http2BodyFollows, isHttp2 } from './http2-messages.js';

export function hasRequestBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const declared = req.headers['content-length'];
  if (declared !== undefined) return Number(declared) > 0;
  return isHttp2(req) && http2BodyFollows(req);
}

/** A body whose length only its end tells: chunked, or HTTP/2 without Content-Length. */
export function bodyLengthUnknown(req: IncomingMessage): boolean {
  return req.headers['content-length'] === undefined && hasRequestBody(req);
}
