/**
 * A directory served as static files under a mount (Apache's Alias, nginx's
 * location + root).
 *
 *     PATH_INFO ─┬─ plain GET/HEAD, checked within the last second: OpenFileCache hit
 *                └─ parseRequestPath ─ names ─ FileResolver ─ real path + stat
 *                   (dots, NUL, '\')          (realpath ⊂ root)      │
 *                                                                    ├─ plain GET/HEAD, small: OpenFileCache
 *                                                                    └─ otherwise: send (RFC 9110 semantics)
 *
 * `send` owns the HTTP semantics: conditional requests (RFC 9110 §13),
 * ranges (§14) and 304/206/412/416. The cache only answers what needs none
 * of them: a GET or HEAD with no Range and no precondition, which is always
 * a full 200 (§13.2.1 and §14.2 leave nothing to evaluate). Anything else
 * goes to `send`, so the two paths cannot drift apart on semantics; and both
 * take their headers from `fileHeaders`, so they cannot drift on headers.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ReadStream, Stats } from 'node:fs';
import { sep } from 'node:path';
import { loadSend } from '../lazy-package.js';
import type { RequestRecord } from '../http/request-record.js';
import type { MountHandler, MountMatch } from '../routing/mount-handler.js';
import type { ErrorLog } from '../observability/error-log.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import { sendErrorResponse } from '../http/error-response.js';
import { ConfigError } from '../errors.js';
import { encodeUrlPath, parseRequestPath, type RequestPath } from './request-path.js';
import { FileResolver, type Resolution } from './file-resolver.js';
import { fileHeaders } from './file-headers.js';
import { OpenFileCache, type CachedFile, type OpenFileCacheOptions } from './open-file-cache.js';

export interface StaticHandlerOptions {
  /** Absolute path of the directory to serve. */
  root: string;
  log: ErrorLog;
  /** Directory listings are not offered; a directory without index.html is a 404. */
  listing?: false;
  /** The open-file cache, or its limits, or false to stream every file. */
  openFileCache?: OpenFileCache | Partial<OpenFileCacheOptions> | false;
}

const ALLOWED_METHODS = 'GET, HEAD';

