// Daphne, Debian's python3-daphne (run as python3 -m daphne): one Twisted
// process, so it runs in the 1-worker cells only. Its endpoint's listen
// backlog defaults to 50; the endpoint string sets 2048, as for Hypercorn.
import { PYTHON, RunningServer, missingModules, shellLine, startGroup } from './server.mjs';

export default {
  id: 'daphne',
  label: 'Daphne',
  onlyAtOneWorker: true,
  missing: () => missingModules([{ module: 'daphne', package: 'python3-daphne' }]),
  async start(ctx) {
    const argv = [PYTHON, '-m', 'daphne', '-e', `tcp:port=${ctx.port}:interface=127.0.0.1:backlog=2048`, '-v', '0', ctx.app.module];
    const env = { PYTHONPATH: ctx.app.pythonpath };
    const group = await startGroup(ctx, this.id, argv, { cwd: ctx.app.pythonpath, env });
    return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv, env)] });
  },
};
