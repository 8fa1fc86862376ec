/**
 * WebSockets through two real frameworks from Debian, Starlette 0.26 and
 * FastAPI 0.92, with Node's `ws` as the client (issue #14): one case suite
 * that both applications must pass. Echo of text and binary, a 1 MiB
 * message, the subprotocol the application chose, its close codes with a
 * reason, its denial before accept (403), and 200 connections at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, openMany, refusalOf, WsClient, wsUrl } from '../helpers/websocket-client.js';

for (const [framework, app] of [
  ['Starlette', 'starlette_ws:app'],
  ['FastAPI', 'fastapi_ws:app'],
] as const) {
  describe(`${framework} WebSockets`, { timeout: 60_000 }, () => {
    let server: Portico;
    const url = (path: string): string => wsUrl(server.url, path);
    before(async () => {
      server = await startWs(app, ['--worker-connections', '1000']);
    });
    after(async () => {
      closeAll();
      await server?.stop();
    });

    it('echoes text and binary messages, each as its own kind', async () => {
      const client = await WsClient.open(url('/echo'));
      const text = await client.roundTrip('caf\u00e9 \u2713 \u{1f600}');
      assert.equal(text.text, true);
      assert.equal(text.data.toString('utf8'), 'caf\u00e9 \u2713 \u{1f600}');
      const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
      const binary = await client.roundTrip(bytes);
      assert.equal(binary.text, false);
      assert.deepEqual(binary.data, bytes);
      const empty = await client.roundTrip('');
      assert.equal(empty.data.length, 0);
      client.close(1000);
      assert.equal((await client.closedWithin(5_000)).code, 1000);
    });

    it('echoes a 1 MiB binary message and a 1 MiB text message whole', async () => {
      const client = await WsClient.open(url('/echo'));
      const big = randomBytes(1024 * 1024);
      assert.deepEqual((await client.roundTrip(big, 20_000)).data, big);
      const text = 'portico '.repeat(128 * 1024);
      assert.equal((await client.roundTrip(text, 20_000)).data.toString('utf8'), text);
      client.close();
    });

    it('completes the handshake with the subprotocol the application chose among those offered', async () => {
      const both = await WsClient.open(url('/subprotocol'), ['chat.v1', 'chat.v2']);
      assert.equal(both.protocol, 'chat.v2');
      assert.equal(await both.nextText(), 'chat.v2');
      const one = await WsClient.open(url('/subprotocol'), ['other', 'chat.v1']);
      assert.equal(one.protocol, 'chat.v1');
      assert.equal(await one.nextText(), 'chat.v1');
      const none = await WsClient.open(url('/subprotocol'));
      assert.equal(none.protocol, '');
      assert.equal(await none.nextText(), '(none)');
      for (const client of [both, one, none]) client.close();
    });

    it('closes with the code and reason the application gave: 1000 and 4001', async () => {
      for (const [code, reason] of [
        [1000, 'done here'],
        [4001, 'token expired \u2013 log in again'],
      ] as const) {
        const client = await WsClient.open(url(`/close?code=${code}&reason=${encodeURIComponent(reason)}`));
        const closed = await client.closedWithin(5_000);
        assert.deepEqual({ code: closed.code, reason: closed.reason }, { code, reason });
      }
    });

    it('answers 403 to a handshake the application closes before accepting', async () => {
      const refusal = await refusalOf(url('/deny'));
      assert.equal(refusal.status, 403);
      assert.equal(refusal.headers.upgrade, undefined, 'no Upgrade on a refusal');
      // The connection was answered as HTTP; the server still serves.
      assert.equal((await httpRequest(`${server.url}/pid`)).status, 200);
    });

    it('carries 200 connections at once, 10 messages each, every reply to its own sender', async () => {
      const clients = await openMany(url('/echo'), 200);
      await Promise.all(
        clients.map(async (client, c) => {
          for (let m = 0; m < 10; m++) {
            const sent = `client ${c} message ${m}`;
            assert.equal((await client.roundTrip(sent, 20_000)).data.toString('utf8'), sent);
          }
        }),
      );
      for (const client of clients) client.close(1000);
      const closes = await Promise.all(clients.map((client) => client.closedWithin(10_000)));
      assert.ok(closes.every((c) => c.code === 1000), `closes: ${JSON.stringify([...new Set(closes.map((c) => c.code))])}`);
    });
  });
}
