/**
 * What the front refuses on top of Node's parser. llhttp (Node 20, strict
 * mode) already refuses Content-Length with Transfer-Encoding, duplicate or
 * malformed Content-Length, chunked not last, bad chunk sizes, bare CR and
 * bare LF, obs-fold, whitespace before the colon, CTLs in names and values,
 * and HTTP/1.1 without Host. What it lets through, and this module refuses,
 * is listed in checkRequest() for the head and checkTrailers() for the
 * trailer section of a chunked body. Everything here reads the parsed
 * request (method, url, httpVersion, rawHeaders, rawTrailers): nothing needs
 * the wire bytes.
 */
import type { IncomingMessage } from 'node:http';
import {
  ABSOLUTE_HTTP_URI,
  ASTERISK_FORM,
  AUTHORITY_FORM,
  CHUNKED,
  CONTENT_LENGTH,
  FIELD_NAME,
  FIELD_VALUE,
  HOST,
  HTTP_VERSION,
  SCHEME_PREFIX,
} from './rfc9112.js';
import type { ErrorCode } from '../error-codes.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import { refusal, type Refusal } from './refusal.js';
import { isHttp2, type Http2Request } from './http2-messages.js';
import { checkHttp2Request } from './http2-request-validation.js';

/** What a valid request tells the front beyond Node's own fields. */
export interface RequestFacts {
  /** The authority of an absolute-form target, which replaces Host (RFC 9112 §3.2.2); null otherwise. */
  targetAuthority: string | null;
}

const bad = (code: ErrorCode, reason: string): Refusal => refusal(400, code, reason);

/**
 * Refuses a request that could be read two ways or is outside the grammar.
 * Every refusal is answered with `Connection: close`: after a framing error
 * nothing behind the request in the buffer can be trusted (RFC 9112 §6.3,
 * §11.2).
 */
export function checkRequest(req: IncomingMessage): Refusal | RequestFacts {
  // An HTTP/2 stream has no version to check, but fields of its own (RFC 9113 §8.2); the rest holds for both.
  const version = isHttp2(req) ? checkHttp2Request(req as unknown as Http2Request) : checkVersion(req.httpVersion);
  if (version !== null) return version;
  const fields = checkFields(req.rawHeaders);
  if (fields !== null) return fields;
  const framing = checkFraming(req);
  if (framing !== null) return framing;
  const contentType = checkContentType(req.rawHeaders);
  if (contentType !== null) return contentType;
  const target = checkTarget(req.method ?? '', req.url ?? '');
  if ('refuse' in target) return target;
  const host = checkHost(req);
  if (host !== null) return host;
  return target;
}

/**
 * RFC 9112 §2.3: only HTTP/1.0 and HTTP/1.1 are spoken here. llhttp
 * accepts any single-digit major.minor it knows (0.9, 2.0) and reads a
 * request line without a version as 0.9.
 */
function checkVersion(httpVersion: string): Refusal | null {
  const match = HTTP_VERSION.exec(httpVersion);
  if (match === null) return bad('PORTICO_ERR_BAD_VERSION', `malformed HTTP version '${quoteForLog(httpVersion)}'`);
  if (match[1] === '1' && (match[2] === '0' || match[2] === '1')) return null;
  // RFC 9110 §15.6.6: a major version the server does not support gets 505.
  if (match[1] !== '0' && match[1] !== '1') return refusal(505, 'PORTICO_ERR_VERSION_NOT_SUPPORTED', `HTTP/${httpVersion} over HTTP/1 framing`);
  return bad('PORTICO_ERR_BAD_VERSION', `HTTP/${httpVersion} requests are not served`);
}

/** Defence in depth: llhttp refuses these already, but a parser option or upgrade must not let them in. */
function checkFields(raw: readonly string[]): Refusal | null {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!FIELD_NAME.test(name)) return bad('PORTICO_ERR_BAD_FIELD_NAME', `header name '${quoteForLog(name)}' is not a token`);
    if (!FIELD_VALUE.test(raw[i + 1] as string)) return bad('PORTICO_ERR_BAD_FIELD_VALUE', `header '${quoteForLog(name)}' has a control character in its value`);
  }
  return null;
}

