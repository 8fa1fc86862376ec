/**
 * The programmatic server: what `portico` runs, and what `createServer()`
 * gives JavaScript callers, in the spirit of wsgiref.simple_server.make_server.
 */
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { defaultOptions, parseBind, type ServerOptions } from './config/settings.js';
import { AppLoadError, ConfigError } from './errors.js';
import { Listener, listenerOptions, parseBindAddress } from './http/listener.js';
import { AccessLog, wantsColour } from './observability/access-log.js';
import { ErrorLog, openLogStream } from './observability/error-log.js';
import { POOL_SETTING_KEYS, type MountSpec, type PoolSettings } from './config/mount-spec.js';
import { sendErrorResponse } from './http/error-response.js';
import { CgiHandler } from './cgi/cgi-handler.js';
import type { MountHandler, RequestContext } from './routing/mount-handler.js';
import { MountTable, normalizePrefix } from './routing/mount-table.js';
import { StaticHandler } from './static/static-handler.js';
import { CodeWatcher, appScriptFile } from './supervisor/code-watcher.js';
import { WsgiMount } from './wsgi/wsgi-mount.js';

export type { ServerOptions } from './config/settings.js';

interface ServerEvents {
  /** Every listener is bound and every worker has imported the application. */
  start: [urls: string[]];
  workerExit: [pid: number, description: string];
  /** A new generation of workers took over after reload(). */
  reload: [];
  /** The application can no longer be loaded; the server has stopped its workers. */
  fatal: [error: Error];
}

export class Server extends EventEmitter<ServerEvents> {
  readonly options: ServerOptions;
  readonly log: ErrorLog;
  readonly #accessLog: AccessLog | null;
  readonly #mounts: MountTable;
  readonly #wsgiMounts: WsgiMount[] = [];
  readonly #watchers: CodeWatcher[] = [];
  readonly #listeners: Listener[];
  /** Kept for a CGI local redirect, which replays a request on its own context; only CGI requests are put here. */
  readonly #contexts = new WeakMap<IncomingMessage, RequestContext>();
  readonly #accessHandler = new WeakMap<ServerResponse, MountHandler | null>();
  #inflight = 0;
  #whenIdle: Array<() => void> = [];

