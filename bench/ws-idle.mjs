// The idle-connection cell (issue #14): what each open WebSocket costs a
// server in memory. The whole process tree's RSS and PSS are read once they
// have settled before the connections open and again with all of them open;
// the difference, divided by the connections, is the cost of one. For
// portico that is front and worker together; for uvicorn and Hypercorn
// their processes. The CPU the server spends while they open is the cost of
// a handshake.
import { setTimeout as sleep } from 'node:timers/promises';
import { startCpuMeter } from './cpu.mjs';
import { treeMemory } from './memory.mjs';
import { openIdle } from './ws-load.mjs';

/** Tree memory once it stops moving: two samples 250 ms apart within 1% (at most 10 s). */
export async function settledMemory(pidsFn, { intervalMs = 250, maxMs = 10000 } = {}) {
  const deadline = Date.now() + maxMs;
  let last = treeMemory(pidsFn());
  for (;;) {
    await sleep(intervalMs);
    const now = treeMemory(pidsFn());
    if (Math.abs(now.rss - last.rss) <= last.rss * 0.01 || Date.now() > deadline) return now;
    last = now;
  }
}

/** Opens `connections` idle WebSockets to url, reads the server's memory, closes them. */
export async function measureIdle({ server, url, connections, files, timeoutSeconds }) {
  const pids = () => server.pids();
  const before = await settledMemory(pids);
  const cpu = startCpuMeter(pids);
  const idle = await openIdle({ url, connections, files, timeoutSeconds });
  const opening = cpu.stop();
  const held = await settledMemory(pids);
  const stillOpen = await idle.close();
  const slim = (m) => ({ count: m.count, rss: m.rss, pss: m.pss, processes: m.processes });
  return {
    argv: idle.argv,
    seconds: idle.openMs / 1000,
    requests: idle.opened,
    non2xx: 0,
    rps: idle.opened / (idle.openMs / 1000),
    latency: { p50: NaN, p90: NaN, p99: NaN, max: NaN },
    // Handshakes refused, and connections the server dropped while they were held.
    errors: { connect: idle.failed, read: idle.opened - stillOpen },
    bytesRead: 0,
    cpu: opening,
    before: slim(before),
    held: slim(held),
    perConnection: idle.opened ? { rss: (held.rss - before.rss) / idle.opened, pss: (held.pss - before.pss) / idle.opened } : { rss: NaN, pss: NaN },
  };
}
