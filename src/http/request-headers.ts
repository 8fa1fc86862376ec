/**
 * Request headers as CGI-style variables, shared by the WSGI environ
 * (PEP 3333) and the CGI meta-variables (RFC 3875 §4.1.18), so that both
 * gateways apply exactly the same rules.
 */
import type { RequestContext } from './request-record.js';

/**
 * Headers that never become HTTP_* variables in any gateway:
 * - Proxy: HTTP_PROXY is what many HTTP libraries read as their proxy
 *   setting ("httpoxy", CVE-2016-5385), so a client could redirect the
 *   application's outgoing requests. No legitimate request carries it.
 * - Content-Type, Content-Length: they are CONTENT_TYPE and CONTENT_LENGTH
 *   (RFC 3875 §4.1.2, §4.1.3; PEP 3333), never HTTP_CONTENT_*.
 */
const ALWAYS_WITHHELD: ReadonlySet<string> = new Set(['proxy', 'content-type', 'content-length']);

/**
 * HTTP_* variables from the raw request headers. Names with '_' are
 * dropped: after the '-' to '_' mapping `X-Foo_Bar` could not be told from
 * `X-Foo-Bar`, which would let a client spoof a header that a proxy in
 * front vouches for. `withheld` names (lower case) further headers to leave out.
 */
export function headerVariables(rawHeaders: readonly string[], withheld: ReadonlySet<string> = ALWAYS_WITHHELD): Map<string, string> {
  const variables = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.includes('_')) continue;
    const lower = name.toLowerCase();
    if (ALWAYS_WITHHELD.has(lower) || withheld.has(lower)) continue;
    const key = 'HTTP_' + name.toUpperCase().replace(/-/g, '_');
    const value = rawHeaders[i + 1] as string;
    const previous = variables.get(key);
    // RFC 9110 §5.3 joins repeated fields with ', '; cookies with '; ' (RFC 6265 §5.4).
    variables.set(key, previous === undefined ? value : previous + (key === 'HTTP_COOKIE' ? '; ' : ', ') + value);
  }
  return variables;
}

/**
 * SERVER_NAME and SERVER_PORT: the name the client used (a trusted proxy's
 * forwarded host, else Host, RFC 9110 §7.2), else the listener's own. A
 * forwarded host also replaces HTTP_HOST in `headers`.
 */
export function serverNameAndPort(headers: Map<string, string>, context: RequestContext): { name: string; port: string } {
  if (context.forwardedHost !== null) headers.set('HTTP_HOST', context.forwardedHost);
  const host = headers.get('HTTP_HOST');
  if (host === undefined || host === '') return { name: context.serverName, port: context.serverPort };
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  const name = match === null ? host : (match[1] as string);
  const port = match?.[2] ? match[2] : context.scheme === 'https' ? '443' : '80';
  return { name, port };
}
