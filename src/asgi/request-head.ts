/**
 * The request head an ASGI worker builds its scope from (ASGI HTTP &
 * WebSocket spec 2.4, "HTTP Connection Scope"): the header list with its
 * order and duplicates, the path as received and as routed, the client and
 * the server as pairs. No WSGI environ is built for an ASGI request.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { connectionSocket, isHttp2 } from '../http/http2-messages.js';
import { splitTarget } from '../http/request-target.js';
import type { RequestHead } from '../ipc/frame-codec.js';
import type { MountMatch, RequestContext } from '../routing/mount-handler.js';
import { tlsExtension } from './tls-extension.js';

/**
 * `rootPath` is --root-path: a prefix a proxy stripped before the request
 * reached us. root_path is it and the mount's prefix; path is root_path and
 * the rest, as uvicorn >= 0.26 and Starlette >= 0.33 expect (the scope's
 * path includes root_path). Over portico's own TLS the scheme is https (the
 * worker makes a WebSocket's wss), and the head carries the TLS extension.
 */
export function buildRequestHead(req: IncomingMessage, match: MountMatch, context: RequestContext, rootPath: string): RequestHead {
  const root = rootPath + match.scriptName;
  return {
    method: req.method ?? 'GET',
    scheme: context.scheme,
    httpVersion: isHttp2(req) ? '2' : req.httpVersion === '1.0' ? '1.0' : '1.1',
    path: root + match.pathInfo,
    rawPath: splitTarget(req.url ?? '/').path,
    queryString: match.query,
    rootPath: root,
    headers: context.forwardedHost === null ? req.rawHeaders : withHost(req.rawHeaders, context.forwardedHost),
    client: context.remoteAddr === '' ? null : [context.remoteAddr, Number(context.remotePort)],
    server: [context.serverName, context.serverPort === '' ? null : Number(context.serverPort)],
    tls: context.tls === null || context.tls === undefined ? null : tlsExtension(connectionSocket(req) as TLSSocket),
  };
}

/** A trusted proxy's X-Forwarded-Host or Forwarded host stands for Host, as HTTP_HOST does in the WSGI environ. */
function withHost(rawHeaders: readonly string[], host: string): string[] {
  const headers: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') continue;
    headers.push(name, rawHeaders[i + 1] as string);
  }
  headers.push('host', host);
  return headers;
}
