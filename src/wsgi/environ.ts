/**
 * Builds the CGI part of a WSGI environ (PEP 3333 §"environ Variables") from
 * a parsed Node request. The result is a flat list of latin-1 string pairs,
 * ready for the REQUEST frame; the worker adds the wsgi.* objects.
 */
import type { IncomingMessage } from 'node:http';
import { headerVariables, serverNameAndPort } from '../http/request-headers.js';
import type { MountMatch, RequestContext } from '../routing/mount-handler.js';

export const SERVER_SOFTWARE = 'portico';

/**
 * PEP 3333 wants PATH_INFO decoded, as CGI has it, but as a native string of
 * the raw bytes: '%C3%A9' becomes '\xc3\xa9' and '%FF' becomes '\xff', which
 * latin-1 carries one byte per character. Malformed escapes stay as they are.
 */
export function decodePathBytes(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Splits a request target into its path and raw query, RFC 9112 §3.2. */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  // absolute-form (RFC 9112 §3.2.2): the authority is not part of the path.
  if (!rest.startsWith('/') && /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(rest)) {
    const afterScheme = rest.indexOf('//') + 2;
    const pathStart = rest.slice(afterScheme).search(/[/?]/);
    rest = pathStart === -1 ? '/' : rest.slice(afterScheme + pathStart);
    if (rest.startsWith('?')) rest = '/' + rest;
  }
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return q === -1 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** The environ pairs for one request; headers map as headerVariables() says. */
export function buildEnviron(req: IncomingMessage, match: MountMatch, context: RequestContext): Array<[string, string]> {
  const target = req.url ?? '/';
  const environ: Array<[string, string]> = [
    ['REQUEST_METHOD', req.method ?? 'GET'],
    ['SCRIPT_NAME', match.scriptName],
    ['PATH_INFO', match.pathInfo],
    ['QUERY_STRING', match.query],
    ['REQUEST_URI', target],
    ['RAW_URI', target],
    ['SERVER_PROTOCOL', `HTTP/${req.httpVersion}`],
    ['REMOTE_ADDR', context.remoteAddr],
    ['REMOTE_PORT', context.remotePort],
    ['SERVER_SOFTWARE', SERVER_SOFTWARE],
    ['wsgi.url_scheme', context.scheme],
  ];

  const contentType = req.headers['content-type'];
  if (contentType !== undefined) environ.push(['CONTENT_TYPE', contentType]);
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined) environ.push(['CONTENT_LENGTH', contentLength]);
  const headers = headerVariables(req.rawHeaders);
  const server = serverNameAndPort(headers, context);
  environ.push(['SERVER_NAME', server.name], ['SERVER_PORT', server.port]);
  for (const pair of headers) environ.push(pair);
  return environ;
}
