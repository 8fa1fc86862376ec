/**
 * The response of an HTTP/2 stream, in the shape of http.ServerResponse
 * that the rest of the front writes to, driven straight on the stream
 * (stream.respond(), write(), end()) rather than through Node's
 * compatibility layer (Http2ServerResponse). That layer puts five
 * listeners and two closures on every stream, copies a head field by field
 * before respond() copies it again, and asks every response for trailers;
 * a worker's response needs none of it. What the compatibility layer
 * promises the front is kept:
 *
 *   head      fields set one by one, or given to writeHead as an object, as
 *             pairs or as a flat list; names trimmed and lowercased, as
 *             HTTP/2 sends them (RFC 9113 §8.2.1); connection-specific
 *             fields dropped (§8.2.2); no reason phrase (§8.3.2).
 *   trailers  asked of nghttp2 unless the head declares a length (a HEADERS
 *             frame after the DATA, §8.1); HTTP/1.1 too sends none without
 *             chunked coding (RFC 9112 §7.1.2).
 *   events    'drain' as the stream drains; 'finish' then 'close' when the
 *             stream closes, and for HEAD not before end() (Node ends a
 *             HEAD stream at respond()).
 *   ending    end() before the request body has ended resets the stream
 *             with NO_ERROR after the response (§8.1); destroy() resets it
 *             with INTERNAL_ERROR: a response without END_STREAM is
 *             incomplete.
 */
