// uvicorn, Debian's python3-uvicorn (which installs no script, so it runs
// as python3 -m uvicorn): as most users install it, uvicorn[standard], on
// uvloop and httptools; and in pure Python, on asyncio and h11. The loop and
// the parser are named, so that a missing uvloop or httptools makes the cell
// "not available" instead of quietly measuring the pure-Python one.
import { PYTHON, RunningServer, missingModules, shellLine, startGroup } from './server.mjs';

function uvicorn({ id, label, loop, http, needs }) {
  return {
    id,
    label,
    missing: () => missingModules([{ module: 'uvicorn', package: 'python3-uvicorn' }, ...needs]),
    async start(ctx) {
      const argv = [
        PYTHON, '-m', 'uvicorn', '--host', '127.0.0.1', '--port', String(ctx.port), '--workers', String(ctx.workers),
        '--loop', loop, '--http', http, '--app-dir', ctx.app.pythonpath, '--log-level', 'warning', '--no-access-log',
        ctx.app.module,
      ];
      const group = await startGroup(ctx, this.id, argv, { cwd: ctx.app.pythonpath });
      return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv)] });
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
