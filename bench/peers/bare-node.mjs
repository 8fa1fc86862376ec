// Node's http module answering with the same bytes as the Python apps, from
// memory: the ceiling for portico's front (hello world, the 100 KiB
// response, the echo, the static file; with the ws package, the WebSockets).
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCertificate } from '../tls.mjs';
import { RunningServer, shellLine, startGroup } from './server.mjs';

function tlsEnv(ctx) {
  const { cert, key } = benchCertificate(ctx.work);
  return { BARE_NODE_TLS_CERT: cert, BARE_NODE_TLS_KEY: key };
}

const script = fileURLToPath(new URL('../apps/bare-node.mjs', import.meta.url));

export default {
  id: 'bare-node',
  label: 'bare Node http',
  missing: () => null,
  labelFor(workload) {
    if (workload.kind === 'websocket') return 'bare Node ws';
    if (workload.driver === 'h2load') return 'bare Node http2';
    return workload.tls ? 'bare Node https' : 'bare Node http';
  },
  async start(ctx) {
    const argv = [process.execPath, script, '127.0.0.1', String(ctx.port)];
    // The static workload's file, served from memory (see the script).
    if (ctx.workload.kind === 'static') argv.push('file', join(ctx.work.static, basename(ctx.workload.path)));
    else if (ctx.workload.kind === 'websocket') argv.push('ws');
    else if (ctx.workload.bareNode) argv.push(ctx.workload.bareNode);
    // The TLS cells: Node's https, with the bench's certificate; the HTTP/2 cells, Node's http2 (see the script).
    const env = ctx.workload.tls ? { ...tlsEnv(ctx), ...(ctx.workload.driver === 'h2load' ? { BARE_NODE_HTTP2: '1' } : {}) } : undefined;
    const group = await startGroup(ctx, this.id, argv, { env });
    return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv, env ?? {}, ctx.files)] });
  },
};
