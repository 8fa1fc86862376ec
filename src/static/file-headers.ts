/**
 * The representation headers of a static file, from its stat: one function
 * for both ways a file is served (streamed by `send`, or from the open-file
 * cache), so the two can never disagree. They are the headers `send` would
 * set itself, built with the same libraries (`etag`, `mime-types`).
 */
import type { Stats } from 'node:fs';
import { extname } from 'node:path';
import { loadEtag, loadMimeTypes } from '../lazy-package.js';

/** Header names in the order they go out; Content-Length (or Content-Range) follows. */
export function fileHeaders(typeName: string, stat: Stats): Record<string, string> {
  const etag = loadEtag();
  const mime = loadMimeTypes();
  return {
    // RFC 9110 §14.3: ranges are supported (send parses them).
    'Accept-Ranges': 'bytes',
    // Cacheable, but to be revalidated every time (RFC 9111 §5.2.2.1): edits show up at once.
    'Cache-Control': 'public, max-age=0',
    // RFC 9110 §8.8.2.
    'Last-Modified': stat.mtime.toUTCString(),
    // RFC 9110 §8.8.3: weak, from size and mtime, as send and nginx make it.
    ETag: etag(stat),
    // By the name the client asked for, not the symlink target's: what Apache and nginx do.
    'Content-Type': mime.contentType(extname(typeName)) || 'application/octet-stream',
  };
}
