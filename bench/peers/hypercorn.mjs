// Hypercorn, Debian's python3-hypercorn, with its default asyncio worker.
// Its listen backlog defaults to 100, which would turn away part of the
// 1,000-connection load; 2048 is uvicorn's, gunicorn's and portico's default.
// WebSockets (issue #14) go through its wsproto, with its defaults: no pings.
import { existsSync } from 'node:fs';
import { benchCertificate } from '../tls.mjs';
import { RunningServer, shellLine, startGroup } from './server.mjs';

const HYPERCORN = '/usr/bin/hypercorn';

export default {
  id: 'hypercorn',
  label: 'Hypercorn',
  // Observed with Debian 12's hypercorn 0.13 and h11 0.14: in some workloads
  // the connection is closed after every response, without Connection: close
  // (see summary.mjs); wrk's read errors are then reconnections.
  closesConnections: true,
  labelFor: (workload) => (workload.kind === 'websocket' ? 'Hypercorn (wsproto)' : 'Hypercorn'),
  missing: () => (existsSync(HYPERCORN) ? null : 'python3-hypercorn not installed'),
  async start(ctx) {
    const argv = [HYPERCORN, '--bind', `127.0.0.1:${ctx.port}`, '--workers', String(ctx.workers), '--backlog', '2048'];
    // Over TLS Hypercorn offers h2 and http/1.1 by ALPN, as portico does.
    if (ctx.workload.tls) {
      const { cert, key } = benchCertificate(ctx.work);
      argv.push('--certfile', cert, '--keyfile', key);
    }
    argv.push(ctx.app.module);
    const env = { PYTHONPATH: ctx.app.pythonpath };
    const group = await startGroup(ctx, this.id, argv, { cwd: ctx.app.pythonpath, env });
    return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv, env, ctx.files)] });
  },
};
