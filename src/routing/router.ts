/**
 * Dispatch: hands each admitted request to the mount its path names, or
 * answers it itself: `OPTIONS *`, 404 for a path no mount serves, 400 for one
 * that climbs above the root. A CGI script's local redirect comes back here
 * to be served anew.
 */
import { sendErrorResponse } from '../http/error-response.js';
import type { RequestRecord } from '../http/request-record.js';
import type { ErrorLog } from '../observability/error-log.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import { MountTable } from './mount-table.js';

/** The methods `OPTIONS *` names: what the server passes on to applications and scripts. */
export const SERVER_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** What describes a request's body: gone from a request replayed as a GET. */
const BODY_HEADERS: ReadonlySet<string> = new Set(['content-length', 'content-type', 'transfer-encoding']);

export class Router {
  readonly #mounts: MountTable;
  readonly #log: ErrorLog;

  constructor(mounts: MountTable, log: ErrorLog) {
    this.#mounts = mounts;
    this.#log = log;
  }

  route(request: RequestRecord): void {
    const { req, res } = request;
    if (req.url === '*') {
      // `OPTIONS *` (the only method the listener lets through with this
      // target) asks about the server itself, not a resource (RFC 9110
      // §9.3.7): answered here, as Apache does, with no application asked.
      res.writeHead(200, { Allow: SERVER_METHODS, 'Content-Length': '0' }).end();
      return;
    }
    const route = this.#mounts.route(req.url ?? '/');
    if (route.kind !== 'mount') {
      request.mount = null;
      request.kind = null;
      if (route.kind === 'bad-path') this.#log.info(`refused ${quoteForLog(`${req.method} ${req.url}`)}: ${route.reason}`);
      sendErrorResponse(res, route.kind === 'bad-path' ? 400 : 404);
      return;
    }
    const { prefix, handler } = route.mount;
    request.mount = prefix;
    request.kind = handler.kind;
    handler.handle(request, route.match);
  }

  /**
   * RFC 3875 §6.2.2: a local redirect is served anew, as a GET without a
   * body, on the same response; the original body is already spent. Its
   * bytes count, not the first handler's.
   */
  redirect(request: RequestRecord, path: string): void {
    const { req } = request;
    req.method = 'GET';
    req.url = path;
    for (const name of BODY_HEADERS) delete req.headers[name];
    req.rawHeaders = req.rawHeaders.filter((_, i, raw) => !BODY_HEADERS.has((raw[i - (i % 2)] as string).toLowerCase()));
    request.bodyBytes = 0;
    this.route(request);
  }
}
