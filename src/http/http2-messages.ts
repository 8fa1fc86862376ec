/**
 * An HTTP/2 stream as the rest of the front reads an HTTP/1.1 request.
 * Node's Http2ServerRequest already gives a stream the shape of
 * IncomingMessage, and Http2Response (http2-response.ts) gives it that of
 * ServerResponse; what differs, and is made the same here, once, rather
 * than at every reader:
 *
 *   request   rawHeaders/headers hold the pseudo-header fields (RFC 9113
 *             §8.3.1): they are left out, :authority stands for Host as
 *             HTTP/1.1 carries it (§8.3.1), and cookie crumbs are one field
 *             again (§8.2.3). A body is known by END_STREAM, not by
 *             Content-Length or Transfer-Encoding (request-body.ts).
 *   response  no reason phrase (§8.3.2) and no connection-specific fields
 *             (§8.2.2): Connection: close, which the front sends with a
 *             refusal on HTTP/1.1, is dropped, since one stream's end is
 *             not its connection's. shouldKeepAlive is a no-op: GOAWAY ends
 *             an HTTP/2 connection (http2-sessions.ts). What cuts an
 *             HTTP/1.1 connection resets the stream instead (destroy(),
 *             end() before the request body has ended); trailers may be
 *             given as pairs, as on HTTP/1.1.
 *   socket    req.socket is Node's proxy of the connection: its bytesRead is
 *             every stream's, and destroySoon() would end them all. The body
 *             timeout counts this stream's bytes (bodyBytesRead) instead,
 *             and closeAfterBody() ends only the stream.
 */
import { Http2ServerRequest, type ServerHttp2Stream } from 'node:http2';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Http2Response } from './http2-response.js';

/** RFC 9113 §8.2.2: fields that only mean something to one HTTP/1.1 connection; TE is allowed with "trailers" alone. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Whether a field may not appear in an HTTP/2 message (RFC 9113 §8.2.2). */
export function isConnectionSpecific(name: string, value: unknown): boolean {
  const lower = name.toLowerCase();
  if (CONNECTION_SPECIFIC.has(lower)) return true;
  return lower === 'te' && String(value).trim().toLowerCase() !== 'trailers';
}

/**
 * True for a request that came over HTTP/2. By its class, not its version:
 * llhttp reads "HTTP/2.0" in an HTTP/1.1 request line as major 2 too, and
 * request validation refuses that one as HTTP/1 framing (505).
 */
export function isHttp2(req: IncomingMessage): boolean {
  return (req as unknown) instanceof Http2ServerRequest;
}

/** Each HTTP/2 connection's own socket: Node's session.socket is a proxy of it, which no WeakMap keyed by the socket (PROXY header, TLS facts) knows. */
const connections = new WeakMap<object, Socket>();

export function rememberConnection(session: object, socket: Socket): void {
  connections.set(session, socket);
}

/** The connection a request came in on: the TLS or TCP socket itself, for HTTP/2 too. */
export function connectionSocket(req: IncomingMessage): Socket {
  if (!isHttp2(req)) return req.socket;
  const session = (req as unknown as Http2Request).stream.session;
  return (session === undefined ? undefined : connections.get(session)) ?? req.socket;
}

/** Whether the client sent END_STREAM with the request head: no body follows (RFC 9113 §8.1). */
export function http2BodyFollows(req: IncomingMessage): boolean {
  const stream = (req as unknown as Http2Request).stream as ServerHttp2Stream & { endAfterHeaders?: boolean };
  return stream.endAfterHeaders !== true;
}

export class Http2Request extends Http2ServerRequest {
  /** Request body bytes this stream has received: what the body idle timeout watches. */
  bodyBytesRead = 0;
  #view: { raw: string[]; headers: IncomingHttpHeaders } | null = null;

  /** The fields as they came, pseudo-header fields first: what request validation checks. */
  get http2RawHeaders(): readonly string[] {
    return Reflect.get(Http2ServerRequest.prototype, 'rawHeaders', this) as string[];
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined) this.bodyBytesRead += (chunk as Buffer).length;
    return super.push(chunk, encoding);
  }

  /** The HTTP/1.1 reading of the fields, made on first use. */
  http1View(): { raw: string[]; headers: IncomingHttpHeaders } {
    if (this.#view !== null) return this.#view;
    const given = this.http2RawHeaders;
    const raw: string[] = [];
    const cookies: string[] = [];
    let host: string | null = null;
    for (let i = 0; i + 1 < given.length; i += 2) {
      const name = given[i] as string;
      const value = given[i + 1] as string;
      if (name.charCodeAt(0) === 0x3a) continue;
      if (name === 'cookie') cookies.push(value);
      else raw.push(name, value);
      if (name === 'host') host = value;
    }
    if (cookies.length > 0) raw.push('cookie', cookies.join('; '));
    const authority = this.authority;
    if (host === null && typeof authority === 'string' && authority !== '') raw.unshift('host', authority);
    const headers: IncomingHttpHeaders = Object.create(null) as IncomingHttpHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const existing = headers[name];
      // Node's own rules for HTTP/1.1 (IncomingMessage#headers): set-cookie a list, the rest joined with ', '.
      headers[name] = (existing === undefined ? raw[i + 1] : `${String(existing)}, ${raw[i + 1]}`) as string;
    }
    this.#view = { raw, headers };
    return this.#view;
  }
}

/*
 * Accessors over what @types/node declares as plain properties, so they are
 * defined here rather than in the class body. The router's local redirect
 * (RFC 3875 §6.2.2) assigns rawHeaders and deletes from headers, as on
 * HTTP/1.1.
 */
Object.defineProperties(Http2Request.prototype, {
  rawHeaders: {
    get(this: Http2Request) {
      return this.http1View().raw;
    },
    set(this: Http2Request, raw: string[]) {
      this.http1View().raw = raw;
    },
  },
  headers: {
    get(this: Http2Request) {
      return this.http1View().headers;
    },
    set() {},
  },
});

/** Streams the server reset itself (a cut response, a timeout): not the client's doing, for the rapid-reset count. */
const resetByServer = new WeakSet<ServerHttp2Stream>();

export function wasResetByServer(stream: ServerHttp2Stream): boolean {
  return resetByServer.has(stream);
}

export function markResetByServer(stream: ServerHttp2Stream): void {
  resetByServer.add(stream);
}

/** The request and response of a stream, typed as the HTTP/1.1 path takes them: see the module comment for what is made the same. */
export function asHttp1(req: Http2Request, res: Http2Response): { req: IncomingMessage; res: ServerResponse } {
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse };
}
