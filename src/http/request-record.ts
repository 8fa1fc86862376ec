/**
 * One record per admitted request: who asked and how, which mount served
 * it, when it began and ended, its status and the body bytes sent. The
 * listener makes it; the router fills in the mount; each handler counts the
 * body bytes it writes; the access log (and metrics) read it once the
 * response is over.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { TlsFacts } from './tls-facts.js';

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
  /** The connection's TLS (protocol, cipher, verified client certificate); null or absent over plain HTTP. */
  tls?: TlsFacts | null;
}

/** What Node handed over with an Upgrade request: the connection itself, and the bytes read past the head. */
export interface Upgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

export class RequestRecord {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly context: RequestContext;
  /** performance.now() when the listener admitted the request. */
  readonly startedAt: number;
  /** performance.now() when the response was over (finished or cut); 0 until then. */
  endedAt = 0;
  /** The prefix of the mount that serves it ('' for '/'); null while the server answers it itself. */
  mount: string | null = null;
  /** That mount's kind ('app', 'cgi', 'static'); null as for `mount`. */
  kind: string | null = null;
  /** Response-body bytes the handler has written. */
  bodyBytes = 0;
  /** Local redirects followed so far (RFC 3875 §6.2.2), to bound a loop of them. */
  redirects = 0;
  /** An Upgrade request's socket; null for any other. `res` answers it as plain HTTP unless a mount switches protocols. */
  readonly upgrade: Upgrade | null;

  constructor(req: IncomingMessage, res: ServerResponse, context: RequestContext, upgrade: Upgrade | null = null) {
    this.req = req;
    this.res = res;
    this.context = context;
    this.upgrade = upgrade;
    this.startedAt = performance.now();
  }

  /** The status sent, or about to be sent. */
  get status(): number {
    return this.res.statusCode;
  }

  /** Milliseconds from admission to the end of the response; up to now while it runs. */
  get durationMs(): number {
    return (this.endedAt === 0 ? performance.now() : this.endedAt) - this.startedAt;
  }
}
