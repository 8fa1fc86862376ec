/**
 * Something a connection says before its first HTTP request: a PROXY
 * protocol header (proxy-protocol.ts), or a uwsgi packet (uwsgi-protocol.ts)
 * that stands for the request itself. The preface is read off the socket
 * before the HTTP parser sees it; the parser is then handed the socket with
 * whatever the preface leaves for it (the bytes that followed, or a request
 * head rebuilt from it) pushed back in front. The address the preface names
 * becomes the connection's peer, as --forwarded-allow-ips then judges it.
 */
import type { Server, Socket } from 'node:net';
import type { Peer } from './proxy-headers.js';

export type PrefaceResult =
  /** More bytes are needed. */
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /**
   * The preface is `length` bytes long. `peer`: the client it names, or
   * null for the socket's own. `replacement`: bytes the HTTP parser reads in
   * its place, before what followed it.
   */
  | { kind: 'done'; peer: Peer | null; length: number; replacement?: Buffer };

export interface PrefaceReader {
  /** What the preface is, for the log: 'PROXY protocol header'. */
  name: string;
  parse(received: Buffer): PrefaceResult;
  /** Why a peer may not speak this at all (checked before a byte is read), or null. */
  refuse?(socket: Socket): string | null;
}

const peers = new WeakMap<Socket, Peer>();

/** The client address a preface gave for `socket`, or null if none did. */
export function prefacePeer(socket: Socket): Peer | null {
  return peers.get(socket) ?? null;
}

/**
 * Puts `reader` in front of the HTTP parser of `server`: the http.Server's
 * own 'connection' listener is called only once the preface has been read.
 * A malformed preface, a refused peer, or no preface within `timeoutMs`
 * closes the connection.
 */
export function requirePreface(server: Server, reader: PrefaceReader, timeoutMs: number, onInvalid: (reason: string) => void): void {
  const httpListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const refused = reader.refuse?.(socket) ?? null;
    if (refused !== null) {
      onInvalid(refused);
      socket.destroy();
      return;
    }
    const fail = (reason: string): void => {
      onInvalid(reason);
      socket.destroy();
    };
    readFirstBytes(socket, timeoutMs, () => fail(`no ${reader.name} in time`), (received) => {
      const result = reader.parse(received);
      if (result.kind === 'incomplete') return undefined;
      if (result.kind === 'invalid') return () => fail(result.reason);
      return () => {
        socket.pause();
        if (result.peer !== null) peers.set(socket, result.peer);
        const rest = received.subarray(result.length);
        const pushBack = result.replacement === undefined ? rest : Buffer.concat([result.replacement, rest]);
        if (pushBack.length > 0) socket.unshift(pushBack);
        for (const listener of httpListeners) listener.call(server, socket);
        // A TLS socket reads the connection itself, the bytes pushed back
        // first (Node's initRead, on the next tick); a resume here would
        // flow them out to no one first, and the handshake would never end.
        if (!isTlsServer(server)) socket.resume();
      };
    });
  });
}

/**
 * Holds a new connection's first bytes until `decide`, given every byte so
 * far, has seen enough of them: it answers undefined to wait for more, or
 * what to do with the connection, which runs once the reading has stopped.
 * The plumbing each reader of a connection's opening shares (PROXY
 * protocol, uwsgi, the h2c preface). Nothing decided within `timeoutMs`:
 * `onTimeout`, then the connection closes; so does an error.
 */
export function readFirstBytes(socket: Socket, timeoutMs: number, onTimeout: () => void, decide: (received: Buffer) => (() => void) | undefined): void {
  let received: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    cleanup();
    onTimeout();
    socket.destroy();
  }, timeoutMs);
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
  };
  const onError = (): void => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const next = decide(received);
    if (next === undefined) return;
    cleanup();
    next();
  };
  socket.on('data', onData);
  socket.on('error', onError);
}

/**
 * Whether `server` is a tls.Server (https.Server is one), known by the
 * method only that class has, so that a plain HTTP front never loads
 * node:tls for the check (lazy-package.ts).
 */
function isTlsServer(server: Server): boolean {
  return typeof (server as Server & { setSecureContext?: unknown }).setSecureContext === 'function';
}
