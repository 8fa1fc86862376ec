/**
 * The request of an HTTP/2 stream, in the shape of http.IncomingMessage
 * that the rest of the front reads (http2-messages.ts says what is made the
 * same), built on the stream itself rather than by Node's compatibility
 * layer (Http2ServerRequest). That layer puts six listeners and a closure
 * on every stream and two more on the request; a request without a body
 * (END_STREAM with its head, RFC 9113 §8.1), which most are, needs two:
 * the stream's close, and a sink for its errors, which the layer drops too.
 * A body is read from the stream only once someone reads the request, and
 * the stream pauses with the request, so that HTTP/2 flow control (RFC
 * 9113 §5.2) holds the client back when the reader does not keep up.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connectionOf } from './http2-fields.js';

/** The request a stream carries, for the stream's listeners, which Node calls with the stream as `this`. */
const REQUEST = Symbol('portico.http2Request');
/** The connection, taken while the stream is open: Node forgets a stream's session once it closes, when the access log still reads the address. */
const CONNECTION = Symbol('portico.http2Connection');

type Http2Stream = ServerHttp2Stream & { [REQUEST]?: Http2Request; [CONNECTION]?: object; endAfterHeaders: boolean };

function onStreamData(this: Http2Stream, chunk: Buffer): void {
  const request = this[REQUEST];
  if (request === undefined) return;
  request.bodyBytesRead += chunk.length;
  if (!request.push(chunk)) this.pause();
}

function onStreamEnd(this: Http2Stream): void {
  this[REQUEST]?.push(null);
}

function onStreamTrailers(this: Http2Stream, trailers: IncomingHttpHeaders, _flags: number, rawTrailers: string[]): void {
  this[REQUEST]?.receivedTrailers(trailers, rawTrailers);
}

/** Errors in a stream reach the front as its close: the response's 'close', the request's. */
function ignoreStreamError(): void {}

function onStreamClose(this: Http2Stream): void {
  const request = this[REQUEST];
  if (request === undefined) return;
  this[REQUEST] = undefined;
  request.streamClosed();
}

function onRequestPause(this: Http2Request): void {
  this.stream.pause();
}

function onRequestResume(this: Http2Request): void {
  this.stream.resume();
}

function resumeStream(stream: ServerHttp2Stream): void {
  stream.resume();
}

export class Http2Request extends Readable {
  readonly stream: ServerHttp2Stream;
  /** Request body bytes this stream has received: what the body idle timeout watches. */
  bodyBytesRead = 0;
  trailers: IncomingHttpHeaders = {};
  rawTrailers: string[] = [];
  /** The fields as Node decoded them, pseudo-header fields included. */
  readonly #fields: IncomingHttpHeaders;
  /** The fields as they came, pseudo-header fields first: what request validation checks. */
  readonly http2RawHeaders: readonly string[];
  #view: { raw: string[]; headers: IncomingHttpHeaders } | null = null;
  #closed = false;
  #didRead = false;
  #socket: Socket | null = null;

  constructor(stream: ServerHttp2Stream, fields: IncomingHttpHeaders, rawHeaders: readonly string[]) {
    super({ autoDestroy: false });
    this.stream = stream;
    this.#fields = fields;
    this.http2RawHeaders = rawHeaders;
    (stream as Http2Stream)[REQUEST] = this;
    stream.on('error', ignoreStreamError);
    stream.on('close', onStreamClose);
    if ((stream as Http2Stream).endAfterHeaders) return;
    stream.on('end', onStreamEnd);
    stream.on('trailers', onStreamTrailers);
    this.on('pause', onRequestPause);
    this.on('resume', onRequestResume);
  }

  get method(): string {
    return this.#fields[':method'] as string;
  }

  /** The router's local redirect (RFC 3875 §6.2.2) turns a request into a GET of another path, as on HTTP/1.1. */
  set method(method: string) {
    this.#fields[':method'] = method;
  }

  get url(): string {
    return this.#fields[':path'] as string;
  }

