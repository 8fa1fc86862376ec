/**
 * Holds many connections open against a server, and keeps holding them:
 *
 * - idle keep-alive connections: one request answered, then silence;
 * - slowloris connections: a request head sent a byte at a time, never
 *   finished.
 *
 * The server is expected to cut the slowloris ones (408 and close, once its
 * headers timeout has passed), and may close idle ones (keep-alive timeout).
 * Either way the connection is counted and a new one opened at once, the way
 * an attacker would, so the number held stays where it was asked to be for as
 * long as the hold lasts. Shared by the small soak test and scripts/soak.mjs.
 */
import { connect, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';

export interface HoldOptions {
  port: number;
  idle: number;
  slow: number;
  /** Pause between two bytes of a slowloris head. */
  trickleEveryMs?: number;
  /**
   * The slowloris connections are first opened evenly over this time, so
   * that the server's cuts, and the reopenings, come at a steady rate rather
   * than all at once every headers timeout. Give it the headers timeout.
   */
  spreadMs?: number;
}

/** Connections held right now: idle ones whose request was answered, slowloris ones connected. */
export interface HeldCounts {
  idle: number;
  slow: number;
}

export interface HoldTally {
  /** Slowloris connections the server closed; each was reopened. */
  slowCut: number;
  /** Of those, how many got a whole 408 response with `Connection: close`. */
  slowCut408: number;
  /** Of those, how many ended with the server's FIN, not a reset. */
  slowCutClean: number;
  /** Shortest and longest life (connect to close) of a cut slowloris connection. */
  slowLifeMs: { min: number; max: number };
  slowReopened: number;
  /** Idle connections the server closed; each was reopened. */
  idleCut: number;
  idleReopened: number;
  /** Connects that failed; each was retried. */
  openErrors: number;
  /** Anything other than one 200 on an idle connection, or a 408 on a slowloris one. */
  unexpected: number;
  unexpectedSamples: string[];
}

export interface HeldConnections {
  /** Resolves once every connection has been opened (and every idle one answered) once. */
  ready: Promise<void>;
  held(): HeldCounts;
  tally(): HoldTally;
  /** Stops reopening and closes everything held. */
  close(): void;
}

/** The URI prefixes the held connections use: the app log can be searched for them. */
export const IDLE_PATH = '/soak-idle/';
export const SLOWLORIS_PATH = '/soak-slowloris/';

// Never finishes: no blank line, and far more bytes than any headers timeout lets through.
const slowHead = (n: number): string => `GET ${SLOWLORIS_PATH}${n} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'x'.repeat(4000)}`;

/** A response read off a raw socket: enough to tell whether it was whole. */
class ResponseReader {
  #buffer = Buffer.alloc(0);
  status = 0;
  closes = false;
  complete = false;

  /** Returns false when the bytes cannot be (the start of) one response. */
  push(chunk: Buffer): boolean {
    if (this.complete) return false;
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return this.#buffer.length < 16_384;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!status || !length) return false;
    this.status = Number(status[1]);
    this.closes = /\r\nconnection: *close/i.test(head);
    const have = this.#buffer.length - end - 4;
    if (have > Number(length[1])) return false;
    this.complete = have === Number(length[1]);
    return true;
  }
}

export function holdConnections(options: HoldOptions): HeldConnections {
  const { port, idle, slow } = options;
  const trickleEveryMs = options.trickleEveryMs ?? 500;
  const spreadMs = options.spreadMs ?? 0;
  const idleAnswered = new Set<Socket>();
  const slowOpen = new Map<Socket, { sent: number; head: string; answered: boolean }>();
  const all = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const tally: HoldTally = {
    slowCut: 0,
    slowCut408: 0,
    slowCutClean: 0,
    slowLifeMs: { min: Infinity, max: 0 },
    slowReopened: 0,
    idleCut: 0,
    idleReopened: 0,
    openErrors: 0,
    unexpected: 0,
    unexpectedSamples: [],
  };
  let stopped = false;
  let serial = 0;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const unexpected = (what: string): void => {
    tally.unexpected++;
    if (tally.unexpectedSamples.length < 5) tally.unexpectedSamples.push(what);
  };

  /** Connects, retrying (counted) until it works or the hold is closed. */
  const open = (onConnect: (socket: Socket) => void): void => {
    if (stopped) return;
    const socket = connect({ port, host: '127.0.0.1' });
    all.add(socket);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      if (stopped) socket.destroy();
      else onConnect(socket);
    });
    socket.on('error', () => {
      if (connected) return;
      tally.openErrors++;
      later(50, () => open(onConnect));
    });
    socket.on('close', () => all.delete(socket));
  };

  const openIdle = (reopen: boolean, answered?: () => void): void =>
    open((socket) => {
      if (reopen) tally.idleReopened++;
      const reader = new ResponseReader();
      socket.on('data', (chunk: Buffer) => {
        if (!reader.push(chunk)) unexpected(`idle connection: ${chunk.toString('latin1').slice(0, 60)}`);
        else if (reader.complete) {
          if (reader.status !== 200) unexpected(`idle connection: status ${reader.status}`);
          idleAnswered.add(socket);
          answered?.();
          answered = undefined;
        }
      });
      socket.on('close', () => {
        idleAnswered.delete(socket);
        if (stopped) return;
        tally.idleCut++;
        // Cut before its first answer: the replacement answers for it.
        openIdle(true, answered);
      });
      socket.write(`GET ${IDLE_PATH}${serial++} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });

  const openSlow = (reopen: boolean, connected?: () => void): void =>
    open((socket) => {
      if (reopen) tally.slowReopened++;
      const since = Date.now();
      const state = { sent: 1, head: slowHead(serial++), answered: false };
      const reader = new ResponseReader();
      let ended = false;
      let reset = false;
      slowOpen.set(socket, state);
      socket.on('data', (chunk: Buffer) => {
        // Whatever the server says, this head is over: no more bytes, so that
        // none can cross the server's close and turn its FIN into a reset.
        state.answered = true;
        if (!reader.push(chunk)) unexpected(`slowloris connection: ${chunk.toString('latin1').slice(0, 60)}`);
      });
      socket.on('end', () => (ended = true));
      socket.on('error', () => (reset = true));
      socket.on('close', () => {
        slowOpen.delete(socket);
        if (stopped) return;
        const life = Date.now() - since;
        tally.slowCut++;
        tally.slowLifeMs.min = Math.min(tally.slowLifeMs.min, life);
        tally.slowLifeMs.max = Math.max(tally.slowLifeMs.max, life);
        if (reader.complete && reader.status === 408 && reader.closes) tally.slowCut408++;
        else unexpected(`slowloris connection closed after ${life} ms with ${reader.complete ? `a ${reader.status}` : 'no whole response'}`);
        if (ended && !reset) tally.slowCutClean++;
        openSlow(true);
      });
      socket.write(state.head[0] as string);
      connected?.();
    });

  const trickle = setInterval(() => {
    for (const [socket, state] of slowOpen) {
      if (state.answered || state.sent >= state.head.length) continue;
      socket.write(state.head[state.sent] as string);
      state.sent++;
    }
  }, trickleEveryMs);

  const ready = new Promise<void>((resolve) => {
    let waiting = idle + slow;
    const one = (): void => {
      if (--waiting === 0) resolve();
    };
    if (waiting === 0) resolve();
    // In batches: a burst of a thousand SYNs overflows the listen backlog
    // and the kernel's retransmits then cost a second each.
    const batch = 100;
    const openIdleBatch = (from: number): void => {
      const size = Math.min(batch, idle - from);
      let left = size;
      for (let i = 0; i < size; i++)
        openIdle(false, () => {
          one();
          if (--left === 0) openIdleBatch(from + batch);
        });
    };
    openIdleBatch(0);
    for (let i = 0; i < slow; i++) later((spreadMs * i) / slow, () => openSlow(false, one));
  });

  return {
    ready,
    held: () => ({ idle: idleAnswered.size, slow: slowOpen.size }),
    tally: () => ({ ...tally, slowLifeMs: { ...tally.slowLifeMs }, unexpectedSamples: [...tally.unexpectedSamples] }),
    close: () => {
      stopped = true;
      clearInterval(trickle);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of all) socket.destroy();
    },
  };
}

/** File descriptors a process has open (Linux): a server that leaks the connections it cuts keeps growing. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The median of some numbers (the lower middle one for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}
