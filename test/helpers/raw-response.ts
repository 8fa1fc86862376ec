/**
 * A strict little parser for the bytes a raw socket received: it splits them
 * into HTTP/1.x responses exactly as framed on the wire (Content-Length,
 * chunked, or until close), so tests can see framing that an HTTP client
 * would hide or forgive.
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

/** All values of a header, case-insensitively. */
export function headerValues(response: RawResponse, name: string): string[] {
  const lower = name.toLowerCase();
  return response.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

export function header(response: RawResponse, name: string): string | undefined {
  const values = headerValues(response, name);
  return values.length === 0 ? undefined : values.join(', ');
}

function parseHead(head: string): Omit<RawResponse, 'body' | 'framing'> {
  const lines = head.split('\r\n');
  const statusLine = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (statusLine === null) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { version: statusLine[1] as string, status: Number(statusLine[2]), reason: statusLine[3] ?? '', headers, head };
}

/** Decodes a chunked body starting at `start`; null while incomplete. */
function readChunked(buf: Buffer, start: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let pos = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) return null;
    const sizeText = buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size line: ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) {
      // Trailers, then an empty line.
      for (;;) {
        const trailerEnd = buf.indexOf('\r\n', pos);
        if (trailerEnd < 0) return null;
        const empty = trailerEnd === pos;
        pos = trailerEnd + 2;
        if (empty) return { body: Buffer.concat(parts), end: pos };
      }
    }
    if (buf.length < pos + size + 2) return null;
    parts.push(buf.subarray(pos, pos + size));
    if (buf.subarray(pos + size, pos + size + 2).toString('latin1') !== '\r\n') throw new Error('chunk not followed by CRLF');
    pos += size + 2;
  }
}

/**
 * Splits `buf` into complete responses.
 * @param closed whether the server closed the connection (ends a close-delimited body)
 * @param noBody says, by position, which responses answer a HEAD request
 */
export function parseResponses(buf: Buffer, closed: boolean, noBody: (index: number) => boolean = () => false): ParseResult {
  const responses: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const parsed = parseHead(buf.subarray(pos, headEnd).toString('latin1'));
    const bodyStart = headEnd + 4;
    const te = parsed.headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1];
    const cl = parsed.headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1];
    const bodiless = parsed.status < 200 || parsed.status === 204 || parsed.status === 304 || noBody(responses.length);
    if (bodiless) {
      responses.push({ ...parsed, body: Buffer.alloc(0), framing: 'none' });
      pos = bodyStart;
    } else if (te !== undefined && /chunked/i.test(te)) {
      const chunked = readChunked(buf, bodyStart);
      if (chunked === null) break;
      responses.push({ ...parsed, body: chunked.body, framing: 'chunked' });
      pos = chunked.end;
    } else if (cl !== undefined) {
      const length = Number(cl);
      if (buf.length < bodyStart + length) break;
      responses.push({ ...parsed, body: buf.subarray(bodyStart, bodyStart + length), framing: 'content-length' });
      pos = bodyStart + length;
    } else {
      if (!closed) break;
      responses.push({ ...parsed, body: buf.subarray(bodyStart), framing: 'close' });
      pos = buf.length;
    }
  }
  return { responses, rest: buf.subarray(pos) };
}

/** The head and whatever body bytes followed it, however the response was framed or cut. */
export function splitHead(buf: Buffer): { head: string; afterHead: Buffer } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  return { head: buf.subarray(0, headEnd).toString('latin1'), afterHead: buf.subarray(headEnd + 4) };
}
