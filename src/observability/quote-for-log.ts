/**
 * Request data quoted in an error-log line. A client chooses those bytes, so
 * they must neither grow a line without bound (a 64 KB request target) nor
 * forge one (CR, LF) nor drive the terminal that shows the log (ANSI
 * escapes, C1 controls). Escaped as nginx's access log does: `\`, `"` and
 * every byte outside printable ASCII become `\xHH`.
 */

/** How many characters of escaped request data one log line quotes, at most. */
export const LOG_QUOTE_LIMIT = 256;

/** What needs no escape: printable ASCII but `"` and `\`. The common case, tested in one go. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * `value` escaped and cut to at most `limit` characters; when cut, a note of
 * how many bytes were left out follows. Request data reaches portico as
 * latin1 (one character per byte); anything wider is escaped as its UTF-8
 * bytes.
 */
export function quoteForLog(value: string, limit: number = LOG_QUOTE_LIMIT): string {
  if (value.length <= limit && PLAIN.test(value)) return value;
  let out = '';
  let i = 0;
  for (; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const piece = code >= 0x20 && code < 0x7f && code !== 0x5c && code !== 0x22 ? (value[i] as string) : escapeCharAt(value, i);
    if (out.length + piece.length > limit) break;
    out += piece;
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < value.length) i++; // a surrogate pair was escaped whole
  }
  if (i >= value.length) return out;
  return `${out}...[${byteLength(value.slice(i))} more bytes]`;
}

/** Bytes as the client sent them: one per latin1 character, else UTF-8's. */
function byteLength(value: string): number {
  return /[^\u0000-\u00ff]/.test(value) ? Buffer.byteLength(value, 'utf8') : value.length;
}

function escapeCharAt(value: string, i: number): string {
  const code = value.charCodeAt(i);
  if (code <= 0xff) return hex(code);
  const char = String.fromCodePoint(value.codePointAt(i) as number);
  return [...Buffer.from(char, 'utf8')].map(hex).join('');
}

function hex(byte: number): string {
  return `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}
