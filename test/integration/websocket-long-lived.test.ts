/**
 * An open WebSocket is a long-lived stream (issue #14). --timeout covers the
 * handshake, up to accept or close, not the session: a session open past
 * it keeps working, and an application that never accepts gets the timeout
 * answer. The session counts against --worker-connections, and never makes
 * its worker look stuck to dispatch or to the loop's heartbeat.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Portico } from '../helpers/portico.js';
import { fixtureSaid, uniqueMark } from '../helpers/asgi-fixtures.js';
import { httpRequest, type HttpResult } from '../helpers/http-client.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, refusalOf, WsClient, wsUrl } from '../helpers/websocket-client.js';

describe('WebSockets under --timeout 2 and --worker-connections 3, one worker', { timeout: 60_000 }, () => {
  let server: Portico;
  let worker: number;
  before(async () => {
    server = await startWs('raw_ws:app', ['--timeout', '2', '--worker-connections', '3', '--ws-ping-interval', '0']);
    worker = Number((await httpRequest(`${server.url}/pid`)).text);
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  it('keeps a session open for 5 s working, a message a second, on the same worker', async () => {
    const client = await WsClient.open(wsUrl(server.url, '/echo'));
    assert.equal(await client.nextText(), `pid ${worker}`);
    const openedAt = Date.now();
    for (let second = 1; second <= 5; second++) {
      // The session's length is what is tested: a message each second, past --timeout.
      await new Promise((r) => setTimeout(r, openedAt + second * 1_000 - Date.now()));
      assert.equal((await client.roundTrip(`second ${second}`)).data.toString(), `second ${second}`);
    }
    client.close(1000);
    assert.equal((await client.closedWithin(5_000)).code, 1000);
    assert.doesNotMatch(server.logs(), /timed out|starting a new one/, 'no timeout, no replacement');
    assert.equal(Number((await httpRequest(`${server.url}/pid`)).text), worker);
  });

  it('answers a handshake the application never accepts with 504 at about 2 s, and cancels it', async () => {
    const mark = uniqueMark('never');
    const started = Date.now();
    const refusal = await refusalOf(wsUrl(server.url, `/never-accept?mark=${mark}`));
    const elapsed = Date.now() - started;
    assert.equal(refusal.status, 504);
    assert.ok(elapsed >= 1_800 && elapsed < 3_500, `answered after ${elapsed} ms`);
    await fixtureSaid(server, `never-accept cancelled mark=${mark}`);
    assert.equal(Number((await httpRequest(`${server.url}/pid`)).text), worker, 'the worker lives on');
  });

  it('counts open sessions against --worker-connections: a request waits while 3 are open, and is served when one closes', async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => WsClient.open(wsUrl(server.url, '/echo'))));
    for (const session of sessions) assert.equal(await session.nextText(), `pid ${worker}`);
    let answered: HttpResult | null = null;
    const pending = httpRequest(`${server.url}/pid`, { timeoutMs: 15_000 }).then((r) => (answered = r));
    // Waiting is the point: it must not be served while the three hold every slot.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(answered, null, 'served while every slot was held by a WebSocket');
    const closedAt = Date.now();
    sessions[0]?.close(1000);
    const result = await pending;
    assert.equal(result.status, 200);
    assert.ok(Date.now() - closedAt < 2_000, `served ${Date.now() - closedAt} ms after a session closed`);
    // Held past --timeout by sessions only, the worker was neither timed out nor replaced.
    assert.doesNotMatch(server.logs(), /starting a new one|did not answer|stuck/i);
    for (const session of sessions) session.close();
  });

  it('never makes the worker look stuck: with 2 sessions idle for 3 s, requests go to it at once', async () => {
    const sessions = await Promise.all([0, 1].map(() => WsClient.open(wsUrl(server.url, '/idle'))));
    await new Promise((r) => setTimeout(r, 3_000));
    const started = Date.now();
    const results = await Promise.all([0, 1, 2, 3].map(() => httpRequest(`${server.url}/sleep?s=0.1`)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
    assert.ok(Date.now() - started < 1_500, `four short requests took ${Date.now() - started} ms beside two idle sessions`);
    assert.doesNotMatch(server.logs(), /starting a new one/);
    for (const session of sessions) session.close();
  });
});
