/**
 * Completes the opening handshake (RFC 6455 §4.2.2) once an ASGI
 * application has accepted a WebSocket: the 101, with the subprotocol and
 * the extra headers the application chose, then the `ws` library's framing.
 * One per mount, with the server's WebSocket settings.
 */
import type { IncomingMessage } from 'node:http';
import { loadWs } from '../lazy-package.js';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Upgrade } from '../http/request-record.js';
import type { WebSocketAccept } from '../ipc/websocket-payloads.js';

export interface UpgradeOptions {
  /** --ws-max-size: counted after inflating, so a compression bomb is stopped (1009). */
  maxSize: number;
  /** --ws-per-message-deflate. */
  perMessageDeflate: boolean;
}

/** A header field that could break out of its line is never written (RFC 9110 §5.5). */
const SAFE_FIELD = /^[^\r\n\0]*$/;

export class WebSocketUpgrade {
  readonly #server: WebSocketServer;
  /** What the application chose, for the handshake in progress on each request. */
  readonly #accepted = new WeakMap<IncomingMessage, WebSocketAccept>();

  constructor(options: UpgradeOptions) {
    const { WebSocketServer } = loadWs();
    this.#server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxSize,
      // RFC 7692; ws inflates under maxPayload, so the limit holds after inflation.
      perMessageDeflate: options.perMessageDeflate,
      // The application picked among the client's offers (ASGI websocket.accept "subprotocol").
      handleProtocols: (_offered, req) => this.#accepted.get(req)?.subprotocol ?? false,
    });
    this.#server.on('headers', (headers: string[], req: IncomingMessage) => {
      const fields = this.#accepted.get(req)?.headers ?? [];
      for (let i = 0; i < fields.length; i += 2) {
        const line = `${fields[i] as string}: ${fields[i + 1] as string}`;
        if (SAFE_FIELD.test(line)) headers.push(line);
      }
    });
  }

  /** Switches the connection to the WebSocket protocol; `opened` gets it once the 101 is out. */
  open(req: IncomingMessage, upgrade: Upgrade, accept: WebSocketAccept, opened: (ws: WebSocket) => void): void {
    this.#accepted.set(req, accept);
    this.#server.handleUpgrade(req, upgrade.socket, upgrade.head, (ws) => {
      this.#accepted.delete(req);
      opened(ws);
    });
  }
}
