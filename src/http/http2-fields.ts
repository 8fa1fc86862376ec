/**
 * The checks Node's HTTP/2 compatibility layer and http.ServerResponse make
 * on what a response is given, for Http2Response (http2-response.ts),
 * which sets its fields without that layer: the same errors, with the same
 * codes, for the same input. And what the HTTP/2 files share of fields and
 * streams without importing each other.
 */
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';

/** RFC 9113 §8.2.2: fields that only mean something to one HTTP/1.1 connection; TE is allowed with "trailers" alone. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Whether a field may not appear in an HTTP/2 message (RFC 9113 §8.2.2). */
export function isConnectionSpecific(name: string, value: unknown): boolean {
  const lower = name.toLowerCase();
  if (CONNECTION_SPECIFIC.has(lower)) return true;
  return lower === 'te' && String(value).trim().toLowerCase() !== 'trailers';
}

/** Streams the server reset itself (a cut response, a timeout): not the client's doing, for the rapid-reset count. */
const resetByServer = new WeakSet<ServerHttp2Stream>();

export function wasResetByServer(stream: ServerHttp2Stream): boolean {
  return resetByServer.has(stream);
}

export function markResetByServer(stream: ServerHttp2Stream): void {
  resetByServer.add(stream);
}

/** Each HTTP/2 connection's own socket: Node's session.socket is a proxy of it, which no WeakMap keyed by the socket (PROXY header, TLS facts) knows. */
const connections = new WeakMap<object, Socket>();

export function rememberConnection(session: object, socket: Socket): void {
  connections.set(session, socket);
}

/** The connection a session runs on: the socket handed over when known, else Node's proxy of it. */
export function connectionOf(session: Http2Session | undefined): Socket | undefined {
  return session === undefined ? undefined : (connections.get(session) ?? session.socket);
}

/** RFC 9110 §5.1: a field name is a token; lowercase, as HTTP/2 sends it (RFC 9113 §8.2.1). */
export const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** RFC 8288 §3: one link-value, as http.ServerResponse#writeEarlyHints checks it. */
const LINK_VALUE = /^(?:<[^>]*>)(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$/;

/** An error as Node's own: a message and a `code`. */
export function nodeError(code: string, message: string, Kind: ErrorConstructor = Error): Error {
  return Object.assign(new Kind(message), { code });
}

/** lib/internal/http2/compat.js assertValidHeader: a name with no space, no pseudo-header field, a value. */
export function assertValidField(name: string, value: unknown): void {
  if (name === '' || name.includes(' ')) throw nodeError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`, TypeError as ErrorConstructor);
  if (name.charCodeAt(0) === 0x3a) throw nodeError('ERR_HTTP2_PSEUDOHEADER_NOT_ALLOWED', 'Cannot set HTTP/2 pseudo-headers', TypeError as ErrorConstructor);
  if (value === undefined || value === null) throw nodeError('ERR_HTTP2_INVALID_HEADER_VALUE', `Invalid value "${String(value)}" for header "${name}"`, TypeError as ErrorConstructor);
}

/** The Link values of 103 Early Hints (RFC 8297), each checked as writeEarlyHints checks it on HTTP/1.1. */
export function earlyHintLinks(given: unknown): string[] {
  const links = typeof given === 'string' ? [given] : Array.isArray(given) ? (given as unknown[]) : null;
  if (links === null || links.some((link) => typeof link !== 'string' || !LINK_VALUE.test(link))) {
    throw nodeError('ERR_INVALID_ARG_VALUE', 'The argument \'hints\' must be an array or string of format "</styles.css>; rel=preload; as=style"', TypeError as ErrorConstructor);
  }
  return links as string[];
}
