/**
 * Replacing a worker that holds open WebSockets (issue #14), under HTTP
 * load: after SIGHUP, or once --max-requests is reached, new connections go
 * to the new worker; the old worker's sessions keep running until
 * --graceful-timeout, then get 1012 (service restart), and their
 * application hears it; no HTTP request is dropped meanwhile.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Portico } from '../helpers/portico.js';
import { fixtureSaid, uniqueMark } from '../helpers/asgi-fixtures.js';
import { eventually } from '../helpers/http-client.js';
import { describeLoad, runLoad, type LoadResult } from '../helpers/load-client.js';
import { isReaped } from '../helpers/proc.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, WsClient, wsUrl } from '../helpers/websocket-client.js';

const GRACE_S = 3;

interface Session {
  client: WsClient;
  mark: string;
  pid: number;
}

async function openEcho(base: string, prefix: string): Promise<Session> {
  const mark = uniqueMark(prefix);
  const client = await WsClient.open(wsUrl(base, `/echo?mark=${mark}`));
  return { client, mark, pid: Number((await client.nextText()).replace('pid ', '')) };
}

function assertNothingLost(result: LoadResult): void {
  assert.deepEqual(Object.keys(result.errors), [], describeLoad(result));
  assert.deepEqual(Object.keys(result.statuses), ['200'], describeLoad(result));
}

/**
 * What both ways of replacing share: `replace` makes it happen and resolves
 * when the successor serves; the old sessions are then checked through the
 * grace and after it.
 */
async function replaceUnderLoad(server: Portico, old: Session[], replace: () => Promise<void>): Promise<void> {
  let loading = true;
  const load = runLoad({ url: server.url, clients: 4, requests: 4_000, keepGoing: () => loading, pathFor: () => '/pid' });
  try {
    const oldPid = old[0]?.pid as number;
    await replace();
    const retiredAt = Date.now();
    const fresh = await openEcho(server.url, 'fresh');
    assert.notEqual(fresh.pid, oldPid, 'a new connection goes to the new worker');
    assert.equal((await fresh.client.roundTrip('new worker')).data.toString(), 'new worker');
    fresh.client.close();
    // Within the grace the old sessions run on.
    for (const { client } of old) assert.equal((await client.roundTrip('during the grace')).data.toString(), 'during the grace');
    const closes = await Promise.all(old.map((s) => s.client.closedWithin((GRACE_S + 3) * 1000)));
    for (const close of closes) assert.equal(close.code, 1012, JSON.stringify(close));
    const after = Math.min(...closes.map((c) => c.at)) - retiredAt;
    assert.ok(after >= (GRACE_S - 0.5) * 1000 && after < (GRACE_S + 1.5) * 1000, `1012 came ${after} ms after the replacement, with --graceful-timeout ${GRACE_S}`);
    for (const { mark } of old) await fixtureSaid(server, `echo disconnect code=1012 mark=${mark}`);
    await eventually(`old worker ${oldPid} reaped`, () => (isReaped(oldPid) ? true : undefined), 5_000);
  } finally {
    loading = false;
  }
  const result = await load;
  console.log(`# ${describeLoad(result)}`);
  assertNothingLost(result);
}

describe('SIGHUP with open WebSockets, under HTTP load', { timeout: 40_000 }, () => {
  it('sends new connections to the new worker, runs old sessions until --graceful-timeout, then closes them with 1012', async () => {
    const server = await startWs('raw_ws:app', ['-w', '1', '--graceful-timeout', String(GRACE_S)]);
    try {
      const old = [await openEcho(server.url, 'hup'), await openEcho(server.url, 'hup'), await openEcho(server.url, 'hup')];
      await replaceUnderLoad(server, old, async () => {
        process.kill(server.pid, 'SIGHUP');
        await server.waitForLog(/reloaded: new workers ready/, 15_000);
      });
    } finally {
      closeAll();
      await server.stop();
    }
  });
});

describe('--max-requests with open WebSockets, under HTTP load', { timeout: 40_000 }, () => {
  it('replaces the worker the same way: new sessions to its successor, old ones 1012 after the grace', async () => {
    // Under full load each successor reaches its quota in turn: a chain of replacements, none of which may drop a request.
    const server = await startWs('raw_ws:app', ['-w', '1', '--max-requests', '400', '--graceful-timeout', String(GRACE_S)]);
    try {
      const old = [await openEcho(server.url, 'quota'), await openEcho(server.url, 'quota')];
      await replaceUnderLoad(server, old, async () => {
        await server.waitForLog(new RegExp(`worker ${old[0]?.pid} served its \\d+ requests; replacing it`), 15_000);
        // The old worker is retired the moment its successor is ready: from then on new sessions go there.
        await eventually('the successor serves', async () => {
          const probe = await openEcho(server.url, 'probe');
          probe.client.close();
          return probe.pid !== old[0]?.pid ? true : undefined;
        }, 15_000, 50);
      });
    } finally {
      closeAll();
      await server.stop();
    }
  });
});
