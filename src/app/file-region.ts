/**
 * A region of a named file sent to the client by the front itself, under
 * the client's back-pressure: `wsgi.file_wrapper` and ASGI's
 * http.response.pathsend, whose bytes never pass through Python.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';

export interface FileRegionEvents {
  /** Each chunk as it is written; false from res.write() pauses the file. */
  write(chunk: Buffer): boolean;
  onError(error: Error): void;
  onEnd(): void;
}

/** How much of a region (null: to the end of the file) fits in what a declared Content-Length leaves. */
export function regionWithin(length: number | null, declared: number | null, written: number): number | null {
  if (declared === null) return length;
  const room = declared - written;
  return length === null ? room : Math.min(length, room);
}

/** Streams `length` bytes (null: to the end) of `path` from `offset` into `res`. */
export function sendFileRegion(path: string, offset: number, length: number | null, res: ServerResponse, events: FileRegionEvents): ReadStream {
  const file = createReadStream(path, {
    start: offset,
    ...(length === null ? {} : { end: offset + length - 1 }),
    highWaterMark: 64 * 1024,
  });
  file.on('data', (chunk) => {
    if (!events.write(chunk as Buffer)) {
      file.pause();
      res.once('drain', () => file.resume());
    }
  });
  file.on('error', events.onError);
  file.on('end', events.onEnd);
  return file;
}
