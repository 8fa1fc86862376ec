/**
 * The path a static mount is asked for, as the router hands it over:
 * PATH_INFO, percent-decoded once, one latin-1 character per byte. Here it
 * is checked and turned into file names, and never decoded again: a
 * '%2e%2e' in PATH_INFO came from '%252e%252e' on the wire and names a file
 * called '%2e%2e'.
 *
 * The router already resolves dot segments; this module refuses them
 * again anyway (defence in depth), because an encoded slash ('..%2f')
 * reaches us inside a segment that the router did not see as '..'.
 */
import { quoteForLog } from '../observability/quote-for-log.js';

export type RequestPath =
  | {
      ok: true;
      /** The non-empty segments, still latin-1 bytes-as-chars (for building URLs). */
      segments: string[];
      /** The same segments decoded as UTF-8: the names on the filesystem. */
      names: string[];
      /** The client asked for a directory ('/docs/'), RFC 3986 §3.3. */
      trailingSlash: boolean;
    }
  | { ok: false; status: 400 | 404; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseRequestPath(pathInfo: string): RequestPath {
  // A NUL would truncate the name in the C library below fs: a bad request, not a missing file.
  if (pathInfo.includes('\0')) return refuse(400, 'NUL byte in the path');
  // '\' is a separator on Windows and a trick on POSIX; no file we serve needs one.
  if (pathInfo.includes('\\')) return refuse(404, 'backslash in the path');
  if (pathInfo !== '' && !pathInfo.startsWith('/')) return refuse(404, 'path does not start with /');

  const segments = pathInfo.split('/').filter((segment) => segment !== '');
  const names: string[] = [];
  for (const segment of segments) {
    // Covers '.', '..' and every dotfile or dot-directory (.git, .env, .htpasswd).
    if (segment.startsWith('.')) return refuse(404, `segment '${quoteForLog(segment)}' starts with a dot`);
    try {
      names.push(utf8.decode(Buffer.from(segment, 'latin1')));
    } catch {
      return refuse(404, 'path is not UTF-8');
    }
  }
  return { ok: true, segments, names, trailingSlash: pathInfo.endsWith('/') };
}

function refuse(status: 400 | 404, reason: string): RequestPath {
  return { ok: false, status, reason };
}

/** RFC 3986 §3.3 pchar minus '%', plus '/': what may stay literal in an absolute path. */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/**
 * Percent-encodes a latin-1 bytes-as-chars path for a Location header,
 * leaving only RFC 3986 path characters literal. Leading slashes are
 * collapsed so the result can never read as a network-path reference
 * ('//evil.example/', RFC 3986 §4.2): an open redirect.
 */
export function encodeUrlPath(path: string): string {
  let encoded = '';
  for (const char of path) {
    const code = char.charCodeAt(0);
    encoded += PATH_SAFE.test(char) ? char : '%' + code.toString(16).toUpperCase().padStart(2, '0');
  }
  return encoded.replace(/^\/{2,}/, '/');
}
