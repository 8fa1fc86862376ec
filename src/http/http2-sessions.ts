/**
 * The HTTP/2 side of a listener: connections that chose h2 by ALPN (RFC
 * 7301), or that began with the h2c preface from a trusted proxy
 * (http2-cleartext.ts), are handed here once their first bytes are known,
 * and each stream then reaches the listener as a request of its own
 * (http2-messages.ts). The listener's HTTP/1.1 server keeps every other
 * connection, with its own keep-alive and timeouts, untouched.
 *
 * What guards a connection (RFC 9113 §10.5, "Denial-of-Service
 * Considerations"), and where:
 *
 *   attack                      stopped by
 *   ──────────────────────────  ───────────────────────────────────────────
 *   HPACK bomb                  SETTINGS_MAX_HEADER_LIST_SIZE, counted by
 *                               Node after decoding: the stream is reset
 *   CONTINUATION flood          nghttp2 (>= 1.61) bounds CONTINUATION frames
 *   (CVE-2024-27316)            per header block and the block's size
 *   SETTINGS or PING flood      nghttp2's bound on queued ACKs: a client
 *                               that does not read its ACKs is cut
 *   rapid reset                 here (#countReset): more streams reset by
 *   (CVE-2023-44487)            the client in one second than
 *                               --http2-max-concurrent-streams → GOAWAY
 *                               ENHANCE_YOUR_CALM and the connection cut
 *   zero-window stall           here (#sweep): a stream whose response
 *                               cannot be sent for the stall bound is reset
 *   invalid frames, refused     maxSessionInvalidFrames and
 *   streams                     maxSessionRejectedStreams: cut
 *
 * A drain sends GOAWAY (session.close()): streams already open finish, no
 * new ones are taken, and the connection closes after the last.
 */
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { loadHttp2 } from '../lazy-package.js';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { Http2Request, markResetByServer, rememberConnection, wasResetByServer } from './http2-messages.js';
import { Http2Response } from './http2-response.js';

export interface Http2Settings {
  /** --http2-max-concurrent-streams: SETTINGS_MAX_CONCURRENT_STREAMS, and the rapid-reset rate per second. */
  maxConcurrentStreams: number;
  /** --http2-max-header-list-size: SETTINGS_MAX_HEADER_LIST_SIZE, decoded bytes. */
  maxHeaderListSize: number;
  /** --http2-initial-window-size: SETTINGS_INITIAL_WINDOW_SIZE. */
  initialWindowSize: number;
}

export interface Http2SessionsOptions extends Http2Settings {
  /** --limit-request-fields: more fields than this get 431 from the listener, so Node's own count must allow them through. */
  requestFields: number;
  /** A connection with no stream open is closed (GOAWAY) after this long without a frame. */
  idleTimeoutMs: number;
  /** A stream whose response has bytes waiting and sends none for this long is reset. */
  stallTimeoutMs: number;
}

/** Why a connection or stream was cut, for the listener's refusal log. */
export type Http2Trouble = 'rapid-reset' | 'stall' | 'session-error';

/** Node's own bound on the fields of one header block (its maxHeaderListPairs default). */
const MIN_HEADER_PAIRS = 128;
/** The four request pseudo-header fields (RFC 9113 §8.3.1) and room for cookie crumbs (§8.2.3). */
const PAIRS_BESIDES_FIELDS = 64;
/** Whole invalid frames a connection may send before it is cut (Node's default is 1000). */
const MAX_INVALID_FRAMES = 100;

interface SessionState {
  open: Set<ServerHttp2Stream>;
  /** Streams the client reset in the current one-second window, and when it began. */
  resets: number;
  windowStart: number;
  /** A stream of this session has closed: counted, if the client reset it. */
  closed: (stream: ServerHttp2Stream) => void;
}

/** The session state of an open stream, for onStreamClose: one listener shared by every stream, no closure per stream. */
const SESSION_STATE = Symbol('portico.http2SessionState');

type TrackedStream = ServerHttp2Stream & { [SESSION_STATE]?: SessionState };

function onStreamClose(this: TrackedStream): void {
  const state = this[SESSION_STATE];
  if (state === undefined) return;
  this[SESSION_STATE] = undefined;
  state.open.delete(this);
  state.closed(this);
}

