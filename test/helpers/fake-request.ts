/**
 * A stand-in for node's IncomingMessage with only what the environ builders
 * read (url, method, httpVersion, rawHeaders, headers, socket), for unit
 * tests that need no connection.
 */
import type { IncomingMessage } from 'node:http';

export interface FakeRequestOptions {
  url?: string;
  method?: string;
  /** '1.1' unless given. */
  httpVersion?: string;
  /** Names and values alternating, in wire order, names as sent. */
  rawHeaders?: string[];
}

/**
 * `headers` is built from `rawHeaders` by lower-cased name, the last value
 * winning: tests that care how repeated fields combine read `rawHeaders`,
 * as the code under test does.
 */
export function fakeRequest(options: FakeRequestOptions = {}): IncomingMessage {
  const rawHeaders = options.rawHeaders ?? [];
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[(rawHeaders[i] as string).toLowerCase()] = rawHeaders[i + 1] as string;
  return {
    url: options.url ?? '/',
    method: options.method ?? 'GET',
    httpVersion: options.httpVersion ?? '1.1',
    rawHeaders,
    headers,
    socket: { remoteAddress: '127.0.0.1', remotePort: 54321 },
  } as unknown as IncomingMessage;
}
