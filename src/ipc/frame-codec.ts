/**
 * The frame protocol between the Node front and a Python worker.
 * Mirrors python/portico/codec.py; both are tested against
 * test/fixtures/golden-frames.json.
 *
 * The channel is the worker's fd 3, a UNIX stream socket, so that nothing
 * the application prints on stdout or stderr can corrupt it. Every frame is a
 * 12-byte header and a payload; integers are big-endian and strings in
 * environ blocks and headers are latin-1 ("bytes-as-str", PEP 3333 §"Unicode
 * Issues").
 *
 *      0        1        2        3        4        5        6        7        8        9       10       11
 *     +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 *     |  type  | flags  |  reserved (0)   |        stream id (u32 BE)         |      payload length (u32 BE)      |
 *     +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 *     | payload ... (at most MAX_PAYLOAD bytes)
 *     +-----------------
 *
 * Type codes 0x01-0x3F go front -> worker, 0x40-0x7F either way, 0x80-0xFF
 * worker -> front. Stream 0 is the channel itself (READY, BOOT_ERROR, STOP,
 * SPAWN, WORKER_EXIT); requests use ids from 1 up, chosen by the front.
 * SPAWN and WORKER_EXIT are spoken only on a --preload zygote's channel.
 * PING and PONG (stream 0) are the front's heartbeat of an ASGI worker's
 * event loop.
 *
 * Payloads:
 *   REQUEST        [ u32 shared length, shared block ]   with SHARED_ENVIRON
 *                  [ u32 head length, head block ]       with HAS_HEAD (request-head.ts)
 *                  the request's own block; a block is repeated { u16 key length, key, u32 value length, value }
 *   RESPONSE_HEAD  u16 status, u16 reason length, reason,
 *                  then repeated { u16 name length, name, u32 value length, value }
 *   WINDOW, WANT_BODY   u32 byte count
 *   PING, PONG     u32 nonce (PONG echoes PING's)
 *   RESPONSE_TRAILERS, EARLY_HINTS   repeated { u16 name length, name, u32 value length, value }
 *   READY          u32 pid, u16 protocol version, u32 capability bits
 *   FILE           u64 offset, u64 length (all ones = to end of file), path bytes
 *   ERROR          u16 status, utf-8 log text
 *   BOOT_ERROR     utf-8 text
 *   WORKER_EXIT    u32 pid, u32 wait status (as waitpid(2) gives it)
 *   WEBSOCKET_*    websocket-payloads.ts (reserved: nobody sends them yet)
 *   REQUEST_BODY, RESPONSE_BODY   raw bytes; the rest are empty.
 */
import { FrameProtocolError } from '../errors.js';
import { pairsLength, readFlatPairs, toPairs, writePairs, type Pairs } from './pair-list.js';
import { decodeRequestHead, requestHeadLength, writeRequestHead, type RequestHead } from './request-head.js';

export type { Pairs } from './pair-list.js';
export type { Address, RequestHead } from './request-head.js';

export const HEADER_SIZE = 12;
export const MAX_PAYLOAD = 16 * 1024 * 1024;

/** After STARTED the front may send this much request body unasked (0 under Expect: 100-continue). */
export const REQUEST_WINDOW = 1024 * 1024;
/** A worker may have this much response body in flight per stream before it waits for WINDOW. */
export const RESPONSE_WINDOW = 1024 * 1024;
/** The largest body chunk either side puts in one frame. */
export const MAX_CHUNK = 256 * 1024;

export const FrameType = {
  // front -> worker
  REQUEST: 0x01,
  REQUEST_BODY: 0x02,
  REQUEST_END: 0x03,
  CANCEL: 0x04,
  WINDOW: 0x05,
  STOP: 0x06,
  SPAWN: 0x07,
  PING: 0x08,
  // either way (RFC 6455 5.5.1, 5.6: both peers send data and close frames)
  WEBSOCKET_MESSAGE: 0x41,
  WEBSOCKET_CLOSE: 0x42,
  // worker -> front
  READY: 0x81,
  BOOT_ERROR: 0x82,
  STARTED: 0x83,
  RESPONSE_HEAD: 0x84,
  RESPONSE_BODY: 0x85,
  RESPONSE_END: 0x86,
  FILE: 0x87,
  WANT_BODY: 0x88,
  ERROR: 0x89,
  WORKER_EXIT: 0x8a,
  WEBSOCKET_ACCEPT: 0x8b,
  PONG: 0x8c,
  RESPONSE_TRAILERS: 0x8d,
  EARLY_HINTS: 0x8e,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];


