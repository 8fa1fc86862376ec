/**
 * Small-scale endurance, the same run as scripts/soak.mjs: 50 idle keep-alive
 * and 50 slowloris connections held for the whole time that normal requests
 * are being answered. The server cuts each slowloris connection with a 408
 * once --headers-timeout (2 s here) has passed, and each is reopened at once,
 * so about 50 stay held throughout; no slowloris head reaches the app, and
 * the cut connections do not pile up in the server.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/http-client.js';
import { requestOnce } from '../helpers/load-client.js';
import { startEchoServer, type EchoServer } from '../conformance/conformance-server.js';
import { holdConnections, IDLE_PATH, median, openFds, SLOWLORIS_PATH, type HeldCounts } from './soak.js';

const IDLE = 50;
const SLOW = 50;
const HEADERS_TIMEOUT_S = 2;
const MEASURE_MS = 5_000;

describe('soak, small', { timeout: 30_000 }, () => {
  let server: EchoServer;
  before(async () => {
    // Keep-alive above the whole test, so idle connections stay idle rather than reconnecting.
    server = await startEchoServer(['--headers-timeout', String(HEADERS_TIMEOUT_S), '--keep-alive', '30']);
  });
  after(async () => {
    await server?.stop();
  });

  test(`${IDLE} idle + ${SLOW} slowloris connections held throughout: normal requests answered, slowloris cut with 408 and reopened`, async () => {
    const fdsBefore = openFds(server.portico.pid);
    const held = holdConnections({ port: server.portico.port, idle: IDLE, slow: SLOW, trickleEveryMs: 100, spreadMs: HEADERS_TIMEOUT_S * 1000 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      await held.ready;
      const base = new URL(server.portico.url);
      const samples: HeldCounts[] = [];
      let fdsMax = 0;
      const sampler = setInterval(() => {
        samples.push(held.held());
        fdsMax = Math.max(fdsMax, openFds(server.portico.pid));
      }, 100);
      const statuses: number[] = [];
      const deadline = Date.now() + MEASURE_MS;
      // Two clients back to back, beside the held connections, for the whole window.
      await Promise.all(
        [0, 1].map(async (client) => {
          for (let i = 0; Date.now() < deadline; i++) statuses.push((await requestOnce(agent, base, `/normal/${client}/${i}`, 5_000)).status);
        }),
      );
      clearInterval(sampler);
      const tally = held.tally();

      assert.ok(statuses.length >= 20, `only ${statuses.length} normal requests in ${MEASURE_MS} ms`);
      assert.deepEqual([...new Set(statuses)], [200]);
      assert.equal(Math.min(...samples.map((s) => s.idle)), IDLE, 'every idle connection held throughout');
      // Node checks the headers timeout every 500 ms here, so about a quarter
      // of the slowloris connections are cut at once; a sample can fall
      // between such a batch's cut and its reopening, never for long.
      const slowHeld = samples.map((s) => s.slow);
      assert.equal(median(slowHeld), SLOW, `slowloris held: ${JSON.stringify(slowHeld)}`);
      assert.ok(Math.min(...slowHeld) >= SLOW / 2, `slowloris held: ${JSON.stringify(slowHeld)}`);
      // Each slowloris lives one headers timeout, so over the window each is cut about twice.
      assert.ok(tally.slowCut >= SLOW, `only ${tally.slowCut} slowloris connections cut`);
      assert.ok(tally.slowReopened >= tally.slowCut - 5, `${tally.slowCut} cut, ${tally.slowReopened} reopened`);
      assert.ok(tally.slowLifeMs.min >= HEADERS_TIMEOUT_S * 1000 - 100, `a slowloris connection was cut after ${tally.slowLifeMs.min} ms`);
      assert.equal(tally.slowCut408, tally.slowCut, 'each cut slowloris connection got a whole 408 with Connection: close');
      assert.equal(tally.slowCutClean, tally.slowCut, "each was then closed with the server's FIN, not reset");
      assert.equal(tally.idleCut, 0);
      assert.equal(tally.openErrors, 0);
      assert.deepEqual(tally.unexpectedSamples, []);
      // Cut connections are let go: the server holds what is open, not what was ever opened.
      assert.ok(fdsMax <= fdsBefore + IDLE + SLOW + 10, `server fds: ${fdsBefore} before, up to ${fdsMax} while holding`);

      const seen = server.seen().map(([, uri]) => uri);
      assert.equal(seen.filter((uri) => uri.startsWith(SLOWLORIS_PATH)).length, 0, 'no slowloris request reached the app');
      assert.equal(seen.filter((uri) => uri.startsWith(IDLE_PATH)).length, IDLE, 'one request per idle connection');
    } finally {
      held.close();
      agent.destroy();
    }
    await eventually('the server lets go of every held connection', () => (openFds(server.portico.pid) <= fdsBefore + 2 ? true : undefined), 5_000);
  });
});
