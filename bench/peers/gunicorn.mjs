// gunicorn, Debian's package: the sync worker (one request per process,
// no keep-alive), the gthread worker (a thread pool per process), and
// uvicorn's worker class for ASGI (uvloop and httptools when installed, as
// uvicorn's "auto" picks them).
import { existsSync } from 'node:fs';
import { RunningServer, missingModules, shellLine, startGroup } from './server.mjs';

export const GUNICORN = '/usr/bin/gunicorn';
export const GTHREAD_THREADS = 4;

const WORKER_CLASSES = {
  sync: { label: 'gunicorn sync', argv: ['-k', 'sync'] },
  gthread: { label: `gunicorn gthread (${GTHREAD_THREADS} threads)`, argv: ['-k', 'gthread', '--threads', String(GTHREAD_THREADS)] },
  uvicorn: { label: 'gunicorn + UvicornWorker', argv: ['-k', 'uvicorn.workers.UvicornWorker'] },
};

/** gunicorn's command line for one worker class, listening on `bind` (host:port or unix:path). */
export function gunicornArgv(ctx, workerClass, bind) {
  return [GUNICORN, '-w', String(ctx.workers), ...WORKER_CLASSES[workerClass].argv, '-b', bind, '--chdir', ctx.app.pythonpath, '--log-level', 'warning', ctx.app.module];
}

function gunicorn(workerClass) {
  return {
    id: `gunicorn-${workerClass}`,
    label: WORKER_CLASSES[workerClass].label,
    missing() {
      if (!existsSync(GUNICORN)) return `${GUNICORN} not installed`;
      return workerClass === 'uvicorn' ? missingModules([{ module: 'uvicorn.workers', package: 'python3-uvicorn' }]) : null;
    },
    async start(ctx) {
      const argv = gunicornArgv(ctx, workerClass, `127.0.0.1:${ctx.port}`);
      const group = await startGroup(ctx, this.id, argv);
      return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv)] });
    },
  };
}

export const gunicornSync = gunicorn('sync');
export const gunicornGthread = gunicorn('gthread');
export const gunicornUvicorn = gunicorn('uvicorn');
