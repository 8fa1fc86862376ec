// uvicorn, Debian's python3-uvicorn (which installs no script, so it runs
// as python3 -m uvicorn): as most users install it, uvicorn[standard], on
// uvloop and httptools; and in pure Python, on asyncio and h11. The loop and
// the parser are named, so that a missing uvloop or httptools makes the cell
// "not available" instead of quietly measuring the pure-Python one.
// WebSockets (issue #14) are named too: --ws websockets, on Debian's
// python3-websockets, rather than whichever library uvicorn finds first.
import { NotAvailableError, PYTHON, RunningServer, missingModules, shellLine, startGroup } from './server.mjs';

function uvicorn({ id, label, loop, http, needs }) {
  return {
    id,
    label,
    missing: () => missingModules([{ module: 'uvicorn', package: 'python3-uvicorn' }, ...needs]),
    labelFor: (workload) => (workload.kind === 'websocket' ? `${label.slice(0, -1)}, websockets)` : label),
    async start(ctx) {
      const argv = [
        PYTHON, '-m', 'uvicorn', '--host', '127.0.0.1', '--port', String(ctx.port), '--workers', String(ctx.workers),
        '--loop', loop, '--http', http, '--app-dir', ctx.app.pythonpath, '--log-level', 'warning', '--no-access-log',
      ];
      if (ctx.workload.kind === 'websocket') {
        const missing = missingModules([{ module: 'websockets', package: 'python3-websockets' }]);
        if (missing) throw new NotAvailableError(missing);
        argv.push('--ws', 'websockets');
      }
      argv.push(ctx.app.module);
      const group = await startGroup(ctx, this.id, argv, { cwd: ctx.app.pythonpath });
      return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv, {}, ctx.files)] });
    },
  };
}

export const uvicornStandard = uvicorn({
  id: 'uvicorn',
  label: 'uvicorn (uvloop, httptools)',
  loop: 'uvloop',
  http: 'httptools',
  needs: [
    { module: 'uvloop', package: 'python3-uvloop' },
    { module: 'httptools', package: 'python3-httptools' },
  ],
});

export const uvicornPure = uvicorn({
  id: 'uvicorn-h11',
  label: 'uvicorn (asyncio, h11)',
  loop: 'asyncio',
  http: 'h11',
  needs: [{ module: 'h11', package: 'python3-h11' }],
});
