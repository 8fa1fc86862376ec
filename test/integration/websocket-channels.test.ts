/**
 * Django Channels (Debian's python3-django-channels 4.0, on Django 3.2,
 * for /usr/bin/python3) on portico's ASGI workers (issue #14): a
 * ProtocolTypeRouter sends HTTP to Django's handler and WebSockets to an
 * AsyncWebsocketConsumer routed by URLRouter, which echoes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, refusalOf, WsClient, wsUrl } from '../helpers/websocket-client.js';

describe('Django Channels consumer', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startWs('channels_site:application');
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  it('serves HTTP through Django beside the WebSocket routes', async () => {
    const result = await httpRequest(`${server.url}/pid/`);
    assert.equal(result.status, 200, result.text);
    assert.match(result.text, /^\d+$/);
  });

  it('echoes text through the consumer with its URL kwarg, and binary as it came', async () => {
    const client = await WsClient.open(wsUrl(server.url, '/ws/echo/lobby/'));
    assert.equal((await client.roundTrip('hello')).data.toString('utf8'), 'lobby: hello');
    assert.equal((await client.roundTrip('\u00e9t\u00e9')).data.toString('utf8'), 'lobby: \u00e9t\u00e9');
    const bytes = Buffer.from([9, 8, 7, 0]);
    const back = await client.roundTrip(bytes);
    assert.equal(back.text, false);
    assert.deepEqual(back.data, bytes);
    client.close(1000);
    assert.equal((await client.closedWithin(5_000)).code, 1000);
  });

  it('keeps two rooms apart on one worker', async () => {
    const [a, b] = await Promise.all([WsClient.open(wsUrl(server.url, '/ws/echo/a/')), WsClient.open(wsUrl(server.url, '/ws/echo/b/'))]);
    a.send('1');
    b.send('2');
    assert.equal(await a.nextText(), 'a: 1');
    assert.equal(await b.nextText(), 'b: 2');
    a.close();
    b.close();
  });

  it('refuses a path no route matches (URLRouter raises before accept) with an HTTP error, and serves on', async () => {
    // uvicorn answers 500 to an exception before accept, daphne 403 to a close: either, but never a 101.
    const refusal = await refusalOf(wsUrl(server.url, '/ws/nowhere/'));
    assert.ok([403, 500].includes(refusal.status), `status ${refusal.status}`);
    const client = await WsClient.open(wsUrl(server.url, '/ws/echo/after/'));
    assert.equal((await client.roundTrip('still here')).data.toString('utf8'), 'after: still here');
    client.close();
  });
});
