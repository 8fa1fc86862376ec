/**
 * The contract every kind of mount meets: WSGI applications, CGI
 * directories and static directories. The router matches the request to a
 * mount and splits its path; the handler serves it. Mounts that run workers
 * also meet SupervisedMount, which the arbiter drives.
 */
import type { EventEmitter } from 'node:events';
import type { AppLoadError, WorkerBootError } from '../errors.js';
import type { RequestContext, RequestRecord } from '../http/request-record.js';
import type { MountSnapshot } from '../observability/mount-snapshot.js';

export type { RequestContext, RequestRecord };

/** How the router split the request path for one mount (RFC 3875 §4.1.5, §4.1.13; PEP 3333). */
export interface MountMatch {
  /** The mount prefix, decoded, as the client spelled it: SCRIPT_NAME. '' for a mount at '/'. */
  scriptName: string;
  /**
   * The rest of the path, percent-decoded, bytes carried as latin-1
   * characters: PATH_INFO. '' or starts with '/'. Dot segments are already
   * resolved and never climb above the mount.
   */
  pathInfo: string;
  /** The raw query string, undecoded. */
  query: string;
}

export interface MountHandler {
  /** A short word for logs: 'app' (a WSGI or ASGI application), 'cgi' or 'static'. */
  readonly kind: string;
  /**
   * Serves one request. Must always end `request.res` (or destroy it),
   * whatever happens, and adds the body bytes it writes to
   * `request.bodyBytes`.
   */
  handle(request: RequestRecord, match: MountMatch): void;
  /** Prepares the mount (spawns workers, checks directories); resolves when it can serve. */
  start?(): Promise<void>;
  /** The server begins to stop: long-lived connections (WebSockets) are told to end now. */
  drain?(): void;
  /** Stops the mount, letting in-flight work finish for up to `graceMs`. */
  close?(graceMs: number): Promise<void>;
  /** What it is doing now (workers, queue, requests in flight), for the control listener; read-only. */
  snapshot?(): MountSnapshot;
  /** Present on mounts that run worker processes. */
  readonly supervised?: SupervisedMount;
}

export interface SupervisionEvents {
  workerExit: [pid: number, description: string];
  /** The application can no longer be loaded; the server must stop. */
  fatal: [error: AppLoadError | WorkerBootError];
}

/** What the arbiter asks of a mount that runs workers. */
export interface SupervisedMount {
  readonly events: EventEmitter<SupervisionEvents>;
  /** Pids of its live workers. */
  readonly pids: number[];
  /** New workers load the code afresh; resolves once they serve and the old ones are leaving (SIGHUP). */
  reload(): Promise<void>;
  /** One worker more (SIGTTIN). */
  grow(): void;
  /** One worker fewer, never below one (SIGTTOU). */
  shrink(): void;
  /** Kills every worker at once (a grace that ran out, SIGQUIT). */
  kill(): void;
  /** What --reload watches for this mount: directories of its code, and single files. */
  readonly sources: { directories: string[]; files: string[] };
  /**
   * --reload saw a change: reloads, and while the new code fails to load,
   * answers with a page that shows why. Resolves true once the new code serves.
   */
  reloadChangedCode(): Promise<boolean>;
}
