/**
 * Packages that only some settings need are loaded when first asked for,
 * not when the front starts: each adds megabytes to every front's resident
 * memory, and a front that logs text, serves WSGI with no static mount and
 * has no --control-bind needs none of them (docs/benchmarks/analysis.md,
 * "The front's heap and V8's full collections").
 *
 *   package      loaded by
 *   ───────────  ──────────────────────────────────────────────
 *   pino         --log-format json (error log, access log)
 *   ws           the first ASGI mount
 *   prom-client  --control-bind (or a --fronts front's metrics)
 *   send, etag,  the first static mount
 *   mime-types
 *   node:https,  --certfile (or --certificate)
 *   node:tls
 *   node:http2   the first HTTP/2 listener: TLS with h2 in
 *                --http-protocols, or --http2-cleartext
 *
 * Node's own https, tls and http2 modules take ~2.5 MiB of a front's
 * resident memory together, which a plain HTTP/1.1 front does not need.
 * They are CommonJS (Node's built-ins too), so a synchronous require keeps
 * every caller as it was, and each keeps its own module's types.
 */
import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);

/** A loader that requires `name` on its first call and returns the same module after. */
function lazyPackage<Module>(name: string): () => Module {
  let loaded: Module | undefined;
  return () => (loaded ??= requireFromHere(name) as Module);
}

export const loadPino = lazyPackage<typeof import('pino')>('pino');
export const loadWs = lazyPackage<typeof import('ws')>('ws');
export const loadPromClient = lazyPackage<typeof import('prom-client')>('prom-client');
export const loadSend = lazyPackage<typeof import('send')>('send');
export const loadEtag = lazyPackage<typeof import('etag')>('etag');
export const loadMimeTypes = lazyPackage<typeof import('mime-types')>('mime-types');
export const loadHttps = lazyPackage<typeof import('node:https')>('node:https');
export const loadTls = lazyPackage<typeof import('node:tls')>('node:tls');
export const loadHttp2 = lazyPackage<typeof import('node:http2')>('node:http2');
