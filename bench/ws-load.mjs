// The WebSocket load client's command line, and its report read into the
// shape wrk.mjs gives (requests, latency in seconds, errors), so that the
// matrix, the summary and the report take the WebSocket cells as they take
// wrk's: a "request" is a round trip (echo) or a message (one way).
//
// For the 10,000 idle connections the client runs under `ulimit -n` raised
// as far as the hard limit allows, as the servers do (peers/server.mjs).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startCpuMeter } from './cpu.mjs';
import { withFileLimit } from './process-group.mjs';

const CLIENT = fileURLToPath(new URL('./ws-client.mjs', import.meta.url));

/** argv (after the shell wrapper) of one client run. */
export function wsClientArgv({ url, mode, connections, seconds, size = 64, burst = 200, timeoutSeconds = 30 }) {
  const argv = [process.execPath, CLIENT, '--url', url, '--mode', mode, '--connections', String(connections), '--size', String(size), '--timeout-seconds', String(timeoutSeconds)];
  if (mode !== 'idle') argv.push('--seconds', String(seconds));
  if (mode === 'down' || mode === 'up') argv.push('--burst', String(burst));
  return argv;
}

function spawnClient(argv, files) {
  const full = withFileLimit(argv, files);
  const child = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const reports = lines[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await reports.next();
    if (done) throw new Error(`ws client ended without a report: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(value);
  };
  return { child, next, stderr: () => stderr };
}

/**
 * One timed run (echo, down or up); resolves with a wrk-shaped result, and
 * with `cpu` from startCpuMeter(pidsFn) over the span the client drove the
 * connections (its "driving" to "driven"), where pidsFn is given.
 */
export async function runWsLoad(options) {
  const argv = wsClientArgv(options);
  const client = spawnClient(argv, options.files);
  client.child.stdin.end();
  const exited = once(client.child, 'exit');
  let report = await client.next();
  let cpu;
  if (report.phase === 'driving') {
    const meter = options.pidsFn ? startCpuMeter(options.pidsFn) : null;
    const driven = await client.next();
    if (driven.phase !== 'driven') throw new Error(`ws client: expected the end of the run, got ${JSON.stringify(driven)}`);
    cpu = meter?.stop();
    report = await client.next();
  }
  await exited;
  const errors = report.errors;
  return {
    argv,
    seconds: report.seconds,
    connections: report.connections,
    requests: report.messages,
    non2xx: report.unexpected,
    rps: report.rate,
    latency: report.latency,
    errors,
    bytesRead: 0,
    clientCpu: report.clientCpu,
    ...(cpu ? { cpu } : {}),
  };
}

/**
 * Opens `connections` idle WebSockets and holds them: resolves once they are
 * open with { opened, failed, openMs, argv, close() }, where close() closes
 * them, waits for the client to exit and resolves with how many were still
 * open at that moment.
 */
export async function openIdle(options) {
  const argv = wsClientArgv({ ...options, mode: 'idle' });
  const client = spawnClient(argv, options.files);
  const exited = once(client.child, 'exit');
  const opened = await client.next();
  return {
    ...opened,
    argv,
    async close() {
      client.child.stdin.end();
      const end = await client.next();
      await exited;
      return end.stillOpen;
    },
  };
}
