/**
 * Pair lists, the frame protocol's one compound type (docs/protocol.md): a
 * name/value list written as repeated `u16 name length, name, u32 value
 * length, value`, strings latin-1 ("bytes-as-str", PEP 3333 "Unicode
 * Issues"). The environ blocks, RESPONSE_HEAD's headers, the request head's
 * and WEBSOCKET_ACCEPT's header fields are all pair lists.
 */
import { FrameProtocolError } from '../errors.js';

/** A name/value list in wire order; values are latin-1 strings. */
export type Pairs = ReadonlyArray<readonly [string, string]>;

/** The bytes `pairs` take on the wire. */
export function pairsLength(pairs: Pairs): number {
  let length = 0;
  for (const [name, value] of pairs) length += 6 + name.length + value.length;
  return length;
}

/** Writes `pairs` at `at`; returns the offset after them. */
export function writePairs(target: Buffer, at: number, pairs: Pairs): number {
  for (const [name, value] of pairs) {
    const nameLength = name.length;
    target[at] = nameLength >>> 8;
    target[at + 1] = nameLength & 0xff;
    at = writeLatin1(target, at + 2, name);
    const valueLength = value.length;
    target[at] = valueLength >>> 24;
    target[at + 1] = (valueLength >>> 16) & 0xff;
    target[at + 2] = (valueLength >>> 8) & 0xff;
    target[at + 3] = valueLength & 0xff;
    at = writeLatin1(target, at + 4, value);
  }
  return at;
}

/**
 * Below this many characters a string is copied into a frame byte by byte:
 * Buffer#write is a call into C++ that costs more than copying a short
 * string, and an environ is mostly short strings (it was 3.7 µs of a
 * hello-world REQUEST's encoding, against 0.8 µs now).
 */
const SHORT_STRING = 64;

/** Writes `text` as latin-1 (the low byte of each UTF-16 unit, as Buffer#write does); returns the offset after it. */
export function writeLatin1(target: Buffer, at: number, text: string): number {
  const length = text.length;
  if (length >= SHORT_STRING) return at + target.write(text, at, length, 'latin1');
  for (let i = 0; i < length; i++) target[at + i] = text.charCodeAt(i);
  return at + length;
}

/** A pair list read into one flat list, name, value, name, value, ...: what Node's writeHead takes, with no array per pair. */
export function readFlatPairs(payload: Buffer, at: number): string[] {
  const flat: string[] = [];
  while (at < payload.length) {
    if (at + 2 > payload.length) throw new FrameProtocolError('truncated name length in pair list');
    const nameLength = payload.readUInt16BE(at);
    at += 2;
    if (at + nameLength + 4 > payload.length) throw new FrameProtocolError('truncated name in pair list');
    const name = payload.toString('latin1', at, at + nameLength);
    at += nameLength;
    const valueLength = payload.readUInt32BE(at);
    at += 4;
    if (at + valueLength > payload.length) throw new FrameProtocolError('truncated value in pair list');
    flat.push(name, payload.toString('latin1', at, at + valueLength));
    at += valueLength;
  }
  return flat;
}

/** A flat name, value, ... list as pairs. */
export function toPairs(flat: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}
