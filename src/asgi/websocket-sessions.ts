/**
 * A mount's open WebSockets: the handshakes its ASGI application accepts,
 * the sessions they become, and how they end when the server stops (1001,
 * going away) or their worker is replaced (1012, service restart, once
 * --graceful-timeout has passed), as RFC 6455 §7.4.1 names them.
 */
import { sendErrorResponse } from '../http/error-response.js';
import type { RequestRecord } from '../http/request-record.js';
import type { WebSocketAccept } from '../ipc/websocket-payloads.js';
import type { ErrorLog } from '../observability/error-log.js';
import type { WorkerProcess } from '../supervisor/worker-process.js';
import { asksForWebSocket, handshakeFault, SUPPORTED_VERSION_HEADER } from './websocket-handshake.js';
import { CloseCode, WebSocketSession, type SessionOptions } from './websocket-session.js';
import { WebSocketUpgrade, type UpgradeOptions } from './websocket-upgrade.js';

export interface WebSocketSettings extends UpgradeOptions, SessionOptions {
  /** --graceful-timeout, ms: how long a replaced worker's sessions may run on. */
  gracefulTimeoutMs: number;
}

export class WebSocketSessions {
  readonly #settings: WebSocketSettings;
  readonly #log: ErrorLog;
  readonly #upgrade: WebSocketUpgrade;
  readonly #open = new Set<WebSocketSession>();

  constructor(settings: WebSocketSettings, log: ErrorLog) {
    this.#settings = settings;
    this.#log = log;
    this.#upgrade = new WebSocketUpgrade(settings);
  }

  /** An Upgrade request that asks for a WebSocket; only an ASGI worker is given it as one. */
  wanted(request: RequestRecord): boolean {
    return request.upgrade !== null && asksForWebSocket(request.req);
  }

  /**
   * A WebSocket request with an invalid handshake is answered here, 400 with
   * the version we speak (RFC 6455 §4.4), and no application hears of it.
   */
  refused(request: RequestRecord): boolean {
    const fault = handshakeFault(request.req);
    if (fault === null) return false;
    this.#log.info(`refused a WebSocket handshake for ${request.req.url ?? '?'}: ${fault}`);
    for (const [name, value] of Object.entries(SUPPORTED_VERSION_HEADER)) request.res.setHeader(name, value);
    sendErrorResponse(request.res, 400, { close: true });
    return true;
  }

  /** The application accepted: the 101 goes out, and the worker's stream is the session's from now on. */
  open(request: RequestRecord, worker: WorkerProcess, id: number, accept: WebSocketAccept, what: string): void {
    const upgrade = request.upgrade;
    if (upgrade === null) return;
    if (!upgrade.socket.writable) {
      // The client left before the 101: the application hears it as a disconnect (RFC 6455 §7.1.5: 1006).
      worker.sendWebSocketClose(id, { code: 1006, reason: '' });
      return;
    }
    // For the access log: the status that went out, though no response object wrote it.
    request.res.statusCode = 101;
    this.#upgrade.open(request.req, upgrade, accept, (ws) => {
      const session = new WebSocketSession(worker, id, ws, this.#settings, this.#log, what);
      worker.adopt(id, session);
      this.#open.add(session);
      ws.once('close', () => this.#open.delete(session));
    });
  }

  /** Sessions open now. */
  get size(): number {
    return this.#open.size;
  }

  /** The server is stopping: every session is told so at once (1001). */
  closeAll(): void {
    for (const session of this.#open) session.close(CloseCode.GOING_AWAY, 'server stopping');
  }

  /** The stop's grace is over: whatever is still open is dropped, so that nothing outlives the server. */
  terminateAll(): void {
    for (const session of this.#open) session.terminate();
    this.#open.clear();
  }

  /**
   * `worker` is being replaced (SIGHUP, --max-requests): its sessions run on
   * for --graceful-timeout, new ones going to its successors, then get 1012.
   */
  retire(worker: WorkerProcess): void {
    const timer = setTimeout(() => {
      for (const session of this.#open) if (session.worker === worker) session.close(CloseCode.SERVICE_RESTART, 'worker replaced');
    }, this.#settings.gracefulTimeoutMs);
    timer.unref();
    worker.once('exit', () => clearTimeout(timer));
  }
}
