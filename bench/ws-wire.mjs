// The load client's WebSocket wire, kept as cheap per message as it can be so
// that the client's own CPU, which shares the machine with the server under
// test, does not decide a cell: an ordinary opening handshake through Node's
// http client (RFC 6455 §4.1, the accept key checked), then the raw socket.
//
// - Sending: each connection's frames are built once and written as they are.
//   RFC 6455 §5.3 says a client masks every frame with a fresh unpredictable
//   key; the key guards intermediaries' caches against a hostile script, which
//   a benchmark on loopback is not, so one random key per connection, chosen
//   once, is enough here. The server still sees masked frames, as it must.
// - Receiving: a server's frames are unmasked (§5.1), so they are only walked,
//   not decoded: opcode, FIN and length from the header (§5.2), and the
//   payload compared with what was expected where the caller asks for it.
//   A ping is answered with its pong (§5.5.3); a close ends the connection.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const Opcode = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/**
 * The opening handshake; resolves with { socket, head } once the 101 is in
 * and its Sec-WebSocket-Accept checked, or rejects. No extension is offered.
 */
export function handshake(url, timeoutMs) {
  const target = new URL(url);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('handshake timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`handshake answered ${res.statusCode}`));
    });
    req.on('upgrade', (res, socket, head) => {
      req.setTimeout(0);
      const expected = createHash('sha1').update(key + GUID).digest('base64');
      if (res.statusCode !== 101 || res.headers['sec-websocket-accept'] !== expected || res.headers['sec-websocket-extensions']) {
        socket.destroy();
        reject(new Error('bad 101: status, accept key or an extension nobody offered'));
        return;
      }
      socket.setNoDelay(true);
      resolve({ socket, head });
    });
    req.end();
  });
}

/** One client frame (FIN set), masked with `mask` (4 bytes). */
export function maskedFrame(opcode, payload, mask) {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + extended + 4 + length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) frame.writeUInt16BE(length, 2);
  else if (extended === 8) frame.writeBigUInt64BE(BigInt(length), 2);
  const start = 2 + extended;
  mask.copy(frame, start);
  for (let i = 0; i < length; i++) frame[start + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * Walks the frames a server sends on `socket` (the bytes after the 101 in
 * `head` first) and calls onMessage(opcode, buffer, start, end) for each
 * final data frame, with its payload at buffer[start, end); a frame split
 * across reads is joined first. Pings are answered; a close frame is answered
 * and the socket ended, onClose(code) told.
 */
export class FrameReader {
  /** onMessage(opcode, buffer, start, end): set by whoever drives the connection. */
  onMessage = () => {};
  /** onClose(code): the server's close frame came. */
  onClose = () => {};
  #socket;
  #mask;
  #rest = null;
  #closed = false;

  constructor(socket, head, mask) {
    this.#socket = socket;
    this.#mask = mask;
    socket.on('data', (chunk) => this.#read(chunk));
    if (head.length > 0) this.#read(head);
  }

  #read(chunk) {
    let buffer = chunk;
    if (this.#rest !== null) {
      buffer = Buffer.concat([this.#rest, chunk]);
      this.#rest = null;
    }
    let at = 0;
    const end = buffer.length;
    while (end - at >= 2) {
      const first = buffer[at];
      let length = buffer[at + 1] & 0x7f;
      let start = at + 2;
      if (length === 126) {
        if (end - at < 4) break;
        length = buffer.readUInt16BE(at + 2);
        start = at + 4;
      } else if (length === 127) {
        if (end - at < 10) break;
        length = Number(buffer.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (end - start < length) break;
      at = start + length;
      const opcode = first & 0x0f;
      if (opcode >= Opcode.CLOSE) this.#control(opcode, buffer, start, at);
      else if ((first & 0x80) !== 0) this.onMessage(opcode, buffer, start, at);
    }
    if (at < end) this.#rest = buffer.subarray(at);
  }

  #control(opcode, buffer, start, end) {
    if (opcode === Opcode.PING) this.#socket.write(maskedFrame(Opcode.PONG, buffer.subarray(start, end), this.#mask));
    else if (opcode === Opcode.CLOSE) {
      const code = end - start >= 2 ? buffer.readUInt16BE(start) : 1005;
      // §5.5.1: a close not yet sent is answered with one; either way nothing more is sent.
      const answer = this.#closed ? undefined : maskedFrame(Opcode.CLOSE, buffer.subarray(start, Math.min(end, start + 2)), this.#mask);
      this.#closed = true;
      if (!this.#socket.destroyed) this.#socket.end(answer);
      this.onClose(code);
    }
  }

  /** Starts the close handshake (1000); resolves once the socket is gone, or after `timeoutMs`. */
  close(timeoutMs) {
    const socket = this.#socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.destroy(), timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (!this.#closed) {
        this.#closed = true;
        const code = Buffer.from([0x03, 0xe8]);
        socket.write(maskedFrame(Opcode.CLOSE, code, this.#mask));
      }
    });
  }
}
