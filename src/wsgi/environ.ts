/**
 * Builds the CGI part of a WSGI environ (PEP 3333 §"environ Variables") from
 * a parsed Node request. The result is a flat list of latin-1 string pairs,
 * ready for the REQUEST frame; the worker adds the wsgi.* objects.
 */
import type { IncomingMessage } from 'node:http';
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

/** 'HOST', 'HOST:PORT' or '[v6]:PORT' from a Host header. */
function splitHost(host: string): { name: string; port: string | null } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  if (match === null) return { name: host, port: null };
  return { name: match[1] as string, port: match[2] ? match[2] : null };
}

/**
 * The environ pairs for one request. Header names with '_' are dropped: after
 * the '-' to '_' mapping `X-Foo_Bar` would be indistinguishable from
 * `X-Foo-Bar`, which lets a client spoof a header a proxy vouches for.
 */
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

  const headers = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.includes('_')) continue;
    const value = raw[i + 1] as string;
    const upper = name.toUpperCase();
    const key =
      upper === 'CONTENT-TYPE' ? 'CONTENT_TYPE' : upper === 'CONTENT-LENGTH' ? 'CONTENT_LENGTH' : 'HTTP_' + upper.replace(/-/g, '_');
    const previous = headers.get(key);
    // RFC 9110 §5.3 joins repeated fields with ', '; cookies are the exception (RFC 6265 §5.4 uses '; ').
    headers.set(key, previous === undefined ? value : previous + (key === 'HTTP_COOKIE' ? '; ' : ', ') + value);
  }

  if (context.forwardedHost !== null) headers.set('HTTP_HOST', context.forwardedHost);
  const host = headers.get('HTTP_HOST');
  if (host !== undefined && host !== '') {
    const { name, port } = splitHost(host);
    environ.push(['SERVER_NAME', name], ['SERVER_PORT', port ?? (context.scheme === 'https' ? '443' : '80')]);
  } else {
    environ.push(['SERVER_NAME', context.serverName], ['SERVER_PORT', context.serverPort]);
  }
  for (const pair of headers) environ.push(pair);
  return environ;
}
