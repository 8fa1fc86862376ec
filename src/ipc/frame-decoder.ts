/**
 * The front's reading side of the frame protocol (docs/protocol.md): a byte
 * stream from a worker split into frames. Mirrors
 * python/portico/frame_decoder.py.
 */
import { FrameProtocolError } from '../errors.js';
import { FrameType, HEADER_SIZE, MAX_PAYLOAD, type FrameTypeCode } from './frame-codec.js';

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/** What FrameDecoder hands out, one call per frame: its header's fields and a view of its payload. */
export type FrameHandler = (type: FrameTypeCode, flags: number, stream: number, payload: Buffer) => void;

/** The payload of every empty frame (STARTED, RESPONSE_END, ...): a frame without one costs no view. */
const EMPTY_PAYLOAD = Buffer.alloc(0);

/**
 * Splits a byte stream into frames. Chunks are consumed in place: a frame
 * that lies inside one chunk is handed out as a view of it, so only a frame
 * that straddles two reads costs a copy. Frames are handed out as arguments
 * rather than objects: four frames a request made four objects for the
 * garbage collector that nobody kept.
 */
export class FrameDecoder {
  /** Bytes of an incomplete frame, kept as the reads that brought them. */
  #pending: Buffer[] = [];
  #pendingLength = 0;

  /** Calls `onFrame` for each complete frame now available, in order. */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    let data = chunk;
    if (this.#pending.length > 0) {
      this.#pending.push(chunk);
      this.#pendingLength += chunk.length;
      if (this.#pendingLength < this.#neededForPending()) return;
      data = Buffer.concat(this.#pending, this.#pendingLength);
      this.#pending = [];
      this.#pendingLength = 0;
    }
    let at = 0;
    while (data.length - at >= HEADER_SIZE) {
      const type = data[at] as number;
      const length = data.readUInt32BE(at + 8);
      if (!KNOWN_TYPES.has(type)) throw new FrameProtocolError(`unknown frame type 0x${type.toString(16)}`);
      if (length > MAX_PAYLOAD) throw new FrameProtocolError(`frame payload of ${length} bytes exceeds ${MAX_PAYLOAD}`);
      const end = at + HEADER_SIZE + length;
      if (end > data.length) break;
      onFrame(
        type as FrameTypeCode,
        data[at + 1] as number,
        data.readUInt32BE(at + 4),
        length === 0 ? EMPTY_PAYLOAD : data.subarray(at + HEADER_SIZE, end),
      );
      at = end;
    }
    if (at < data.length) {
      this.#pending = [data.subarray(at)];
      this.#pendingLength = data.length - at;
    }
  }

  /** How many bytes the incomplete frame needs in all; a header's worth until its length is known. */
  #neededForPending(): number {
    const first = this.#pending[0] as Buffer;
    if (first.length >= HEADER_SIZE) return HEADER_SIZE + first.readUInt32BE(8);
    if (this.#pendingLength < HEADER_SIZE) return HEADER_SIZE;
    const header = Buffer.concat(this.#pending, HEADER_SIZE);
    return HEADER_SIZE + header.readUInt32BE(8);
  }
}