import type { OutgoingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import { loadHttp2 } from '../lazy-package.js';
import { Stream } from 'node:stream';
import type { Socket } from 'node:net';
import type { Http2Request } from './http2-request.js';
import { assertValidField, earlyHintLinks, FIELD_NAME, isConnectionSpecific, markResetByServer, nodeError } from './http2-fields.js';

type FieldValue = string | number | string[];
type HeaderArgument = OutgoingHttpHeaders | ReadonlyArray<string | readonly [string, string]> | undefined;
type Callback = (error?: Error | null) => void;

/** RFC 8297; Node's constants lack it in its type declarations. */
const EARLY_HINTS = 103;
/** The response a stream carries, for the stream's listeners, which Node calls with the stream as `this`. */
const RESPONSE = Symbol('portico.http2Response');

type Http2Stream = ServerHttp2Stream & { [RESPONSE]?: Http2Response; endAfterHeaders: boolean; headRequest: boolean };

function onStreamDrain(this: Http2Stream): void {
  this[RESPONSE]?.emit('drain');
}

function onStreamClose(this: Http2Stream): void {
  this[RESPONSE]?.streamClosed();
}

function onWantTrailers(this: Http2Stream): void {
  this.sendTrailers(this[RESPONSE]?.trailers ?? {});
}

export class Http2Response extends Stream {
  /** Set by the HTTP/1.1 path (--keep-alive 0, a drain) and ignored: GOAWAY ends an HTTP/2 connection. */
  shouldKeepAlive = true;
  readonly writable = true;
  readonly req: Http2Request;
  readonly stream: ServerHttp2Stream;
  /** Trailers to send once nghttp2 asks for them; lowercase names; null until the first. */
  trailers: Record<string, FieldValue> | null = null;
  #statusCode = 200;
  #sendDate = true;
  /** Fields set before the head; null until the first. Lowercase names. */
  #fields: Record<string, FieldValue> | null = null;
  /** The head as it went out (no pseudo-header fields): what getHeader() reads after it. */
  #sent: Record<string, FieldValue> | null = null;
  #closed = false;
  #ending = false;
  #destroyed = false;
  /** Whether end() came for a HEAD request: see streamClosed(). */
  #endedHead = false;

  constructor(stream: ServerHttp2Stream, req: Http2Request) {
    super();
    this.stream = stream;
    this.req = req;
    // A body written while the client's window is shut waits for 'drain' chunk by chunk, as many chunks as the
    // worker's response window holds: bounded, but more than Node's default of 10 before it warns.
    this.setMaxListeners(64);
    (stream as Http2Stream)[RESPONSE] = this;
    stream.on('drain', onStreamDrain);
    stream.on('close', onStreamClose);
  }

  get statusCode(): number {
    return this.#statusCode;
  }

  set statusCode(code: number) {
    code |= 0;
    if (code >= 100 && code < 200) throw nodeError('ERR_HTTP2_INFO_STATUS_NOT_ALLOWED', 'Informational status codes cannot be used', RangeError as ErrorConstructor);
    if (code < 100 || code > 599) throw nodeError('ERR_HTTP2_STATUS_INVALID', `Invalid status code: ${code}`, RangeError as ErrorConstructor);
    this.#statusCode = code;
  }

  /** RFC 9113 §8.3.2: HTTP/2 has no reason phrase. */
  get statusMessage(): string {
    return '';
  }

  set statusMessage(_message: string) {}

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get sendDate(): boolean {
    return this.#sendDate;
  }

  set sendDate(send: boolean) {
    this.#sendDate = Boolean(send);
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get writableEnded(): boolean {
    return this.#ending;
  }

  get finished(): boolean {
    return this.#ending;
  }

  get writableFinished(): boolean {
    return this.stream.writableFinished;
  }

  /** Node's proxy of the connection, as the request has it; none once the stream has closed, as on HTTP/1.1. */
  get socket(): Socket | undefined {
    return this.#closed ? undefined : this.req.socket;
  }

  setTimeout(ms: number, callback?: () => void): this {
    if (!this.#closed) this.stream.setTimeout(ms, callback);
    return this;
  }

  getHeader(name: string): FieldValue | undefined {
    const fields = this.#sent ?? this.#fields;
    const key = String(name).trim().toLowerCase();
    return fields !== null && Object.hasOwn(fields, key) ? fields[key] : undefined;
  }

  getHeaderNames(): string[] {
    const fields = this.#sent ?? this.#fields;
    return fields === null ? [] : Object.keys(fields).filter((name) => name !== ':status');
  }

  getHeaders(): OutgoingHttpHeaders {
    const fields = Object.assign(Object.create(null) as OutgoingHttpHeaders, this.#sent ?? this.#fields);
    delete fields[':status'];
    return fields;
  }

  hasHeader(name: string): boolean {
    const fields = this.#sent ?? this.#fields;
    return fields !== null && Object.hasOwn(fields, String(name).trim().toLowerCase());
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#assertHeadOpen();
    this.#setField(name, value, false);
    return this;
  }

  appendHeader(name: string, value: number | string | readonly string[]): this {
    this.#assertHeadOpen();
    this.#setField(name, value, true);
    return this;
  }

  removeHeader(name: string): void {
    this.#assertHeadOpen();
    const key = String(name).trim().toLowerCase();
    if (key === 'date') this.#sendDate = false;
    else if (this.#fields !== null) delete this.#fields[key];
  }

  writeHead(statusCode: number, reasonOrHeaders?: string | HeaderArgument, headers?: HeaderArgument): this {
    const stream = this.stream;
    if (this.#closed || stream.destroyed || stream.closed) return this;
    if (stream.headersSent) throw nodeError('ERR_HTTP2_HEADERS_SENT', 'Response has already been initiated.');
    const fields = typeof reasonOrHeaders === 'string' || reasonOrHeaders === undefined ? headers : reasonOrHeaders;
    if (this.#respondAtOnce(statusCode, fields)) return this;
    if (Array.isArray(fields)) {
      const pairs = fields.length > 0 && Array.isArray(fields[0]);
      if (!pairs && fields.length % 2 !== 0) throw nodeError('ERR_INVALID_ARG_VALUE', "The argument 'headers' is invalid.", TypeError as ErrorConstructor);
      // Given fields replace ones set before, and repeat among themselves (as OutgoingMessage#writeHead does).
      const step = pairs ? 1 : 2;
      const nameAt = (i: number): string => (pairs ? (fields[i] as readonly [string, string])[0] : (fields[i] as string));
      const valueAt = (i: number): string => (pairs ? (fields[i] as readonly [string, string])[1] : (fields[i + 1] as string));
      for (let i = 0; i < fields.length; i += step) this.removeHeader(nameAt(i));
      for (let i = 0; i < fields.length; i += step) this.#setField(nameAt(i), valueAt(i), true);
    } else if (fields !== undefined && fields !== null) {
      for (const name of Object.keys(fields)) this.#setField(name, (fields as OutgoingHttpHeaders)[name] as string, false);
    }
    this.#statusCode = statusCode;
    this.#respond((this.#fields ??= {}), true);
    return this;
  }

  flushHeaders(): void {
    if (!this.#closed && !this.stream.headersSent) this.writeHead(this.#statusCode);
  }

  write(chunk: unknown, encoding?: BufferEncoding | Callback, callback?: Callback): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = 'utf8';
    }
    let error: Error | null = null;
    if (this.#ending) error = nodeError('ERR_STREAM_WRITE_AFTER_END', 'write after end');
    else if (this.#closed) error = nodeError('ERR_HTTP2_INVALID_STREAM', 'The stream has been destroyed');
    else if (this.#destroyed) return false;
    if (error !== null) {
      if (callback !== undefined) process.nextTick(callback, error);
      this.destroy(error);
      return false;
    }
    const stream = this.stream;
    if (!stream.headersSent) this.writeHead(this.#statusCode);
    return stream.write(chunk, encoding as BufferEncoding, callback);
  }

  end(chunk?: unknown, encoding?: BufferEncoding | Callback, callback?: Callback): this {
    const stream = this.stream as Http2Stream;
    if (typeof chunk === 'function') {
      callback = chunk as Callback;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = 'utf8';
    }
    if ((this.#closed || this.#ending) && this.#endedHead === stream.headRequest) {
      if (callback !== undefined) process.nextTick(callback);
      return this;
    }
    if (chunk !== null && chunk !== undefined) this.write(chunk, encoding as BufferEncoding);
    this.#endedHead = stream.headRequest;
    this.#ending = true;
    if (callback !== undefined) {
      if (stream.writableEnded) this.once('finish', callback);
      else stream.once('finish', callback);
    }
    if (!stream.headersSent) this.writeHead(this.#statusCode);
    if (this.#closed || stream.destroyed) this.streamClosed();
    else stream.end();
    // RFC 9113 §8.1: a server that answers before the request body has ended "MAY request that the client
    // abort transmission of a request without error by sending a RST_STREAM with an error code of NO_ERROR
    // after sending a complete response". Where HTTP/1.1 closes the connection, this ends the one stream.
    // Node sends the RST_STREAM once the response's last frame has gone. Whether the client is still sending:
    // not the request's `complete`, which stays false for a body (or an empty GET) nobody read.
    if (!stream.closed && !stream.destroyed && !stream.endAfterHeaders && stream.state.remoteClose !== 1) stream.close(loadHttp2().constants.NGHTTP2_NO_ERROR);
    return this;
  }

  /**
   * What cuts an HTTP/1.1 connection to show a response is incomplete (a
   * worker that died mid-body, a body shorter than declared) resets the
   * stream with INTERNAL_ERROR; Node's own destroy() would send NO_ERROR.
   */
  destroy(error?: Error): this {
    markResetByServer(this.stream);
    if (!this.stream.closed) this.stream.close(loadHttp2().constants.NGHTTP2_INTERNAL_ERROR);
    if (this.#destroyed) return this;
    this.#destroyed = true;
    this.stream.destroy(error);
    return this;
  }

  writeContinue(): boolean {
    const stream = this.stream;
    if (stream.headersSent || this.#closed) return false;
    stream.additionalHeaders({ ':status': loadHttp2().constants.HTTP_STATUS_CONTINUE });
    return true;
  }

  /** RFC 8297: 103 Early Hints, with Link fields checked as http.ServerResponse checks them. */
  writeEarlyHints(hints: Record<string, string | string[]>): boolean {
    const links = earlyHintLinks(hints.link);
    if (links.length === 0) return false;
    const stream = this.stream;
    if (stream.headersSent || this.#closed) return false;
    const fields: OutgoingHttpHeaders = {};
    for (const name of Object.keys(hints)) if (name !== 'link') fields[name] = hints[name];
    stream.additionalHeaders({ ...fields, ':status': EARLY_HINTS, link: links.join(', ') });
    return true;
  }

  setTrailer(name: string, value: FieldValue): void {
    const key = String(name).trim().toLowerCase();
    assertValidField(key, value);
    (this.trailers ??= {})[key] = value;
  }

  /**
   * Trailers as an object, or as pairs as OutgoingMessage#addTrailers takes
   * them; repeated names become one list. Sent only if the head asked for
   * them (see the module comment).
   */
  addTrailers(trailers: OutgoingHttpHeaders | ReadonlyArray<readonly [string, string]>): void {
    if (!Array.isArray(trailers)) {
      for (const name of Object.keys(trailers)) this.setTrailer(name, (trailers as OutgoingHttpHeaders)[name] as FieldValue);
      return;
    }
    const fields: Record<string, FieldValue> = {};
    for (const [name, value] of trailers as ReadonlyArray<readonly [string, string]>) {
      const key = name.toLowerCase();
      const existing = fields[key];
      fields[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), value];
    }
    for (const name of Object.keys(fields)) this.setTrailer(name, fields[name] as FieldValue);
  }

  /**
   * The stream has closed: 'finish' and 'close', once. A HEAD stream
   * closes as soon as its head is sent (Node ends it in respond()); its
   * response finishes only with end(), which then calls this again.
   */
  streamClosed(): void {
    const stream = this.stream as Http2Stream;
    if (this.#closed || stream.headRequest !== this.#endedHead) return;
    this.#closed = true;
    stream.removeListener('wantTrailers', onWantTrailers);
    stream[RESPONSE] = undefined;
    this.emit('finish');
    this.emit('close');
  }

  /**
   * The head a worker sends (name/value pairs, plain tokens, nothing set
   * before, a final status) goes to the stream in one object, with no
   * field-by-field bookkeeping. Anything else takes writeHead's general
   * path, with its checks.
   */
  #respondAtOnce(statusCode: number, fields: HeaderArgument): boolean {
    if (!Array.isArray(fields) || fields.length % 2 !== 0 || Array.isArray(fields[0]) || this.#fields !== null) return false;
    if (!Number.isInteger(statusCode) || statusCode < 200 || statusCode > 599) return false;
    const flat = fields as readonly unknown[];
    // A plain object, which V8 keeps in its fast shape (one made with a null prototype is a dictionary): hence hasOwn, and no __proto__.
    // ':status' first: the object goes to respond() as it is, not copied once more.
    const head: Record<string, FieldValue> = { ':status': statusCode };
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      const value = flat[i + 1];
      if (typeof name !== 'string' || typeof value !== 'string') return false;
      const lower = name.toLowerCase();
      if (!FIELD_NAME.test(lower) || lower === '__proto__') return false;
      if (isConnectionSpecific(lower, value)) continue;
      const existing = Object.hasOwn(head, lower) ? head[lower] : undefined;
      head[lower] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [String(existing), value];
    }
    this.#statusCode = statusCode;
    this.#respond(head, !Object.hasOwn(head, 'content-length'));
    return true;
  }

  /** respond() refuses a head nghttp2 cannot send (a repeated single-value field) before it counts as sent: nothing of it is kept then. */
  #respond(head: Record<string, FieldValue>, waitForTrailers: boolean): void {
    const stream = this.stream;
    if (waitForTrailers) stream.on('wantTrailers', onWantTrailers);
    try {
      head[':status'] = this.#statusCode;
      stream.respond(head, { waitForTrailers, endStream: this.#ending, sendDate: this.#sendDate } as ServerStreamResponseOptions);
    } catch (error) {
      if (waitForTrailers) stream.removeListener('wantTrailers', onWantTrailers);
      throw error;
    }
    this.#sent = head;
  }

  #assertHeadOpen(): void {
    if (this.stream.headersSent) throw nodeError('ERR_HTTP2_HEADERS_SENT', 'Response has already been initiated.');
  }

  /** As the compatibility layer sets a field: checked, connection-specific ones dropped, a name that is no token ends the stream. */
  #setField(name: string, value: unknown, append: boolean): void {
    const key = String(name).trim().toLowerCase();
    assertValidField(key, value);
    if (isConnectionSpecific(key, value)) return;
    if (!FIELD_NAME.test(key)) {
      this.destroy(nodeError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${key}"]`, TypeError as ErrorConstructor));
      return;
    }
    const fields = (this.#fields ??= {});
    const given = value as FieldValue;
    const list = (field: FieldValue): string[] => (Array.isArray(field) ? field : [String(field)]);
    const existing = append && Object.hasOwn(fields, key) ? fields[key] : undefined;
    // Kept as given (a number stays one), as http.ServerResponse#getHeader returns it.
    if (existing === undefined || existing === '' || existing === 0) fields[key] = given;
    else fields[key] = [...list(existing), ...list(given)];
  }
}