/**
 * The protocol this codec speaks, announced in READY. The front refuses a
 * worker whose runtime speaks another: the python/ runtime and the front
 * come from different portico versions.
 */
export const PROTOCOL_VERSION = 2;

/** READY's capability bits: what the worker's runtime can serve. */
export const Capability = { WSGI: 0x01, ASGI: 0x02, WEBSOCKET: 0x04 } as const;

/**
 * SHARED_ENVIRON: the REQUEST payload begins with a block of the variables
 * that many requests share (see RequestEnviron), which the worker may decode
 * once and reuse for every REQUEST that carries the same bytes. HAS_HEAD: a
 * protocol-neutral head block follows it (request-head.ts). WEBSOCKET: the
 * request asks to open a WebSocket (RFC 6455 §4.1), for an ASGI websocket
 * scope; it has a head and no body.
 */
export const RequestFlag = { HAS_BODY: 0x01, EXPECT_CONTINUE: 0x02, SHARED_ENVIRON: 0x04, HAS_HEAD: 0x08, WEBSOCKET: 0x10 } as const;
export const RequestEndFlag = { ABORTED: 0x01 } as const;
/**
 * TIMED_OUT: the front gave up on the request (--timeout) and answered 504
 * itself; an ASGI worker cancels the request's task. A CANCEL without it
 * means the client left (or the front refused the response).
 */
export const CancelFlag = { TIMED_OUT: 0x01 } as const;
/**
 * ASGI: the worker runs its application as ASGI (what "auto" resolved to);
 * the front sends it request heads (HAS_HEAD) and pings its event loop.
 */
export const ReadyFlag = { ASGI: 0x01 } as const;
/**
 * ABORT: the response is broken and the connection must carry no other. The
 * front closes it after the declared body if all of that went out (an
 * application that sent more, cut at its Content-Length), at once otherwise.
 */
export const ResponseEndFlag = { ABORT: 0x01 } as const;

/** u64 all ones: a FILE frame that runs to the end of the file. */
const TO_END_OF_FILE = 0xffffffffffffffffn;

/** Header and payload as one fresh buffer. */
export function encodeFrame(type: FrameTypeCode, flags: number, stream: number, payload?: Buffer): Buffer {
  const length = payload === undefined ? 0 : payload.length;
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  writeHeader(frame, 0, type, flags, stream, length);
  if (payload !== undefined) payload.copy(frame, HEADER_SIZE);
  return frame;
}

/**
 * A frame's header alone, for a payload that is sent after it as it is
 * (written together with it, in one writev): large bodies are not copied
 * into a frame of their own.
 */
export function encodeFrameHeader(type: FrameTypeCode, flags: number, stream: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(header, 0, type, flags, stream, length);
  return header;
}

function writeHeader(target: Buffer, at: number, type: number, flags: number, stream: number, length: number): void {
  if (length > MAX_PAYLOAD) throw new FrameProtocolError(`frame payload of ${length} bytes exceeds ${MAX_PAYLOAD}`);
  target[at] = type;
  target[at + 1] = flags;
  target.writeUInt16BE(0, at + 2);
  target.writeUInt32BE(stream, at + 4);
  target.writeUInt32BE(length, at + 8);
}

/**
 * A request's environ in two parts. `shared` holds variables that many
 * requests have in common (the same mount, listener and Host), so that the
 * worker can decode them once; `own` the rest. No name is in both.
 */
export interface RequestEnviron {
  readonly shared: Pairs;
  readonly own: Pairs;
}

/**
 * REQUEST: the environ blocks, and the head when there is one, written
 * straight into the frame without intermediate buffers. The flags follow
 * from the parts: SHARED_ENVIRON with a shared part, HAS_HEAD with a head.
 */