interface StallState {
  waiting: number;
  since: number;
}

export class Http2Sessions {
  readonly server: Http2Server;
  readonly #options: Http2SessionsOptions;
  readonly #sessions = new Map<ServerHttp2Session, SessionState>();
  readonly #stalls = new WeakMap<ServerHttp2Stream, StallState>();
  /** Connections this class cut itself, and logged. */
  readonly #cutHere = new WeakSet<ServerHttp2Session>();
  readonly #onTrouble: (trouble: Http2Trouble, reason: string) => void;
  #sweeper: NodeJS.Timeout | null = null;
  #closing = false;
  /** The socket being handed over: Node makes its session within the emit. */
  #accepting: Duplex | null = null;
  readonly #onRequest: (req: Http2Request, res: Http2Response) => void;

  constructor(options: Http2SessionsOptions, onRequest: (req: Http2Request, res: Http2Response) => void, onTrouble: (trouble: Http2Trouble, reason: string) => void) {
    this.#options = options;
    this.#onTrouble = onTrouble;
    this.#onRequest = onRequest;
    const fields = options.requestFields === 0 ? 32768 : options.requestFields;
    this.server = loadHttp2().createServer({
      settings: {
        maxConcurrentStreams: options.maxConcurrentStreams,
        maxHeaderListSize: options.maxHeaderListSize,
        initialWindowSize: options.initialWindowSize,
        // RFC 9113 §8.4: a server that never pushes says so.
        enablePush: false,
      },
      maxHeaderListPairs: Math.max(MIN_HEADER_PAIRS, fields + PAIRS_BESIDES_FIELDS),
      maxSessionInvalidFrames: MAX_INVALID_FRAMES,
      maxSessionRejectedStreams: options.maxConcurrentStreams,
      maxOutstandingPings: 10,
    });
    // No 'request' listener: Node's compatibility layer is never set up (see #serve).
    this.server.on('session', (session: ServerHttp2Session) => this.#track(session));
    this.server.on('sessionError', (error: Error, session: ServerHttp2Session) => {
      if (!this.#cutHere.has(session)) onTrouble('session-error', `HTTP/2 connection cut: ${error.message}`);
    });
  }

  /** Takes over a connection whose first bytes are HTTP/2's: TLS that chose h2, or h2c from a trusted peer. */
  accept(socket: Duplex): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#accepting = socket;
    try {
      this.server.emit('connection', socket);
    } finally {
      this.#accepting = null;
    }
  }

  /** GOAWAY on every connection: open streams finish, no new ones start (RFC 9113 §6.8). */
  closeGracefully(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) if (!session.closed) session.close();
  }

