/**
 * One Python worker process and its frame channel. It owns the child, the
 * channel's framing and write batching, and the table of streams (requests)
 * the worker holds; what a stream means for HTTP is the stream's business.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  CancelFlag,
  FrameType,
  MAX_CHUNK,
  ReadyFlag,
  RequestEndFlag,
  decodeCount,
  decodeReady,
  encodeCount,
  encodeFrame,
  encodeFrameHeader,
  encodeRequest,
  PROTOCOL_VERSION,
  type FrameTypeCode,
  type RequestEnviron,
  type RequestHead,
} from '../ipc/frame-codec.js';
import { FrameDecoder } from '../ipc/frame-decoder.js';
import {
  WebSocketMessageFlag,
  encodeWebSocketClose,
  type WebSocketClose,
} from '../ipc/websocket-payloads.js';
import type { ErrorLog } from '../observability/error-log.js';
import { describeExit } from './exit-description.js';
import { deliverStreamFrame, type WorkerStream } from './stream-frames.js';
import { StreamTable } from './stream-table.js';

export type { WorkerStream } from './stream-frames.js';
import type { WorkerHandle } from './worker-handle.js';


export type WorkerState = 'booting' | 'ready' | 'stopping' | 'exited';

/** How long a dead worker's channel may stay open before its end is handled anyway. */
const CHANNEL_DRAIN_MS = 1_000;

/** Between the stack-dump signal and SIGKILL for a stuck worker: time enough to write a traceback. */
const STUCK_KILL_GRACE_MS = 1_000;

/** How much each finished request moves the worker's pace: a few requests outweigh an old one. */
const PACE_WEIGHT = 0.25;

interface WorkerEvents {
  ready: [];
  bootError: [report: string];
  exit: [code: number | null, signal: NodeJS.Signals | null];
  /** A stream ended, so the worker can take another request. */
  streamDone: [];
  /** The worker's event loop answered a ping. */
  pong: [nonce: number];
}

export class WorkerProcess extends EventEmitter<WorkerEvents> {
  readonly #os: WorkerHandle;
  readonly #channel: Socket;
  readonly #log: ErrorLog;
  /**
   * Frames are handed on as views of the reads that brought them; only a
   * frame that straddles two reads is joined, one copy, and a RESPONSE_BODY
   * frame never: its pieces go to the client as they are (frame-decoder.ts).
   */
  readonly #decoder = new FrameDecoder();
  readonly #streams = new StreamTable<WorkerStream>();
  #outbox: Buffer[] = [];
  #flushScheduled = false;
  #state: WorkerState = 'booting';
  /** The pid the runtime reported; the child's own pid until READY. */
  #pid: number;
  #exitDescription: string | null = null;
  /** Why we killed it, when we did: replaces the generic reason in the log. */
  #killReason: string | null = null;
  /** Ended by terminateStuck: see `stuck`. */
  #stuck = false;
  /** Why we refused it at READY, when we did: its whole exit description. */
  #refusal: string | null = null;
  /** READY's capability bits (Capability in frame-codec.ts); 0 until READY. */
  #capabilities = 0;
  #asgi = false;
  #dispatched = 0;
  readonly #threads: number;
  /** See progressAt and pace. */
  #progressAt = 0;
  #pace = 0;
  /** Ids of the streams held open by their clients; see holdOpen. */
  readonly #longLived = new Set<number>();
  /** performance.now() for the channel read being handled; -1 until asked. One read ends several requests. */
  #readAt = -1;

