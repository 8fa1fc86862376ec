/**
 * What an HTTP/2 request is refused for on top of Node's and nghttp2's own
 * checks, which already reset a stream whose fields break RFC 9113 §8.2
 * (uppercase names, connection-specific fields, missing or repeated
 * pseudo-header fields, a Content-Length its DATA frames contradict).
 * Checked again here, on the fields as they came, so that no Node option
 * or version lets them reach an application: the HTTP/1.1 reading of a
 * stream (http2-messages.ts) no longer shows them.
 */
import { quoteForLog } from '../observability/quote-for-log.js';
import { isConnectionSpecific, type Http2Request } from './http2-messages.js';
import { refusal, type Refusal } from './refusal.js';

const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

export function checkHttp2Request(req: Http2Request): Refusal | null {
  const raw = req.http2RawHeaders;
  let authority: string | null = null;
  let host: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    // RFC 9113 §8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields", and treats one received as malformed.
    if (isConnectionSpecific(name, value)) {
      return refusal(400, 'PORTICO_ERR_HTTP2_CONNECTION_FIELD', `connection-specific field '${quoteForLog(name)}' in an HTTP/2 request`);
    }
    // RFC 9112 §3.2's request-target is visible ASCII, as llhttp holds an HTTP/1.1 request line to; nghttp2 lets obs-text through in :path.
    if (name === ':path' && !VISIBLE_ASCII.test(value)) {
      return refusal(400, 'PORTICO_ERR_BAD_TARGET', `:path '${quoteForLog(value)}' has a byte outside visible ASCII`);
    }
    if (name === ':authority') authority = value;
    else if (name === 'host') host = value;
  }
  // RFC 9113 §8.3.1: a Host that names another origin than :authority makes the request malformed.
  if (authority !== null && host !== null && authority.toLowerCase() !== host.toLowerCase()) {
    return refusal(400, 'PORTICO_ERR_HTTP2_HOST_MISMATCH', `Host '${quoteForLog(host)}' differs from :authority '${quoteForLog(authority)}'`);
  }
  return null;
}
