import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameType, HEADER_SIZE, encodeFrame } from '../../src/ipc/frame-codec.js';
import { FrameDecoder } from '../../src/ipc/frame-decoder.js';

interface Seen {
  type: number;
  stream: number;
  /** The payload, joined from its pieces when it came in pieces. */
  bytes: Buffer;
  pieces: number;
}

/** Pushes `bytes` cut at `cuts`, with a pieces handler; returns what came out and the reads pushed. */
function decode(bytes: Buffer, cuts: number[]): { seen: Seen[]; reads: Buffer[]; views: Buffer[] } {
  const decoder = new FrameDecoder();
  const seen: Seen[] = [];
  const reads: Buffer[] = [];
  const views: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    // A copy, as a fresh read would be: a view must point into one of these.
    const read = Buffer.from(bytes.subarray(at, cut));
    reads.push(read);
    decoder.push(
      read,
      (type, _flags, stream, payload) => seen.push({ type, stream, bytes: Buffer.from(payload), pieces: 1 }),
      (_flags, stream, pieces, length) => {
        assert.equal(
          pieces.reduce((sum, piece) => sum + piece.length, 0),
          length,
        );
        assert.ok(pieces.every((piece) => piece.length > 0), 'no piece is empty');
        views.push(...pieces);
        seen.push({ type: FrameType.RESPONSE_BODY, stream, bytes: Buffer.concat(pieces), pieces: pieces.length });
      },
    );
    at = cut;
  }
  return { seen, reads, views };
}

describe('FrameDecoder: a RESPONSE_BODY frame that straddles reads', () => {
  const body = Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => i % 251));
  const stream = Buffer.concat([
    encodeFrame(FrameType.RESPONSE_HEAD, 0, 7, Buffer.from([0, 200, 0, 0])),
    encodeFrame(FrameType.RESPONSE_BODY, 0, 7, body),
    encodeFrame(FrameType.RESPONSE_END, 0, 7),
  ]);
  const bodyStart = HEADER_SIZE + 4 + HEADER_SIZE;

  it('is handed out as views of the reads that brought it, never joined', () => {
    const { seen, reads, views } = decode(stream, [64 * 1024, 128 * 1024]);
    assert.deepEqual(
      seen.map((frame) => [frame.type, frame.stream, frame.pieces]),
      [
        [FrameType.RESPONSE_HEAD, 7, 1],
        [FrameType.RESPONSE_BODY, 7, 2],
        [FrameType.RESPONSE_END, 7, 1],
      ],
    );
    assert.deepEqual(seen[1]?.bytes, body);
    for (const view of views) assert.ok(reads.some((read) => read.buffer === view.buffer), 'a piece is a view of a read');
  });

  it('gives the same frames as one read however the bytes are cut', () => {
    const whole = decode(stream, []).seen.map(({ type, bytes }) => ({ type, bytes }));
    const cutsList = [
      [bodyStart - 5], // inside the body's header: joined, as any frame whose header straddles
      [bodyStart], // just after it: the first read holds no payload, one piece
      [bodyStart + 1, bodyStart + 2, bodyStart + 3],
      [stream.length - HEADER_SIZE - 1], // the body's last byte arrives with RESPONSE_END
      Array.from({ length: 40 }, (_, i) => 1 + i * 2609),
    ];
    for (const cuts of cutsList) {
      const { seen } = decode(stream, cuts);
      assert.deepEqual(
        seen.map(({ type, bytes }) => ({ type, bytes })),
        whole,
        `cut at ${cuts.join(',')}`,
      );
    }
  });

  it('joins other frame types, and every frame when no pieces handler is given', () => {
    const message = encodeFrame(FrameType.WEBSOCKET_MESSAGE, 0, 3, Buffer.alloc(1000, 1));
    const { seen } = decode(message, [500]);
    assert.deepEqual(
      seen.map((frame) => [frame.type, frame.pieces, frame.bytes.length]),
      [[FrameType.WEBSOCKET_MESSAGE, 1, 1000]],
    );
    const decoder = new FrameDecoder();
    const payloads: Buffer[] = [];
    decoder.push(stream.subarray(0, 70000), (_type, _flags, _stream, payload) => payloads.push(payload));
    decoder.push(stream.subarray(70000), (_type, _flags, _stream, payload) => payloads.push(payload));
    assert.deepEqual(payloads[1], body);
  });
});
