// gunicorn, Debian's package: the sync worker (one request per process,
// no keep-alive) and the gthread worker (a thread pool per process).
import { existsSync } from 'node:fs';
import { RunningServer, shellLine, startGroup } from './server.mjs';

const GUNICORN = '/usr/bin/gunicorn';
export const GTHREAD_THREADS = 4;

function gunicorn(workerClass) {
  return {
    id: `gunicorn-${workerClass}`,
    label: workerClass === 'sync' ? 'gunicorn sync' : `gunicorn gthread (${GTHREAD_THREADS} threads)`,
    missing: () => (existsSync(GUNICORN) ? null : `${GUNICORN} not installed`),
    async start(ctx) {
      const argv = [GUNICORN, '-w', String(ctx.workers), '-k', workerClass];
      if (workerClass === 'gthread') argv.push('--threads', String(GTHREAD_THREADS));
      argv.push('-b', `127.0.0.1:${ctx.port}`, '--chdir', ctx.app.pythonpath, '--log-level', 'warning', ctx.app.module);
      const group = await startGroup(ctx, this.id, argv);
      return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv)] });
    },
  };
}

export const gunicornSync = gunicorn('sync');
export const gunicornGthread = gunicorn('gthread');
