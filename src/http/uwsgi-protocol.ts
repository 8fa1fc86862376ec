/**
 * The uwsgi protocol, as nginx's uwsgi_pass and Apache's mod_proxy_uwsgi
 * speak it to an application server (uWSGI's docs, "The uwsgi protocol"):
 *
 *   +-----------+----------------------+-----------+---------------------------------------------+------
 *   | modifier1 | datasize (u16 LE)    | modifier2 | vars: { u16 LE key length, key,             | body
 *   | 0: WSGI   |                      | 0         |         u16 LE value length, value } ...    | (CONTENT_LENGTH)
 *   +-----------+----------------------+-----------+---------------------------------------------+------
 *
 * One request per connection; the response is plain HTTP on the same
 * connection, as uWSGI answers. portico rebuilds an HTTP/1.x request head
 * from the variables and hands the connection to the same HTTP server as
 * any other (connection-preface.ts), so every limit, check and the router
 * apply unchanged. Header names are rebuilt from HTTP_* with '-' for '_',
 * so no name with an underscore ever reaches an application this way.
 */
import type { Socket } from 'node:net';
import type { PrefaceReader, PrefaceResult } from './connection-preface.js';
import type { Trust } from './proxy-headers.js';
import { quoteForLog } from '../observability/quote-for-log.js';

const PACKET_HEADER = 4;
/** RFC 9110 §5.6.2 token, for the method. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What may not stand in a request line or a field value (RFC 9112 §3, RFC 9110 §5.5). */
const UNSAFE = /[\0\r\n]/;
/** Variables that are the connection's, not the request's: the rebuilt head says its own. */
const HOP_BY_HOP = new Set(['HTTP_CONNECTION', 'HTTP_KEEP_ALIVE', 'HTTP_TRANSFER_ENCODING', 'HTTP_UPGRADE', 'HTTP_TE', 'HTTP_PROXY']);
/**
 * nginx passes the client's own Content-Length and Content-Type as HTTP_*
 * too, beside the CGI variables it sets for the body it actually sends
 * (it may have de-chunked or buffered it): the CGI ones are the truth.
 */
const BODY_FIELDS = new Set(['HTTP_CONTENT_LENGTH', 'HTTP_CONTENT_TYPE']);

/** A uwsgi reader for a listener; `allowFrom` says which peers may speak it (--uwsgi-allow-from). */
export function uwsgiReader(allowFrom: Trust): PrefaceReader {
  return {
    name: 'uwsgi packet',
    parse: parseUwsgiPacket,
    refuse(socket: Socket): string | null {
      // A UNIX socket has no peer address: its file's permissions say who may connect.
      const address = socket.remoteAddress;
      if (address === undefined || allowFrom(address, 0)) return null;
      return `uwsgi from ${address}, which --uwsgi-allow-from does not name`;
    },
  };
}

export function parseUwsgiPacket(buf: Buffer): PrefaceResult {
  if (buf.length < PACKET_HEADER) return { kind: 'incomplete' };
  if (buf[0] !== 0) return { kind: 'invalid', reason: `uwsgi modifier1 ${buf[0]} is not 0 (a WSGI request)` };
  const size = buf.readUInt16LE(1);
  if (buf.length < PACKET_HEADER + size) return { kind: 'incomplete' };
  const vars = new Map<string, string>();
  let at = PACKET_HEADER;
  const end = PACKET_HEADER + size;
  while (at < end) {
    if (at + 2 > end) return { kind: 'invalid', reason: 'uwsgi variable block cut short' };
    const keyLength = buf.readUInt16LE(at);
    const keyEnd = at + 2 + keyLength;
    if (keyEnd + 2 > end) return { kind: 'invalid', reason: 'uwsgi variable block cut short' };
    const valueEnd = keyEnd + 2 + buf.readUInt16LE(keyEnd);
    if (valueEnd > end) return { kind: 'invalid', reason: 'uwsgi variable block cut short' };
    // A repeated variable is ambiguous: the request is refused rather than read one way.
    const key = buf.toString('latin1', at + 2, keyEnd);
    if (vars.has(key)) return { kind: 'invalid', reason: `uwsgi variable ${quoteForLog(key)} given twice` };
    vars.set(key, buf.toString('latin1', keyEnd + 2, valueEnd));
    at = valueEnd;
  }
  const head = requestHead(vars);
  if ('fault' in head) return { kind: 'invalid', reason: head.fault };
  const port = Number(vars.get('REMOTE_PORT'));
  const address = vars.get('REMOTE_ADDR');
  return {
    kind: 'done',
    length: end,
    peer: address === undefined || address === '' ? null : { address, port: Number.isInteger(port) ? port : null, tls: isTls(vars) },
    replacement: Buffer.from(head.head, 'latin1'),
  };
}

/** The HTTP/1.x head the variables stand for, or why they cannot be one. */
function requestHead(vars: Map<string, string>): { head: string } | { fault: string } {
  const method = vars.get('REQUEST_METHOD') ?? '';
  if (!TOKEN.test(method)) return { fault: `uwsgi REQUEST_METHOD '${quoteForLog(method)}' is not a method` };
  const query = vars.get('QUERY_STRING') ?? '';
  const target = vars.get('REQUEST_URI') ?? (vars.get('PATH_INFO') ?? '/') + (query === '' ? '' : `?${query}`);
  if (!target.startsWith('/') || /[\s\0]/.test(target)) return { fault: 'uwsgi REQUEST_URI is not an origin-form target' };
  const version = vars.get('SERVER_PROTOCOL') === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  const lines = [`${method} ${target} ${version}`];
  for (const [key, value] of vars) {
    let name: string;
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') {
      if (value === '') continue;
      name = key === 'CONTENT_TYPE' ? 'Content-Type' : 'Content-Length';
    } else if (key.startsWith('HTTP_') && !HOP_BY_HOP.has(key) && !BODY_FIELDS.has(key)) {
      name = key.slice(5).split('_').map((word) => word.charAt(0) + word.slice(1).toLowerCase()).join('-');
    } else {
      continue;
    }
    if (!TOKEN.test(name) || UNSAFE.test(value)) return { fault: `uwsgi variable ${quoteForLog(key)} is not a header field` };
    lines.push(`${name}: ${value}`);
  }
  const serverName = vars.get('SERVER_NAME');
  if (!vars.has('HTTP_HOST') && serverName !== undefined && !UNSAFE.test(serverName)) lines.push(`Host: ${serverName}`);
  // One request per connection, as uwsgi has it: the response ends the connection.
  lines.push('Connection: close');
  return { head: lines.join('\r\n') + '\r\n\r\n' };
}

/** nginx's uwsgi_params say HTTPS=on (and REQUEST_SCHEME) for a request it took over TLS. */
function isTls(vars: Map<string, string>): boolean {
  return vars.get('HTTPS')?.toLowerCase() === 'on' || vars.get('REQUEST_SCHEME') === 'https';
}
