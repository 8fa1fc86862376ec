// portico itself: the Node front and its Python workers, on Debian's Python
// so that it imports the same Flask and Django as every peer.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ServerStartError } from '../process-group.mjs';
import { benchCertificate } from '../tls.mjs';
import { NotAvailableError, PYTHON, RunningServer, shellLine, startGroup } from './server.mjs';

const bin = fileURLToPath(new URL('../../bin/portico.js', import.meta.url));

export default {
  id: 'portico',
  label: 'portico',
  missing() {
    return existsSync(bin) ? null : `${bin} not found (run npm run build)`;
  },
  argv(ctx) {
    const argv = [process.execPath, ctx.work.porticoBin ?? bin, '-w', String(ctx.workers), '-b', `127.0.0.1:${ctx.port}`, '--python', PYTHON];
    argv.push('--chdir', ctx.app.pythonpath, '--pythonpath', ctx.app.pythonpath);
    if (ctx.workload.kind === 'cgi') argv.push('--cgi', `/cgi-bin/=${ctx.work.cgiBin}`);
    if (ctx.workload.kind === 'static') argv.push('--static', `/static/=${ctx.work.static}`);
    // HTTPS and HTTP/2 cells: h2 and http/1.1 by ALPN, as by default; the client picks.
    if (ctx.workload.tls) {
      const { cert, key } = benchCertificate(ctx.work);
      argv.push('--certfile', cert, '--keyfile', key);
    }
    // auto would find ASGI too; named, a runtime without it fails rather than guesses.
    if (ctx.workload.kind === 'asgi' || ctx.workload.kind === 'websocket') argv.push('--interface', 'asgi');
    // A WebSocket holds one of the worker's --worker-connections (1,000 by
    // default) for as long as it is open: the 10,000 idle ones need room,
    // and a few more for the probes beside them.
    if (ctx.workload.kind === 'websocket' && ctx.connections > 1000) argv.push('--worker-connections', String(ctx.connections + 100));
    argv.push(ctx.app.module);
    return argv;
  },
  async start(ctx) {
    const argv = this.argv(ctx);
    try {
      const group = await startGroup(ctx, this.id, argv);
      return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv, {}, ctx.files)] });
    } catch (error) {
      // A mount or interface this build does not have yet (the CGI mount, the
      // ASGI runtime) makes the cell "not available" rather than failed.
      const log = error instanceof ServerStartError ? error.log : '';
      const refusal = /error: (.*not available.*)/.exec(log) ?? /(does not serve the "asgi" interface[^\n]*)/.exec(log);
      if (refusal) throw new NotAvailableError(refusal[1].trim());
      throw error;
    }
  },
};