  constructor(options: Partial<ServerOptions>) {
    super();
    this.options = { ...defaultOptions(), ...options };
    for (const bind of this.options.bind) parseBind(bind);
    this.log = new ErrorLog(openLogStream(this.options.errorLogfile, process.stderr), this.options.logLevel);
    if (this.options.accessLogfile !== null) {
      const stream = openLogStream(this.options.accessLogfile, process.stdout);
      this.#accessLog = new AccessLog(stream, wantsColour(stream));
    } else {
      this.#accessLog = null;
    }

    const specs: MountSpec[] = [...this.options.mounts];
    if (this.options.app !== '') specs.unshift({ kind: 'wsgi', path: '/', app: this.options.app });
    if (specs.length === 0) throw new ConfigError('nothing to serve: give an application, or mounts');
    this.#mounts = new MountTable(specs.map((spec) => ({ prefix: normalizePrefix(spec.path), handler: this.#createHandler(spec) })));

    this.#listeners = this.options.bind.map(
      (bind) =>
        new Listener(
          parseBindAddress(bind),
          (req, res, context) => this.#handle(req, res, context),
          listenerOptions(this.options, (req, refused) =>
            this.log.info(`refused ${req === null ? 'connection' : `${req.method} ${req.url}`}: ${refused.refuse || 'closed'} ${refused.code}: ${refused.reason}`),
          ),
        ),
    );
  }

  #createHandler(spec: MountSpec): MountHandler {
    if (spec.kind === 'static') return new StaticHandler({ root: this.#directory(spec.root, `--static ${spec.path}`), log: this.log });
    if (spec.kind === 'cgi') {
      return new CgiHandler({
        root: this.#directory(spec.root, `--cgi ${spec.path}`),
        log: this.log,
        timeoutSeconds: this.options.timeout,
        debug: this.options.debug,
        python: this.options.python,
        internalRedirect: (req, res, path) => {
          // RFC 3875 §6.2.2: a local redirect is served anew, as a GET without
          // a body, on the same response; the original body is already spent.
          req.method = 'GET';
          req.url = path;
          for (const name of BODY_HEADERS) delete req.headers[name];
          req.rawHeaders = req.rawHeaders.filter((_, i, raw) => !BODY_HEADERS.has((raw[i - (i % 2)] as string).toLowerCase()));
          this.#route(req, res, this.#contexts.get(req) as RequestContext);
        },
      });
    }
    const settings = { ...pickPoolSettings(this.options), ...spec.settings };
    const chdir = this.#directory(settings.chdir, '--chdir');
    const mount = new WsgiMount(
      {
        ...settings,
        chdir,
        app: spec.app,
        debug: this.options.debug,
        limitRequestBody: this.options.limitRequestBody,
        countBodyBytes: this.#accessLog !== null,
      },
      this.log,
    );
    mount.pool.on('workerExit', (pid, description) => this.emit('workerExit', pid, description));
    mount.pool.on('fatal', (error) => {
      this.log.error(error instanceof AppLoadError ? error.report : error.message);
      this.emit('fatal', error);
    });
    this.#wsgiMounts.push(mount);
    if (this.options.reload) this.#watchForReload(mount, [chdir, ...settings.pythonpath.map((path) => resolve(chdir, path))], appScriptFile(spec.app, chdir));
    return mount;
  }

  /**
   * --reload: a change to the mount's sources reloads its workers, as SIGHUP
   * does. New code that fails to load is shown on every page until a later
   * change loads. An APP given as a file may live outside --chdir and
   * --pythonpath: its folder is watched too, for the modules beside it, and
   * the file itself, which as a .wsgi is no .py.
   */
  #watchForReload(mount: WsgiMount, directories: string[], appFile: string | null): void {
    const extraFiles = this.options.reloadExtraFiles.map((file) => resolve(file));
    if (appFile !== null) {
      directories.push(dirname(appFile));
      extraFiles.push(appFile);
    }
    const watcher = new CodeWatcher(directories, extraFiles, (path) => {
      this.log.info(`${path} changed; reloading`);
      mount.pool.reload().then(
        () => {
          if (mount.loadFailure !== null) this.log.info('the application loads again');
          mount.loadFailure = null;
          this.emit('reload');
        },
        (error: Error) => {
          mount.loadFailure = error instanceof AppLoadError ? error.report : error.message;
          this.log.error(`the changed code failed to load; serving an error page until it is fixed\n${mount.loadFailure}`);
        },
      );
    });
    this.#watchers.push(watcher);
  }

  /** An existing directory, made absolute; `what` names the option for the error. */
  #directory(path: string, what: string): string {
    const absolute = resolve(path);
    if (!isDirectory(absolute)) throw new ConfigError(`${what}: '${path}' is not a directory (looked for ${absolute})`);
    return absolute;
  }

  /** Binds every address, then starts every mount; resolves once all workers are ready. */
  async listen(): Promise<void> {
    await Promise.all(this.#listeners.map((listener) => listener.listen()));
    try {
      await Promise.all(this.#mounts.mounts.map(({ handler }) => handler.start?.()));
    } catch (error) {
      for (const listener of this.#listeners) listener.server.close();
      for (const mount of this.#wsgiMounts) mount.pool.kill();
      throw error;
    }
    const urls = this.address();
    const workers = this.#wsgiMounts.reduce((sum, mount) => sum + mount.pool.pids.length, 0);
    this.log.info(`listening on ${urls.join(', ')}, ${workers} worker${workers === 1 ? '' : 's'} ready`);
    this.emit('start', urls);
  }

  /** The bound addresses, with the real ports. */
  address(): string[] {
    return this.#listeners.map((listener) => listener.url);
  }

  /** Pids of the live workers of every WSGI mount. */
  get workerPids(): number[] {
    return this.#wsgiMounts.flatMap((mount) => mount.pool.pids);
  }

  /**
   * Graceful reload: new workers import the applications afresh; once they
   * are ready the old ones finish what they hold and exit. The listening
   * sockets stay open throughout. Rejects, leaving the old workers serving,
   * when new code cannot be loaded.
   */
  async reload(): Promise<void> {
    this.log.info('reloading: starting new workers');
    await Promise.all(this.#wsgiMounts.map((mount) => mount.pool.reload()));
    this.log.info('reloaded: new workers ready');
    this.emit('reload');
  }

  /** One worker more for every WSGI mount (SIGTTIN). */
  addWorker(): void {
    for (const mount of this.#wsgiMounts) mount.pool.grow();
  }

  /** One worker fewer for every WSGI mount, never below one (SIGTTOU). */
  removeWorker(): void {
    for (const mount of this.#wsgiMounts) mount.pool.shrink();
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `graceMs` (--graceful-timeout by default), then cuts what is left and
   * stops the workers. One grace for everything: whatever is still running
   * when it ends is killed, so the whole stop takes at most `graceMs`.
   */
  async close(graceMs: number = this.options.gracefulTimeout * 1000): Promise<void> {
    const graceEnds = Date.now() + graceMs;
    for (const watcher of this.#watchers) watcher.close();
    for (const { server } of this.#listeners) {
      server.close();
      server.closeIdleConnections();
    }
    if (this.#inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((done) => this.#whenIdle.push(done)),
        new Promise<void>((done) => (timer = setTimeout(done, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const { server } of this.#listeners) server.closeAllConnections();
    const graceLeft = Math.max(0, graceEnds - Date.now());
    let killTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.#mounts.mounts.map(({ handler }) => handler.close?.(graceLeft))),
      new Promise<void>((done) => {
        killTimer = setTimeout(() => {
          for (const mount of this.#wsgiMounts) mount.pool.kill();
          done();
        }, graceLeft);
      }),
    ]);
    clearTimeout(killTimer);
  }

  #handle(req: IncomingMessage, res: ServerResponse, context: RequestContext): void {
    this.#inflight++;
    res.on('close', this.#onResponseClose);
    this.#route(req, res, context);
  }

  /** One function for every response, rather than a closure per request: it needs nothing of the request. */
  readonly #onResponseClose = (): void => {
    this.#inflight--;
    if (this.#inflight === 0) for (const done of this.#whenIdle.splice(0)) done();
  };

  /** Hands the request to the mount its path names, or answers 400/404 itself. */
  #route(req: IncomingMessage, res: ServerResponse, context: RequestContext): void {
    if (req.url === '*') {
      // `OPTIONS *` (the only method the listener lets through with this
      // target) asks about the server itself, not a resource (RFC 9110
      // §9.3.7): answered here, as Apache does, with no application asked.
      this.#recordAccess(req, res, null);
      res.writeHead(200, { Allow: SERVER_METHODS, 'Content-Length': '0' }).end();
      return;
    }
    const route = this.#mounts.route(req.url ?? '/');
    if (route.kind !== 'mount') {
      if (route.kind === 'bad-path') this.log.info(`refused ${req.method} ${req.url}: ${route.reason}`);
      this.#recordAccess(req, res, null);
      sendErrorResponse(res, route.kind === 'bad-path' ? 400 : 404);
      return;
    }
    const { handler } = route.mount;
    if (handler.kind === 'cgi') this.#contexts.set(req, context);
    this.#recordAccess(req, res, handler);
    handler.handle(req, res, route.match, context);
  }

  /**
   * One access-log line per response, when it is over: finished or cut (a
   * cut response is logged too, as Apache does). An internal redirect
   * replaces the handler whose bytes count.
   */
  #recordAccess(req: IncomingMessage, res: ServerResponse, handler: MountHandler | null): void {
    const accessLog = this.#accessLog;
    if (accessLog === null) return;
    const first = !this.#accessHandler.has(res);
    this.#accessHandler.set(res, handler);
    if (first) res.on('close', () => accessLog.record(req, res.statusCode, this.#accessHandler.get(res)?.bodyBytes?.(res) ?? 0));
  }
}

function pickPoolSettings(options: ServerOptions): PoolSettings {
  return Object.fromEntries(POOL_SETTING_KEYS.map((key) => [key, options[key]])) as unknown as PoolSettings;
}

/** The methods `OPTIONS *` names: what the server passes on to applications and scripts. */
const SERVER_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** What describes a request's body: gone from a request replayed as a GET. */
const BODY_HEADERS: ReadonlySet<string> = new Set(['content-length', 'content-type', 'transfer-encoding']);

/** Makes a server from the same options the CLI takes. */
export function createServer(options: Partial<ServerOptions>): Server {
  return new Server(options);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
