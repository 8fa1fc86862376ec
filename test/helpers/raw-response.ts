/**
 * The one parser for the bytes a raw socket received: it splits them into
 * HTTP/1.x responses exactly as framed on the wire (Content-Length, chunked,
 * or until close), so tests can see framing that an HTTP client would hide
 * or forgive. It reads them in one of two ways:
 *
 * - `parseResponses`, lenient: reads what it can and leaves the rest, takes
 *   `Content-Length: 0x5` for 5 and any HTTP/x.y status line. For tests
 *   that look at what came back.
 * - `parseStrictResponses`, strict: holds every byte to the HTTP/1.1
 *   response grammar and framing (RFC 9112) with nothing forgiven, and says
 *   what is wrong instead of throwing. For the conformance and fuzz runs,
 *   where the bytes themselves are on trial.
 */

export type Framing = 'content-length' | 'chunked' | 'close' | 'none';

export interface RawResponse {
  version: string;
  status: number;
  reason: string;
  /** In wire order, names as sent. */
  headers: Array<[string, string]>;
  head: string;
  body: Buffer;
  framing: Framing;
}

export interface ParseResult {
  responses: RawResponse[];
  /** Bytes after the last complete response: a response still arriving or cut short. */
  rest: Buffer;
}

export interface StrictParse extends ParseResult {
  /** The well-formed responses, in order, up to the first problem. */
  responses: RawResponse[];
  /** What is wrong, if anything: at most one, since nothing after a framing error can be read. */
  problem: string | null;
}