/** Request headers that make the answer something other than a plain 200 (RFC 9110 §13.1, §14.2). */
const CONDITIONAL_HEADERS = ['range', 'if-range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

type AcceptedPath = Extract<RequestPath, { ok: true }>;

/** A path resolved, and the cache's entry for it when it names a file the cache keeps. */
interface Lookup {
  resolution: Resolution;
  entry: CachedFile | undefined;
}

interface SendError extends Error {
  status?: number;
  headers?: Record<string, string>;
}

export class StaticHandler implements MountHandler {
  readonly kind = 'static';
  readonly #log: ErrorLog;
  readonly #resolver: FileResolver;
  readonly #cache: OpenFileCache | null;
  /**
   * The lookups under way for the cache, by key: requests for a path that is
   * being loaded or revalidated wait for that one lookup instead of each
   * resolving it again. Without this, every connection asking for a hot file
   * in the moment its entry goes stale (once a second) would pay a realpath
   * and a stat of its own (a thundering herd, nginx's open_file_cache has
   * none because its stat is synchronous).
   */
  readonly #lookups = new Map<string, Promise<Lookup>>();
  /** The `send` package, loaded with the first static mount (src/lazy-package.ts). */
  readonly #send = loadSend();

  constructor(options: StaticHandlerOptions) {
    if (options.listing !== undefined && options.listing !== false) {
      throw new ConfigError('static directory listings are not supported');
    }
    if (!options.root.startsWith('/')) throw new ConfigError(`static root '${options.root}' must be an absolute path`);
    this.#log = options.log;
    this.#resolver = new FileResolver(options.root);
    const cache = options.openFileCache;
    this.#cache = cache === false ? null : cache instanceof OpenFileCache ? cache : new OpenFileCache(cache);
  }

  /** Checks that the root is a directory. */
  async start(): Promise<void> {
    await this.#resolver.realRoot();
  }

  async close(): Promise<void> {
    this.#cache?.clear();
  }

  handle(request: RequestRecord, match: MountMatch): void {
    const { req, res } = request;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
      res.setHeader('Allow', ALLOWED_METHODS);
      sendErrorResponse(res, 405);
      return;
    }
    // Entries are keyed by PATH_INFO as it came: one is made only after
    // parseRequestPath accepted that very string and the resolver found a
    // file under the root, and both are functions of it alone, so a hit
    // needs neither again.
    const key = match.pathInfo;
    const cache = this.#cache !== null && isPlain(req) ? this.#cache : null;
    const now = Date.now();
    // A hot file is answered here, synchronously: the hit costs no promise and no file system call.
    const hit = cache?.fresh(key, now);
    if (hit !== undefined) {
      this.#serveCached(request, hit);
      return;
    }
    const path = parseRequestPath(match.pathInfo);
    if (!path.ok) {
      this.#log.debug(`static: refused "${quoteForLog(match.pathInfo)}": ${path.reason}`);
      sendErrorResponse(res, path.status);
      return;
    }
    const lookup = cache === null ? this.#resolve(path) : this.#lookUp(cache, key, path, now);
    lookup
      .then((found) => this.#answer(request, match, path, found))
      .catch((error: unknown) => {
        this.#log.error(`static: ${quoteForLog(`${req.method} ${match.scriptName}${match.pathInfo}`)}: ${describe(error)}`);
        sendErrorResponse(res, 500);
      });
  }

  async #resolve(path: AcceptedPath): Promise<Lookup> {
    return { resolution: await this.#resolver.resolve(path.names, path.trailingSlash), entry: undefined };
  }

  /** The lookup for `key` already under way, or a new one. */
  #lookUp(cache: OpenFileCache, key: string, path: AcceptedPath, now: number): Promise<Lookup> {
    let lookup = this.#lookups.get(key);
    if (lookup === undefined) {
      lookup = this.#resolveForCache(cache, key, path, now);
      this.#lookups.set(key, lookup);
      const done = (): void => {
        this.#lookups.delete(key);
      };
      lookup.then(done, done);
    }
    return lookup;
  }

  /** Resolves the path again, and keeps the entry if it is still that file, or loads it if it fits. */
  async #resolveForCache(cache: OpenFileCache, key: string, path: AcceptedPath, now: number): Promise<Lookup> {
    const resolution = await this.#resolver.resolve(path.names, path.trailingSlash);
    if (resolution.kind !== 'file' || !cache.admits(resolution.stat)) {
      cache.forget(key);
      return { resolution, entry: undefined };
    }
    const entry = cache.confirm(key, resolution.path, resolution.stat, now) ?? (await this.#load(cache, key, resolution.path, resolution.typeName, now));
    return { resolution, entry };
  }

  #answer(request: RequestRecord, match: MountMatch, path: AcceptedPath, { resolution, entry }: Lookup): void {
    const { req, res } = request;
    switch (resolution.kind) {
      case 'refused':
        if (resolution.suspicious) this.#log.warning(`static: refused "${quoteForLog(match.pathInfo)}": ${resolution.reason}`);
        else this.#log.debug(`static: "${quoteForLog(match.pathInfo)}": ${resolution.reason}`);
        sendErrorResponse(res, resolution.status);
        return;
      case 'directory':
        this.#redirectToDirectory(req, res, match, path.segments);
        return;
      case 'file':
        if (entry !== undefined) this.#serveCached(request, entry);
        else this.#stream(request, resolution.path, resolution.typeName);
    }
  }

  /** A file that changed or vanished since it was resolved is left to send, which stats it afresh. */
  async #load(cache: OpenFileCache, key: string, path: string, typeName: string, now: number): Promise<CachedFile | undefined> {
    try {
      return await cache.load(key, path, typeName, now);
    } catch (error) {
      this.#log.debug(`static: not cached ${path}: ${(error as NodeJS.ErrnoException).code ?? describe(error)}`);
      return undefined;
    }
  }

  #serveCached(request: RequestRecord, entry: CachedFile): void {
    const { req, res } = request;
    const head = req.method === 'HEAD';
    request.bodyBytes = head ? 0 : entry.body.length;
    res.writeHead(200, entry.headers);
    res.end(head ? undefined : entry.body);
  }

  /** Streams through `send`, which evaluates preconditions and ranges. */
  #stream(request: RequestRecord, realPath: string, typeName: string): void {
    const { req, res } = request;
    // send percent-decodes what it is given: encode the already-decoded real
    // path so that its one decoding gives back exactly this path.
    const encoded = realPath.split(sep).map(encodeURIComponent).join('/');
    const stream = this.#send(req, encoded, {
      index: false,
      // Dot segments were refused on the request path; the root itself may sit under one.
      dotfiles: 'allow',
    });
    // Fires before send sets its own headers, with send's own stat: ours win and match the cache's.
    stream.on('headers', (response: ServerResponse, _path: string, stat: Stats) => {
      for (const [name, value] of Object.entries(fileHeaders(typeName, stat))) response.setHeader(name, value);
    });
    // Only if the file became a directory after it was resolved.
    stream.on('directory', () => this.#fail(res, 404));
    stream.on('stream', (file: ReadStream) => {
      file.on('data', (chunk: string | Buffer) => {
        request.bodyBytes += chunk.length;
      });
    });
    stream.on('error', (error: SendError) => {
      const status = error.status ?? 500;
      if (status >= 500) this.#log.error(`static: ${quoteForLog(`${req.method} ${realPath}`)}: ${describe(error)}`);
      this.#fail(res, status, error.headers);
    });
    stream.pipe(res);
  }

  /** An error answer with none of the file's headers left on it, but the ones send asks for (Content-Range on 416). */
  #fail(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
    if (!res.headersSent) {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    }
    sendErrorResponse(res, status);
  }

  /**
   * '/docs' names a directory: send the client to '/docs/' so relative links
   * in its index resolve inside it (what Apache's mod_dir does). The query
   * goes along.
   */
  #redirectToDirectory(req: IncomingMessage, res: ServerResponse, match: MountMatch, segments: string[]): void {
    const path = [match.scriptName, ...segments].join('/') + '/';
    const location = encodeUrlPath(path) + (match.query === '' ? '' : '?' + match.query);
    const body = `301 ${STATUS_CODES[301]}: ${location}\n`;
    res.writeHead(301, {
      Location: location,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function isPlain(req: IncomingMessage): boolean {
  // One read of the headers getter, no closure: this runs on every hit.
  const { headers } = req;
  for (const name of CONDITIONAL_HEADERS) if (headers[name] !== undefined) return false;
  return true;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
