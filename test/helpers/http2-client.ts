/**
 * What the HTTP/2 tests need of a client: Node's http2 session to a
 * portico listener (TLS with the test CA, or h2c), and one request on it
 * with its whole answer, or with how the stream ended when it was reset.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { readFileSync } from 'node:fs';

export interface Http2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** RST_STREAM's code when the server reset the stream; NO_ERROR (0) for a stream that ended normally. */
  rstCode: number;
}

/** A session to `url` (https: over TLS with ALPN h2, trusting `ca`; http: h2c with prior knowledge); resolves once connected. */
export function openSession(url: string, options: { ca?: string } = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(url, { ...(options.ca === undefined ? {} : { ca: readFileSync(options.ca) }), servername: 'localhost' });
    session.once('connect', () => {
      session.off('error', reject);
      // An answer of the tests' own (GOAWAY, a reset session) is asserted on, not thrown.
      session.on('error', () => {});
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** One request on `session`; rejects only when it gets no answer within `timeoutMs`. */
export function h2Request(
  session: ClientHttp2Session,
  path: string,
  /** `keepOpen`: send no body and leave the request side open, as a client that waits for an early answer. */
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer | string | null; keepOpen?: boolean; timeoutMs?: number } = {},
): Promise<Http2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': options.method ?? 'GET', ':path': path, ...options.headers }, { endStream: options.keepOpen !== true && (options.body === undefined || options.body === null) });
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const timer = setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      reject(new Error(`no answer to ${path} within ${options.timeoutMs ?? 15_000} ms`));
    }, options.timeoutMs ?? 15_000);
    stream.on('response', (head) => {
      headers = head;
      status = Number(head[':status']);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {});
    stream.on('close', () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      resolve({ status, headers, body, text: body.toString('utf8'), rstCode: stream.rstCode ?? 0 });
    });
    if (options.body !== undefined && options.body !== null) stream.end(options.body);
  });
}

/** Closes a session and waits until it is gone. */
export function closeSession(session: ClientHttp2Session): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.close(() => resolve()));
}
