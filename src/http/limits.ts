/**
 * Size limits on a request, with gunicorn's names and defaults, checked once
 * Node has parsed the head and before any worker is involved.
 */
import type { IncomingMessage } from 'node:http';
import { quoteForLog } from '../observability/quote-for-log.js';
import { refusal, type Refusal } from './refusal.js';

export interface RequestLimits {
  /** Longest request line in bytes (method, target, version, without CRLF); 0 for no limit. */
  requestLine: number;
  /** Most header fields in a request (gunicorn caps this at 32768). */
  requestFields: number;
  /** Longest header field line (`Name: value`) in bytes; 0 for no limit. */
  requestFieldSize: number;
  /** Largest request body in bytes; 0 for no limit. */
  requestBody: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  requestLine: 4094,
  requestFields: 100,
  requestFieldSize: 8190,
  requestBody: 1024 ** 3,
};

/** gunicorn's ceiling for limit_request_fields, also used when it is 0. */
export const MAX_REQUEST_FIELDS = 32768;
/** What "no limit" on the line or a field means to Node's total header budget. */
const UNLIMITED_LINE_BYTES = 64 * 1024;

/**
 * Node's `maxHeaderSize`, the total of request line and header bytes its
 * parser will buffer before answering 431 by itself. It is made just large
 * enough that every head within the per-line, per-field and field-count
 * limits fits, so that those limits, with their own statuses, are what a
 * client meets; the total only stops heads that break them anyway.
 */
export function maxHeaderSize(limits: RequestLimits): number {
  const line = limits.requestLine || UNLIMITED_LINE_BYTES;
  const field = limits.requestFieldSize || UNLIMITED_LINE_BYTES;
  const fields = fieldCountLimit(limits);
  return Math.min(line + 2 + fields * (field + 2) + 2, 2 ** 31 - 1);
}

function fieldCountLimit(limits: RequestLimits): number {
  return limits.requestFields <= 0 || limits.requestFields > MAX_REQUEST_FIELDS ? MAX_REQUEST_FIELDS : limits.requestFields;
}

/**
 * The limits on the head: 414 for the request line (RFC 9110 §15.5.15), 431
 * for too many or too large header fields (RFC 6585 §5). Node keeps every
 * header (the listener sets maxHeadersCount to 0), so the count is exact.
 */
export function checkHeadLimits(req: IncomingMessage, limits: RequestLimits): Refusal | null {
  // method SP request-target SP HTTP-version (RFC 9112 §3)
  const lineLength = Buffer.byteLength(`${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`, 'latin1');
  if (limits.requestLine > 0 && lineLength > limits.requestLine) {
    return refusal(414, 'PORTICO_ERR_REQUEST_LINE_TOO_LONG', `request line of ${lineLength} bytes is over --limit-request-line ${limits.requestLine}`);
  }
  const raw = req.rawHeaders;
  const count = raw.length / 2;
  const maxFields = fieldCountLimit(limits);
  if (count > maxFields) {
    return refusal(431, 'PORTICO_ERR_TOO_MANY_FIELDS', `${count} header fields is over --limit-request-fields ${maxFields}`);
  }
  if (limits.requestFieldSize > 0) {
    for (let i = 0; i < raw.length; i += 2) {
      // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), counted as `Name: value`.
      const size = (raw[i] as string).length + 2 + (raw[i + 1] as string).length;
      if (size > limits.requestFieldSize) {
        return refusal(431, 'PORTICO_ERR_FIELD_TOO_LARGE', `header field '${quoteForLog(raw[i] as string)}' of ${size} bytes is over --limit-request-field_size ${limits.requestFieldSize}`);
      }
    }
  }
  return null;
}

/**
 * Whether `bodyBytes` bytes of body are over --limit-request-body (0 for no
 * limit). The listener checks the declared Content-Length with it; a chunked
 * body's running count is checked by whoever reads the body.
 */
export function exceedsBodyLimit(bodyBytes: number, limit: number): boolean {
  return limit > 0 && bodyBytes > limit;
}

/** 413 (RFC 9110 §15.5.14) for a body over the limit. */
export function bodyTooLarge(bodyBytes: number, limit: number): Refusal {
  return refusal(413, 'PORTICO_ERR_BODY_TOO_LARGE', `request body of ${bodyBytes} bytes is over --limit-request-body ${limit}`);
}

/** The declared body size is over the limit: refuse before anything reads it. */
export function checkDeclaredBody(req: IncomingMessage, limits: RequestLimits): Refusal | null {
  const declared = req.headers['content-length'];
  if (declared === undefined) return null;
  const length = Number(declared);
  return exceedsBodyLimit(length, limits.requestBody) ? bodyTooLarge(length, limits.requestBody) : null;
}
