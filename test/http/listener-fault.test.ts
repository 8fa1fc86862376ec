/**
 * A fault in the front's own request path (src/http/listener.ts, #admit):
 * the request it struck gets 500 and its code, and the listener serves on.
 * An exception left to Node would end the process, and every site with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBind } from '../../src/config/parse-bind.js';
import { Listener } from '../../src/http/listener.js';
import type { Refusal } from '../../src/http/refusal.js';
import { httpRequest } from '../helpers/http-client.js';

describe('Listener: a fault in the request path', () => {
  it('answers 500 to the request it struck, tells onRefuse with the stack, and serves the next request', async () => {
    const refused: Refusal[] = [];
    const listener = new Listener(
      parseBind('127.0.0.1:0'),
      ({ req, res }) => {
        if (req.url === '/boom') throw new TypeError('a bug in the router');
        res.end('fine');
      },
      { keepAliveSeconds: 5, onRefuse: (_req, refusal) => refused.push(refusal) },
    );
    await listener.listen();
    try {
      const boom = await httpRequest(`${listener.url}/boom`);
      assert.equal(boom.status, 500);
      assert.equal(boom.headers['connection'], 'close');
      assert.equal(refused.length, 1);
      assert.equal(refused[0]?.code, 'PORTICO_ERR_INTERNAL');
      assert.match(refused[0]?.reason ?? '', /TypeError: a bug in the router\n\s+at /);
      const next = await httpRequest(`${listener.url}/ok`);
      assert.deepEqual([next.status, next.text], [200, 'fine']);
    } finally {
      listener.server.closeAllConnections();
      await new Promise((resolve) => listener.server.close(resolve));
    }
  });
});
