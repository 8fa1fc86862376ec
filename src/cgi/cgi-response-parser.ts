/**
 * The header block at the start of a CGI script's output (RFC 3875 §6):
 *
 *     CGI-Response = document-response | local-redir-response |
 *                    client-redir-response | client-redirdoc-response
 *     header-field = CGI-field | other-field
 *     CGI-field    = Content-Type | Location | Status
 *     NL           = CR LF | LF          (§6.3: scripts may end lines either way)
 *
 * Fed the output chunk by chunk; returns the parsed block once the empty
 * line that ends it has arrived, with whatever body bytes came along.
 */
import { CgiBadHeaderError } from './cgi-errors.js';

/** RFC 9110 §5.6.2: field-name = token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** §6.3.3: Status = "Status:" status-code SP reason-phrase NL; status-code = 3digit. */
const STATUS_VALUE = /^(\d{3})(?:[ \t]+(.*))?$/;
/** RFC 3986 §3.1: a scheme makes the Location an absolute URI (§6.3.2 client redirect). */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** RFC 9110 §5.5: no CR, LF or NUL inside a field value (other controls but HTAB are refused too). */
const FORBIDDEN_IN_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) describe the connection the front
 * owns, not the script's response; Content-Length is checked separately.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** More than this before the empty line is not a header block. */
export const MAX_HEADER_BLOCK = 64 * 1024;

export type CgiLocation =
  /** §6.2.2: a path on this server, to be fetched with GET as a new request. */
  | { kind: 'local'; path: string }
  /** §6.2.3, §6.2.4: a URI for the client. */
  | { kind: 'client'; uri: string };

export interface CgiResponseHead {
  /** From Status (§6.3.3); null when the script sent none. */
  status: number | null;
  reason: string | null;
  location: CgiLocation | null;
  /** Every header for the client, including Content-Type, in order, names as the script spelled them. */
  headers: Array<[string, string]>;
  /** Output that followed the empty line: the start of the body. */
  body: Buffer;
}

export class CgiResponseParser {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #done = false;

  /** Bytes taken so far without completing the block. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Takes the next chunk of output; the head once it is complete, else null. Throws CgiBadHeaderError. */
  push(chunk: Buffer): CgiResponseHead | null {
    if (this.#done) throw new Error('CgiResponseParser: header block already parsed');
    // Searching from a little before the new chunk finds an end split across chunks.
    const searchFrom = Math.max(0, this.#pendingBytes - 3);
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const buffer = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending);
    this.#pending = [buffer];
    const end = findBlockEnd(buffer, searchFrom);
    if (end === null) {
      if (this.#pendingBytes > MAX_HEADER_BLOCK) throw new CgiBadHeaderError(`no end of the header block in the first ${MAX_HEADER_BLOCK} bytes`);
      return null;
    }
    if (end.headEnd > MAX_HEADER_BLOCK) throw new CgiBadHeaderError(`header block longer than ${MAX_HEADER_BLOCK} bytes`);
    this.#done = true;
    this.#pending = [];
    return parseHead(buffer.subarray(0, end.headEnd).toString('latin1'), buffer.subarray(end.bodyStart));
  }
}

/** Where the first empty line is: LF LF, LF CR LF (covering CRLF CRLF and mixes). */
function findBlockEnd(buffer: Buffer, from: number): { headEnd: number; bodyStart: number } | null {
  // An output that starts with an empty line has an empty header block, which §6.2 does not allow; parseHead says so.
  if (from === 0 && buffer[0] === 0x0a) return { headEnd: 0, bodyStart: 1 };
  if (from === 0 && buffer[0] === 0x0d && buffer[1] === 0x0a) return { headEnd: 0, bodyStart: 2 };
  for (let i = buffer.indexOf(0x0a, from); i !== -1; i = buffer.indexOf(0x0a, i + 1)) {
    if (buffer[i + 1] === 0x0a) return { headEnd: i + 1, bodyStart: i + 2 };
    if (buffer[i + 1] === 0x0d && buffer[i + 2] === 0x0a) return { headEnd: i + 1, bodyStart: i + 3 };
  }
  return null;
}

function parseHead(text: string, body: Buffer): CgiResponseHead {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines[lines.length - 1] === '') lines.pop();
  const fields: Array<[string, string]> = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      // Obsolete line folding (RFC 9112 §5.2): old scripts still emit it; a space replaces the fold.
      const last = fields[fields.length - 1] as [string, string];
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CgiBadHeaderError(`not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new CgiBadHeaderError(`invalid header name ${JSON.stringify(name.slice(0, 80))}`);
    fields.push([name, line.slice(colon + 1).trim()]);
  }

  let status: number | null = null;
  let reason: string | null = null;
  let location: CgiLocation | null = null;
  let sawContentType = false;
  const headers: Array<[string, string]> = [];
  for (const [name, value] of fields) {
    if (FORBIDDEN_IN_VALUE.test(value)) throw new CgiBadHeaderError(`header ${name} has a control character in its value`);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const match = STATUS_VALUE.exec(value);
      const code = match === null ? NaN : Number(match[1]);
      // 1xx are interim responses, which a script's one response cannot be.
      if (!(code >= 200 && code <= 599)) throw new CgiBadHeaderError(`invalid Status '${value}'`);
      status = code;
      reason = match?.[2] ? match[2] : null;
    } else if (lower === 'location') {
      if (value === '') throw new CgiBadHeaderError('empty Location');
      // §6.2.2: local-Location = "/" path-abs; '//host/...' is a network-path reference for the client.
      location = value.startsWith('/') && !value.startsWith('//') ? { kind: 'local', path: value } : { kind: 'client', uri: value };
      headers.push([name, value]);
    } else if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw new CgiBadHeaderError(`invalid Content-Length '${value}'`);
      headers.push([name, value]);
    } else if (!HOP_BY_HOP.has(lower)) {
      if (lower === 'content-type') sawContentType = true;
      headers.push([name, value]);
    }
  }
  // §6.2: every response has at least one CGI field.
  if (status === null && location === null && !sawContentType) {
    throw new CgiBadHeaderError('the header block has none of Content-Type, Location, Status');
  }
  if (location?.kind === 'client' && !ABSOLUTE_URI.test(location.uri) && !location.uri.startsWith('//')) {
    throw new CgiBadHeaderError(`Location '${location.uri}' is neither a local path nor an absolute URI`);
  }
  return { status, reason, location, headers, body };
}