  constructor(handle: WorkerHandle, threads: number, log: ErrorLog) {
    super();
    this.#os = handle;
    this.#log = log;
    this.#threads = threads;
    this.#pid = handle.pid;
    this.#channel = handle.channel;
    this.#channel.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.#channel.resume();
    // 'exit' can come before the channel's last bytes are read: the requests
    // the worker answered just before exiting would be taken for lost. So its
    // end is handled once the channel has closed too.
    let channelClosed = false;
    let exited: (() => void) | null = null;
    this.#channel.once('close', () => {
      channelClosed = true;
      exited?.();
    });
    handle.onExit((code, signal, failure) => {
      exited = () => this.#onExit(code, signal, failure);
      if (channelClosed) exited();
      else setTimeout(() => exited?.(), CHANNEL_DRAIN_MS).unref(); // a child of the worker may hold fd 3 open
    });
  }

  get pid(): number {
    return this.#pid;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Requests sent to this worker that have not ended yet. */
  get inflight(): number {
    return this.#streams.size;
  }

  /** Of those, streams held open for as long as their client wants (WebSockets): dispatch-policy.ts. */
  get longLived(): number {
    return this.#longLived.size;
  }

  /** Stream `id` became a long-lived session: from now on it says nothing about the worker's pace. */
  holdOpen(id: number): void {
    if (this.#streams.has(id)) this.#longLived.add(id);
  }

  /** Requests ever sent to this worker. */
  get dispatched(): number {
    return this.#dispatched;
  }

  /**
   * performance.now() when the worker last finished a request, or was given
   * one while idle: how long it has been on its current work, as far as the
   * front can see.
   */
  get progressAt(): number {
    return this.#progressAt;
  }

  /** Milliseconds between the requests it finishes while busy, smoothed; 0 until it has finished one. */
  get pace(): number {
    return this.#pace;
  }

  /** What its runtime said it can serve, from READY (Capability bits). */
  /** The worker runs its application as ASGI (READY's flag): it takes the request head, and is pinged. */
  get asgi(): boolean {
    return this.#asgi;
  }

  get capabilities(): number {
    return this.#capabilities;
  }

  /** Why the process ended, once it has. */
  get exitDescription(): string | null {
    return this.#exitDescription;
  }

  /** Why the front killed it, when it did (a stuck request, a corrupt channel); null otherwise. */
  get killReason(): string | null {
    return this.#killReason;
  }

  /** It was ended for being stuck past --timeout (terminateStuck). */
  get stuck(): boolean {
    return this.#stuck;
  }

  /**
   * Sends a request; returns its stream id for the follow-up frames. `head`
   * (the protocol-neutral request head) is for mounts whose runtime needs
   * it (ASGI); WSGI mounts send none.
   */
  dispatch(stream: WorkerStream, environ: RequestEnviron, flags: number, head?: RequestHead): number {
    if (this.#streams.size === this.#longLived.size) this.#progressAt = performance.now();
    const id = this.#streams.add(stream);
    this.#dispatched++;
    this.#send(encodeRequest(id, flags, environ, head));
    return id;
  }

  /** Request-body bytes, split to frame size; each piece goes out behind its header as it is, not copied into a frame. */
  sendBody(id: number, data: Buffer): void {
    for (let at = 0; at < data.length; at += MAX_CHUNK) {
      const piece = data.subarray(at, at + MAX_CHUNK);
      this.#send(encodeFrameHeader(FrameType.REQUEST_BODY, 0, id, piece.length));
      this.#send(piece);
    }
  }

  endBody(id: number, aborted: boolean): void {
    this.#send(encodeFrame(FrameType.REQUEST_END, aborted ? RequestEndFlag.ABORTED : 0, id));
  }

  grantWindow(id: number, bytes: number): void {
    if (this.#streams.has(id)) this.#send(encodeCount(FrameType.WINDOW, id, bytes));
  }

  /**
   * The client left, or the front refused the response; `timedOut`: the
   * front gave up on it (--timeout), and an ASGI worker cancels its task.
   */
  cancel(id: number, timedOut = false): void {
    if (this.#streams.has(id)) this.#send(encodeFrame(FrameType.CANCEL, timedOut ? CancelFlag.TIMED_OUT : 0, id));
  }

  /** Stream `id` is served by `stream` from now on: a WebSocket's session takes over from its handshake. */
  adopt(id: number, stream: WorkerStream): void {
    this.#streams.replace(id, stream);
  }

  /** A whole message from a WebSocket's client (RFC 6455 §6.2), sent as it is. */
  sendWebSocketMessage(id: number, data: Buffer, text: boolean): void {
    if (!this.#streams.has(id)) return;
    this.#send(encodeFrameHeader(FrameType.WEBSOCKET_MESSAGE, text ? WebSocketMessageFlag.TEXT : 0, id, data.length));
    this.#send(data);
  }

  sendWebSocketClose(id: number, close: WebSocketClose): void {
    if (this.#streams.has(id)) this.#send(encodeWebSocketClose(id, close));
  }

  /** The heartbeat of an ASGI worker's event loop: answered with PONG(nonce) while the loop runs. */
  ping(nonce: number): void {
    if (this.#state !== 'exited') this.#send(encodeCount(FrameType.PING, 0, nonce));
  }

  /** Takes a stream back from a worker that has not accepted it, to give it to another. */
  forget(id: number): void {
    this.#streams.delete(id);
  }

  /** Graceful: the worker finishes what it holds, then exits. */
  stop(): void {
    if (this.#state === 'exited') return;
    this.#state = 'stopping';
    this.#send(encodeFrame(FrameType.STOP, 0, 0));
  }

  /** At once, for a worker that must go now. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#state !== 'exited') this.#os.kill(signal);
  }

  /**
   * For a worker stuck in a request: SIGUSR1 makes the runtime dump every
   * thread's stack to the log (faulthandler), then SIGKILL ends it.
   */
  terminateStuck(reason: string): void {
    if (this.#state === 'exited' || this.#killReason !== null) return;
    this.#state = 'stopping';
    this.#killReason = reason;
    this.#stuck = true;
    this.#os.kill('SIGUSR1');
    setTimeout(() => this.kill(), STUCK_KILL_GRACE_MS).unref();
  }

  /**
   * Frames (or a header and then its payload) wait for the end of the
   * event-loop turn and go out in one writev, in the order sent, so that
   * requests arriving together cost the worker one read.
   */
  #send(bytes: Buffer): void {
    this.#outbox.push(bytes);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const frames = this.#outbox;
    this.#outbox = [];
    if (this.#state === 'exited' || this.#channel.destroyed) return;
    if (frames.length === 1) {
      this.#channel.write(frames[0] as Buffer);
      return;
    }
    this.#channel.cork();
    for (const frame of frames) this.#channel.write(frame);
    this.#channel.uncork();
  }

  #receive(chunk: Buffer): void {
    this.#readAt = -1;
    try {
      this.#decoder.push(chunk, this.#handle, this.#handleBodyPieces);
    } catch (error) {
      this.#log.error(`worker channel is corrupt (${(error as Error).message}); stopping the worker`, this.#pid);
      this.#killReason ??= 'after its channel was corrupt';
      this.kill();
    }
  }

  /** One frame from the worker; an arrow function, so that the decoder can call it without a closure per read. */
  readonly #handle = (type: FrameTypeCode, flags: number, id: number, payload: Buffer): void => {
    if (id === 0) {
      this.#handleChannelFrame(type, flags, payload);
      return;
    }
    const stream = this.#streams.get(id);
    if (stream === undefined) return; // a stream we already finished or took back
    if (!deliverStreamFrame(stream, type, flags, payload, this.#pid, () => this.#endStream(id))) {
      this.#log.warning(`worker sent an unexpected frame type 0x${type.toString(16)} on stream ${id}`, this.#pid);
    }
  };

  /** A RESPONSE_BODY frame that straddled reads, unjoined (frame-decoder.ts). */
  readonly #handleBodyPieces = (_flags: number, id: number, pieces: Buffer[], length: number): void => {
    const stream = this.#streams.get(id);
    stream?.onResponseBody(pieces, length);
  };

  #handleChannelFrame(type: FrameTypeCode, flags: number, payload: Buffer): void {
    if (type === FrameType.PONG) {
      this.emit('pong', decodeCount(payload));
    } else if (type === FrameType.READY) {
      const ready = decodeReady(payload);
      this.#pid = ready.pid;
      if (ready.version !== PROTOCOL_VERSION) {
        this.#refuse(ready.version);
        return;
      }
      this.#capabilities = ready.capabilities;
      this.#asgi = (flags & ReadyFlag.ASGI) !== 0;
      if (this.#state === 'booting') this.#state = 'ready';
      this.emit('ready');
    } else if (type === FrameType.BOOT_ERROR) {
      this.emit('bootError', payload.toString('utf8'));
    }
  }

  /**
   * A runtime that speaks another protocol version would misread every
   * frame: it is ended before it gets any, and its exit, before it was
   * ready, is a boot failure to the pool, which halts rather than respawn.
   */
  #refuse(version: number): void {
    const spoken = version === 0 ? 'no protocol version (a runtime from before versions)' : `frame protocol version ${version}`;
    this.#refusal = `was refused: its Python runtime speaks ${spoken} and this front speaks version ${PROTOCOL_VERSION}, ` +
      'so the python/ runtime and the front come from different portico versions (install them from one release)';
    this.#log.error(`worker ${this.#pid} ${this.#refusal}`, this.#pid);
    this.kill();
  }

  #endStream(id: number): void {
    this.#streams.delete(id);
    if (this.#longLived.delete(id)) {
      this.emit('streamDone');
      return;
    }
    // Before 'streamDone': the pool decides at once where waiting requests go.
    if (this.#readAt < 0) this.#readAt = performance.now();
    const interval = this.#readAt - this.#progressAt;
    this.#pace = this.#pace === 0 ? interval : this.#pace + (interval - this.#pace) * PACE_WEIGHT;
    this.#progressAt = this.#readAt;
    this.emit('streamDone');
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null, failure: string | null): void {
    if (this.#state === 'exited') return;
    this.#state = 'exited';
    this.#exitDescription = this.#refusal ?? failure ?? describeExit(code, signal, this.#killReason);
    // A worker takes requests in the order they were sent, at most `threads`
    // at a time, so only the oldest `threads` unfinished ones can have begun
    // (a STARTED may be on its way when the worker dies).
    const orphans = this.#streams.clear();
    const reason = `worker ${this.#pid} ${this.#exitDescription}`;
    // An ASGI worker starts every request as it reads it: any may have begun.
    orphans.forEach((stream, index) => stream.onWorkerLost(reason, this.#asgi || index < this.#threads));
    this.emit('exit', code, signal);
  }
}
