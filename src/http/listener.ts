/**
 * Turns bind addresses into listening HTTP servers.
 */
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';

export type BindAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export function parseBindAddress(bind: string): BindAddress {
  if (bind.startsWith('unix:')) return { kind: 'unix', path: bind.slice(5) };
  const colon = bind.lastIndexOf(':');
  let host = colon === -1 ? '' : bind.slice(0, colon);
  const port = Number(colon === -1 ? bind : bind.slice(colon + 1));
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--bind: bad port in '${bind}'`);
  return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port };
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListenerOptions {
  keepAliveSeconds: number;
}

/** One listening socket with its HTTP server. */
export class Listener {
  readonly server: HttpServer;
  readonly bind: BindAddress;

  constructor(bind: BindAddress, handler: RequestHandler, options: ListenerOptions) {
    this.bind = bind;
    this.server = createServer({ keepAliveTimeout: options.keepAliveSeconds * 1000 }, handler);
    // Listening for 'checkContinue' stops Node from answering 100 itself: the
    // 100 must wait until the application starts reading the body.
    this.server.on('checkContinue', handler);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = (): void => {
        this.server.off('error', reject);
        resolve();
      };
      if (this.bind.kind === 'unix') {
        removeStaleSocket(this.bind.path);
        this.server.listen(this.bind.path, done);
      } else {
        this.server.listen({ host: this.bind.host, port: this.bind.port }, done);
      }
    });
  }

  /** `http://host:port` or `unix:path`, with the real port once listening. */
  get url(): string {
    if (this.bind.kind === 'unix') return `unix:${this.bind.path}`;
    const address = this.server.address() as AddressInfo | null;
    const host = address?.address ?? this.bind.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address?.port ?? this.bind.port}`;
  }

  /** SERVER_NAME and SERVER_PORT for requests without a Host header. */
  get serverNameAndPort(): { serverName: string; serverPort: string } {
    if (this.bind.kind === 'unix') return { serverName: 'localhost', serverPort: '' };
    const address = this.server.address() as AddressInfo | null;
    return { serverName: address?.address ?? this.bind.host, serverPort: String(address?.port ?? this.bind.port) };
  }
}

/** A socket file left by a previous run would make listen() fail; anything else there is left alone. */
function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}
