/**
 * The protocol-neutral head of a request: the REQUEST block under HAS_HEAD
 * (docs/protocol.md "The request head"). Mirrors python/portico/request_head.py.
 *
 * A WSGI environ cannot give back what an ASGI scope needs (ASGI HTTP &
 * WebSocket spec, "HTTP Connection Scope"): the header list with its order
 * and duplicates, the path as received, the server as a (host, port) pair.
 * So the front sends these as they are, in a block of their own. WSGI mounts
 * get no head: their environ is built as before, at no extra cost.
 *
 *     u16 length, method            ASCII, as received
 *     u16 length, scheme            "http" | "https"
 *     u16 length, http_version      "1.0" | "1.1" | "2"
 *     u32 length, path              percent-decoded, dot-normalised: SCRIPT_NAME + PATH_INFO
 *     u32 length, raw_path          the request target's path as received, no query
 *     u32 length, query_string      as received, without "?"
 *     u32 length, root_path         the mount prefix, or --root-path
 *     address client                none when unknown
 *     address server
 *     { u16 name length, name, u32 value length, value } ...   the header fields, to the
 *                                   end of the block: in order, duplicates kept, names
 *                                   lowercased (the encoders do it; RFC 9110 5.1)
 *
 *     address = u8 kind: 0 none | 1 host and port: u16 length, host (UTF-8), u16 port
 *                               | 2 UNIX socket: u16 length, path (UTF-8)
 *
 * Byte fields travel as latin-1 strings ("bytes-as-str", as environ values
 * do), so each character is one byte on the wire.
 */
import { FrameProtocolError } from '../errors.js';
import { readFlatPairs, writeLatin1 } from './pair-list.js';

/** ASGI's shape: [host, port], or [UNIX socket path, null]. */
export type Address = readonly [host: string, port: number | null];

export interface RequestHead {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly httpVersion: '1.0' | '1.1' | '2';
  /** latin-1 (bytes-as-str), as are the three fields below. */
  readonly path: string;
  readonly rawPath: string;
  readonly queryString: string;
  readonly rootPath: string;
  /** name, value, name, value, ... as Node's rawHeaders has them; values latin-1. */
  readonly headers: readonly string[];
  readonly client: Address | null;
  readonly server: Address;
}

const NO_ADDRESS = 0;
const HOST_PORT = 1;
const UNIX_PATH = 2;

function addressLength(address: Address | null): number {
  if (address === null) return 1;
  return 3 + Buffer.byteLength(address[0], 'utf8') + (address[1] === null ? 0 : 2);
}

/** The bytes the head block takes, without its u32 length prefix. */
export function requestHeadLength(head: RequestHead): number {
  let length = 6 + head.method.length + head.scheme.length + head.httpVersion.length;
  length += 16 + head.path.length + head.rawPath.length + head.queryString.length + head.rootPath.length;
  length += addressLength(head.client) + addressLength(head.server);
  const headers = head.headers;
  for (let i = 0; i < headers.length; i++) length += (i % 2 === 0 ? 2 : 4) + (headers[i] as string).length;
  return length;
}

/** Writes the head block at `at` (requestHeadLength bytes); returns the offset after it. */
export function writeRequestHead(target: Buffer, at: number, head: RequestHead): number {
  for (const text of [head.method, head.scheme, head.httpVersion]) {
    at = target.writeUInt16BE(text.length, at);
    at = writeLatin1(target, at, text);
  }
  for (const bytes of [head.path, head.rawPath, head.queryString, head.rootPath]) {
    at = target.writeUInt32BE(bytes.length, at);
    at = writeLatin1(target, at, bytes);
  }
  at = writeAddress(target, at, head.client);
  at = writeAddress(target, at, head.server);
  const headers = head.headers;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    at = target.writeUInt16BE(name.length, at);
    for (let j = 0; j < name.length; j++) {
      const code = name.charCodeAt(j);
      // RFC 9110 5.1: field names are case-insensitive; ASGI wants them lowercased.
      target[at++] = code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
    }
    at = target.writeUInt32BE(value.length, at);
    at = writeLatin1(target, at, value);
  }
  return at;
}

function writeAddress(target: Buffer, at: number, address: Address | null): number {
  if (address === null) {
    target[at] = NO_ADDRESS;
    return at + 1;
  }
  const [host, port] = address;
  target[at] = port === null ? UNIX_PATH : HOST_PORT;
  const length = target.write(host, at + 3, 'utf8');
  target.writeUInt16BE(length, at + 1);
  at += 3 + length;
  return port === null ? at : target.writeUInt16BE(port, at);
}

/** The head block alone, for tools and tests; encodeRequest writes it straight into the REQUEST frame. */
export function encodeRequestHead(head: RequestHead): Buffer {
  const block = Buffer.allocUnsafe(requestHeadLength(head));
  writeRequestHead(block, 0, head);
  return block;
}

export function decodeRequestHead(block: Buffer): RequestHead {
  const reader = new BlockReader(block);
  const method = reader.text(2);
  const scheme = reader.text(2) as RequestHead['scheme'];
  const httpVersion = reader.text(2) as RequestHead['httpVersion'];
  const path = reader.text(4);
  const rawPath = reader.text(4);
  const queryString = reader.text(4);
  const rootPath = reader.text(4);
  const client = reader.address();
  const server = reader.address();
  if (server === null) throw new FrameProtocolError('a request head without a server address');
  return { method, scheme, httpVersion, path, rawPath, queryString, rootPath, headers: readFlatPairs(block, reader.at), client, server };
}

class BlockReader {
  at = 0;
  readonly #block: Buffer;

  constructor(block: Buffer) {
    this.#block = block;
  }

  #need(bytes: number): void {
    if (this.at + bytes > this.#block.length) throw new FrameProtocolError('a request head field overruns its block');
  }

  #number(size: 1 | 2 | 4): number {
    this.#need(size);
    const value = size === 1 ? (this.#block[this.at] as number) : size === 2 ? this.#block.readUInt16BE(this.at) : this.#block.readUInt32BE(this.at);
    this.at += size;
    return value;
  }

  text(lengthSize: 2 | 4, encoding: BufferEncoding = 'latin1'): string {
    const length = this.#number(lengthSize);
    this.#need(length);
    const text = this.#block.toString(encoding, this.at, this.at + length);
    this.at += length;
    return text;
  }

  address(): Address | null {
    const kind = this.#number(1);
    if (kind === NO_ADDRESS) return null;
    const host = this.text(2, 'utf8');
    if (kind === UNIX_PATH) return [host, null];
    if (kind === HOST_PORT) return [host, this.#number(2)];
    throw new FrameProtocolError(`unknown address kind ${kind} in a request head`);
  }
}
