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
 *     u8 tls                        0: not over TLS | 1: a TLS block follows
 *     { u16 name length, name, u32 value length, value } ...   the header fields, to the
 *                                   end of the block: in order, duplicates kept, names
 *                                   lowercased (the encoders do it; RFC 9110 5.1)
 *
 *     address = u8 kind: 0 none | 1 host and port: u16 length, host (UTF-8), u16 port
 *                               | 2 UNIX socket: u16 length, path (UTF-8)
 *
 *     TLS block, for the ASGI TLS extension (asgiref "TLS extension"):
 *       u16 tls_version           0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 unknown
 *       u16 cipher_suite          its IANA number; 0 unknown (0x0000 is never negotiated)
 *       u32 length, server_cert   PEM; empty when unknown
 *       u16 length, client_cert_name   RFC 4514 (UTF-8); empty without a client certificate
 *       u16 count, { u32 length, PEM } ...   client_cert_chain, the client's own first
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
  /** The connection's TLS, as the ASGI TLS extension gives it; null when not over TLS. */
  readonly tls: TlsExtension | null;
}

/** ASGI's TLS extension, but client_cert_error: a certificate that fails verification never gets a request through. */
export interface TlsExtension {
  readonly tlsVersion: number | null;
  readonly cipherSuite: number | null;
  readonly serverCert: string | null;
  readonly clientCertChain: readonly string[];
  readonly clientCertName: string | null;
}

const NO_ADDRESS = 0;
const HOST_PORT = 1;
const UNIX_PATH = 2;

function tlsLength(tls: TlsExtension | null): number {
  if (tls === null) return 1;
  let length = 1 + 4 + 4 + Buffer.byteLength(tls.serverCert ?? '', 'utf8') + 2 + Buffer.byteLength(tls.clientCertName ?? '', 'utf8') + 2;
  for (const pem of tls.clientCertChain) length += 4 + Buffer.byteLength(pem, 'utf8');
  return length;
}

function addressLength(address: Address | null): number {
  if (address === null) return 1;
  return 3 + Buffer.byteLength(address[0], 'utf8') + (address[1] === null ? 0 : 2);
}

/** The bytes the head block takes, without its u32 length prefix. */
export function requestHeadLength(head: RequestHead): number {
  let length = 6 + head.method.length + head.scheme.length + head.httpVersion.length;
  length += 16 + head.path.length + head.rawPath.length + head.queryString.length + head.rootPath.length;
  length += addressLength(head.client) + addressLength(head.server) + tlsLength(head.tls);
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
  at = writeTls(target, at, head.tls);
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

function writeTls(target: Buffer, at: number, tls: TlsExtension | null): number {
  target[at++] = tls === null ? 0 : 1;
  if (tls === null) return at;
  at = target.writeUInt16BE(tls.tlsVersion ?? 0, at);
  at = target.writeUInt16BE(tls.cipherSuite ?? 0, at);
  at = writeUtf8(target, at, tls.serverCert ?? '', 4);
  at = writeUtf8(target, at, tls.clientCertName ?? '', 2);
  at = target.writeUInt16BE(tls.clientCertChain.length, at);
  for (const pem of tls.clientCertChain) at = writeUtf8(target, at, pem, 4);
  return at;
}

function writeUtf8(target: Buffer, at: number, text: string, lengthSize: 2 | 4): number {
  const length = target.write(text, at + lengthSize, 'utf8');
  if (lengthSize === 2) target.writeUInt16BE(length, at);
  else target.writeUInt32BE(length, at);
  return at + lengthSize + length;
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
  const tls = reader.tls();
  return { method, scheme, httpVersion, path, rawPath, queryString, rootPath, headers: readFlatPairs(block, reader.at), client, server, tls };
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

  tls(): TlsExtension | null {
    const present = this.#number(1);
    if (present === 0) return null;
    if (present !== 1) throw new FrameProtocolError(`unknown TLS marker ${present} in a request head`);
    const tlsVersion = this.#number(2);
    const cipherSuite = this.#number(2);
    const serverCert = this.text(4, 'utf8');
    const clientCertName = this.text(2, 'utf8');
    const chain: string[] = [];
    for (let count = this.#number(2); count > 0; count--) chain.push(this.text(4, 'utf8'));
    return {
      tlsVersion: tlsVersion === 0 ? null : tlsVersion,
      cipherSuite: cipherSuite === 0 ? null : cipherSuite,
      serverCert: serverCert === '' ? null : serverCert,
      clientCertChain: chain,
      clientCertName: clientCertName === '' ? null : clientCertName,
    };
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
