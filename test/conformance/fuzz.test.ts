/** A bounded fuzz run (300 mutated requests, seeded); scripts/fuzz-http.mjs runs long ones. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { httpRequest } from '../helpers/http-client.js';
import { startEchoServer, type EchoServer } from './conformance-server.js';
import { fuzz } from './fuzz.js';

describe('fuzzing the front', { timeout: 60_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer(['--headers-timeout', '1', '--body-timeout', '1']);
  });
  after(async () => {
    await server?.stop();
  });

  test('300 mutated requests: well-formed answers, nothing unanswered reaches the app, still serving', async (t) => {
    const report = await fuzz(server.portico.port, 300, 20260101, () => server.seen().length);
    t.diagnostic(`statuses: ${JSON.stringify(report.byStatus)}`);
    assert.deepEqual(report.problems, []);
    assert.equal(report.sent, 300);
    const fresh = await httpRequest(`${server.portico.url}/after-fuzz`);
    assert.equal(fresh.status, 200);
    assert.equal(server.portico.process.exitCode, null, 'portico is still running');
  });
});
