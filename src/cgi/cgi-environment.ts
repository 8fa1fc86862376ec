/**
 * The meta-variables of RFC 3875 §4.1: the whole environment a CGI script
 * gets. Nothing of the server's own environment is passed on, only these and
 * a fixed PATH.
 *
 * Why Shellshock (CVE-2014-6271) does not apply: that attack needs a bash
 * that imports functions from environment values starting with '() {'. Here
 * the script is started with execve() directly (no shell in between, see
 * cgi-process.ts), so header values only reach a bash if the script itself
 * is a bash script, and every bash shipped since 2014 only imports functions
 * from variables named BASH_FUNC_*%%, a name no header can produce (names
 * with '_' are dropped, and HTTP_ is always the prefix).
 */
import type { IncomingMessage } from 'node:http';
import type { MountMatch, RequestContext } from '../routing/mount-handler.js';
import { SERVER_SOFTWARE, serverProtocol, tlsVariables } from '../http/gateway-variables.js';
import { headerVariables, serverNameAndPort } from '../http/request-headers.js';
import type { LocatedScript } from './script-locator.js';

/** The only PATH a script sees: system directories, never the server's own PATH. */
export const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * Credentials are withheld from scripts: RFC 3875 §4.1.18 lets the server
 * do so, and AUTH_TYPE carries the scheme (httpoxy's Proxy header and
 * CONTENT_* are withheld by headerVariables for every gateway).
 */
export const CGI_WITHHELD_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization']);

/** Node hands header and path bytes over as latin-1 characters; the environment is UTF-8 on the way to execve(). */
function bytesAsText(latin1: string): string {
  return /[^\x00-\x7f]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

export interface CgiEnvironmentInput {
  req: IncomingMessage;
  match: MountMatch;
  context: RequestContext;
  script: LocatedScript;
  /** The CGI directory as configured: PATH_TRANSLATED maps PATH_INFO below it. */
  root: string;
  /** The length of a body that came without Content-Length and was spooled (request-body-spool.ts); absent otherwise. */
  spooledLength?: number;
}

/** The complete environment for one script run. */
export function buildCgiEnvironment({ req, match, context, script, root, spooledLength }: CgiEnvironmentInput): Record<string, string> {
  const headers = headerVariables(req.rawHeaders, CGI_WITHHELD_HEADERS);
  const env: Record<string, string> = { PATH: SAFE_PATH };

  // §4.1.1: the scheme of the Authorization header. We authenticate nobody,
  // so REMOTE_USER (§4.1.11) is never set: there is no user we vouch for.
  const authorization = req.headers.authorization;
  if (authorization) env.AUTH_TYPE = authorization.trim().split(/\s+/, 1)[0] as string;

  // §4.1.2, §4.1.3: set if and only if the request has a body / a type. A
  // chunked body is counted once it is whole, so that the script knows it too.
  const contentLength = spooledLength === undefined ? req.headers['content-length'] : String(spooledLength);
  if (contentLength !== undefined) env.CONTENT_LENGTH = contentLength;
  const contentType = req.headers['content-type'];
  if (contentType !== undefined) env.CONTENT_TYPE = contentType;

  env.GATEWAY_INTERFACE = 'CGI/1.1'; // §4.1.4

  // §4.1.5, §4.1.6: PATH_TRANSLATED maps PATH_INFO the way the server maps
  // a request path to a file; with no PATH_INFO there is nothing to map.
  const pathInfo = bytesAsText(script.pathInfo);
  env.PATH_INFO = pathInfo;
  if (pathInfo !== '') env.PATH_TRANSLATED = root.replace(/\/+$/, '') + pathInfo;

  env.QUERY_STRING = match.query; // §4.1.7: as sent, still URL-encoded
  // §4.1.8: the client as the server established it (a trusted proxy's forwarding headers included).
  env.REMOTE_ADDR = context.remoteAddr;
  env.REMOTE_HOST = context.remoteAddr; // §4.1.9: MAY be the address; no DNS lookup per request
  env.REQUEST_METHOD = req.method ?? 'GET'; // §4.1.12
  env.SCRIPT_NAME = bytesAsText(match.scriptName + script.scriptPath); // §4.1.13
  env.SCRIPT_FILENAME = script.filename; // not in RFC 3875, but every CGI server sets it

  // §4.1.14, §4.1.15: the name the client used, else the listener's.
  const server = serverNameAndPort(headers, context);
  env.SERVER_NAME = server.name;
  env.SERVER_PORT = server.port;
  env.SERVER_PROTOCOL = serverProtocol(req); // §4.1.16
  env.SERVER_SOFTWARE = SERVER_SOFTWARE; // §4.1.17
  // Not in RFC 3875: HTTPS=on and mod_ssl's SSL_* variables, which scripts have read from Apache since.
  for (const [key, value] of tlsVariables(context)) env[key] = value;

  for (const [key, value] of headers) env[key] = bytesAsText(value);
  return env;
}
