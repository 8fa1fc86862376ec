/**
 * RFC 6455 frames by hand, for what a WebSocket library will not send: an
 * unmasked client frame, reserved bits, unknown opcodes, invalid UTF-8, a
 * client that never answers pings. A RawConnection opens with a valid
 * handshake, then the test writes frames and parses what comes back.
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |            (16/64)            |
 *   |N|V|V|V|       |S|             |                               |
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |  Masking-key (0 or 4 bytes)   |          Payload Data ...     |
 */
import { randomBytes } from 'node:crypto';
import { RawConnection } from './raw-connection.js';
import { splitHead } from './raw-response.js';

export const Opcode = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1..3 as the three bits 0b100, 0b010, 0b001. */
  rsv?: number;
  /** Clients must mask (§5.3); false sends the payload unmasked. */
  mask?: boolean;
}

export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const mask = spec.mask ?? true;
  const first = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  let head: Buffer;
  if (payload.length < 126) {
    head = Buffer.from([first, (mask ? 0x80 : 0) | payload.length]);
  } else if (payload.length < 65536) {
    head = Buffer.alloc(4);
    head[0] = first;
    head[1] = (mask ? 0x80 : 0) | 126;
    head.writeUInt16BE(payload.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = (mask ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = (payload[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([head, key, masked]);
}

/** A close frame's payload: the code and a UTF-8 reason (§5.5.1). */
export function closePayload(code: number, reason = ''): Buffer {
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(code, 0);
  return Buffer.concat([buf, Buffer.from(reason, 'utf8')]);
}

export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Buffer;
}

/** The complete frames in `buf` (server frames are unmasked), after the 101's head if `buf` starts with it. */
export function parseFrames(buf: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  if (buf.subarray(0, 5).toString('latin1') === 'HTTP/') {
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return frames;
    at = headEnd + 4;
  }
  for (;;) {
    if (buf.length < at + 2) return frames;
    const first = buf[at] as number;
    const second = buf[at + 1] as number;
    let length = second & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buf.length < offset + 2) return frames;
      length = buf.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (buf.length < offset + 8) return frames;
      length = Number(buf.readBigUInt64BE(offset));
      offset += 8;
    }
    if ((second & 0x80) !== 0) offset += 4;
    if (buf.length < offset + length) return frames;
    frames.push({ fin: (first & 0x80) !== 0, rsv: (first >> 4) & 0x7, opcode: first & 0x0f, payload: buf.subarray(offset, offset + length) });
    at = offset + length;
  }
}

/** The close code of the first close frame, or null if none came. */
export function closeCodeIn(buf: Buffer): number | null {
  const close = parseFrames(buf).find((f) => f.opcode === Opcode.CLOSE);
  if (close === undefined) return null;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

/** A valid client handshake's request (§4.1). */
export function handshakeRequest(path: string, headers: Array<[string, string]> = []): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * Opens a raw connection and completes a handshake on `path`. `received`
 * starts with the 101's head, which parseFrames skips; frames the server
 * sent at once may follow it.
 */
export async function rawWebSocket(port: number, path: string): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  conn.write(handshakeRequest(path));
  const ok = await conn.waitFor((buf, closed) => splitHead(buf) !== null || closed, 10_000);
  const split = splitHead(conn.received);
  if (!ok || split === null || !/^HTTP\/1\.1 101 /.test(split.head)) {
    conn.destroy();
    throw new Error(`no 101 for ${path}: ${JSON.stringify(conn.text.slice(0, 500))}`);
  }
  return conn;
}

/**
 * Waits until the server closes: a close frame (its code) or the TCP
 * connection ending; returns what it saw, or rejects after `timeoutMs`.
 */
export async function serverClose(conn: RawConnection, timeoutMs: number): Promise<{ code: number | null; tcpClosed: boolean }> {
  const ok = await conn.waitFor((buf, closed) => closed || closeCodeIn(buf) !== null, timeoutMs);
  if (!ok) throw new Error(`the server neither sent a close frame nor closed within ${timeoutMs} ms`);
  return { code: closeCodeIn(conn.received), tcpClosed: conn.closed };
}
