/**
 * The CGI/1.1 mount (RFC 3875): a directory of executables served like
 * Apache's ScriptAlias. Each request finds its script (script-locator.ts),
 * has a chunked body read whole first (request-body-spool.ts), gets its
 * meta-variables (cgi-environment.ts) and runs it once (cgi-exchange.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute } from 'node:path';
import { ConfigError } from '../errors.js';
import { sendErrorResponse } from '../http/error-response.js';
import { DEFAULT_LIMITS } from '../http/limits.js';
import type { Refusal } from '../http/refusal.js';
import { checkTrailers } from '../http/request-validation.js';
import type { ErrorLog } from '../observability/error-log.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import type { RequestRecord } from '../http/request-record.js';
import type { MountHandler, MountMatch } from '../routing/mount-handler.js';
import type { MountSnapshot } from '../observability/mount-snapshot.js';
import { CgiBodyTooLargeError, CgiError } from './cgi-errors.js';
import { buildCgiEnvironment } from './cgi-environment.js';
import { CgiExchange } from './cgi-exchange.js';
import { launchDirectly } from './cgi-process.js';
import { CgiSpawner } from './cgi-spawner.js';
import { hasUndeclaredLength, RequestBodySpool } from './request-body-spool.js';
import { ScriptLocator } from './script-locator.js';
import { isHttp2 } from '../http/http2-messages.js';

/** Local redirects followed for one request before it counts as a loop. */
export const MAX_INTERNAL_REDIRECTS = 10;

export interface CgiHandlerOptions {
  /** The CGI directory, absolute. Only files below it (after resolving symlinks) ever run. */
  root: string;
  log: ErrorLog;
  /** A script still running after this long is killed with its process group: 504, or a cut response. 0: no limit. */
  timeoutSeconds: number;
  /** Error pages show why a script failed and its stderr. */
  debug: boolean;
  /**
   * --limit-request-body, bytes; 0 for none; gunicorn's default when absent.
   * The listener refuses a declared length over it; a chunked body is
   * counted here while it is spooled, before its script starts.
   */
  limitRequestBody?: number;
  /**
   * The Python that runs the spawner helper (cgi-spawner.ts). null, or a
   * Python that cannot run it, means scripts are started with
   * child_process.spawn from the front, which is slower under load.
   */
  python: string | null;
  /**
   * Serves `path` (with its query) on this server for a script's local
   * redirect (RFC 3875 §6.2.2): as a new GET without a body, answering on
   * `res`. `req` is the original request, its body already dropped.
   * Without it, a local redirect is a 500.
   */
  internalRedirect?: (request: RequestRecord, path: string) => void;
}

export class CgiHandler implements MountHandler {
  readonly kind = 'cgi';
  readonly #options: CgiHandlerOptions;
  readonly #locator: ScriptLocator;
  readonly #running = new Set<CgiExchange>();
  /** null: scripts are started by the front itself (no Python for the spawner). */
  #spawner: CgiSpawner | null = null;

  constructor(options: CgiHandlerOptions) {
    if (!isAbsolute(options.root)) throw new ConfigError(`CGI root '${options.root}' is not an absolute path`);
    if (!(options.timeoutSeconds >= 0)) throw new ConfigError(`CGI timeout must not be negative, got ${options.timeoutSeconds}`);
    this.#options = options;
    this.#locator = new ScriptLocator(options.root);
  }

