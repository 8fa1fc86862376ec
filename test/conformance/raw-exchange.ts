/**
 * Sends exact bytes in pieces, each piece its own write with a pause after
 * it (so that the server's parser really gets it in pieces), and collects
 * the answer.
 */
import { connect } from 'node:net';
import { once } from 'node:events';
import { parseResponses, parseStrictResponses, type RawResponse } from '../helpers/raw-response.js';

export interface Exchange {
  responses: RawResponse[];
  /** Final (non-1xx) responses. */
  finals: RawResponse[];
  closed: boolean;
  received: Buffer;
  malformed: string | null;
  /**
   * What the strict reading (parseStrictResponses) finds wrong with the bytes
   * received: bad grammar or framing, or, once the server has closed, bytes
   * that are no complete response. Null if none.
   */
  wireProblem: string | null;
  /** Bytes after the last complete response, by the strict reading. */
  rest: Buffer;
  /** The deadline passed with the server neither done (by `enough`) nor closed. */
  timedOut: boolean;
  /** This end's port: the REMOTE_PORT the app sees (no proxy being trusted). */
  localPort: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Writes `pieces` and waits until `enough(finals, closed)` or `timeoutMs`.
 * Never throws on a reset: a server may abort a connection it refuses.
 */
export async function exchange(
  port: number,
  pieces: Buffer[],
  enough: (finals: RawResponse[], closed: boolean) => boolean,
  timeoutMs = 5_000,
  /**
   * Half-close after the last piece: the server answers what it has, then
   * closes. With `afterQuietMs`, only once a final response came, the server
   * closed, or it sent nothing for that long: Node's server ends a
   * half-closed connection at once (httpAllowHalfOpen is false), dropping
   * any response not yet written.
   */
  halfClose: boolean | { afterQuietMs: number } = false,
): Promise<Exchange> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const localPort = socket.localPort ?? 0;
  let received = Buffer.alloc(0);
  let closed = false;
  let wake: () => void = () => {};
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake();
  });
  let timedOut = false;
  const state = (): Exchange => {
    const strict = parseStrictResponses(received, closed);
    const common = { closed, received, wireProblem: strict.problem, rest: strict.rest, timedOut, localPort };
    try {
      const { responses } = parseResponses(received, closed);
      return { responses, finals: responses.filter((r) => r.status >= 200), malformed: null, ...common };
    } catch (error) {
      return { responses: [], finals: [], malformed: (error as Error).message, ...common };
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (const piece of pieces) {
    if (closed) break;
    socket.write(piece);
    if (pieces.length > 1) await pause(1);
  }
  if (typeof halfClose === 'object') {
    let quietSince = Date.now();
    let seenBytes = received.length;
    while (!closed && state().finals.length === 0 && Date.now() - quietSince < halfClose.afterQuietMs && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => (wake = r)), pause(5)]);
      if (received.length !== seenBytes) {
        seenBytes = received.length;
        quietSince = Date.now();
      }
    }
  }
  if (halfClose !== false && !closed) socket.end();
  for (;;) {
    const now = state();
    if (now.malformed !== null || enough(now.finals, closed) || closed || Date.now() > deadline) {
      timedOut = !closed && now.malformed === null && !enough(now.finals, closed);
      socket.destroy();
      // One more look: the close may come with the last bytes.
      return state();
    }
    // Cleared once woken: a pending deadline timer would hold the test file's exit for up to timeoutMs.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((r) => (wake = r)), new Promise<void>((r) => (timer = setTimeout(r, Math.max(1, deadline - Date.now()))))]);
    clearTimeout(timer);
  }
}
