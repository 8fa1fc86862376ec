/**
 * The front's reading side of the frame protocol (docs/protocol.md): a byte
 * stream from a worker split into frames. Mirrors
 * python/portico/frame_decoder.py, but for the pieces of a RESPONSE_BODY
 * frame: only the front receives one, and only to pass it on.
 */
import { FrameProtocolError } from '../errors.js';
import { FrameType, HEADER_SIZE, MAX_PAYLOAD, type FrameTypeCode } from './frame-codec.js';

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/** What FrameDecoder hands out, one call per frame: its header's fields and a view of its payload. */
export type FrameHandler = (type: FrameTypeCode, flags: number, stream: number, payload: Buffer) => void;

/**
 * A RESPONSE_BODY frame that straddled reads, handed out as views of the
 * reads that brought it (`length` bytes in all, no piece empty): its bytes
 * only pass through to the client, which can take them as several buffers
 * in one writev, so joining them would be a copy for nothing.
 */
export type BodyPiecesHandler = (flags: number, stream: number, pieces: Buffer[], length: number) => void;

/** The payload of every empty frame (STARTED, RESPONSE_END, ...): a frame without one costs no view. */
const EMPTY_PAYLOAD = Buffer.alloc(0);

/**
 * Splits a byte stream into frames. Chunks are consumed in place: a frame
 * that lies inside one chunk is handed out as a view of it, so only a frame
 * that straddles two reads costs a copy, and a RESPONSE_BODY frame none when
 * the caller takes its pieces. Frames are handed out as arguments rather
 * than objects: four frames a request made four objects for the garbage
 * collector that nobody kept.
 */
export class FrameDecoder {
  /** Bytes of an incomplete frame, kept as the reads that brought them. */
  #pending: Buffer[] = [];
  #pendingLength = 0;

  /**
   * Calls `onFrame` for each complete frame now available, in order; with
   * `onBodyPieces`, a RESPONSE_BODY frame that straddled reads goes there
   * unjoined instead.
   */
  push(chunk: Buffer, onFrame: FrameHandler, onBodyPieces?: BodyPiecesHandler): void {
    let data = chunk;
    let at = 0;
    if (this.#pending.length > 0) {
      const needed = this.#neededForPending();
      if (this.#pendingLength + chunk.length < needed) {
        this.#pending.push(chunk);
        this.#pendingLength += chunk.length;
        return;
      }
      const first = this.#pending[0] as Buffer;
      if (onBodyPieces !== undefined && first.length >= HEADER_SIZE && first[0] === FrameType.RESPONSE_BODY) {
        at = needed - this.#pendingLength;
        this.#handOutPieces(chunk.subarray(0, at), onFrame, onBodyPieces);
      } else {
        this.#pending.push(chunk);
        data = Buffer.concat(this.#pending, this.#pendingLength + chunk.length);
        this.#pending = [];
        this.#pendingLength = 0;
      }
    }
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

  /** The pending RESPONSE_BODY frame, whose header was validated when it was first seen, completed by `last`. */
  #handOutPieces(last: Buffer, onFrame: FrameHandler, onBodyPieces: BodyPiecesHandler): void {
    const first = this.#pending[0] as Buffer;
    const flags = first[1] as number;
    const stream = first.readUInt32BE(4);
    const length = this.#pendingLength + last.length - HEADER_SIZE;
    const pieces = this.#pending;
    pieces.push(last);
    this.#pending = [];
    this.#pendingLength = 0;
    // A read that ended just after the header leaves no payload in the first piece.
    if (first.length === HEADER_SIZE) pieces.shift();
    else pieces[0] = first.subarray(HEADER_SIZE);
    if (pieces.length === 1) onFrame(FrameType.RESPONSE_BODY, flags, stream, pieces[0] as Buffer);
    else onBodyPieces(flags, stream, pieces, length);
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
