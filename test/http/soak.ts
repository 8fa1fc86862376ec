/**
 * Holds many connections open against a server: idle keep-alive ones (one
 * request answered, then silence) and slowloris ones (a request head sent
 * one byte at a time, never finished). Shared by the small soak test and
 * scripts/soak.mjs.
 */
import { connect, type Socket } from 'node:net';

export interface SoakConnections {
  /** Connections the server has closed so far, and how many of those got a 408 first. */
  slowClosed(): { closed: number; got408: number };
  idleOpen(): number;
  close(): void;
}

const HEAD = 'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ' + 'x'.repeat(4000);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export async function holdConnections(port: number, idle: number, slow: number, trickleEveryMs = 200): Promise<SoakConnections> {
  const idleSockets: Socket[] = [];
  const slowSockets: Array<{ socket: Socket; closed: boolean; got408: boolean; sent: number }> = [];
  for (let i = 0; i < idle; i++) {
    const socket = await open(port);
    socket.on('error', () => {});
    socket.write('GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    idleSockets.push(socket);
  }
  for (let i = 0; i < slow; i++) {
    const socket = await open(port);
    const entry = { socket, closed: false, got408: false, sent: 0 };
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('HTTP/1.1 408')) entry.got408 = true;
    });
    socket.on('close', () => (entry.closed = true));
    slowSockets.push(entry);
  }
  const timer = setInterval(() => {
    for (const entry of slowSockets) {
      if (entry.closed || entry.sent >= HEAD.length) continue;
      entry.socket.write(HEAD[entry.sent] as string);
      entry.sent++;
    }
  }, trickleEveryMs);
  return {
    slowClosed: () => ({ closed: slowSockets.filter((e) => e.closed).length, got408: slowSockets.filter((e) => e.got408).length }),
    idleOpen: () => idleSockets.filter((s) => !s.destroyed && s.readyState === 'open').length,
    close: () => {
      clearInterval(timer);
      for (const s of idleSockets) s.destroy();
      for (const e of slowSockets) e.socket.destroy();
    },
  };
}