export function encodeRequest(stream: number, flags: number, environ: RequestEnviron, head?: RequestHead): Buffer {
  const { shared, own } = environ;
  const sharedLength = shared.length === 0 ? 0 : pairsLength(shared);
  const sharedPrefix = shared.length === 0 ? 0 : 4 + sharedLength;
  const headLength = head === undefined ? 0 : requestHeadLength(head);
  const prefix = head === undefined ? sharedPrefix : sharedPrefix + 4 + headLength;
  const length = prefix + pairsLength(own);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  if (sharedPrefix !== 0) {
    flags |= RequestFlag.SHARED_ENVIRON;
    frame.writeUInt32BE(sharedLength, HEADER_SIZE);
    writePairs(frame, HEADER_SIZE + 4, shared);
  }
  if (head !== undefined) {
    flags |= RequestFlag.HAS_HEAD;
    frame.writeUInt32BE(headLength, HEADER_SIZE + sharedPrefix);
    writeRequestHead(frame, HEADER_SIZE + sharedPrefix + 4, head);
  }
  writeHeader(frame, 0, FrameType.REQUEST, flags, stream, length);
  writePairs(frame, HEADER_SIZE + prefix, own);
  return frame;
}

/** A REQUEST payload taken apart (tests and tools; the worker is the one that reads them). */
export interface DecodedRequest extends RequestEnviron {
  readonly head: RequestHead | null;
}

export function decodeRequest(payload: Buffer, flags: number): DecodedRequest {
  let at = 0;
  let shared: Pairs = [];
  let head: RequestHead | null = null;
  if ((flags & RequestFlag.SHARED_ENVIRON) !== 0) {
    const end = lengthPrefixedEnd(payload, at, 'shared environ');
    shared = toPairs(readFlatPairs(payload.subarray(0, end), at + 4));
    at = end;
  }
  if ((flags & RequestFlag.HAS_HEAD) !== 0) {
    const end = lengthPrefixedEnd(payload, at, 'request head');
    head = decodeRequestHead(payload.subarray(at + 4, end));
    at = end;
  }
  return { shared, own: toPairs(readFlatPairs(payload, at)), head };
}

function lengthPrefixedEnd(payload: Buffer, at: number, what: string): number {
  if (payload.length < at + 4) throw new FrameProtocolError(`truncated ${what} length`);
  const end = at + 4 + payload.readUInt32BE(at);
  if (end > payload.length) throw new FrameProtocolError(`${what} block overruns the REQUEST payload`);
  return end;
}

export interface ResponseHead {
  status: number;
  reason: string;
  /** name, value, name, value, ... in wire order, as Node's writeHead and rawHeaders have them. */
  headers: string[];
}

export function encodeResponseHead(stream: number, head: { status: number; reason: string; headers: Pairs }): Buffer {
  const length = 4 + head.reason.length + pairsLength(head.headers);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  writeHeader(frame, 0, FrameType.RESPONSE_HEAD, 0, stream, length);
  frame.writeUInt16BE(head.status, HEADER_SIZE);
  frame.writeUInt16BE(head.reason.length, HEADER_SIZE + 2);
  const at = HEADER_SIZE + 4 + frame.write(head.reason, HEADER_SIZE + 4, 'latin1');
  writePairs(frame, at, head.headers);
  return frame;
}

export function decodeResponseHead(payload: Buffer): ResponseHead {
  if (payload.length < 4) throw new FrameProtocolError('truncated RESPONSE_HEAD');
  const status = payload.readUInt16BE(0);
  const reasonLength = payload.readUInt16BE(2);
  if (4 + reasonLength > payload.length) throw new FrameProtocolError('truncated reason in RESPONSE_HEAD');
  return { status, reason: payload.toString('latin1', 4, 4 + reasonLength), headers: readFlatPairs(payload, 4 + reasonLength) };
}

/**
 * RESPONSE_TRAILERS (trailer fields, after the last RESPONSE_BODY and before
 * RESPONSE_END) and EARLY_HINTS (the fields of a 103, RFC 8297, before
 * RESPONSE_HEAD): a pair list alone, as RESPONSE_HEAD's.
 */
export function encodeTrailers(stream: number, headers: Pairs, type: FrameTypeCode = FrameType.RESPONSE_TRAILERS): Buffer {
  const length = pairsLength(headers);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  writeHeader(frame, 0, type, 0, stream, length);
  writePairs(frame, HEADER_SIZE, headers);
  return frame;
}

export function encodeEarlyHints(stream: number, headers: Pairs): Buffer {
  return encodeTrailers(stream, headers, FrameType.EARLY_HINTS);
}

