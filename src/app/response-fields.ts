/**
 * What the front reads in the header fields a worker sends: the declared
 * Content-Length, 103 Early Hints, trailer fields. Fields arrive flat, as
 * Node's rawHeaders are: name, value, name, value, ...
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
export function statusHasBody(status: number): boolean {
  return !(status < 200 || status === 204 || status === 304);
}

/**
 * The Content-Length the fields declare: null for none, or the offending
 * value when it is not one number, or two that differ (RFC 9110 §8.6).
 */
export function declaredContentLength(fields: readonly string[]): { length: number | null } | { invalid: string } {
  let declared: number | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    // Only a 14-character name can be Content-Length: the others need no lower-casing.
    if (name.length !== 14 || name.toLowerCase() !== 'content-length') continue;
    const value = fields[i + 1] as string;
    if (!/^\d+$/.test(value) || (declared !== null && declared !== Number(value))) return { invalid: value };
    declared = Number(value);
  }
  return { length: declared };
}

/**
 * 103 Early Hints (RFC 8297) before the response head, an ASGI
 * application's http.response.early_hint: its Link fields, the only ones a
 * 103 is for, to an HTTP/1.1 or HTTP/2 client (a 1.0 client knows no 1xx;
 * HTTP/2's version reads "2.0", minor 0 too).
 */
export function writeEarlyHints(req: IncomingMessage, res: ServerResponse, fields: readonly string[]): void {
  if (res.headersSent || req.httpVersion === '1.0') return;
  const links: string[] = [];
  for (let i = 0; i < fields.length; i += 2) if ((fields[i] as string).toLowerCase() === 'link') links.push(fields[i + 1] as string);
  if (links.length > 0) res.writeEarlyHints({ link: links });
}

/**
 * Trailer fields after the body (ASGI http.response.trailers). HTTP/1.1
 * carries them only in a chunked body (RFC 9112 §7.1.2), so the caller
 * sends none after a declared length: the spec lets a server that cannot
 * send them drop them. Returns why Node refused them, or null.
 */
export function writeTrailers(res: ServerResponse, fields: readonly string[]): string | null {
  if (!res.headersSent) return null;
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([fields[i] as string, fields[i + 1] as string]);
  try {
    res.addTrailers(pairs);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Writes one frame's body, a buffer or the pieces of one that straddled the
 * channel's reads, and ends the response with it when `end`. Pieces are
 * corked so that they leave in one writev, with the head if it has not gone
 * yet, as one buffer would; end() uncorks the socket whole. The return is
 * write()'s: false when the client's socket wants a 'drain' first.
 */
export function writeBody(res: ServerResponse, body: Buffer | readonly Buffer[], end: boolean): boolean {
  if (Buffer.isBuffer(body)) {
    if (!end) return res.write(body);
    res.end(body);
    return true;
  }
  const last = body.length - 1;
  // HTTP/2's response (http2-response.ts) has no cork: each write is a DATA frame of its own.
  const corks = typeof res.cork === 'function';
  if (corks) res.cork();
  for (let i = 0; i < last; i++) res.write(body[i] as Buffer);
  if (end) {
    res.end(body[last] as Buffer);
    return true;
  }
  const flowing = res.write(body[last] as Buffer);
  if (corks) res.uncork();
  return flowing;
}
