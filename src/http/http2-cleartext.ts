/**
 * h2c with prior knowledge (RFC 9113 §3.3): on a plain HTTP listener, a
 * connection whose first bytes are the HTTP/2 connection preface speaks
 * HTTP/2 from its first byte; any other speaks HTTP/1.1. Only a trusted
 * proxy (--forwarded-allow-ips) may: h2c is for the TLS-terminating proxy
 * in front, as in gunicorn, and anyone else is told HTTP_1_1_REQUIRED
 * (RFC 9113 §7) and closed. The first bytes decide: an HTTP/1.1 request
 * line differs from the preface at its first byte unless it is the
 * preface's own "PRI" method, which HTTP/1.1 does not serve either.
 */
import type { Server, Socket } from 'node:net';
import { readFirstBytes } from './connection-preface.js';
import type { Trust } from './proxy-headers.js';

/** RFC 9113 §3.4: the client connection preface. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * An empty SETTINGS frame (the server preface, §3.4) and GOAWAY with last
 * stream 0 and HTTP_1_1_REQUIRED (0x0d), §6.8: what an HTTP/2 client is
 * told before the close.
 */
const HTTP_1_1_REQUIRED = Buffer.from([
  0, 0, 0, 0x04, 0, 0, 0, 0, 0,
  0, 0, 8, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d,
]);

export interface CleartextRoutes {
  /** Whether HTTP/1.1 is spoken too (--http-protocols has h1). */
  http1: boolean;
  trust: Trust;
  /** Hands a connection that sent the preface to the HTTP/2 side, its bytes pushed back unread. */
  toHttp2(socket: Socket): void;
  onRefuse(reason: string): void;
}

/**
 * Puts the preface check in front of the HTTP/1.1 server's own 'connection'
 * listener. Call it before any other preface reader (PROXY protocol) is put
 * in front, so that that one reads first.
 */
export function routeCleartextHttp2(server: Server, routes: CleartextRoutes, timeoutMs: number): void {
  const httpListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const toHttp2 = (socket: Socket): void => {
      // The proxy is the TCP peer: under --proxy-protocol the header names its client, who is not the one speaking h2c.
      const address = socket.remoteAddress;
      // A UNIX socket has no peer address: its file's permissions say who may connect.
      if (address === undefined || routes.trust(address, 0)) return routes.toHttp2(socket);
      routes.onRefuse(`h2c from ${address}, which --forwarded-allow-ips does not name`);
      socket.end(HTTP_1_1_REQUIRED, () => socket.destroy());
      socket.resume();
    };
    readFirstBytes(socket, timeoutMs, () => {}, (received) => {
      const known = Math.min(received.length, PREFACE.length);
      const isPreface = received.subarray(0, known).equals(PREFACE.subarray(0, known));
      if (isPreface && known < PREFACE.length) return undefined;
      return () => {
        socket.pause();
        socket.unshift(received);
        if (isPreface) return toHttp2(socket);
        if (!routes.http1) {
          routes.onRefuse('HTTP/1.1 on a listener that speaks HTTP/2 only (--http-protocols h2)');
          socket.destroy();
          return;
        }
        for (const listener of httpListeners) listener.call(server, socket);
        socket.resume();
      };
    });
  });
}
