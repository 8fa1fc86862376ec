/**
 * The WebSocket frames' payloads (docs/protocol.md "WebSocket frames"):
 * an accepted WebSocket's stream carries whole messages and the close both
 * ways. Mirrors python/portico/websocket_payloads.py.
 *
 *   WEBSOCKET_ACCEPT   worker -> front   u16 subprotocol length, subprotocol (empty: none),
 *                                        then the extra response header fields as a pair list
 *   WEBSOCKET_MESSAGE  either way        the message: UTF-8 text with flag TEXT, else binary
 *   WEBSOCKET_CLOSE    either way        u16 close code, UTF-8 reason (RFC 6455 5.5.1)
 */
import { FrameProtocolError } from '../errors.js';
import { FrameType, encodeFrame } from './frame-codec.js';
import { pairsLength, readFlatPairs, writeLatin1, writePairs, type Pairs } from './pair-list.js';

/** TEXT: a text message (RFC 6455 5.6, opcode 0x1); without it, binary (opcode 0x2). */
export const WebSocketMessageFlag = { TEXT: 0x01 } as const;

export interface WebSocketAccept {
  /** The subprotocol chosen (RFC 6455 4.2.2, Sec-WebSocket-Protocol), or null. */
  subprotocol: string | null;
  /** Header fields added to the 101 response, name, value, ... (latin-1). */
  headers: string[];
}

export function encodeWebSocketAccept(stream: number, accept: { subprotocol: string | null; headers: Pairs }): Buffer {
  const subprotocol = accept.subprotocol ?? '';
  const length = 2 + subprotocol.length + pairsLength(accept.headers);
  const payload = Buffer.allocUnsafe(length);
  payload.writeUInt16BE(subprotocol.length, 0);
  writePairs(payload, writeLatin1(payload, 2, subprotocol), accept.headers);
  return encodeFrame(FrameType.WEBSOCKET_ACCEPT, 0, stream, payload);
}

export function decodeWebSocketAccept(payload: Buffer): WebSocketAccept {
  if (payload.length < 2) throw new FrameProtocolError('truncated WEBSOCKET_ACCEPT');
  const end = 2 + payload.readUInt16BE(0);
  if (end > payload.length) throw new FrameProtocolError('subprotocol overruns the WEBSOCKET_ACCEPT payload');
  const subprotocol = payload.toString('latin1', 2, end);
  return { subprotocol: subprotocol === '' ? null : subprotocol, headers: readFlatPairs(payload, end) };
}

/** A text message goes as UTF-8 with TEXT; a binary one as its bytes. */
export function encodeWebSocketMessage(stream: number, message: string | Buffer): Buffer {
  if (typeof message === 'string') return encodeFrame(FrameType.WEBSOCKET_MESSAGE, WebSocketMessageFlag.TEXT, stream, Buffer.from(message, 'utf8'));
  return encodeFrame(FrameType.WEBSOCKET_MESSAGE, 0, stream, message);
}

export function decodeWebSocketMessage(payload: Buffer, flags: number): string | Buffer {
  return (flags & WebSocketMessageFlag.TEXT) !== 0 ? payload.toString('utf8') : payload;
}

export interface WebSocketClose {
  code: number;
  reason: string;
}

export function encodeWebSocketClose(stream: number, close: WebSocketClose): Buffer {
  const reason = Buffer.from(close.reason, 'utf8');
  const payload = Buffer.allocUnsafe(2 + reason.length);
  payload.writeUInt16BE(close.code, 0);
  reason.copy(payload, 2);
  return encodeFrame(FrameType.WEBSOCKET_CLOSE, 0, stream, payload);
}

export function decodeWebSocketClose(payload: Buffer): WebSocketClose {
  if (payload.length < 2) throw new FrameProtocolError('truncated WEBSOCKET_CLOSE');
  return { code: payload.readUInt16BE(0), reason: payload.toString('utf8', 2) };
}
