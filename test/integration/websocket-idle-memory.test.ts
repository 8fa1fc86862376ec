/**
 * Idle WebSockets held on one worker (issue #14): 1,000 by default
 * (PORTICO_WS_IDLE_COUNT=10000 for the full count, which takes
 * longer). The worker must still serve beside them; the memory each one
 * costs, in the front and in the worker (VmRSS from /proc), is printed, and
 * the same is measured for Debian's uvicorn serving the same application.
 * Each connection takes a descriptor in the test process and one in the
 * front: the count is cut to fit the open-file limit, and the output says so.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { rssKiB } from '../helpers/proc.js';
import { startUvicorn, type Uvicorn } from '../helpers/uvicorn.js';
import { workerPids } from '../helpers/worker-tree.js';
import { startWs, WS_FIXTURES } from '../helpers/websocket-fixtures.js';
import { closeAll, openMany, WsClient, wsUrl } from '../helpers/websocket-client.js';

const WANTED = Number(process.env.PORTICO_WS_IDLE_COUNT ?? 1_000);

/** This process's soft limit on open files (ulimit -n), from /proc. */
function openFileLimit(): number {
  const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line === null || line[1] === 'unlimited' ? Infinity : Number(line[1]);
}

function perConnection(beforeKiB: number, afterKiB: number, count: number): string {
  return `${(((afterKiB - beforeKiB) * 1024) / count / 1024).toFixed(2)} KiB`;
}

/** RSS once it stops growing: a few samples 100 ms apart that agree within 1%. */
async function settledRss(pid: number): Promise<number> {
  let last = rssKiB(pid) ?? 0;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = rssKiB(pid) ?? 0;
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}

describe('idle WebSockets held on one worker', { timeout: 120_000 }, () => {
  const limit = openFileLimit();
  // Room for what else the test process and the front hold open.
  const count = Math.min(WANTED, limit - 200);
  let server: Portico | undefined;
  let uvicorn: Uvicorn | undefined;
  after(async () => {
    closeAll();
    await server?.stop();
    await uvicorn?.stop();
  });

  it(`holds ${WANTED} idle sessions, still serves beside them, and reports the memory each costs`, async () => {
    if (count < WANTED) console.log(`# ulimit -n is ${limit}: holding ${count} sessions instead of ${WANTED}`);
    assert.ok(count >= 500, `ulimit -n ${limit} leaves room for only ${count} sessions`);
    server = await startWs('raw_ws:app', ['--worker-connections', String(count + 100), '--ws-ping-interval', '0', '--backlog', String(count + 100)]);
    const [worker] = workerPids(server.pid);
    assert.ok(worker !== undefined);
    // Warm both processes up (code paths, buffers) before the baseline.
    const warm = await openMany(wsUrl(server.url, '/idle'), 20);
    for (const client of warm) client.close();
    await Promise.all(warm.map((c) => c.closedWithin(5_000)));
    const front0 = await settledRss(server.pid);
    const worker0 = await settledRss(worker);
    const started = Date.now();
    const clients = await openMany(wsUrl(server.url, '/idle'), count, 200);
    const openMs = Date.now() - started;
    const front1 = await settledRss(server.pid);
    const worker1 = await settledRss(worker);
    // Still serving beside them: HTTP, and a new session's echo.
    const answer = await httpRequest(`${server.url}/pid`);
    assert.equal(answer.status, 200);
    assert.equal(Number(answer.text), worker);
    const echo = await WsClient.open(wsUrl(server.url, '/echo'));
    assert.equal(await echo.nextText(), `pid ${worker}`);
    assert.equal((await echo.roundTrip('beside them')).data.toString(), 'beside them');
    echo.close();
    assert.ok(clients.every((c) => c.ws.readyState === c.ws.OPEN), 'every idle session is still open');
    console.log(
      `# portico, ${count} idle WebSockets on one worker (opened in ${openMs} ms): ` +
        `front ${(front0 / 1024).toFixed(1)} -> ${(front1 / 1024).toFixed(1)} MiB, ${perConnection(front0, front1, count)} each; ` +
        `worker ${(worker0 / 1024).toFixed(1)} -> ${(worker1 / 1024).toFixed(1)} MiB, ${perConnection(worker0, worker1, count)} each`,
    );
    closeAll();
    await server.stop();
    server = undefined;
  });

  it(`the same ${WANTED} sessions on Debian's uvicorn, for comparison`, async () => {
    uvicorn = await startUvicorn('raw_ws:app', WS_FIXTURES, ['--ws', 'websockets', '--ws-ping-interval', '0', '--lifespan', 'off']);
    const warm = await openMany(wsUrl(uvicorn.url, '/idle'), 20);
    for (const client of warm) client.close();
    await Promise.all(warm.map((c) => c.closedWithin(5_000)));
    const rss0 = await settledRss(uvicorn.pid);
    const clients = await openMany(wsUrl(uvicorn.url, '/idle'), count, 200);
    const rss1 = await settledRss(uvicorn.pid);
    assert.equal((await httpRequest(`${uvicorn.url}/pid`)).status, 200);
    assert.ok(clients.every((c) => c.ws.readyState === c.ws.OPEN));
    console.log(`# uvicorn, ${count} idle WebSockets in one process: ${(rss0 / 1024).toFixed(1)} -> ${(rss1 / 1024).toFixed(1)} MiB, ${perConnection(rss0, rss1, count)} each`);
  });
});