  /** Checks that the root is a directory and starts the spawner. */
  async start(): Promise<void> {
    let realRoot: string;
    try {
      realRoot = await this.#locator.realRoot();
    } catch (error) {
      throw new ConfigError(`CGI root '${this.#options.root}': ${(error as Error).message}`);
    }
    const python = this.#options.python;
    if (python === null) return;
    try {
      this.#spawner = await CgiSpawner.start(python, realRoot, this.#options.log);
    } catch (error) {
      this.#options.log.warning(
        `CGI spawner for ${this.#options.root} could not start with '${python}' (${(error as Error).message}); ` +
          'scripts will be started by the front itself, which is slower under load. Set --python to a working Python 3 to use the spawner.',
      );
    }
  }

  /** Waits up to `graceMs` for running scripts, then kills the process groups of the rest. */
  async close(graceMs: number): Promise<void> {
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all([...this.#running].map((exchange) => exchange.finished)), graceOver]);
      clearTimeout(timer);
      for (const exchange of this.#running) exchange.abort();
    }
    // Last: a request admitted before the close may still be waiting for its script to start.
    this.#spawner?.stop();
  }

  /** Scripts running now, for the control listener. */
  snapshot(): MountSnapshot {
    return { inflight: this.#running.size };
  }

  handle(request: RequestRecord, match: MountMatch): void {
    this.#serve(request, match).catch((error: unknown) => this.#refuse(request.req, request.res, error));
  }

  async #serve(request: RequestRecord, match: MountMatch): Promise<void> {
    const { req, res, context } = request;
    const script = await this.#locator.locate(match.pathInfo);
    // RFC 9110 §10.1.1: the client holds the body back until told to send
    // it; here it is wanted as soon as the script is known to exist.
    if (expectsContinue(req) && !res.headersSent) res.writeContinue();
    let spool: RequestBodySpool | null = null;
    if (hasUndeclaredLength(req)) {
      spool = await RequestBodySpool.fill(req, res, { limit: this.#options.limitRequestBody ?? DEFAULT_LIMITS.requestBody });
      if (spool === null) return; // the client left, or the body timeout has answered
      const refused = checkTrailers(req.rawTrailers);
      if (refused !== null) {
        await spool.dispose();
        this.#refuseRequest(request, refused);
        return;
      }
    }
    try {
      const env = buildCgiEnvironment({ req, match, context, script, root: this.#options.root, spooledLength: spool?.length });
      const withInput = Number(env.CONTENT_LENGTH ?? 0) > 0;
      const scriptProcess =
        this.#spawner === null
          ? launchDirectly(script, env)
          : await this.#spawner.launch(script, env, { withInput, stillWanted: () => !req.socket.destroyed });
      if (scriptProcess === null) {
        await spool?.dispose(); // the client left while the script waited its turn to start
        return;
      }
      const exchange = new CgiExchange(req, res, script, scriptProcess, {
        log: this.#options.log,
        timeoutSeconds: this.#options.timeoutSeconds,
        debug: this.#options.debug,
        internalRedirect: this.#options.internalRedirect === undefined ? undefined : (_req, _res, path) => this.#followRedirect(request, path),
        countBody: (bytes) => (request.bodyBytes += bytes),
        body: spool?.open(),
      });
      this.#running.add(exchange);
      void exchange.finished.then(() => {
        this.#running.delete(exchange);
        return spool?.dispose();
      });
    } catch (error) {
      await spool?.dispose();
      throw error;
    }
  }

  #followRedirect(request: RequestRecord, path: string): void {
    if (++request.redirects > MAX_INTERNAL_REDIRECTS) {
      this.#options.log.error(`CGI: more than ${MAX_INTERNAL_REDIRECTS} local redirects for ${quoteForLog(request.req.url ?? '?')}, last to '${quoteForLog(path)}'`);
      sendErrorResponse(request.res, 500);
      return;
    }
    this.#options.internalRedirect?.(request, path);
  }

  /** The request was refused at the end of its body (request-validation.ts): 400, and the connection closes, as for any refusal. */
  #refuseRequest({ req, res }: RequestRecord, refused: Refusal): void {
    this.#options.log.warning(`CGI ${quoteForLog(`${req.method ?? '?'} ${req.url ?? '?'}`)}: refused, ${refused.reason} [${refused.code}]`);
    sendErrorResponse(res, refused.refuse, { close: true });
  }

  /** The request never reached a script. */
  #refuse(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    req.resume(); // nobody will read the body
    if (error instanceof CgiError) {
      // Refusals (400, 403) are worth a warning: they are how traversal attempts show up.
      const level = error.status === 404 ? 'debug' : error.status >= 500 ? 'error' : 'warning';
      this.#options.log.log(level, `CGI ${quoteForLog(`${req.method ?? '?'} ${req.url ?? '?'}`)}: ${error.message} [${error.code}]`);
      // The rest of a body over the limit is not worth reading: the connection closes after the 413.
      sendErrorResponse(res, error.status, { close: error instanceof CgiBodyTooLargeError });
      return;
    }
    this.#options.log.error(`CGI ${quoteForLog(`${req.method ?? '?'} ${req.url ?? '?'}`)}: ${(error as Error)?.stack ?? String(error)}`);
    sendErrorResponse(res, 500);
  }
}

/** RFC 9110 §10.1.1: a 100-continue expectation, which an HTTP/1.0 request's is not. */
function expectsContinue(req: IncomingMessage): boolean {
  return (req.httpVersion === '1.1' || isHttp2(req)) && /^100-continue$/i.test(req.headers.expect ?? '');
}