/** All values of a header, case-insensitively. */
export function headerValues(response: RawResponse, name: string): string[] {
  const lower = name.toLowerCase();
  return response.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

export function header(response: RawResponse, name: string): string | undefined {
  const values = headerValues(response, name);
  return values.length === 0 ? undefined : values.join(', ');
}

/** The head and whatever body bytes followed it, however the response was framed or cut. */
export function splitHead(buf: Buffer): { head: string; afterHead: Buffer } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  return { head: buf.subarray(0, headEnd).toString('latin1'), afterHead: buf.subarray(headEnd + 4) };
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ]     (RFC 9112 §4)
// reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
const STATUS_LINE = /^HTTP\/1\.1 ([1-5][0-9]{2}) ([\t\x20-\x7e\x80-\xff]*)$/;
// field-line = field-name ":" OWS field-value OWS                   (RFC 9112 §5)
// field-name = token; field-value = *field-content (VCHAR, obs-text, SP/HTAB inside)
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*((?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?)[\t ]*$/;
// Content-Length = 1*DIGIT                                           (RFC 9110 §8.6)
const CONTENT_LENGTH = /^[0-9]+$/;
// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF              (RFC 9112 §7.1)
const CHUNK_LINE = /^([0-9A-Fa-f]+)(?:[\t ]*;[\t ]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[\t ]*=[\t ]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/;
/** What the lenient reading takes for a status line. */
const LOOSE_STATUS_LINE = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/;

/** The bytes so far end inside a response: wait for more, or (closed) it was cut short. */
class Incomplete extends Error {}

interface Reading {
  strict: boolean;
  closed: boolean;
  /** This response answers a HEAD request. */
  noBody: boolean;
}

/**
 * Splits `buf` into complete responses, leniently. Throws on bytes that are
 * no response at all (a head it cannot read, a broken chunk).
 * @param closed whether the server closed the connection (ends a close-delimited body)
 * @param noBody says, by position, which responses answer a HEAD request
 */
export function parseResponses(buf: Buffer, closed: boolean, noBody: (index: number) => boolean = () => false): ParseResult {
  const responses: RawResponse[] = [];
  let pos = 0;
  try {
    while (pos < buf.length) {
      const { response, end } = readResponse(buf, pos, { strict: false, closed, noBody: noBody(responses.length) });
      responses.push(response);
      pos = end;
    }
  } catch (error) {
    if (!(error instanceof Incomplete)) throw error;
  }
  return { responses, rest: buf.subarray(pos) };
}

/**
 * Splits `buf` into responses, strictly: every byte must belong to a
 * well-formed response.
 * @param closed whether the server has closed the connection: it ends a
 *   close-delimited body, and makes any bytes after the last response a problem.
 */
export function parseStrictResponses(buf: Buffer, closed: boolean): StrictParse {
  const responses: RawResponse[] = [];
  let pos = 0;
  try {
    while (pos < buf.length) {
      const { response, end } = readResponse(buf, pos, { strict: true, closed, noBody: false });
      responses.push(response);
      pos = end;
    }
  } catch (error) {
    const rest = buf.subarray(pos);
    if (!(error instanceof Incomplete)) return { responses, problem: `response ${responses.length + 1}: ${(error as Error).message}`, rest };
    if (closed) return { responses, problem: `the connection closed ${rest.length} bytes into response ${responses.length + 1} (${(error as Error).message}): ${JSON.stringify(rest.toString('latin1').slice(0, 80))}`, rest };
    return { responses, problem: null, rest };
  }
  return { responses, problem: null, rest: buf.subarray(pos) };
}

function readResponse(buf: Buffer, start: number, reading: Reading): { response: RawResponse; end: number } {
  const headEnd = buf.indexOf('\r\n\r\n', start);
  if (headEnd < 0) {
    if (reading.strict) checkHeadSoFar(buf.subarray(start).toString('latin1'));
    throw new Incomplete('no end of head');
  }
  const head = buf.subarray(start, headEnd).toString('latin1');
  const base = reading.strict ? readStrictHead(head) : readLooseHead(head);
  const { status } = base;
  const values = (name: string): string[] => base.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  const te = values('transfer-encoding');
  const cl = values('content-length');
  const bodyStart = headEnd + 4;
  // RFC 9110 §8.6, RFC 9112 §6.1: no framing fields on 1xx and 204.
  if (reading.strict && (status < 200 || status === 204) && (te.length > 0 || cl.length > 0)) throw new Error(`${status} with Content-Length or Transfer-Encoding`);
  // RFC 9112 §6.3 rule 1: these never have a body; nor has the answer to a HEAD.
  if (status < 200 || status === 204 || status === 304 || reading.noBody) return { response: { ...base, body: Buffer.alloc(0), framing: 'none' }, end: bodyStart };
  if (reading.strict) {
    // RFC 9112 §6.2: "A sender MUST NOT send a Content-Length header field in any message that contains a Transfer-Encoding header field."
    if (te.length > 0 && cl.length > 0) throw new Error('both Content-Length and Transfer-Encoding');
    if (te.length > 0 && (te.length > 1 || te[0]?.toLowerCase() !== 'chunked')) throw new Error(`Transfer-Encoding ${JSON.stringify(te)}`);
    if (cl.length > 1) throw new Error(`${cl.length} Content-Length fields`);
    if (cl.length > 0 && !CONTENT_LENGTH.test(cl[0] as string)) throw new Error(`Content-Length ${JSON.stringify(cl[0])}`);
  }
  if (te.length > 0 && /chunked/i.test(te[0] as string)) {
    const { body, end } = readChunked(buf, bodyStart, reading.strict);
    return { response: { ...base, body, framing: 'chunked' }, end };
  }
  if (cl.length > 0) {
    const length = Number(cl[0]);
    if (buf.length < bodyStart + length) throw new Incomplete(`${buf.length - bodyStart} of ${length} body bytes`);
    return { response: { ...base, body: buf.subarray(bodyStart, bodyStart + length), framing: 'content-length' }, end: bodyStart + length };
  }
  // RFC 9112 §6.3 rule 8: the body runs to the close.
  if (!reading.closed) throw new Incomplete('close-delimited body');
  return { response: { ...base, body: buf.subarray(bodyStart), framing: 'close' }, end: buf.length };
}

type Head = Omit<RawResponse, 'body' | 'framing'>;

function readStrictHead(head: string): Head {
  if (/[\r\n]/.test(head.replace(/\r\n/g, ''))) throw new Error(`bare CR or LF in the head: ${JSON.stringify(head.slice(0, 120))}`);
  const [statusLine, ...fieldLines] = head.split('\r\n');
  const status = STATUS_LINE.exec(statusLine ?? '');
  if (status === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers: Array<[string, string]> = fieldLines.map((line) => {
    const field = FIELD_LINE.exec(line);
    if (field === null) throw new Error(`bad header field line ${JSON.stringify(line)}`);
    return [field[1] as string, field[2] as string];
  });
  return { version: 'HTTP/1.1', status: Number(status[1]), reason: status[2] as string, headers, head };
}

function readLooseHead(head: string): Head {
  const lines = head.split('\r\n');
  const statusLine = LOOSE_STATUS_LINE.exec(lines[0] ?? '');
  if (statusLine === null) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { version: statusLine[1] as string, status: Number(statusLine[2]), reason: statusLine[3] ?? '', headers, head };
}

/** The part of a head received so far must already be well formed line by line. */
function checkHeadSoFar(text: string): void {
  const lines = text.split('\r\n');
  const last = lines.pop() ?? '';
  if (lines.length > 0 && !STATUS_LINE.test(lines[0] as string)) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  if (lines.length === 0 && !'HTTP/1.1 '.startsWith(last.slice(0, 9))) throw new Error(`not a status line: ${JSON.stringify(last.slice(0, 40))}`);
  for (const line of lines.slice(1)) if (!FIELD_LINE.test(line)) throw new Error(`bad header field line ${JSON.stringify(line)}`);
}

/**
 * Decodes a chunked body starting at `start`. Strictly, each size line and
 * trailer must match the grammar; leniently, a size line is read up to its
 * first ';' and trailers are skipped unread.
 */
function readChunked(buf: Buffer, start: number, strict: boolean): { body: Buffer; end: number } {
  const parts: Buffer[] = [];
  let pos = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) throw new Incomplete('chunk size line');
    const line = buf.subarray(pos, lineEnd).toString('latin1');
    const sizeText = strict ? CHUNK_LINE.exec(line)?.[1] : /^[0-9a-fA-F]+$/.exec(line.split(';')[0]?.trim() ?? '')?.[0];
    if (sizeText === undefined) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) {
      // trailer-section = *( field-line CRLF ), then CRLF
      for (;;) {
        const trailerEnd = buf.indexOf('\r\n', pos);
        if (trailerEnd < 0) throw new Incomplete('trailer section');
        const trailer = buf.subarray(pos, trailerEnd).toString('latin1');
        pos = trailerEnd + 2;
        if (trailer === '') return { body: Buffer.concat(parts), end: pos };
        if (strict && !FIELD_LINE.test(trailer)) throw new Error(`bad trailer field line ${JSON.stringify(trailer)}`);
      }
    }
    if (buf.length < pos + size + 2) throw new Incomplete('chunk data');
    parts.push(buf.subarray(pos, pos + size));
    if (buf.subarray(pos + size, pos + size + 2).toString('latin1') !== '\r\n') throw new Error('chunk data not followed by CRLF');
    pos += size + 2;
  }
}
