/**
 * A request as its worker's interface wants it: a WSGI environ (PEP 3333),
 * or, for a worker whose READY says ASGI, the neutral head an ASGI scope is
 * built from and no environ at all (docs/protocol.md "The request head").
 */
import type { RequestRecord } from '../http/request-record.js';
import type { MountMatch } from '../routing/mount-handler.js';
import type { WorkerProcess, WorkerStream } from '../supervisor/worker-process.js';
import { buildRequestHead } from '../asgi/request-head.js';
import { buildEnviron } from '../wsgi/environ.js';

const NO_ENVIRON = { shared: [], own: [] } as const;

/** Sends the REQUEST to `worker`; returns its stream id. `rootPath` is --root-path, latin-1. */
export function dispatchRequest(worker: WorkerProcess, stream: WorkerStream, request: RequestRecord, match: MountMatch, rootPath: string, flags: number): number {
  const { req, context } = request;
  return worker.asgi
    ? worker.dispatch(stream, NO_ENVIRON, flags, buildRequestHead(req, match, context, rootPath))
    : worker.dispatch(stream, buildEnviron(req, match, context), flags);
}
