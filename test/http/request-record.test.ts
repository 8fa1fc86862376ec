/** The per-request record: what the listener, the router, the handlers and the access log share. */
import assert from 'node:assert/strict';
import { request as httpRequest, createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RequestRecord } from '../../src/http/request-record.js';

describe('RequestRecord', () => {
  it('reads the status from its response, and runs its duration until the end is set', async () => {
    const server = createServer((req, res) => {
      const record = new RequestRecord(req, res, {
        scheme: 'http',
        serverName: '127.0.0.1',
        serverPort: '0',
        remoteAddr: '127.0.0.1',
        remotePort: '0',
        forwardedHost: null,
      });
      assert.equal(record.mount, null);
      assert.equal(record.bodyBytes, 0);
      res.statusCode = 418;
      assert.equal(record.status, 418);
      const running = record.durationMs;
      assert.ok(running >= 0);
      record.endedAt = record.startedAt + 12.5;
      assert.equal(record.durationMs, 12.5);
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<number>((resolve, reject) => {
      httpRequest({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(response, 418);
    server.close();
  });
});
