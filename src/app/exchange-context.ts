/**
 * What every exchange of one application mount shares: its pool, its log,
 * its limits, and where its deadlines and its WebSockets are kept.
 */
import type { WebSocketSessions } from '../asgi/websocket-sessions.js';
import type { ErrorLog } from '../observability/error-log.js';
import type { WorkerPool } from '../supervisor/worker-pool.js';
import type { DeadlineList } from './deadline-list.js';

export interface ExchangeContext {
  pool: WorkerPool;
  log: ErrorLog;
  /** --timeout: the per-request deadline; 0 for none. */
  timeoutSeconds: number;
  /** Where the exchanges' --timeout deadlines wait; null when timeoutSeconds is 0. */
  deadlines: DeadlineList | null;
  /** --limit-request-body, bytes; 0 for none. A declared length over it never gets here; a chunked body is counted. */
  limitRequestBody: number;
  /** --root-path, latin-1 (bytes-as-str): the ASGI root_path's first part. */
  rootPath: string;
  /** Where an ASGI application's accepted WebSockets go. */
  websockets: WebSocketSessions;
}
