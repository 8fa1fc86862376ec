// waitress: one process, a thread pool, asyncore I/O.
import { existsSync } from 'node:fs';
import { RunningServer, shellLine, startGroup } from './server.mjs';

const WAITRESS = '/usr/bin/waitress-serve';

export default {
  id: 'waitress',
  label: 'waitress (1 process, 4 threads)',
  // One process whatever the worker count: run in the 1-worker cells only.
  onlyAtOneWorker: true,
  missing: () => (existsSync(WAITRESS) ? null : 'python3-waitress not installed'),
  async start(ctx) {
    // The default connection limit (100) would turn 256 connections away.
    const argv = [WAITRESS, `--listen=127.0.0.1:${ctx.port}`, '--threads=4', '--connection-limit=1024', '--backlog=1024', ctx.app.module];
    const env = { PYTHONPATH: ctx.app.pythonpath };
    const group = await startGroup(ctx, this.id, argv, { cwd: ctx.app.pythonpath, env });
    return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv, env)] });
  },
};
