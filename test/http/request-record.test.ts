/** The per-request record: what the listener, the router, the handlers and the access log share. */
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { RequestRecord } from '../../src/http/request-record.js';

describe('RequestRecord', () => {
  it('reads the status from its response, and runs its duration until the end is set', () => {
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
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
    assert.equal(record.upgrade, null);
    res.statusCode = 418;
    assert.equal(record.status, 418);
    assert.ok(record.durationMs >= 0, 'a running request has a duration up to now');
    record.endedAt = record.startedAt + 12.5;
    // (startedAt + 12.5) - startedAt is 12.5 only up to rounding: performance.now() has a fraction of its own.
    assert.ok(Math.abs(record.durationMs - 12.5) < 1e-9, `duration ${record.durationMs}, not 12.5`);
  });
});
