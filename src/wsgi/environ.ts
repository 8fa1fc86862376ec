/**
 * Builds the CGI part of a WSGI environ (PEP 3333 §"environ Variables") from
 * a parsed Node request. The result is lists of latin-1 string pairs, ready
 * for the REQUEST frame; the worker adds the wsgi.* objects.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestEnviron } from '../ipc/frame-codec.js';
import { SERVER_SOFTWARE, serverProtocol, tlsVariables } from '../http/gateway-variables.js';
import { headerVariables, serverNameAndPort } from '../http/request-headers.js';
import type { MountMatch, RequestContext } from '../routing/mount-handler.js';

/**
 * The TLS variables that take few values on one listener (HTTPS follows the
 * scheme; mod_ssl's protocol, cipher suite, verify result and SNI name):
 * shared, so the worker decodes them once per combination rather than per
 * request. A client certificate's names differ from client to client, and
 * would crowd out the worker's remembered blocks: they stay the request's own.
 */
const SHARED_TLS_VARIABLES: ReadonlySet<string> = new Set(['HTTPS', 'SSL_PROTOCOL', 'SSL_CIPHER', 'SSL_CLIENT_VERIFY', 'SSL_TLS_SNI']);

/**
 * The environ for one request; headers map as headerVariables() says. The
 * variables that every request to this mount through this listener with this
 * Host has in common are the shared part, which the worker decodes once
 * (docs/protocol.md "Shared environ"); a worker's Python spent 4.9 of its
 * ~14 µs a hello-world request decoding the whole environ every time.
 */
export function buildEnviron(req: IncomingMessage, match: MountMatch, context: RequestContext): RequestEnviron {
  const target = req.url ?? '/';
  const own: Array<[string, string]> = [
    ['REQUEST_METHOD', req.method ?? 'GET'],
    ['PATH_INFO', match.pathInfo],
    ['QUERY_STRING', match.query],
    ['REQUEST_URI', target],
    ['RAW_URI', target],
    ['REMOTE_ADDR', context.remoteAddr],
    ['REMOTE_PORT', context.remotePort],
  ];
  const contentType = req.headers['content-type'];
  if (contentType !== undefined) own.push(['CONTENT_TYPE', contentType]);
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined) own.push(['CONTENT_LENGTH', contentLength]);
  const headers = headerVariables(req.rawHeaders);
  // First: a trusted X-Forwarded-Host replaces HTTP_HOST in `headers`.
  const server = serverNameAndPort(headers, context);
  for (const pair of headers) own.push(pair);

  const shared: Array<[string, string]> = [
    ['SCRIPT_NAME', match.scriptName],
    ['SERVER_NAME', server.name],
    ['SERVER_PORT', server.port],
    ['SERVER_PROTOCOL', serverProtocol(req)],
    ['SERVER_SOFTWARE', SERVER_SOFTWARE],
    ['wsgi.url_scheme', context.scheme],
  ];
  for (const pair of tlsVariables(context)) (SHARED_TLS_VARIABLES.has(pair[0]) ? shared : own).push(pair);
  return { shared, own };
}
