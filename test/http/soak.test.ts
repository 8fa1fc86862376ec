/**
 * Small-scale endurance: 50 idle keep-alive and 50 slowloris connections
 * while normal requests keep being answered, and the slowloris connections
 * get 408 and are closed once --headers-timeout (2 s here) has passed. The
 * slowloris heads never reach the single worker, which keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { startEchoServer, type EchoServer } from '../conformance/conformance-server.js';
import { holdConnections } from './soak.js';

describe('soak, small', { timeout: 60_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer(['--headers-timeout', '2', '--keep-alive', '30']);
  });
  after(async () => {
    await server?.stop();
  });

  test('50 idle + 50 slowloris connections: normal requests still answered, slowloris cut at the headers timeout', async () => {
    const held = await holdConnections(server.portico.port, 50, 50, 100);
    try {
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        const result = await httpRequest(`${server.portico.url}/normal/${i}`, { timeoutMs: 5_000 });
        assert.equal(result.status, 200);
      }
      const cut = await eventually('every slowloris connection closed', () => {
        const state = held.slowClosed();
        return state.closed === 50 ? state : undefined;
      }, 8_000, 100);
      assert.ok(Date.now() - started >= 1_500, 'not closed before the headers timeout');
      assert.equal(cut.got408, 50, 'each got a 408 first');
      assert.ok(!server.seen().some(([, uri]) => uri === '/slow'), 'no slowloris request reached the app');
      // The idle keep-alive connections are still held (keep-alive 30 s).
      assert.equal(held.idleOpen(), 50);
    } finally {
      held.close();
    }
  });
});