  set url(url: string) {
    this.#fields[':path'] = url;
  }

  /** RFC 9113 §8.3.1: :authority, or Host, which a client may send instead. */
  get authority(): string | undefined {
    return this.#fields[':authority'] ?? this.#fields.host;
  }

  get scheme(): string | undefined {
    return this.#fields[':scheme'] as string | undefined;
  }

  get httpVersion(): string {
    return '2.0';
  }

  get httpVersionMajor(): number {
    return 2;
  }

  get httpVersionMinor(): number {
    return 0;
  }

  get aborted(): boolean {
    return this.stream.aborted;
  }

  get complete(): boolean {
    return this.stream.aborted || this.readableEnded || this.#closed || this.stream.destroyed;
  }

  get rawHeaders(): string[] {
    return this.http1View().raw;
  }

  set rawHeaders(raw: string[]) {
    this.http1View().raw = raw;
  }

  get headers(): IncomingHttpHeaders {
    return this.http1View().headers;
  }

  set headers(_headers: IncomingHttpHeaders) {}

  /**
   * A proxy of the connection for this stream, as the compatibility layer
   * gives it (one per stream: marking it closing, as a refusal does, marks
   * no other stream): the connection's address and state, with the
   * stream's own `destroyed`; the address stays readable after the stream
   * has closed, where the layer's gave none (the access log's %h was '-').
   */
  get socket(): Socket {
    if (this.#socket !== null) return this.#socket;
    const stream = this.stream as Http2Stream;
    stream[CONNECTION] = connectionOf(stream.session);
    this.#socket = new Proxy(stream, streamSocket) as unknown as Socket;
    return this.#socket;
  }

  get connection(): Socket {
    return this.socket;
  }

  setTimeout(ms: number, callback?: () => void): this {
    if (!this.#closed) this.stream.setTimeout(ms, callback);
    return this;
  }

  override _read(): void {
    if (this.#closed) return;
    const stream = this.stream as Http2Stream;
    if (stream.endAfterHeaders) {
      this.push(null);
      return;
    }
    if (this.#didRead) {
      process.nextTick(resumeStream, stream);
      return;
    }
    this.#didRead = true;
    stream.on('data', onStreamData);
  }

  receivedTrailers(trailers: IncomingHttpHeaders, rawTrailers: readonly string[]): void {
    Object.assign(this.trailers, trailers);
    this.rawTrailers.push(...rawTrailers);
  }

  /** The body ends with the stream; one nobody read is let go, as on HTTP/1.1 (the compatibility layer does the same). */
  streamClosed(): void {
    this.#closed = true;
    this.push(null);
    if (!this.#didRead && !(this as unknown as { _readableState: { resumeScheduled: boolean } })._readableState.resumeScheduled) this.resume();
    this.emit('close');
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

/** What a stream's socket stand-in reads from the stream itself; the rest is the connection's. */
const FROM_STREAM: ReadonlySet<PropertyKey> = new Set(['destroyed', 'writable']);
const STREAM_METHODS: ReadonlySet<PropertyKey> = new Set(['on', 'once', 'end', 'emit', 'destroy']);

/** lib/internal/http2/compat.js's proxySocketHandler, read-only: the front reads the socket, and writes go through the response. */
const streamSocket: ProxyHandler<ServerHttp2Stream> = {
  get(stream, name) {
    if (FROM_STREAM.has(name)) return stream[name as keyof ServerHttp2Stream];
    if (STREAM_METHODS.has(name)) return (stream[name as keyof ServerHttp2Stream] as (...args: unknown[]) => unknown).bind(stream);
    const connection: object = (stream as Http2Stream)[CONNECTION] ?? stream;
    const value = Reflect.get(connection, name) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(connection) : value;
  },
  has(stream, name) {
    return name in stream || name in ((stream as Http2Stream)[CONNECTION] ?? stream);
  },
  getPrototypeOf(stream) {
    return Reflect.getPrototypeOf((stream as Http2Stream)[CONNECTION] ?? stream);
  },
};
