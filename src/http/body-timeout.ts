/**
 * The body idle timeout: a request whose body stops arriving for longer than
 * the timeout gets 408, or the connection closed if the response has begun.
 * Node's requestTimeout bounds the whole request instead, which would also
 * cut a large upload that is merely slow, and its socket timeout would also
 * cut an application that takes its time to answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHttp2, type Http2Request } from './http2-messages.js';
import { hasRequestBody } from './request-body.js';

export function watchBodyIdle(req: IncomingMessage, res: ServerResponse, timeoutMs: number, onTimeout: () => void): void {
  if (timeoutMs <= 0 || !hasRequestBody(req)) return;
  const socket = req.socket;
  let lastBytes = bytesReceived(req);
  let lastProgress = Date.now();
  const timer = setInterval(() => {
    if (req.complete || res.writableEnded || socket.destroyed) return stop();
    // The reader is not keeping up (paused, or unread bytes buffered): the
    // client is not the slow side.
    const bytes = bytesReceived(req);
    if (bytes !== lastBytes || req.isPaused() || req.readableLength > 0) {
      lastBytes = bytes;
      lastProgress = Date.now();
      return;
    }
    if (Date.now() - lastProgress >= timeoutMs) {
      stop();
      onTimeout();
    }
  }, Math.max(50, Math.min(1000, timeoutMs / 4)));
  timer.unref();
  const stop = (): void => clearInterval(timer);
  res.once('close', stop);
}

/** Body bytes received so far: an HTTP/2 stream counts its own, since its connection carries every other stream's too. */
function bytesReceived(req: IncomingMessage): number {
  return isHttp2(req) ? (req as unknown as Http2Request).bodyBytesRead : req.socket.bytesRead;
}
