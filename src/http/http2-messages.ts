/**
 * An HTTP/2 stream as the rest of the front reads an HTTP/1.1 request.
 * Http2Request (http2-request.ts) gives a stream the shape of
 * IncomingMessage, and Http2Response (http2-response.ts) that of
 * ServerResponse; what differs, and is made the same here, once, rather
 * than at every reader:
 *
 *   request   rawHeaders/headers hold the pseudo-header fields (RFC 9113
 *             §8.3.1): they are left out, :authority stands for Host as
 *             HTTP/1.1 carries it (§8.3.1), and cookie crumbs are one field
 *             again (§8.2.3). A body is known by END_STREAM, not by
 *             Content-Length or Transfer-Encoding (request-body.ts).
 *   response  no reason phrase (§8.3.2) and no connection-specific fields
 *             (§8.2.2): Connection: close, which the front sends with a
 *             refusal on HTTP/1.1, is dropped, since one stream's end is
 *             not its connection's. shouldKeepAlive is a no-op: GOAWAY ends
 *             an HTTP/2 connection (http2-sessions.ts). What cuts an
 *             HTTP/1.1 connection resets the stream instead (destroy(),
 *             end() before the request body has ended); trailers may be
 *             given as pairs, as on HTTP/1.1.
 *   socket    req.socket stands for the connection, one per stream
 *             (http2-request.ts): its bytesRead is every stream's, and
 *             destroySoon() would end them all. The body
 *             timeout counts this stream's bytes (bodyBytesRead) instead,
 *             and closeAfterBody() ends only the stream.
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Http2Response } from './http2-response.js';
import { Http2Request } from './http2-request.js';

export { Http2Request };
import { connectionOf } from './http2-fields.js';
export { isConnectionSpecific, markResetByServer, rememberConnection, wasResetByServer } from './http2-fields.js';

/**
 * True for a request that came over HTTP/2. By its class, not its version:
 * llhttp reads "HTTP/2.0" in an HTTP/1.1 request line as major 2 too, and
 * request validation refuses that one as HTTP/1 framing (505).
 */
export function isHttp2(req: IncomingMessage): boolean {
  return (req as unknown) instanceof Http2Request;
}

/** The connection a request came in on: the TLS or TCP socket itself, for HTTP/2 too. */
export function connectionSocket(req: IncomingMessage): Socket {
  if (!isHttp2(req)) return req.socket;
  return connectionOf((req as unknown as Http2Request).stream.session) ?? req.socket;
}

/** Whether the client sent END_STREAM with the request head: no body follows (RFC 9113 §8.1). */
export function http2BodyFollows(req: IncomingMessage): boolean {
  const stream = (req as unknown as Http2Request).stream as ServerHttp2Stream & { endAfterHeaders?: boolean };
  return stream.endAfterHeaders !== true;
}

/** The request and response of a stream, typed as the HTTP/1.1 path takes them: see the module comment for what is made the same. */
export function asHttp1(req: Http2Request, res: Http2Response): { req: IncomingMessage; res: ServerResponse } {
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse };
}