function valuesOf(raw: string[], lowerName: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === lowerName) values.push(raw[i + 1] as string);
  return values;
}

/** RFC 9112 §6.1-§6.3: one unambiguous way to find where the body ends. */
function checkFraming(req: IncomingMessage): Refusal | null {
  const te = valuesOf(req.rawHeaders, 'transfer-encoding');
  const cl = valuesOf(req.rawHeaders, 'content-length');
  if (te.length > 0) {
    // §6.1: "A server or client that receives an HTTP/1.0 message containing
    // a Transfer-Encoding header field MUST treat the message as if the
    // framing is faulty ... and close the connection".
    if (req.httpVersion === '1.0') return bad('PORTICO_ERR_TE_ON_HTTP10', 'Transfer-Encoding on an HTTP/1.0 request');
    // §6.3 item 3: with both, a request could be read two ways.
    if (cl.length > 0) return bad('PORTICO_ERR_TE_AND_CL', 'both Transfer-Encoding and Content-Length');
    // Every line is one list (RFC 9110 §5.3). llhttp lets an empty value,
    // empty elements (',chunked') and codings split over several lines
    // ('gzip' then 'chunked') through.
    const codings = te.join(',').split(',').map((coding) => coding.trim().toLowerCase());
    if (codings.some((coding) => coding === '')) return bad('PORTICO_ERR_BAD_TE', `empty element in Transfer-Encoding '${quoteForLog(te.join(', '))}'`);
    if (codings[codings.length - 1] !== CHUNKED) return bad('PORTICO_ERR_BAD_TE', `Transfer-Encoding '${quoteForLog(te.join(', '))}' does not end in chunked`);
    // §6.1: "A server that receives a request message with a transfer coding
    // it does not understand SHOULD respond with 501 (Not Implemented)".
    if (codings.length > 1) return refusal(501, 'PORTICO_ERR_TE_NOT_IMPLEMENTED', `Transfer-Encoding '${quoteForLog(te.join(', '))}' is not implemented`);
  }
  if (cl.length > 1) return bad('PORTICO_ERR_BAD_CONTENT_LENGTH', `${cl.length} Content-Length fields`);
  if (cl.length === 1 && !CONTENT_LENGTH.test(cl[0] as string)) return bad('PORTICO_ERR_BAD_CONTENT_LENGTH', `Content-Length '${quoteForLog(cl[0] as string)}'`);
  return null;
}

/**
 * RFC 9110 §5.3: a field whose value is one item cannot be combined from
 * several lines. Content-Type (§8.3) is one media type, and two of them
 * leave the body's meaning to whichever one a reader picks: Node keeps the
 * first, a proxy or framework in front may have kept the last. Host is
 * checked with its own rule (checkHost), Content-Length with the framing.
 */
function checkContentType(raw: string[]): Refusal | null {
  const types = valuesOf(raw, 'content-type');
  return types.length > 1 ? bad('PORTICO_ERR_MANY_CONTENT_TYPES', `${types.length} Content-Type fields`) : null;
}

/** RFC 9112 §3.2: the four forms of request-target and the methods each belongs to. */
function checkTarget(method: string, target: string): Refusal | RequestFacts {
  // §3.2.4: asterisk-form is only for a server-wide OPTIONS.
  if (target === ASTERISK_FORM) {
    return method === 'OPTIONS' ? { targetAuthority: null } : bad('PORTICO_ERR_BAD_TARGET', `asterisk-form target for ${quoteForLog(method)}`);
  }
  // §3.2: no form has a fragment; a client strips it (RFC 9110 §7.1).
  if (target.includes('#')) return bad('PORTICO_ERR_BAD_TARGET', 'request target has a fragment');
  if (target.startsWith('/')) return { targetAuthority: null };
  if (!SCHEME_PREFIX.test(target)) return bad('PORTICO_ERR_BAD_TARGET', `request target '${quoteForLog(target)}' is in no known form`);
  const absolute = ABSOLUTE_HTTP_URI.exec(target);
  if (absolute === null) return bad('PORTICO_ERR_BAD_TARGET', `absolute-form target '${quoteForLog(target)}' is not an http(s) URI`);
  const authority = absolute[2] as string;
  // RFC 9110 §4.2.4: userinfo in an http(s) URI is to be treated as an error.
  if (authority === '' || authority.includes('@') || !HOST.test(authority)) {
    return bad('PORTICO_ERR_BAD_TARGET', `absolute-form target has authority '${quoteForLog(authority)}'`);
  }
  return { targetAuthority: authority };
}