/** RESPONSE_TRAILERS' or EARLY_HINTS' fields: name, value, name, value, ... as ResponseHead's headers. */
export function decodeTrailers(payload: Buffer): string[] {
  return readFlatPairs(payload, 0);
}

export const decodeEarlyHints = decodeTrailers;

/** WINDOW, WANT_BODY, PING and PONG carry one u32. */
export function encodeCount(type: FrameTypeCode, stream: number, count: number): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + 4);
  writeHeader(frame, 0, type, 0, stream, 4);
  frame.writeUInt32BE(count, HEADER_SIZE);
  return frame;
}

export function decodeCount(payload: Buffer): number {
  if (payload.length !== 4) throw new FrameProtocolError(`expected a 4-byte count, got ${payload.length} bytes`);
  return payload.readUInt32BE(0);
}

export interface Ready {
  pid: number;
  /** 0: a runtime from before protocol versions, whose READY was a pid alone. */
  version: number;
  /** Capability bits. */
  capabilities: number;
  /** READY's header flags (ReadyFlag); 0 when absent. */
  flags?: number;
}

export function encodeReady(ready: Ready): Buffer {
  const payload = Buffer.allocUnsafe(10);
  payload.writeUInt32BE(ready.pid, 0);
  payload.writeUInt16BE(ready.version, 4);
  payload.writeUInt32BE(ready.capabilities, 6);
  return encodeFrame(FrameType.READY, ready.flags ?? 0, 0, payload);
}

/**
 * Reads the version before anything else, so that a runtime of any other
 * version, older (a pid alone) or newer (fields appended), can be refused
 * with a clear message rather than misread. `flags` is the frame header's
 * flags byte (ReadyFlag), returned as the Ready's `flags`.
 */
export function decodeReady(payload: Buffer, flags = 0): Required<Ready> {
  if (payload.length === 4) return { pid: payload.readUInt32BE(0), version: 0, capabilities: 0, flags };
  if (payload.length < 10) throw new FrameProtocolError(`truncated READY of ${payload.length} bytes`);
  return { pid: payload.readUInt32BE(0), version: payload.readUInt16BE(4), capabilities: payload.readUInt32BE(6), flags };
}

export interface FileRegion {
  offset: number;
  /** null: to the end of the file. */
  length: number | null;
  path: string;
}

export function encodeFile(stream: number, region: FileRegion): Buffer {
  const path = Buffer.from(region.path, 'utf8');
  const payload = Buffer.allocUnsafe(16 + path.length);
  payload.writeBigUInt64BE(BigInt(region.offset), 0);
  payload.writeBigUInt64BE(region.length === null ? TO_END_OF_FILE : BigInt(region.length), 8);
  path.copy(payload, 16);
  return encodeFrame(FrameType.FILE, 0, stream, payload);
}

export function decodeFile(payload: Buffer): FileRegion {
  if (payload.length < 16) throw new FrameProtocolError('truncated FILE');
  const length = payload.readBigUInt64BE(8);
  return {
    offset: Number(payload.readBigUInt64BE(0)),
    length: length === TO_END_OF_FILE ? null : Number(length),
    path: payload.toString('utf8', 16),
  };
}

export interface WorkerExit {
  pid: number;
  /** The raw wait status: exit code in bits 8-15, or the signal in bits 0-6. */
  status: number;
}

export function encodeWorkerExit(exit: WorkerExit): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeUInt32BE(exit.pid, 0);
  payload.writeUInt32BE(exit.status, 4);
  return encodeFrame(FrameType.WORKER_EXIT, 0, 0, payload);
}

export function decodeWorkerExit(payload: Buffer): WorkerExit {
  if (payload.length !== 8) throw new FrameProtocolError(`expected an 8-byte WORKER_EXIT, got ${payload.length} bytes`);
  return { pid: payload.readUInt32BE(0), status: payload.readUInt32BE(4) };
}

export interface StatusText {
  status: number;
  text: string;
}

export function encodeError(stream: number, error: StatusText): Buffer {
  const text = Buffer.from(error.text, 'utf8');
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(error.status, 0);
  text.copy(payload, 2);
  return encodeFrame(FrameType.ERROR, 0, stream, payload);
}

export function decodeError(payload: Buffer): StatusText {
  if (payload.length < 2) throw new FrameProtocolError('truncated ERROR');
  return { status: payload.readUInt16BE(0), text: payload.toString('utf8', 2) };
}
