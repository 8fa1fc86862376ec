/**
 * What a worker reports about one stream, frame by frame: the contract
 * between WorkerProcess, which reads the channel, and whoever serves the
 * stream (an HTTP exchange, or an open WebSocket's session).
 */
import {
  FrameType,
  ResponseEndFlag,
  decodeCount,
  decodeError,
  decodeFile,
  decodeResponseHead,
  decodeTrailers,
  type FileRegion,
  type FrameTypeCode,
  type ResponseHead,
  type StatusText,
} from '../ipc/frame-codec.js';
import {
  WebSocketMessageFlag,
  decodeWebSocketAccept,
  decodeWebSocketClose,
  type WebSocketAccept,
  type WebSocketClose,
} from '../ipc/websocket-payloads.js';

/** What a worker reports about one request, as the frames arrive. */
export interface WorkerStream {
  /** The worker started the application on it (STARTED). */
  onStarted(): void;
  onResponseHead(head: ResponseHead): void;
  /**
   * One RESPONSE_BODY frame's `length` bytes: its payload, or the views of
   * the channel's reads a frame that straddled them came in (frame-decoder.ts).
   */
  onResponseBody(body: Buffer | readonly Buffer[], length: number): void;
  onFile(region: FileRegion): void;
  onResponseEnd(abort: boolean): void;
  onWantBody(bytes: number): void;
  /** 103 Early Hints' fields (EARLY_HINTS), before the head: flat name, value pairs. */
  onEarlyHints(fields: readonly string[]): void;
  /** Trailer fields (RESPONSE_TRAILERS), after the body. */
  onTrailers(fields: readonly string[]): void;
  /** The application accepted a WebSocket (WEBSOCKET_ACCEPT); only a WebSocket request's stream gets it. */
  onWebSocketAccept?(accept: WebSocketAccept): void;
  onWebSocketMessage?(data: Buffer, text: boolean): void;
  onWebSocketClose?(close: WebSocketClose): void;
  onError(error: StatusText, workerPid: number): void;
  /**
   * The worker died before the stream ended; `reason` is for the log.
   * `mayHaveStarted` is false only when the worker cannot have begun the
   * request, so that it is safe to give it to another worker.
   */
  onWorkerLost(reason: string, mayHaveStarted: boolean): void;
}

/**
 * Hands one frame to its stream. `end` runs first for a frame that ends the
 * stream (RESPONSE_END, ERROR), so that the worker counts it free before the
 * stream reacts. False for a type no stream takes.
 */
export function deliverStreamFrame(stream: WorkerStream, type: FrameTypeCode, flags: number, payload: Buffer, pid: number, end: () => void): boolean {
  switch (type) {
    case FrameType.STARTED:
      stream.onStarted();
      return true;
    case FrameType.RESPONSE_HEAD:
      stream.onResponseHead(decodeResponseHead(payload));
      return true;
    case FrameType.RESPONSE_BODY:
      stream.onResponseBody(payload, payload.length);
      return true;
    case FrameType.FILE:
      stream.onFile(decodeFile(payload));
      return true;
    case FrameType.WANT_BODY:
      stream.onWantBody(decodeCount(payload));
      return true;
    case FrameType.EARLY_HINTS:
      stream.onEarlyHints(decodeTrailers(payload));
      return true;
    case FrameType.RESPONSE_TRAILERS:
      stream.onTrailers(decodeTrailers(payload));
      return true;
    case FrameType.WEBSOCKET_ACCEPT:
      stream.onWebSocketAccept?.(decodeWebSocketAccept(payload));
      return true;
    case FrameType.WEBSOCKET_MESSAGE:
      stream.onWebSocketMessage?.(payload, (flags & WebSocketMessageFlag.TEXT) !== 0);
      return true;
    case FrameType.WEBSOCKET_CLOSE:
      stream.onWebSocketClose?.(decodeWebSocketClose(payload));
      return true;
    case FrameType.RESPONSE_END:
      end();
      stream.onResponseEnd((flags & ResponseEndFlag.ABORT) !== 0);
      return true;
    case FrameType.ERROR:
      end();
      stream.onError(decodeError(payload), pid);
      return true;
    default:
      return false;
  }
}