  /** Cuts every connection that is left. */
  closeAll(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) session.destroy();
    this.#stopSweeping();
  }

  #track(session: ServerHttp2Session): void {
    const state: SessionState = { open: new Set(), resets: 0, windowStart: Date.now(), closed: (stream) => this.#countReset(session, state, stream) };
    this.#sessions.set(session, state);
    if (this.#accepting !== null) rememberConnection(session, this.#accepting as Socket);
    this.#startSweeping();
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      if (stream.destroyed || stream.closed) return this.#countReset(session, state, stream);
      state.open.add(stream);
      (stream as TrackedStream)[SESSION_STATE] = state;
      stream.on('close', onStreamClose);
      this.#serve(stream, headers, rawHeaders);
    });
    session.setTimeout(this.#options.idleTimeoutMs, () => {
      // A stream waiting for its application is not idleness: the stall sweep and the request timeouts cover it.
      if (state.open.size === 0 && !session.closed) session.close();
    });
    session.once('close', () => {
      this.#sessions.delete(session);
      if (this.#sessions.size === 0) this.#stopSweeping();
    });
    if (this.#closing) session.close();
  }

  /**
   * Each stream as a request and a response of portico's own shape
   * (http2-request.ts, http2-response.ts), on the stream API: what Node's
   * compatibility layer would do on top of it, eleven more listeners per
   * stream, is left out. Its two answers of its own
   * stay: CONNECT, which no mount serves (RFC 9113 §8.5), gets 405, and an
   * expectation other than 100-continue 417 (RFC 9110 §10.1.1);
   * 100-continue waits for the application, as on HTTP/1.1.
   */
  #serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    const req = new Http2Request(stream, headers, rawHeaders);
    const res = new Http2Response(stream, req);
    if (headers[':method'] === 'CONNECT') {
      res.statusCode = loadHttp2().constants.HTTP_STATUS_METHOD_NOT_ALLOWED;
      res.end();
      return;
    }
    if (headers.expect !== undefined && headers.expect !== '100-continue') {
      res.statusCode = loadHttp2().constants.HTTP_STATUS_EXPECTATION_FAILED;
      res.end();
      return;
    }
    this.#onRequest(req, res);
  }

  /**
   * CVE-2023-44487: streams the client opens and resets at once cost the
   * server a request each and never count against the concurrency limit.
   * More such resets in one second than a connection may have streams open
   * at once is no browser's doing (a navigation cancels at most what it had
   * open). Streams nghttp2 resets as malformed count too: as many of those
   * a second is no browser's doing either.
   */
  #countReset(session: ServerHttp2Session, state: SessionState, stream: ServerHttp2Stream): void {
    if (stream.rstCode === undefined || stream.rstCode === loadHttp2().constants.NGHTTP2_NO_ERROR || wasResetByServer(stream)) return;
    const now = Date.now();
    if (now - state.windowStart >= 1000) {
      state.windowStart = now;
      state.resets = 0;
    }
    if (++state.resets <= this.#options.maxConcurrentStreams || session.destroyed) return;
    const reason = `HTTP/2 connection cut: more than ${this.#options.maxConcurrentStreams} streams reset by the client within a second (rapid reset), or refused as malformed`;
    // The code goes out in the GOAWAY that ends the connection; the error is logged here, not again as a session error.
    this.#cutHere.add(session);
    this.#onTrouble('rapid-reset', reason);
    session.destroy(new Error(reason), loadHttp2().constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }

  #startSweeping(): void {
    if (this.#sweeper !== null || this.#options.stallTimeoutMs <= 0) return;
    const every = Math.max(50, Math.min(1000, this.#options.stallTimeoutMs / 4));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  #stopSweeping(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  /**
   * A response that cannot leave: bytes wait (bufferSize counts those Node
   * holds and those flow control holds back) and fewer have not been seen
   * since the stall began. A client that keeps its window shut (RFC 9113
   * §6.9) would otherwise hold the stream, its worker's slot and the
   * buffered bytes for ever.
   */
  #sweep(): void {
    const now = Date.now();
    for (const { open } of this.#sessions.values()) {
      for (const stream of open) {
        const waiting = stream.bufferSize;
        const stall = this.#stalls.get(stream);
        if (waiting === 0 || stall === undefined || waiting < stall.waiting) {
          if (waiting === 0) this.#stalls.delete(stream);
          else this.#stalls.set(stream, { waiting, since: now });
          continue;
        }
        stall.waiting = waiting;
        if (now - stall.since < this.#options.stallTimeoutMs) continue;
        this.#onTrouble('stall', `HTTP/2 stream reset: ${waiting} response bytes could not be sent for ${this.#options.stallTimeoutMs} ms (the client's window stayed shut)`);
        markResetByServer(stream);
        stream.close(loadHttp2().constants.NGHTTP2_CANCEL);
      }
    }
  }
}

/**
 * Sends each TLS connection where its ALPN choice says (RFC 7301 §3.2): h2
 * to `sessions`, the rest (http/1.1, or no ALPN at all) to the HTTP/1.1
 * server's own listener, unless --http-protocols leaves HTTP/1.1 out. Call
 * it before TlsContext.attach(), which then checks client certificates
 * first.
 */
export function routeByAlpn(server: TlsServer, sessions: Http2Sessions, http1: boolean, onRefuse: (reason: string) => void): void {
  const http = server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return sessions.accept(socket);
    if (!http1) {
      onRefuse(`${socket.alpnProtocol === false ? 'no ALPN' : `ALPN ${socket.alpnProtocol}`} on a listener that speaks HTTP/2 only (--http-protocols h2)`);
      socket.destroy();
      return;
    }
    for (const listener of http) listener.call(server, socket);
  });
}
