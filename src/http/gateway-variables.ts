/**
 * Variables that the WSGI environ (PEP 3333) and the CGI environment
 * (RFC 3875 §4.1) give the same value, kept where both gateways can read
 * them without importing each other. How request headers become variables
 * is shared the same way, in request-headers.ts.
 */
import type { IncomingMessage } from 'node:http';

/** RFC 3875 §4.1.17; PEP 3333 takes SERVER_SOFTWARE over from CGI. */
export const SERVER_SOFTWARE = 'portico';

/** RFC 3875 §4.1.16 SERVER_PROTOCOL: the protocol the request came in with. */
export function serverProtocol(req: IncomingMessage): string {
  return `HTTP/${req.httpVersion}`;
}
