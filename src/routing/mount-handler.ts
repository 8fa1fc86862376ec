/**
 * The contract every kind of mount meets: WSGI applications, CGI
 * directories and static directories. The router matches the request to a
 * mount and splits its path; the handler serves it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How the router split the request path for one mount (RFC 3875 §4.1.5, §4.1.13; PEP 3333). */
export interface MountMatch {
  /** The mount prefix, decoded, as the client spelled it: SCRIPT_NAME. '' for a mount at '/'. */
  scriptName: string;
  /**
   * The rest of the path, percent-decoded, bytes carried as latin-1
   * characters: PATH_INFO. '' or starts with '/'. Dot segments are already
   * resolved and never climb above the mount.
   */
  pathInfo: string;
  /** The raw query string, undecoded. */
  query: string;
}

/**
 * Who is asking and how, as the server established it: from the socket, or
 * from a trusted proxy's forwarding headers (then these are the client's,
 * not the proxy's).
 */
export interface RequestContext {
  scheme: 'http' | 'https';
  /** SERVER_NAME and SERVER_PORT when the request has no Host header. */
  serverName: string;
  serverPort: string;
  remoteAddr: string;
  remotePort: string;
  /** A trusted proxy's X-Forwarded-Host / Forwarded host, which replaces the Host header; null for none. */
  forwardedHost: string | null;
}

export interface MountHandler {
  /** A short word for logs: 'wsgi', 'cgi' or 'static'. */
  readonly kind: string;
  /** Serves one request. Must always end `res` (or destroy it), whatever happens. */
  handle(req: IncomingMessage, res: ServerResponse, match: MountMatch, context: RequestContext): void;
  /** Response-body bytes sent for `res`, for the access log. */
  bodyBytes?(res: ServerResponse): number;
  /** Prepares the mount (spawns workers, checks directories); resolves when it can serve. */
  start?(): Promise<void>;
  /** Stops the mount, letting in-flight work finish for up to `graceMs`. */
  close?(graceMs: number): Promise<void>;
}
