/**
 * Variables that the WSGI environ (PEP 3333) and the CGI environment
 * (RFC 3875 §4.1) give the same value, kept where both gateways can read
 * them without importing each other. How request headers become variables
 * is shared the same way, in request-headers.ts.
 */
import type { IncomingMessage } from 'node:http';
import { isHttp2 } from './http2-messages.js';
import type { RequestContext } from './request-record.js';

/** RFC 3875 §4.1.17; PEP 3333 takes SERVER_SOFTWARE over from CGI. */
export const SERVER_SOFTWARE = 'portico';

/** RFC 3875 §4.1.16 SERVER_PROTOCOL: the protocol the request came in with; HTTP/2 as RFC 9113 names it. */
export function serverProtocol(req: IncomingMessage): string {
  return isHttp2(req) ? 'HTTP/2' : `HTTP/${req.httpVersion}`;
}

/**
 * HTTPS and the SSL_* variables of Apache's mod_ssl (SSLOptions +StdEnvVars),
 * which WSGI and CGI applications already read: HTTPS is on whenever the
 * scheme is https (over TLS, or as a trusted proxy says), the SSL_*
 * variables only over portico's own TLS. A client certificate's names
 * appear only once it has been verified against --ca-certs.
 */
export function tlsVariables(context: RequestContext): Array<[string, string]> {
  const variables: Array<[string, string]> = [];
  if (context.scheme === 'https') variables.push(['HTTPS', 'on']);
  const tls = context.tls;
  if (tls === null || tls === undefined) return variables;
  variables.push(['SSL_PROTOCOL', tls.protocol], ['SSL_CIPHER', tls.cipher], ['SSL_CLIENT_VERIFY', tls.clientVerify]);
  if (tls.serverName !== null) variables.push(['SSL_TLS_SNI', tls.serverName]);
  if (tls.clientSubject !== null) variables.push(['SSL_CLIENT_S_DN', tls.clientSubject]);
  if (tls.clientIssuer !== null) variables.push(['SSL_CLIENT_I_DN', tls.clientIssuer]);
  return variables;
}
