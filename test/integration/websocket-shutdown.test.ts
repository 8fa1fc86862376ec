/**
 * How open WebSockets end when the server stops or a worker dies (issue
 * #14), with HTTP requests running at the same time. SIGTERM: every session
 * gets 1001 (going away) within --graceful-timeout, its application hears
 * websocket.disconnect, and in-flight requests still complete; a client
 * that never answers the close is dropped when the grace is over. A worker
 * that crashes: its sessions get 1011 at once, not a hung TCP connection;
 * the other worker's sessions and the HTTP load carry on.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureSaid, uniqueMark } from '../helpers/asgi-fixtures.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { describeLoad, runLoad } from '../helpers/load-client.js';
import { isReaped } from '../helpers/proc.js';
import { workerPids } from '../helpers/worker-tree.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, WsClient, wsUrl } from '../helpers/websocket-client.js';
import { Opcode, parseFrames, rawWebSocket, serverClose } from '../helpers/websocket-frames.js';

/** Opens `count` /echo sessions, each with its own mark, and reads the pid each greeting names. */
async function openEchoes(base: string, count: number, prefix: string): Promise<Array<{ client: WsClient; mark: string; pid: number }>> {
  const sessions = [];
  for (let i = 0; i < count; i++) {
    const mark = uniqueMark(prefix);
    const client = await WsClient.open(wsUrl(base, `/echo?mark=${mark}`));
    const pid = Number((await client.nextText()).replace('pid ', ''));
    sessions.push({ client, mark, pid });
  }
  return sessions;
}

describe('SIGTERM with open WebSockets and HTTP requests in flight', { timeout: 40_000 }, () => {
  it('closes every session with 1001 at once, the app hears the disconnect, requests finish with 200, exit 0 within the grace', async () => {
    const server = await startWs('raw_ws:app', ['-w', '2', '--graceful-timeout', '5']);
    try {
      const sessions = await openEchoes(server.url, 6, 'term');
      assert.equal(new Set(sessions.map((s) => s.pid)).size, 2, 'sessions on both workers');
      const marks = [0, 1, 2, 3].map(() => uniqueMark('inflight'));
      const inflight = marks.map((mark) => httpRequest(`${server.url}/sleep?s=1&mark=${mark}`, { timeoutMs: 10_000 }));
      for (const mark of marks) await fixtureSaid(server, `sleeping mark=${mark}`);
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      const closes = await Promise.all(sessions.map((s) => s.client.closedWithin(5_000)));
      for (const close of closes) assert.equal(close.code, 1001, JSON.stringify(close));
      const slowest = Math.max(...closes.map((c) => c.at - sentAt));
      assert.ok(slowest < 2_000, `the last session was closed ${slowest} ms after SIGTERM`);
      for (const { mark } of sessions) await fixtureSaid(server, `echo disconnect code=1001 mark=${mark}`);
      const statuses = (await Promise.all(inflight)).map((r) => r.status);
      assert.deepEqual(statuses, [200, 200, 200, 200], 'in-flight HTTP requests completed');
      const status = await server.waitForExit(8_000);
      assert.deepEqual(status, { code: 0, signal: null }, server.logs());
      assert.ok(Date.now() - sentAt < 5_000, `exited ${Date.now() - sentAt} ms after SIGTERM, past --graceful-timeout 5`);
    } finally {
      closeAll();
      await server.stop();
    }
  });
});

describe('SIGTERM with a client that never answers the close', { timeout: 30_000 }, () => {
  it('sends it 1001, drops it when --graceful-timeout 2 is over, and exits 0', async () => {
    const server = await startWs('raw_ws:app', ['--graceful-timeout', '2']);
    const conn = await rawWebSocket(server.port, '/echo');
    try {
      assert.ok(await conn.waitFor((buf) => parseFrames(buf).some((f) => f.opcode === Opcode.TEXT), 5_000));
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      assert.equal((await serverClose(conn, 2_000)).code, 1001);
      assert.ok(await conn.waitForClose(4_000), 'the connection is dropped once the grace is over');
      const status = await server.waitForExit(5_000);
      assert.deepEqual(status, { code: 0, signal: null }, server.logs());
      const elapsed = Date.now() - sentAt;
      assert.ok(elapsed < 3_500, `exited ${elapsed} ms after SIGTERM with a 2 s grace`);
    } finally {
      conn.destroy();
      await server.stop();
    }
  });
});

describe('a worker that crashes with open WebSockets, under HTTP load', { timeout: 40_000 }, () => {
  it("closes its sessions with 1011 at once; the other worker's sessions and the load carry on", async () => {
    const server = await startWs('raw_ws:app', ['-w', '2']);
    let loading = true;
    try {
      const sessions = await openEchoes(server.url, 6, 'crash');
      const load = runLoad({ url: server.url, clients: 4, requests: 1_000, keepGoing: () => loading, pathFor: () => '/pid' });
      const mark = uniqueMark('crasher');
      const crasher = await WsClient.open(wsUrl(server.url, `/crash?mark=${mark}`));
      const doomed = (await fixtureSaid(server, `crash armed mark=${mark}`)).pid;
      const onDoomed = sessions.filter((s) => s.pid === doomed);
      const onOther = sessions.filter((s) => s.pid !== doomed);
      assert.ok(onDoomed.length > 0 && onOther.length > 0, `sessions on both workers: ${sessions.map((s) => s.pid).join(', ')}`);
      const sentAt = Date.now();
      crasher.send('crash');
      const closes = await Promise.all([crasher, ...onDoomed.map((s) => s.client)].map((c) => c.closedWithin(3_000)));
      for (const close of closes) assert.equal(close.code, 1011, JSON.stringify(close));
      const slowest = Math.max(...closes.map((c) => c.at - sentAt));
      assert.ok(slowest < 1_500, `the last session of the dead worker closed ${slowest} ms after the crash`);
      await server.waitForLog(/while a WebSocket was open[^\n]*closing it with 1011/, 2_000);
      for (const { client } of onOther) assert.equal((await client.roundTrip('still on')).data.toString(), 'still on');
      await eventually(`worker ${doomed} reaped`, () => (isReaped(doomed) ? true : undefined), 5_000);
      await eventually('a second worker again', () => (workerPids(server.pid).length === 2 ? true : undefined), 10_000);
      loading = false;
      const result = await load;
      // Requests the dead worker had begun get 502; nothing hangs, nothing is reset.
      assert.deepEqual(Object.keys(result.errors), [], describeLoad(result));
      const bad = Object.entries(result.statuses).filter(([status]) => status !== '200' && status !== '502');
      assert.deepEqual(bad, [], describeLoad(result));
      assert.ok((result.statuses[502] ?? 0) <= 4, describeLoad(result));
      console.log(`# crash under load: ${describeLoad(result)}`);
      for (const { client } of onOther) client.close();
    } finally {
      loading = false;
      closeAll();
      await server.stop();
    }
  });
});
