/**
 * An HTTP/2 stream as the rest of the front reads an HTTP/1.1 request.
 * Node's compatibility API (Http2ServerRequest, Http2ServerResponse) already
 * gives a stream the shape of IncomingMessage and ServerResponse; what
 * differs, and is made the same here, once, rather than at every reader:
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
import { constants, Http2ServerRequest, Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

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

type HeaderArgument = OutgoingHttpHeaders | ReadonlyArray<string | readonly [string, string]> | undefined;

/** RFC 9110 §5.1: a field name is a token; lowercase, as HTTP/2 sends it (RFC 9113 §8.2.1). */
const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Streams the server reset itself (a cut response, a timeout): not the client's doing, for the rapid-reset count. */
const resetByServer = new WeakSet<ServerHttp2Stream>();

export function wasResetByServer(stream: ServerHttp2Stream): boolean {
  return resetByServer.has(stream);
}

export function markResetByServer(stream: ServerHttp2Stream): void {
  resetByServer.add(stream);
}

export class Http2Response extends Http2ServerResponse<Http2Request> {
  /** Set by the HTTP/1.1 path (--keep-alive 0, a drain) and ignored: see the module comment. */
  shouldKeepAlive = true;
  /** The head as #respondAtOnce sent it; null while the compat layer holds the fields. */
  #sent: Record<string, string | string[]> | null = null;

  constructor(stream: ServerHttp2Stream) {
    super(stream);
    // A body written while the client's window is shut waits for 'drain' chunk by chunk, as many chunks as the
    // worker's response window holds: bounded, but more than Node's default of 10 before it warns.
    this.setMaxListeners(64);
  }

  /**
   * RFC 9113 §8.1: a server that answers before the request body has ended
   * (a refusal, a timeout, an application that did not read it) "MAY
   * request that the client abort transmission of a request without error
   * by sending a RST_STREAM with an error code of NO_ERROR after sending a
   * complete response". Where HTTP/1.1 closes the connection, this ends the
   * one stream; without it the stream would stay half open for as long as
   * the client waits. Asked for as the response ends: Node sends the
   * RST_STREAM once the response's last frame has gone (closeStream() waits
   * for the stream's 'finish'); by the response's own 'finish' the stream
   * counts as closed and Node would send nothing.
   */
  override end(...args: unknown[]): this {
    (super.end as (...given: unknown[]) => this).apply(this, args);
    // Whether the client is still sending: not the request's `complete`, which stays false for a body
    // (or an empty GET) nobody read, and a reset then could overtake the response's trailers.
    const stream = this.stream as ServerHttp2Stream & { endAfterHeaders: boolean };
    if (!stream.closed && !stream.destroyed && !stream.endAfterHeaders && stream.state.remoteClose !== 1) stream.close(constants.NGHTTP2_NO_ERROR);
    return this;
  }

  /**
   * What cuts an HTTP/1.1 connection to show a response is incomplete (a
   * worker that died mid-body, a body shorter than declared) resets the
   * stream with INTERNAL_ERROR (RFC 9113 §8.1: a response without
   * END_STREAM is incomplete); Node's own destroy() would send NO_ERROR.
   */
  override destroy(error?: Error): this {
    resetByServer.add(this.stream);
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    super.destroy(error);
    return this;
  }