/**
 * RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code
 * to any HTTP/1.1 request message that lacks a Host header field and to any
 * request message that contains more than one Host header field line or a
 * Host header field with an invalid field value." llhttp checks only the
 * first (Node's requireHostHeader).
 */
function checkHost(req: IncomingMessage): Refusal | null {
  const hosts = valuesOf(req.rawHeaders, 'host');
  if (hosts.length === 0) return req.httpVersion === '1.1' ? bad('PORTICO_ERR_NO_HOST', 'HTTP/1.1 request without Host') : null;
  if (hosts.length > 1) return bad('PORTICO_ERR_MANY_HOSTS', `${hosts.length} Host fields`);
  if (!HOST.test(hosts[0] as string)) return bad('PORTICO_ERR_BAD_HOST', `Host '${quoteForLog(hosts[0] as string)}'`);
  return null;
}

/**
 * CONNECT never reaches the request handler: Node emits it as 'connect'.
 * A WSGI server tunnels nothing, so an authority-form CONNECT gets 501
 * (RFC 9110 §9.3.6, §15.6.2) and any other target 400 (RFC 9112 §3.2.3).
 */
export function checkConnect(target: string): Refusal {
  return AUTHORITY_FORM.test(target)
    ? refusal(501, 'PORTICO_ERR_CONNECT_NOT_IMPLEMENTED', `CONNECT ${quoteForLog(target)}`)
    : bad('PORTICO_ERR_BAD_TARGET', `CONNECT with target '${quoteForLog(target)}'`);
}

/**
 * RFC 9110 §6.5.1: "Many fields cannot be processed outside the header
 * section because their evaluation is necessary prior to receiving the
 * message content, such as those that describe message framing, routing,
 * authentication, request modifiers, response controls, or content format."
 * A recipient that merged these into the head after the body (as some do)
 * would see a different request from the one that was routed and framed.
 * The ones refused here are those a server acts on before the body: framing
 * (Content-Length, Transfer-Encoding, Trailer, TE, and the connection
 * options), routing (Host), authentication, and Expect. gunicorn refuses
 * the same, bar the connection options, Proxy-Authorization and Expect.
 */
export const FORBIDDEN_TRAILER_FIELDS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'trailer',
  'te',
  'connection',
  'upgrade',
  'authorization',
  'proxy-authorization',
  'expect',
]);

/**
 * The trailer section of a chunked request (RFC 9112 §7.1.2), once the body
 * has ended: Node hands trailers over only then (`req.rawTrailers`). Every
 * gateway that reads a body calls this at its end, and a refused request
 * must not reach its application as complete. Names and values are held to
 * the same grammar as the head's.
 */
export function checkTrailers(rawTrailers: readonly string[]): Refusal | null {
  if (rawTrailers.length === 0) return null;
  const fields = checkFields(rawTrailers);
  if (fields !== null) return fields;
  for (let i = 0; i < rawTrailers.length; i += 2) {
    const name = rawTrailers[i] as string;
    if (FORBIDDEN_TRAILER_FIELDS.has(name.toLowerCase())) {
      return bad('PORTICO_ERR_FORBIDDEN_TRAILER', `'${quoteForLog(name)}' in the trailer section of a chunked body`);
    }
  }
  return null;
}
