/**
 * Replacing workers under load loses nothing, after Puma's restart test:
 * eight keep-alive clients send a few thousand requests, some of them slow
 * (0.3 s) so that requests are always in flight, while the workers are
 * replaced by SIGHUP, by --max-requests, or by --reload. Every request must
 * end with 200: no reset, no timeout, no 5xx.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest, sleep } from '../helpers/http-client.js';
import { describeLoad, runLoad, type LoadResult } from '../helpers/load-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { versionedApp } from '../helpers/versioned-app.js';

const CLIENTS = 8;
const REQUESTS = 3000;
/** One request in SLOW_EVERY sleeps 0.3 s in the application. */
const SLOW_EVERY = 100;
/**
 * Longer than any test here: an idle pooled connection that the server
 * closes just as the client reuses it is a reset of the client's own
 * making, which would hide the ones this test is after.
 */
const KEEP_ALIVE = ['--keep-alive', '60'];
const pathFor = (n: number): string => (n % SLOW_EVERY === 0 ? `/slow?s=0.3&n=${n}` : `/?n=${n}`);

function assertNothingLost(result: LoadResult, server: Portico): void {
  const complaints = server.logs().split('\n').filter((line) => /\[(WARNING|ERROR|CRITICAL)\]/.test(line)).slice(0, 20).join('\n');
  assert.deepEqual(result.errors, {}, `${describeLoad(result)}\nserver warnings and errors:\n${complaints}`);
  assert.ok(result.completed >= REQUESTS, describeLoad(result));
  assert.deepEqual(result.statuses, { 200: result.completed }, describeLoad(result));
}

/**
 * Runs the load while `disturb` works on the server; the load goes on
 * until both the requests are sent and `disturb` is done.
 */
async function underLoad(server: Portico, disturb: () => Promise<void>): Promise<LoadResult> {
  let disturbing = true;
  const load = runLoad({ url: server.url, clients: CLIENTS, requests: REQUESTS, pathFor, keepGoing: () => disturbing });
  try {
    await disturb();
  } finally {
    disturbing = false;
  }
  return load;
}

describe('five SIGHUPs under load, -w 2', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-load-hup-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, ...KEEP_ALIVE, '-w', '2'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('serves every request with 200', async (t) => {
    const result = await underLoad(server, async () => {
      for (let i = 1; i <= 5; i++) {
        await sleep(i === 1 ? 300 : 600);
        app.setVersion(`v${i + 1}`);
        process.kill(server.pid, 'SIGHUP');
        await eventually(`reload ${i} done`, () => ((server.logs().match(/reloaded: new workers ready/g)?.length ?? 0) >= i ? true : undefined), 15_000, 20);
      }
    });
    t.diagnostic(describeLoad(result));
    t.diagnostic(`answers by version: ${JSON.stringify(Object.fromEntries(result.firstWords))}`);
    assertNothingLost(result, server);
    assert.ok(result.firstWords.has('v6'), 'the last code served');
    assert.doesNotMatch(server.logs(), /starting a new one|reload failed/);
  });
});

describe('--max-requests 50 under load, -w 2', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-load-max-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, ...KEEP_ALIVE, '-w', '2', '--max-requests', '50'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('serves every request with 200 while workers are recycled', async (t) => {
    const result = await runLoad({ url: server.url, clients: CLIENTS, requests: REQUESTS, pathFor });
    const recycled = server.logs().match(/served its 50 requests; replacing it/g)?.length ?? 0;
    t.diagnostic(`${describeLoad(result)}; ${recycled} workers recycled`);
    assertNothingLost(result, server);
    assert.ok(recycled >= 10, `workers were recycled (${recycled} times)`);
    assert.doesNotMatch(server.logs(), /starting a new one/);
  });
});

describe('--reload file edits under load, -w 2', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-load-autoreload-');
  const app = versionedApp(temp.path);
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: app.app, args: [...app.args, ...KEEP_ALIVE, '-w', '2', '--reload'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('serves every request with 200', async (t) => {
    const result = await underLoad(server, async () => {
      for (let i = 1; i <= 3; i++) {
        await sleep(1_000);
        app.setVersion(`v${i + 1}`);
        const version = `v${i + 1} `;
        await eventually(`${version}served`, async () => ((await httpRequest(`${server.url}/`)).text.startsWith(version) ? true : undefined), 15_000, 100);
      }
    });
    t.diagnostic(describeLoad(result));
    t.diagnostic(`answers by version: ${JSON.stringify(Object.fromEntries(result.firstWords))}`);
    assertNothingLost(result, server);
    assert.ok(result.firstWords.has('v4'), 'the last code served during the load');
  });
});