  override writeHead(statusCode: number, reasonOrHeaders?: string | HeaderArgument, headers?: HeaderArgument): this {
    const fields = typeof reasonOrHeaders === 'string' ? headers : reasonOrHeaders;
    if (this.#respondAtOnce(statusCode, fields)) return this;
    return super.writeHead(statusCode, withoutConnectionFields(fields) as OutgoingHttpHeaders);
  }

  /**
   * The head every worker response has (name/value pairs, plain tokens,
   * nothing set before, a final status) goes to the stream in one object,
   * where the compat layer would set, remove and append it field by field
   * and copy it once more. A response that declares its length asks for no
   * trailers: the compat layer always does, which costs every response a
   * round trip through JavaScript and one more frame, an empty DATA with
   * END_STREAM (RFC 9113 §8.1). Trailers on such a response are dropped, as
   * HTTP/1.1 drops them without chunked coding (RFC 9112 §7.1.2). Anything
   * else takes the compat layer's own path, with its own checks.
   */
  #respondAtOnce(statusCode: number, fields: HeaderArgument): boolean {
    const stream = this.stream;
    if (!Array.isArray(fields) || fields.length % 2 !== 0 || Array.isArray(fields[0])) return false;
    if (!Number.isInteger(statusCode) || statusCode < 200 || statusCode > 599) return false;
    if (stream.headersSent || stream.destroyed || stream.closed || super.getHeaderNames().length > 0) return false;
    const flat = fields as readonly unknown[];
    // A plain object, which V8 keeps in its fast shape (one made with a null prototype is a dictionary): hence hasOwn, and no __proto__.
    const head: Record<string, string | string[]> = {};
    let declaresLength = false;
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      const value = flat[i + 1];
      if (typeof name !== 'string' || typeof value !== 'string') return false;
      const lower = name.toLowerCase();
      if (!FIELD_NAME.test(lower) || lower === '__proto__') return false;
      if (isConnectionSpecific(lower, value)) continue;
      const existing = Object.hasOwn(head, lower) ? head[lower] : undefined;
      head[lower] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
      if (lower === 'content-length') declaresLength = true;
    }
    this.statusCode = statusCode;
    // respond() refuses a head nghttp2 cannot send (a repeated single-value field): the refusal that follows is not to read these.
    stream.respond({ ...head, ':status': statusCode }, { waitForTrailers: !declaresLength });
    this.#sent = head;
    return true;
  }

  /** The fields #respondAtOnce sent, which the compat layer never saw: the access log's %{name}o reads them. */
  override getHeader(name: string): string {
    // @types/node declares string; the compat layer too gives a list for a repeated field, or undefined.
    if (this.#sent === null) return super.getHeader(name);
    const key = name.trim().toLowerCase();
    return (Object.hasOwn(this.#sent, key) ? this.#sent[key] : undefined) as string;
  }

  override getHeaderNames(): string[] {
    return this.#sent === null ? super.getHeaderNames() : Object.keys(this.#sent);
  }

  override getHeaders(): OutgoingHttpHeaders {
    return this.#sent === null ? super.getHeaders() : Object.assign(Object.create(null) as OutgoingHttpHeaders, this.#sent);
  }

  override hasHeader(name: string): boolean {
    return this.#sent === null ? super.hasHeader(name) : Object.hasOwn(this.#sent, name.trim().toLowerCase());
  }

  /**
   * Trailers as pairs too, as OutgoingMessage#addTrailers takes them (the
   * compat layer takes an object alone, and would send pair indexes as
   * names); repeated names become one list. HTTP/2 sends them in a HEADERS
   * frame after the DATA (RFC 9113 §8.1), unless #respondAtOnce sent a
   * declared length.
   */
  override addTrailers(trailers: OutgoingHttpHeaders | ReadonlyArray<readonly [string, string]>): void {
    if (!Array.isArray(trailers)) return super.addTrailers(trailers as OutgoingHttpHeaders);
    const fields: Record<string, string | string[]> = {};
    for (const [name, value] of trailers as ReadonlyArray<readonly [string, string]>) {
      const key = name.toLowerCase();
      const existing = fields[key];
      fields[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    super.addTrailers(fields);
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (!isConnectionSpecific(name, value)) super.setHeader(name, value);
    return this;
  }
}

Object.defineProperty(Http2Response.prototype, 'destroyed', {
  get(this: Http2Response) {
    return this.stream.destroyed;
  },
});

function withoutConnectionFields(fields: HeaderArgument): HeaderArgument {
  if (fields === undefined) return undefined;
  if (!Array.isArray(fields)) {
    const kept: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(fields as OutgoingHttpHeaders)) if (!isConnectionSpecific(name, value)) kept[name] = value;
    return kept;
  }
  if (fields.length > 0 && Array.isArray(fields[0])) {
    return (fields as ReadonlyArray<readonly [string, string]>).filter(([name, value]) => !isConnectionSpecific(name, value));
  }
  const flat = fields as readonly string[];
  const kept: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (!isConnectionSpecific(flat[i] as string, flat[i + 1])) kept.push(flat[i] as string, flat[i + 1] as string);
  }
  return kept;
}

/** The request and response of a stream, typed as the HTTP/1.1 path takes them: see the module comment for what is made the same. */
export function asHttp1(req: Http2Request, res: Http2Response): { req: IncomingMessage; res: ServerResponse } {
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse };
}
