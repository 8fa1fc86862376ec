/**
 * Sends exact bytes in pieces, each piece its own write with a pause after
 * it (so that the server's parser really gets it in pieces), and collects
 * the answer.
 */
import { connect } from 'node:net';
import { once } from 'node:events';
import { parseResponses, type RawResponse } from '../helpers/raw-response.js';

export interface Exchange {
  responses: RawResponse[];
  /** Final (non-1xx) responses. */
  finals: RawResponse[];
  closed: boolean;
  received: Buffer;
  malformed: string | null;
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
  /** Half-close after the last piece: the server answers what it has, then closes. */
  halfClose = false,
): Promise<Exchange> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await once(socket, 'connect');
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
  const state = (): Exchange => {
    try {
      const { responses } = parseResponses(received, closed);
      return { responses, finals: responses.filter((r) => r.status >= 200), closed, received, malformed: null };
    } catch (error) {
      return { responses: [], finals: [], closed, received, malformed: (error as Error).message };
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (const piece of pieces) {
    if (closed) break;
    socket.write(piece);
    if (pieces.length > 1) await pause(1);
  }
  if (halfClose && !closed) socket.end();
  for (;;) {
    const now = state();
    if (now.malformed !== null || enough(now.finals, closed) || closed || Date.now() > deadline) {
      socket.destroy();
      // One more look: the close may come with the last bytes.
      return state();
    }
    await Promise.race([new Promise<void>((r) => (wake = r)), pause(Math.max(1, deadline - Date.now()))]);
  }
}
